"""The storyboard's stills, drawn by the picture engine inside visual_generation (cached by content).

When the engine has an IP-Adapter (`identity().references`), each shot with a character is
drawn with its main character's reference picture (`pipeline/references.py`): the user's own, or a
portrait drawn first, once, and cached like a still; the reference's hash is in the still's key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from filmstudio.pipeline.context import StageContext
from filmstudio.pipeline.engines import PicturesIdentity, StillRequest, native_size, still_path
from filmstudio.pipeline.plan import RenderPlan
from filmstudio.pipeline.references import marked_used, portrait_prompt, readable_picture, reference_key
from filmstudio.pipeline.still_timings import draw_stills
from filmstudio.pipeline.storyboard import NEGATIVE, STYLE_LOOKS, Storyboard


def generate_stills(plan: RenderPlan, ctx: StageContext, board: Storyboard,
                    progress: Callable[[float], None]) -> dict[tuple[int, int], Path]:
    """A still per shot that has no picture of the user's, keyed by (scene index, shot in scene)."""
    pictures = ctx.engines.pictures
    assert pictures is not None
    identity = pictures.identity()
    side = pictures.native_side()
    w, h = plan.settings.size
    width, height = native_size(w / h, side)
    steps = identity.steps
    folder = ctx.cache.root / "stills"
    adapter = identity.references
    refs: dict[str, Path] = {}
    share = 0.0  # of the progress, for the portraits
    if adapter is not None:
        board = replace(board, references=marked_used(board.references))
        share = 0.1
        refs = reference_pictures(ctx, board, identity, side, lambda f: progress(share * f))
    keys: dict[Path, dict[str, Any]] = {}
    wanted: dict[tuple[int, int], StillRequest] = {}
    for shot in board.shots:
        if shot.image is not None:
            continue
        ref = refs.get(shot.characters[0]) if shot.characters else None
        if ref is not None and ref not in keys and adapter is not None:
            keys[ref] = reference_key(ref, adapter.as_dict())
        out = still_path(folder, identity.model, identity.revision, shot.prompt, shot.negative_prompt, shot.seed,
                         (width, height), steps, reference=keys.get(ref) if ref else None)
        wanted[(shot.scene_index, shot.shot)] = StillRequest(
            prompt=shot.prompt, negative_prompt=shot.negative_prompt, width=width, height=height,
            seed=shot.seed, out=out, steps=steps, reference=ref)
    requests = list(wanted.values())
    numbers = {key: shot.number for shot in board.shots if (key := (shot.scene_index, shot.shot)) in wanted}

    def drawn(fraction: float) -> None:
        # A still is done when its file exists (content-keyed: a cached one counts from the start).
        done = [n for key, n in numbers.items() if wanted[key].out.exists()]
        ctx.note(stills={"total": len(numbers), "done": done,
                         "todo": [n for n in numbers.values() if n not in done]})
        progress(share + (1 - share) * fraction)

    if requests:
        drawn(0.0)  # the shots to draw, before the engine's first word (engines differ in when they report)
    paths = draw_stills(ctx, "visual_generation", requests, drawn)  # progress per drawn still, speed kept
    made = dict(zip(wanted, paths, strict=True))
    (plan.work_dir / "storyboard.json").write_text(
        json.dumps({**board.as_dict(), "stills": {str(s.number): made[(s.scene_index, s.shot)].name
                    for s in board.shots if (s.scene_index, s.shot) in made},
                    "references": {name: p.name for name, p in refs.items()}}, indent=1), encoding="utf-8")
    return made


def reference_pictures(ctx: StageContext, board: Storyboard, identity: PicturesIdentity, side: int,
                       progress: Callable[[float], None]) -> dict[str, Path]:
    """The reference picture of every character who leads a shot: the user's own, else a portrait
    drawn once from the bible's description and seed (square, at the model's side; cached)."""
    pictures = ctx.engines.pictures
    assert pictures is not None
    leads = dict.fromkeys(s.characters[0] for s in board.shots if s.characters and s.image is None)
    looks = {c.name: c for c in board.characters}
    look = STYLE_LOOKS.get(board.style, STYLE_LOOKS["cinematic"])
    n_steps = identity.steps
    refs: dict[str, Path] = {}
    portraits: dict[str, StillRequest] = {}
    for name in leads:
        own = board.references.get(name)
        if own is not None and own.image is not None:
            refs[name] = readable_picture(own.image)
            continue
        prompt = portrait_prompt(looks[name].description, look)
        seed = looks[name].seed
        out = still_path(ctx.cache.root / "stills", identity.model, identity.revision, prompt, NEGATIVE, seed,
                         (side, side), n_steps, kind="portrait")
        portraits[name] = StillRequest(prompt=prompt, negative_prompt=NEGATIVE, width=side, height=side, seed=seed,
                                       out=out, steps=n_steps)
    if portraits:
        drawn = pictures.stills(list(portraits.values()), cancel=ctx.cancel, progress=progress)
        refs.update(zip(portraits, drawn, strict=True))
    progress(1.0)
    return refs
