"""What every stage gets besides the plan: cache, progress, cancel token, parallelism.

The cancel token (`cancel.py`) and the cache (`cache.py`) are leaf modules, re-exported here for
the stages; this module sits above the engine seams (`engines.py`), never below them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from filmstudio.pipeline.cache import Cache, atomic_output, content_key
from filmstudio.pipeline.cancel import CancelToken
from filmstudio.pipeline.engines import Engines

__all__ = ["Cache", "CancelToken", "ProgressFn", "RenderProgress", "StageContext", "StageProgress", "StillsTally",
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


@dataclass
class StillsTally:
    """What a render drew with the picture model (for the manifest and the next estimate)."""

    drawn: int = 0
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

    def report(self, step: str, fraction: float) -> None:
        self.progress(step, min(1.0, max(0.0, fraction)))

    def expect(self, step: str, seconds: float) -> None:
        """Tell the progress that `step` has `seconds` of extra work (stills to draw) before it ends."""
        self.progress.expect(step, seconds)

    def note(self, **detail: Any) -> None:
        """Facts about the work in progress (e.g. which stills are drawn); a job shows them as its `result`."""
        self.progress.note(**detail)
