"""The storyboard's moving shots, animated from their stills by the video model inside visual_generation.

After the stills are drawn, each shot marked to move (`Shot.motion`) that shows a still gets a clip
from `Engines.motion`, cached by content (`engines.clip_path`: the model, its revision, the still's
sha256, the prompt, the seed, the frames, the size, the fps and the steps), so an edited line
re-animates only its shot. The clip covers the shot's length up to the model's longest clip; a
longer shot holds the clip's last frame while the camera move goes on (`backdrops.ClipPlate`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from filmstudio.pipeline.clip_timings import CLIPS_FOLDER, make_clips
from filmstudio.pipeline.context import StageContext
from filmstudio.pipeline.engines import ClipRequest, clip_path
from filmstudio.pipeline.motion_plan import motion_prompt
from filmstudio.pipeline.plan import RenderPlan
from filmstudio.pipeline.providers.backdrops import MediaRef
from filmstudio.pipeline.storyboard import Storyboard, shot_cuts

ShotKey = tuple[int, int]  # (scene index, shot in scene)


@dataclass(frozen=True)
class Animated:
    """What the motion step made: each moving shot's clip file, and why any shot stayed a still."""

    clips: Mapping[ShotKey, Path]
    warnings: tuple[str, ...] = ()


def shot_seconds(plan: RenderPlan) -> dict[ShotKey, float]:
    """Each shot's length in the film, cut as `visual_generation` cuts its scenes."""
    fps = plan.settings.fps
    out: dict[ShotKey, float] = {}
    for seg in plan.timeline:
        if seg.kind != "scene":
            continue
        timed = sorted((t for t in plan.timed_lines if t.scene_index == seg.scene_index), key=lambda t: t.start)
        for n, (a, b) in enumerate(shot_cuts(seg, timed, fps)):
            out[(seg.scene_index, n)] = round((b - a) * fps) / fps
    return out


def clip_requests(plan: RenderPlan, ctx: StageContext, board: Storyboard,
                  images: Mapping[ShotKey, Path]) -> dict[ShotKey, ClipRequest]:
    """A clip request per moving shot that shows a picture (`images`: the picture each shot shows)."""
    motion = ctx.engines.motion
    assert motion is not None
    caps, identity = motion.capabilities(), motion.identity()
    w, h = plan.settings.size
    width, height = caps.size_for(w / h)
    seconds = shot_seconds(plan)
    folder = ctx.cache.root / CLIPS_FOLDER
    out: dict[ShotKey, ClipRequest] = {}
    for shot in board.shots:
        key = (shot.scene_index, shot.shot)
        still = images.get(key)
        if not shot.motion or still is None or key not in seconds:
            continue
        frames = caps.frames_for(seconds[key])
        prompt, negative = motion_prompt(shot.prompt, shot.negative_prompt)
        out[key] = ClipRequest(
            still=still, prompt=prompt, negative_prompt=negative, seed=shot.seed,
            frames=frames, fps=caps.fps, width=width, height=height, steps=identity.steps,
            out=clip_path(folder, identity, MediaRef.of(still).sha256, prompt, negative,
                          shot.seed, frames, (width, height), caps.fps, identity.steps))
    return out


def animate_shots(plan: RenderPlan, ctx: StageContext, board: Storyboard, images: Mapping[ShotKey, Path],
                  progress: Callable[[float], None]) -> Animated:
    """The clips of the moving shots (cache hits cost nothing); shots with no clip keep their still."""
    if ctx.engines.motion is None:
        return Animated({})
    wanted = clip_requests(plan, ctx, board, images)
    if not wanted:
        return Animated({})
    numbers = {(s.scene_index, s.shot): s.number for s in board.shots}

    def made(fraction: float) -> None:
        done = [numbers[k] for k, r in wanted.items() if r.out.exists()]
        ctx.note(clips={"total": len(wanted), "done": sorted(done),
                        "todo": sorted(numbers[k] for k in wanted if numbers[k] not in done)})
        progress(fraction)

    made(0.0)
    outcomes = make_clips(ctx, "visual_generation", list(wanted.values()), made)
    clips: dict[ShotKey, Path] = {}
    warnings: list[str] = []
    for key, outcome in zip(wanted, outcomes, strict=True):
        if outcome.clip is not None:
            clips[key] = outcome.clip.path
        if outcome.warning:
            warnings.append(f"shot {numbers[key]}: {outcome.warning}")
    return Animated(clips, tuple(warnings))
