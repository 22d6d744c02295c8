"""How long a clip takes on this machine, and the clips a render has to make.

Clips dominate a render that has a video model, so progress and the time estimate count them as
they count stills (`still_timings.py`): the clips to make (cache misses only) times the seconds per
clip for this model, device, size, frames and steps, measured after every render that makes one and
remembered in `<cache>/clips/speeds.json`; before the first, a guess from published figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from filmstudio.pipeline.context import StageContext
from filmstudio.pipeline.engines import ClipRequest, MadeClip, Motion, MotionOutOfMemory
from filmstudio.pipeline.still_timings import StillTimings

CLIPS_FOLDER = "clips"
# Seconds per denoising step of an 81-frame 832x480 clip (Wan 2.1 1.3B: ~4 min for 50 steps on an
# RTX 4090, published); other sizes and lengths scale by their frames x pixels.
FIRST_GUESS_PER_STEP = {"cuda": 4.8, "mps": 40.0, "cpu": 400.0}
FIRST_GUESS_OVERHEAD = 2.0  # the VAE decode and the clip's encode
_REFERENCE = 81 * 832 * 480


@dataclass(frozen=True)
class ClipKind:
    """What a clip's making time depends on: the model, the device, the size, the frames and the steps."""

    model: str
    revision: str
    device: str
    width: int
    height: int
    frames: int
    steps: int

    @property
    def key(self) -> str:
        return f"{self.model}@{self.revision}|{self.device}|{self.width}x{self.height}|{self.frames}f|{self.steps}"

    def first_guess(self) -> float:
        per_step = FIRST_GUESS_PER_STEP.get(self.device, FIRST_GUESS_PER_STEP["cpu"])
        return FIRST_GUESS_OVERHEAD + per_step * self.steps * self.frames * self.width * self.height / _REFERENCE


def clip_kind(motion: Motion, request: ClipRequest) -> ClipKind:
    identity = motion.identity()
    return ClipKind(model=identity.model, revision=identity.revision, device=motion.info().device or "cpu",
                    width=request.width, height=request.height, frames=request.frames,
                    steps=request.steps or identity.steps)


def clip_timings(cache_root: Path) -> StillTimings:
    """The remembered seconds per clip (`<cache>/clips/speeds.json`)."""
    return StillTimings(cache_root, CLIPS_FOLDER)


@dataclass(frozen=True)
class ClipOutcome:
    """One shot's clip as the stage got it: made (or cached), or None with why (the shot stays a still)."""

    clip: MadeClip | None
    warning: str = ""


def make_clips(ctx: StageContext, step: str, requests: Sequence[ClipRequest],
               progress: Callable[[float], None]) -> list[ClipOutcome]:
    """`Motion.animate` for each request, the render's progress counting clips, the speed measured.

    Tells the runner's progress how long the clips will take (misses x seconds per clip), moves
    the bar within and per clip, and remembers the measured seconds per clip. A clip that does not
    fit in memory even small leaves its shot a still (Ken Burns) with a warning: never a failed film.
    """
    motion = ctx.engines.motion
    assert motion is not None
    if not requests:
        return []
    timings = clip_timings(ctx.cache.root)
    kinds = [clip_kind(motion, r) for r in requests]
    todo = [n for n, r in enumerate(requests) if not r.out.exists()]
    guesses = {n: timings.seconds_per_still(kinds[n]) for n in todo}
    ctx.expect(step, sum(guesses.values()))
    total = sum(guesses.values()) or 1.0
    done = 0.0
    out: list[ClipOutcome] = []
    for n, request in enumerate(requests):
        ctx.cancel.raise_if_cancelled()
        if n not in todo or request.out.exists():  # cached, or made for an earlier shot of this render
            out.append(ClipOutcome(MadeClip(request.out, request.frames, request.width, request.height, request.fps)))
            done += guesses.get(n, 0.0)
            continue
        base, share = done, guesses[n]

        def within(f: float, base: float = base, share: float = share) -> None:
            progress(min(1.0, (base + share * f) / total))

        started = time.monotonic()
        try:
            made = motion.animate(request, cancel=ctx.cancel, progress=within)
        except MotionOutOfMemory as exc:
            out.append(ClipOutcome(None, f"{exc.message}: shown as its still with the camera move"))
        else:
            seconds = time.monotonic() - started
            if not made.warning:  # a reduced clip's time says nothing about the asked kind's
                timings.record(kinds[n], seconds, 1)
            ctx.clips.made += 1
            ctx.clips.seconds += seconds
            out.append(ClipOutcome(made, made.warning))
        done += share
        progress(min(1.0, done / total))
    return out
