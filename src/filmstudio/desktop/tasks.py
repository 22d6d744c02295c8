"""The one way the desktop runs slow calls: a thread pool, with results signalled back to the GUI thread.

Modelled on anki's `aqt/taskman.py`: `run(fn, on_done, on_error)` runs `fn` on a pool thread and
calls `on_done(result)` or `on_error(exc)` on the GUI thread through a queued Qt signal.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class _Bridge(QObject):
    """Lives on the GUI thread; signals emitted from pool threads are queued to it."""

    finished = Signal(int, object, object)  # task id, result, exception


class TaskRunner(QObject):
    """Runs callables off the GUI thread; callbacks come back on the GUI thread."""

    def __init__(self, max_threads: int = 4, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Python threads, not QRunnables: PySide can abort when a QRunnable wrapper is collected
        # on the GUI thread after Qt deleted it on a pool thread.
        self.pool = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="filmstudio-gui-task")
        self._bridge = _Bridge(self)
        self._bridge.finished.connect(self._on_finished)
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[Done | None, Failed | None]] = {}
        self._closed = False

    @property
    def pending(self) -> int:
        return len(self._callbacks)

    def run(self, fn: Callable[[], Any], on_done: Done | None = None, on_error: Failed | None = None) -> int:
        """Start `fn()` on a pool thread; return a task id."""
        task_id = next(self._ids)
        if self._closed:
            return task_id  # the app is quitting: late timers may still fire, nothing runs
        self._callbacks[task_id] = (on_done, on_error)
        self.pool.submit(self._call, task_id, fn)
        return task_id

    def _call(self, task_id: int, fn: Callable[[], Any]) -> None:
        try:
            result = fn()
        except BaseException as exc:  # everything goes back to the GUI, which decides
            self._bridge.finished.emit(task_id, None, exc)
        else:
            self._bridge.finished.emit(task_id, result, None)

    @Slot(int, object, object)
    def _on_finished(self, task_id: int, result: Any, error: BaseException | None) -> None:
        on_done, on_error = self._callbacks.pop(task_id, (None, None))
        if error is not None:
            if on_error is not None:
                on_error(error)
            else:
                log.error("background task failed", exc_info=error)
        elif on_done is not None:
            on_done(result)

    def shutdown(self, *, wait: bool = True) -> None:
        """On quit: drop queued tasks, let running ones end (if `wait`), and drop their callbacks."""
        self._closed = True
        self.pool.shutdown(wait=wait, cancel_futures=True)
        self._callbacks.clear()
