"""Cooperative cancel: the one value every stage, engine and child process polls (imports nothing of ours but errors)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from filmstudio.domain.errors import Cancelled


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
