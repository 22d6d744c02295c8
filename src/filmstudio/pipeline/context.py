"""What every stage gets besides the plan: cache, progress, cancel token, parallelism."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filmstudio.domain.errors import Cancelled

if TYPE_CHECKING:
    from filmstudio.pipeline.engines import Engines

ProgressFn = Callable[[str, float], None]
"""progress(step, fraction): `step` is an API step name, `fraction` 0..1 within that step."""


class CancelToken:
    """Cooperative cancel: set locally, or polled from outside (e.g. the jobs table)."""

    def __init__(self, check: Callable[[], bool] | None = None, poll_interval: float = 0.5) -> None:
        self._event = threading.Event()
        self._check = check
        self._poll_interval = poll_interval
        self._last_poll = 0.0

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        if self._event.is_set():
            return True
        if self._check is not None:
            now = time.monotonic()
            if now - self._last_poll >= self._poll_interval:
                self._last_poll = now
                if self._check():
                    self._event.set()
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise Cancelled("the render was cancelled")


def content_key(*parts: Any) -> str:
    """A stable SHA-256 over JSON-able parts (paths hash by content)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            h.update(b"file:")
            with part.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
        elif isinstance(part, bytes):
            h.update(b"bytes:" + part)
        else:
            h.update(json.dumps(part, sort_keys=True, default=str, ensure_ascii=False).encode())
        h.update(b"\x00")
    return h.hexdigest()


@contextmanager
def atomic_output(final: Path) -> Iterator[Path]:
    """Yield a temp path beside `final`; on success fsync and rename it into place, else remove it."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.stem}.{os.getpid()}.{threading.get_ident()}.partial{final.suffix}")
    try:
        yield tmp
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


class Cache:
    """A content-addressed folder: `kind/<key><suffix>`. A present file is a finished file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, kind: str, key: str, suffix: str) -> Path:
        folder = self.root / kind
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{key}{suffix}"


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

    def close(self) -> None:
        """Stop what is still running (it is not needed any more) and wait for it to end."""
        if self._pool is None:
            return
        if any(not f.done() for f in self._futures.values()):
            self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = None


@dataclass
class StillsTally:
    """What a render drew with the picture model (for the manifest and the next estimate)."""

    drawn: int = 0
    seconds: float = 0.0


@dataclass
class StageContext:
    """Per-render services handed to each stage."""

    cache: Cache
    progress: ProgressFn
    cancel: CancelToken
    engines: Engines
    jobs: int = max(1, (os.cpu_count() or 2))
    encoder: str | None = None  # forced video encoder name; None = best available
    stills: StillsTally = field(default_factory=StillsTally)
    # The runner sets it: stages may then leave work running beside the next stages (`background`).
    overlap: bool = False
    background: Background = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.background = Background(self.cancel)

    def report(self, step: str, fraction: float) -> None:
        self.progress(step, min(1.0, max(0.0, fraction)))

    def expect(self, step: str, seconds: float) -> None:
        """Tell the progress that `step` has `seconds` of extra work (stills to draw) before it ends."""
        expect = getattr(self.progress, "expect", None)
        if callable(expect):
            expect(step, seconds)

    def note(self, **detail: Any) -> None:
        """Facts about the work in progress (e.g. which stills are drawn), for a `progress` that takes them.

        A job's progress shows them as its `result` while it runs; a plain (step, fraction) callable
        has no `note` and they are dropped.
        """
        sink = getattr(self.progress, "note", None)
        if callable(sink):
            sink(**detail)
