"""How long a still takes on this machine, and how many stills a render has to draw.

With a picture model, drawing stills dominates a render, so progress and the time estimate count
them: the stills to draw (cache misses only) times the seconds per still for this model, device,
size and steps. That speed is measured after every render that draws and remembered in
`<cache>/stills/speeds.json` (a running mean over the last few renders); before the first one it
is a first guess from the device, the pixel count and the steps.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from filmstudio.pipeline.context import StageContext, atomic_output
from filmstudio.pipeline.engines import Pictures, StillRequest, native_size, still_path
from filmstudio.pipeline.storyboard import Storyboard

SPEEDS_FILE = "speeds.json"
REMEMBERED = 8  # renders a measured speed averages over: a new GPU driver shows within a few renders
# Seconds per denoising step of a 512x512 still (SD 1.5 class) before anything was measured here.
FIRST_GUESS_PER_STEP = {"cuda": 0.05, "mps": 0.3, "cpu": 1.5}
FIRST_GUESS_OVERHEAD = 0.3  # the VAE decode, saving, fitting to the frame
_lock = threading.Lock()


@dataclass(frozen=True)
class StillKind:
    """What a still's drawing time depends on: the model, the device, the size and the steps."""

    model: str
    revision: str
    device: str
    width: int
    height: int
    steps: int

    @property
    def key(self) -> str:
        return f"{self.model}@{self.revision}|{self.device}|{self.width}x{self.height}|{self.steps}"

    def first_guess(self) -> float:
        per_step = FIRST_GUESS_PER_STEP.get(self.device, FIRST_GUESS_PER_STEP["cpu"])
        return FIRST_GUESS_OVERHEAD + per_step * self.steps * self.width * self.height / 512**2


def still_kind(pictures: Pictures, aspect: float) -> StillKind:
    """The kind of still `pictures` draws for a film of `aspect` (w/h), as generate_stills asks for it."""
    identity = pictures.identity()
    width, height = native_size(aspect, pictures.native_side())
    return StillKind(model=identity.model, revision=identity.revision, device=pictures.info().device or "cpu",
                     width=width, height=height, steps=identity.steps if identity.steps is not None else 20)


class TimedKind(Protocol):
    """What a measured speed is remembered by: a still's or a clip's kind."""

    @property
    def key(self) -> str: ...

    def first_guess(self) -> float: ...


class StillTimings:
    """Measured seconds per still by `StillKind.key`, remembered in `<cache>/stills/speeds.json`
    (`folder` "clips": seconds per clip by `ClipKind.key`, in `<cache>/clips/speeds.json`)."""

    def __init__(self, cache_root: Path, folder: str = "stills") -> None:
        self.path = cache_root / folder / SPEEDS_FILE

    def _read(self) -> dict[str, dict[str, float]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def measured(self, kind: TimedKind) -> float | None:
        entry = self._read().get(kind.key)
        try:
            return float(entry["seconds"]) if entry else None
        except (KeyError, TypeError, ValueError):
            return None

    def seconds_per_still(self, kind: TimedKind) -> float:
        """The measured speed, else the first guess."""
        found = self.measured(kind)
        return found if found is not None else kind.first_guess()

    def record(self, kind: TimedKind, seconds: float, stills: int) -> None:
        """Fold one render's drawing (`stills` drawn in `seconds`) into the remembered speed."""
        if stills <= 0 or seconds <= 0:
            return
        with _lock:
            data = self._read()
            old = data.get(kind.key) or {}
            n = min(float(old.get("renders", 0)), REMEMBERED - 1)
            mean = (float(old.get("seconds", 0.0)) * n + seconds / stills) / (n + 1)
            data[kind.key] = {"seconds": round(mean, 4), "renders": n + 1}
            with atomic_output(self.path) as tmp:
                tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")


@dataclass(frozen=True)
class StillPlan:
    """The stills a render will ask for: how many, how many are not cached, and how long those take."""

    shots: int
    to_draw: int
    seconds_per_still: float
    measured: bool  # False: the first guess (nothing drawn at this kind on this machine yet)

    @property
    def seconds(self) -> float:
        return self.to_draw * self.seconds_per_still

    def as_dict(self) -> dict[str, Any]:
        return {"shots": self.shots, "to_draw": self.to_draw, "seconds_per_still": round(self.seconds_per_still, 3),
                "measured": self.measured}


def plan_stills(board: Storyboard, pictures: Pictures, aspect: float, cache_root: Path) -> StillPlan:
    """The stills `board` needs from `pictures` and which are not in the cache (keys as generate_stills makes them)."""
    kind = still_kind(pictures, aspect)
    steps = pictures.identity().steps
    folder = cache_root / "stills"
    shots = [s for s in board.shots if s.image is None]
    misses = sum(not still_path(folder, kind.model, kind.revision, s.prompt, s.negative_prompt, s.seed,
                                (kind.width, kind.height), steps).exists()
                 for s in shots)
    timings = StillTimings(cache_root)
    measured = timings.measured(kind)
    return StillPlan(shots=len(shots), to_draw=misses, measured=measured is not None,
                     seconds_per_still=measured if measured is not None else kind.first_guess())


def draw_stills(ctx: StageContext, step: str, requests: Sequence[StillRequest],
                progress: Callable[[float], None]) -> list[Path]:
    """`Pictures.stills` with the render's progress counting drawn shots, and the speed measured.

    Tells the runner's progress how long the drawing will take (cache misses x seconds per still),
    so the bar gives the stills their real share and moves one step per finished still; afterwards
    the measured seconds per still are remembered for the next estimate.
    """
    pictures = ctx.engines.pictures
    assert pictures is not None
    if not requests:
        return []
    first = requests[0]
    kind = still_kind(pictures, first.width / first.height)
    kind = StillKind(kind.model, kind.revision, kind.device, first.width, first.height, first.steps or kind.steps)
    todo = sum(not r.out.exists() for r in requests)
    hits = len(requests) - todo
    timings = StillTimings(ctx.cache.root)
    ctx.expect(step, todo * timings.seconds_per_still(kind))

    def drawn(fraction: float) -> None:
        done = max(0, round(fraction * len(requests)) - hits)
        progress(min(1.0, done / todo) if todo else 1.0)

    started = time.monotonic()
    paths = pictures.stills(requests, cancel=ctx.cancel, progress=drawn)
    seconds = time.monotonic() - started
    if todo:
        timings.record(kind, seconds, todo)
        ctx.stills.drawn += todo
        ctx.stills.seconds += seconds
    return paths
