"""thumbnail: a 1280x720 JPEG from the strongest frame of the finished film, with its title."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from filmstudio.pipeline.context import StageContext
from filmstudio.pipeline.plan import RenderPlan
from filmstudio.pipeline.providers.visuals import make_thumbnail


@dataclass(frozen=True)
class Thumbnail:
    name: ClassVar[str] = "thumbnail"
    weight: ClassVar[float] = 0.04

    def run(self, plan: RenderPlan, ctx: StageContext) -> RenderPlan:
        assert plan.video is not None and plan.script is not None
        times = [seg.start + seg.duration * 0.55 for seg in plan.timeline if seg.kind == "scene"]
        out: Path = plan.work_dir / "thumbnail.jpg"
        make_thumbnail(plan.video, title=plan.script.title, style=plan.settings.style, out=out,
                       sample_times=times or [plan.duration / 2])
        ctx.report(self.name, 1.0)
        return replace(plan, thumbnail=out)
