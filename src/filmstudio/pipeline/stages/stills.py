"""The storyboard's stills, drawn by the picture engine inside visual_generation (cached by content)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from filmstudio.pipeline.context import StageContext
from filmstudio.pipeline.engines import StillRequest
from filmstudio.pipeline.plan import RenderPlan
from filmstudio.pipeline.providers.pictures import native_size, still_path
from filmstudio.pipeline.storyboard import Storyboard


def model_side(pictures: object) -> int:
    """The model's native square side in pixels (its own, when the engine knows it)."""
    side = getattr(pictures, "native_side", None)
    return int(side()) if callable(side) else 512


def generate_stills(plan: RenderPlan, ctx: StageContext, board: Storyboard,
                    progress: Callable[[float], None]) -> dict[tuple[int, int], Path]:
    """A still per shot that has no picture of the user's, keyed by (scene index, shot in scene)."""
    pictures = ctx.engines.pictures
    assert pictures is not None
    info = pictures.info()
    model, revision = str(info.details.get("model", info.name)), str(info.details.get("revision", ""))
    w, h = plan.settings.size
    width, height = native_size(w / h, model_side(pictures))
    steps = info.details.get("steps")
    folder = ctx.cache.root / "stills"
    wanted: dict[tuple[int, int], StillRequest] = {}
    for shot in board.shots:
        if shot.image is not None:
            continue
        out = still_path(folder, model, revision, shot.prompt, shot.negative_prompt, shot.seed, (width, height),
                         steps if isinstance(steps, int) else None)
        wanted[(shot.scene_index, shot.shot)] = StillRequest(
            prompt=shot.prompt, negative_prompt=shot.negative_prompt, width=width, height=height,
            seed=shot.seed, out=out, steps=steps if isinstance(steps, int) else None)
    requests = list(wanted.values())
    numbers = {key: shot.number for shot in board.shots if (key := (shot.scene_index, shot.shot)) in wanted}

    def drawn(fraction: float) -> None:
        # A still is done when its file exists (content-keyed: a cached one counts from the start).
        done = [n for key, n in numbers.items() if wanted[key].out.exists()]
        ctx.note(stills={"total": len(numbers), "done": done,
                         "todo": [n for n in numbers.values() if n not in done]})
        progress(fraction)

    if requests:
        drawn(0.0)  # the shots to draw, before the engine's first word (engines differ in when they report)
    paths = pictures.stills(requests, cancel=ctx.cancel, progress=drawn) if requests else []
    made = dict(zip(wanted, paths, strict=True))
    (plan.work_dir / "storyboard.json").write_text(
        json.dumps({**board.as_dict(), "stills": {str(s.number): made[(s.scene_index, s.shot)].name
                    for s in board.shots if (s.scene_index, s.shot) in made}}, indent=1), encoding="utf-8")
    return made
