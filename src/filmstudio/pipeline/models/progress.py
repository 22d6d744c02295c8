"""Progress and cancel for pulls: one (done, total, bytes/s) callback over huggingface_hub's per-file bars."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from filmstudio.domain.errors import Cancelled

Progress = Callable[[int, int, float], None]  # (bytes_done, bytes_total, bytes_per_second)
REPORT_SECONDS = 0.1  # at most ten progress calls a second, plus one at the end of every file


class CancelFlag(Protocol):
    @property
    def cancelled(self) -> bool: ...


Cancel = Callable[[], bool] | CancelFlag


def check_cancel(cancel: Cancel | None) -> None:
    """Raise Cancelled when `cancel` (a callable, or an object with `.cancelled`) says so."""
    if cancel is None:
        return
    flag = cancel() if callable(cancel) else cancel.cancelled
    if flag:
        raise Cancelled("model download cancelled; the next pull resumes where it stopped")


class Meter:
    """Turns huggingface_hub's per-file progress bars into one (done, total, bytes/s) callback."""

    def __init__(self, *, total: int, progress: Progress | None, cancel: Cancel | None,
                 every: float = REPORT_SECONDS) -> None:
        self.total, self.progress, self.cancel = total, progress, cancel
        self.every = every  # 0: every chunk (a cheap callback, e.g. a job's progress that a heartbeat reads)
        self.finished = 0  # bytes of files already complete
        self.current = 0  # bytes of the file in flight, resumed bytes included
        self.sent = 0  # bytes transferred by this pull (for the rate)
        self.started = time.monotonic()
        self._last = self.started - every  # the first chunk is reported at once

    def file_done(self, size: int) -> None:
        self.finished += size
        self.current = 0
        self._report(force=True)

    def _report(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if self.progress is None or (not force and now - self._last < self.every):
            return
        self._last = now
        rate = self.sent / max(now - self.started, 1e-6)
        self.progress(min(self.finished + self.current, self.total), self.total, rate)

    def bar_class(self) -> type:
        meter = self

        class Bar:  # the subset of tqdm that http_get uses
            def __init__(self, *args: Any, initial: int = 0, **kwargs: Any) -> None:
                meter.current = initial
                meter._report()

            def update(self, n: int | float = 1) -> None:
                meter.current += int(n)
                meter.sent += max(int(n), 0)
                check_cancel(meter.cancel)  # raising here stops http_get between chunks
                meter._report()

            def __enter__(self) -> Bar:
                return self

            def __exit__(self, *exc: object) -> None:
                return None

            def close(self) -> None:
                return None

        return Bar
