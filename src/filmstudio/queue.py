"""The huey queue: a factory, one thin task carrying a job id, a signal-free consumer, the reconciler loop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

from filmstudio.services.executor import JobExecutor, JobHandler, reconcile
from filmstudio.services.studio import Studio
from filmstudio.services.webhook_sender import WebhookSender

log = logging.getLogger(__name__)


def make_huey(queue_url: str, queue_path: Path, *, immediate: bool = False) -> Huey:
    """SqliteHuey with fsync (huey's default is synchronous=OFF), or Redis for `redis://` URLs."""
    if queue_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("filmstudio", url=queue_url, immediate=immediate, results=False)
    queue_path.parent.mkdir(parents=True, exist_ok=True)
    # results=False: outcomes live in the jobs table; huey would keep every return value forever.
    return SqliteHuey("filmstudio", filename=str(queue_path), fsync=True, immediate=immediate, results=False)


class StudioQueue:
    """The JobQueue the services use: `enqueue(job_id)` puts only the id on huey.

    One task for every job kind (the row says which); the task resolves the executor when it runs,
    so the producer side (the API) needs no engines.
    """

    def __init__(self, huey: Huey) -> None:
        self.huey = huey
        self.executor: JobExecutor | None = None
        # Retries are ours (the reconciler, bounded attempts), not huey's.
        self._task = huey.task(name="render_job", retries=0)(self._render_job)

    def _render_job(self, job_id: str) -> str:
        if self.executor is None:
            raise RuntimeError("this process has no job executor; start workers with `filmstudio worker`")
        return self.executor.run(job_id)

    def enqueue(self, job_id: str) -> None:
        self._task(job_id)

    def bind(self, studio: Studio, handlers: Mapping[str, JobHandler]) -> JobExecutor:
        """Make this process able to run jobs of the kinds in `handlers`."""
        self.executor = JobExecutor(studio, handlers)
        return self.executor


class QuietConsumer(Consumer):
    """A huey consumer that leaves SIGINT/SIGTERM to its host (uvicorn, the CLI).

    huey's consumer installs its own handlers in start(), which fails off the main thread and
    takes shutdown away from uvicorn on it.
    """

    def _set_signal_handlers(self) -> None:
        return None


class Reconciler:
    """Runs `reconcile` at start and then every `interval` seconds on a daemon thread."""

    def __init__(self, studio: Studio, interval: float) -> None:
        self.studio = studio
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.run_once(startup=True)
        self._thread = threading.Thread(target=self._loop, name="filmstudio-reconciler", daemon=True)
        self._thread.start()

    def run_once(self, *, startup: bool = False) -> list[str]:
        try:
            # At start every queued job is re-enqueued: the queue file may have lost it.
            again = reconcile(self.studio, requeue_after=0.0 if startup else None)
        except Exception:
            log.exception("reconcile failed")
            return []
        if again:
            log.info("re-enqueued %d job(s): %s", len(again), ", ".join(again))
        return again

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                self.run_once()
        finally:
            self.studio.store.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class WorkerPool:
    """An in-process consumer plus reconciler, started and stopped by a host (serve, tests)."""

    def __init__(self, queue: StudioQueue, studio: Studio, handlers: Mapping[str, JobHandler], *, workers: int,
                 reconcile_seconds: float) -> None:
        queue.bind(studio, handlers)
        self.consumer = QuietConsumer(queue.huey, check_worker_health=False, **consumer_kwargs(workers))
        self.reconciler = Reconciler(studio, reconcile_seconds)
        # The queue side also sends the webhook outbox.
        self.sender = WebhookSender(studio)

    def start(self) -> None:
        self.consumer.start()
        self.reconciler.start()
        self.sender.start()

    def stop(self, graceful: bool = False) -> None:
        self.sender.stop()
        self.reconciler.stop()
        self.consumer.stop(graceful=graceful)


def consumer_kwargs(workers: int) -> dict[str, Any]:
    """Thread workers polling every 50-500 ms; periodic tasks off (the reconciler is our own loop)."""
    return {"workers": workers, "worker_type": "thread", "periodic": False, "initial_delay": 0.05, "max_delay": 0.5}
