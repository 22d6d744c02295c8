"""What every stage gets besides the plan: cache, progress, cancel token, parallelism.

The cancel token (`cancel.py`) and the cache (`cache.py`) are leaf modules, re-exported here for
the stages; this module sits above the engine seams (`engines.py`), never below them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from filmstudio.pipeline.cache import Cache, atomic_output, content_key
from filmstudio.pipeline.cancel import CancelToken
from filmstudio.pipeline.engines import Engines

__all__ = ["Background", "Cache", "CancelToken", "ProgressFn", "RenderProgress", "StageContext", "StageProgress", "StillsTally",
           "atomic_output", "content_key"]

ProgressFn = Callable[[str, float], None]
"""progress(step, fraction): `step` is an API step name, `fraction` 0..1 within that step."""


@runtime_checkable
class RenderProgress(Protocol):
    """A render's progress that also takes notes about the work in progress (a render job's `JobReport`).

    A plain `ProgressFn` is enough for `render()`; one that is a `RenderProgress` also gets the notes
    (e.g. which stills are drawn), which a running job shows as its `result`.
    """

    def __call__(self, step: str, fraction: float) -> None: ...

    def note(self, **detail: Any) -> None: ...


class StageProgress(RenderProgress, Protocol):
    """What stages report to (the runner's tracker): fractions, notes, and extra work they find."""

    def expect(self, step: str, seconds: float) -> None:
        """`step` has `seconds` of extra work (stills to draw) before it ends."""
        ...


class Background:
    """Work a stage starts for a later stage to wait on: the soundtrack is made while the frames encode.

    `start(name, fn)` runs `fn(cancel)` on a background thread; `wait(name)` returns its result (or
    raises its error), and is a no-op for a name never started. `close()` stops and waits for what
    is left (the runner calls it on every exit path). `seconds` says how long each piece took.
    """

    def __init__(self, cancel: CancelToken) -> None:
        self._stop = threading.Event()
        self.cancel = CancelToken(check=lambda: self._stop.is_set() or cancel.cancelled, poll_interval=0.2)
        self._pool: ThreadPoolExecutor | None = None
        self._futures: dict[str, Future[Any]] = {}
        self.seconds: dict[str, float] = {}

    def start(self, name: str, fn: Callable[[CancelToken], Any]) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="background")

        def timed() -> Any:
            t0 = time.monotonic()
            try:
                return fn(self.cancel)
            finally:
                self.seconds[name] = round(time.monotonic() - t0, 3)

        self._futures[name] = self._pool.submit(timed)

    def wait(self, name: str) -> Any:
        fut = self._futures.get(name)
        return fut.result() if fut is not None else None

    def close(self, *, stop: bool = False) -> None:
        """Wait for what is still running; with `stop` (the render failed) ask it to stop first.

        Errors of work nobody waited for are not raised here: `wait(name)` is where they surface.
        """
        if self._pool is None:
            return
        if stop:
            self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=stop)
        self._pool = None


@dataclass
class StillsTally:
    """What a render drew with the picture model (for the manifest and the next estimate)."""

    drawn: int = 0
    seconds: float = 0.0


@dataclass
class ClipsTally:
    """What a render made with the video model (for the manifest and the next estimate)."""

    made: int = 0
    seconds: float = 0.0


@dataclass
class StageContext:
    """Per-render services handed to each stage."""

    cache: Cache
    progress: StageProgress
    cancel: CancelToken
    engines: Engines
    jobs: int = max(1, (os.cpu_count() or 2))
    encoder: str | None = None  # forced video encoder name; None = best available
    stills: StillsTally = field(default_factory=StillsTally)
    clips: ClipsTally = field(default_factory=ClipsTally)
    # The runner sets it: stages may then leave work running beside the next stages (`background`).
    overlap: bool = False
    background: Background = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.background = Background(self.cancel)

    def report(self, step: str, fraction: float) -> None:
        self.progress(step, min(1.0, max(0.0, fraction)))

    def expect(self, step: str, seconds: float) -> None:
        """Tell the progress that `step` has `seconds` of extra work (stills to draw) before it ends."""
        self.progress.expect(step, seconds)

    def note(self, **detail: Any) -> None:
        """Facts about the work in progress (e.g. which stills are drawn); a job shows them as its `result`."""
        self.progress.note(**detail)
