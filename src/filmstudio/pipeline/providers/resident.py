"""A loaded model kept between calls and freed after an idle time: the pictures and the writer engines.

`get()` loads on first use (under a lock, so two threads load once) and marks the use; `idle()`
arms a timer that frees the model when no call came for `idle_seconds`; `free()` drops it at once
and gives its memory back (CUDA's cache included).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Resident(Generic[T]):
    def __init__(self, load: Callable[[], T], idle_seconds: float) -> None:
        self._load = load
        self.idle_seconds = idle_seconds
        self.lock = threading.RLock()
        self._value: T | None = None
        self._last_used = 0.0
        self._timer: threading.Timer | None = None

    @property
    def loaded(self) -> bool:
        return self._value is not None

    def get(self) -> T:
        with self.lock:
            if self._value is None:
                self._value = self._load()
            self._last_used = time.monotonic()
            return self._value

    def touch(self) -> None:
        self._last_used = time.monotonic()

    def idle(self) -> None:
        """Free the model once `idle_seconds` pass without a call (0 or less: keep it)."""
        with self.lock:
            if self._timer is not None:
                self._timer.cancel()
            if self.idle_seconds <= 0:
                return
            self._timer = threading.Timer(self.idle_seconds, self._maybe_free)
            self._timer.daemon = True
            self._timer.start()

    def _maybe_free(self) -> None:
        if time.monotonic() - self._last_used >= self.idle_seconds * 0.99:
            self.free()

    def free(self) -> None:
        with self.lock:
            self._value = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        gc.collect()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:
            pass
