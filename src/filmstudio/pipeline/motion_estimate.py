"""What motion adds to a render before it starts: the storyboard's moving shots times the seconds per
clip the video engine takes here (`clip_timings`: measured per model, device, size, frames and steps,
else its first guess from published figures)."""

from __future__ import annotations

from pathlib import Path

from filmstudio.pipeline.clip_timings import ClipKind, clip_timings
from filmstudio.pipeline.engines import Motion, MotionAdvice
from filmstudio.pipeline.motion_plan import MotionEstimate
from filmstudio.pipeline.storyboard import Storyboard


def clip_kind_for(motion: Motion, aspect: float) -> ClipKind:
    """A full clip (the model's longest) at the film's aspect, as the clips stage asks the engine for one."""
    caps, identity = motion.capabilities(), motion.identity()
    width, height = caps.size_for(aspect)
    return ClipKind(model=identity.model, revision=identity.revision, device=motion.info().device or "cpu",
                    width=width, height=height, frames=caps.max_frames, steps=identity.steps)


def estimate_motion(board: Storyboard, budget: str, motion: Motion | None, aspect: float,
                    cache_root: Path, advice: MotionAdvice | None = None) -> MotionEstimate:
    """The estimate for `board` with `motion` (None: no video model; says which catalogue model to pull,
    `advice`'s when the composition root gave one)."""
    moving = sum(1 for s in board.shots if s.motion)
    if motion is None and advice is not None:
        return MotionEstimate(budget, len(board.shots), moving, None, "cpu", 0.0, False, advice.pull, advice.reason)
    if motion is None:
        from filmstudio.pipeline.models.catalogue import load_catalogue

        # The catalogue's first video model (it lists the best first) that allows commercial use.
        pull = next((e.id for e in load_catalogue().of_kind("video") if e.licence.commercial_use), None)
        return MotionEstimate(budget, len(board.shots), moving, None, "cpu", 0.0, False, pull)
    kind = clip_kind_for(motion, aspect)
    timings = clip_timings(cache_root)
    measured = timings.measured(kind)
    return MotionEstimate(budget, len(board.shots), moving, kind.model, kind.device,
                          measured if measured is not None else kind.first_guess(), measured is not None)
