"""thumbnail: a JPEG from the frame of the finished film that best shows its story, with its title.

The thumbnail has the film's shape (vertical for a vertical film); a 1280x720 one for YouTube is
made beside it when the film is not landscape.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from filmstudio.pipeline.context import StageContext
from filmstudio.pipeline.plan import Cue, RenderPlan
from filmstudio.pipeline.providers.styles import location_motif
from filmstudio.pipeline.providers.thumbnails import (
    THUMB_SIZE,
    ThumbnailCandidate,
    make_thumbnail,
    thumbnail_size,
)
from filmstudio.pipeline.stages.visual_generation import SCENE_TITLE_SECONDS

CAPTION_MARGIN = 0.3  # seconds either side of a burned-in cue


@dataclass(frozen=True)
class Thumbnail:
    name: ClassVar[str] = "thumbnail"
    weight: ClassVar[float] = 0.04

    def run(self, plan: RenderPlan, ctx: StageContext) -> RenderPlan:
        assert plan.video is not None and plan.script is not None
        candidates = thumbnail_candidates(plan) or [ThumbnailCandidate(plan.duration / 2)]
        size = thumbnail_size(plan.settings.size)
        out: Path = plan.work_dir / "thumbnail.jpg"
        common = {"title": plan.script.title, "style": plan.settings.style, "sample_times": candidates,
                  "film_size": plan.settings.size}
        make_thumbnail(plan.video, out=out, size=size, **common)  # type: ignore[arg-type]
        youtube = out
        if size != THUMB_SIZE:
            youtube = plan.work_dir / "thumbnail.youtube.jpg"
            make_thumbnail(plan.video, out=youtube, size=THUMB_SIZE, **common)  # type: ignore[arg-type]
        ctx.report(self.name, 1.0)
        return replace(plan, thumbnail=out, youtube_thumbnail=youtube)


def thumbnail_candidates(plan: RenderPlan) -> list[ThumbnailCandidate]:
    """Moments inside scenes, weighted down on the scene title, a burned-in subtitle, the fades.

    A scene whose location gave it its own picture (a harbour, a market, the user's image)
    weighs more than the generic room or street every film has.
    """
    assert plan.script is not None
    settings = plan.settings
    burned: tuple[Cue, ...] = ()
    if settings.burn_subtitles and settings.subtitle_langs:
        burned = plan.subtitles.get(settings.subtitle_langs[0], ())
    out: list[ThumbnailCandidate] = []
    for seg in plan.timeline:
        if seg.kind != "scene":
            continue
        scene = plan.script.scenes[seg.scene_index]
        weight = 1.0 if plan.images or location_motif(scene.location, scene.int_ext) else 0.6
        first = seg.start + min(0.8, seg.duration * 0.2)  # past the fade in
        last = seg.end - min(0.8, seg.duration * 0.2)
        titled = seg.start + SCENE_TITLE_SECONDS + 0.3  # the scene's title card is showing until then
        for share in (0.15, 0.5, 0.85):  # each candidate costs a seek and a GOP decode
            t = first + (last - first) * share
            covered = any(c.start - CAPTION_MARGIN <= t <= c.end + CAPTION_MARGIN for c in burned)
            k = weight * (0.2 if covered else 1.0) * (0.3 if t < titled else 1.0)
            out.append(ThumbnailCandidate(round(t, 3), k, caption=covered))
    return out
