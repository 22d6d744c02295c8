"""Running a job of any kind in a worker: lease + heartbeat, progress, cooperative cancel, the reconciler.

A job's kind (`render`, `model_pull`, `publish`) picks its `JobHandler`; everything else — the
claim, the lease that a crashed worker loses, bounded attempts, cancel, progress, refunds and the
webhook events — is the same for every kind.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from filmstudio.domain.errors import Cancelled, FilmStudioError
from filmstudio.domain.jobs import JobRow
from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.media.ffmpeg import lower_priority
from filmstudio.services import events
from filmstudio.services.jobs import enqueue, finish_unleased, settle_project
from filmstudio.services.studio import Studio
from filmstudio.store import jobs as rows
from filmstudio.store.db import utcnow

log = logging.getLogger(__name__)


@dataclass
class JobProgress:
    """What the job reported last; the heartbeat thread writes it out with the lease."""

    step: str | None = None
    fraction: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    step_started: float = field(default_factory=time.monotonic)
    detail: dict[str, Any] = field(default_factory=dict)  # e.g. bytes done / total / per second
    lock: threading.Lock = field(default_factory=threading.Lock)

    def report(self, step: str, fraction: float) -> None:
        with self.lock:
            now = time.monotonic()
            if step != self.step:
                if self.step is not None:
                    self.timings[self.step] = self.timings.get(self.step, 0.0) + now - self.step_started
                self.step, self.step_started = step, now
            # Progress never goes backwards, whatever a stage reports.
            self.fraction = max(self.fraction, min(1.0, max(0.0, fraction)))

    def note(self, **detail: Any) -> None:
        """Facts about the work in progress (shown on the job while it runs, as its `result`)."""
        with self.lock:
            self.detail.update(detail)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            timings = dict(self.timings)
            if self.step is not None:
                timings[self.step] = timings.get(self.step, 0.0) + time.monotonic() - self.step_started
            snap = {
                "current_step": self.step,
                "progress": min(99, int(self.fraction * 100)),
                "stage_timings": json.dumps({k: round(v, 3) for k, v in timings.items()}),
            }
            if self.detail:
                snap["result"] = json.dumps(self.detail)
            return snap


@dataclass(frozen=True)
class JobOutcome:
    """What a finished job leaves: its result (JSON), warnings, and fields for the completion event."""

    result: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    output_dir: str | None = None
    then: tuple[str, ...] = ()  # job ids the handler's `completed` creates; enqueued after the commit


class JobHandler(Protocol):
    """The part of a job that depends on its kind."""

    kind: ClassVar[str]

    def run(self, job: JobRow, progress: JobProgress, cancel: CancelToken) -> JobOutcome: ...

    def completed(self, db: Any, job: JobRow, outcome: JobOutcome, now: str) -> dict[str, Any]:
        """Inside the completion transaction: what else changes (the project's assets, ...).

        Returns extra fields for the `job.completed` event (e.g. the film's `output_url`).
        """

    def discard(self, job: JobRow) -> None:
        """After a failure or cancel: remove whatever the attempt left (never a finished output)."""


@contextlib.contextmanager
def background_thread() -> Iterator[None]:
    """Run the block at a lower CPU priority (with its children: segment threads, ffmpeg, espeak-ng).

    Linux keeps a nice value per thread, so the API's threads in the same process keep theirs.
    Restored afterwards where allowed (an unprivileged process may not raise it back; then this
    thread, which only works jobs, stays niced).
    """
    if not sys.platform.startswith("linux"):  # elsewhere a pid's nice is the whole process's: leave it
        yield
        return
    tid = threading.get_native_id()
    before = os.getpriority(os.PRIO_PROCESS, tid)
    lower_priority(tid)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, tid, before)


class JobExecutor:
    """Runs one job id to its end; safe to call twice for the same id (the lease decides)."""

    def __init__(self, studio: Studio, handlers: Mapping[str, JobHandler], *, owner: str | None = None) -> None:
        self.studio = studio
        self.handlers = dict(handlers)
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def run(self, job_id: str) -> str:
        """Claim, run and settle `job_id`; return the job's final status, or "skipped"."""
        lease = self.studio.settings.lease_seconds
        with self.studio.store.write() as db:
            now = time.time()
            claimed = rows.claim(db, job_id, self.owner, now, now + lease, utcnow())
            started = rows.lock_job(db, job_id) if claimed else None
            if started is not None and started.attempts == 1:  # the first start only; a takeover is not news
                events.emit(db, started.account_id, "job.started", job_id, started.project_id, "processing",
                            kind=started.kind)
        if started is None:
            return "skipped"
        job = started
        if job.attempts > self.studio.settings.max_attempts:
            self._end(job, "failed", "ATTEMPTS_EXHAUSTED",
                      f"the job was interrupted {job.attempts - 1} times; giving up")
            return "failed"
        handler = self.handlers.get(job.kind)
        if handler is None:
            self._end(job, "failed", "JOB_KIND_UNSUPPORTED", f"this worker cannot run {job.kind} jobs")
            return "failed"
        progress = JobProgress()
        cancel = CancelToken(check=lambda: self._cancel_requested(job_id), poll_interval=0.3)
        stop = threading.Event()
        beat = threading.Thread(
            target=self._heartbeat, args=(job_id, progress, cancel, stop), name=f"lease-{job_id[:8]}", daemon=True
        )
        beat.start()
        try:
            with background_thread():  # the heartbeat thread started before: the lease keeps its priority
                outcome = handler.run(job, progress, cancel)
            cancel.raise_if_cancelled()  # a cancel that raced the last frame still wins
        except Cancelled:
            return self._stop_and_end(handler, job, beat, stop, "cancelled", None, None, progress)
        except FilmStudioError as exc:
            return self._stop_and_end(handler, job, beat, stop, "failed", exc.code, exc.message, progress,
                                      details=exc.details)
        except Exception as exc:
            log.exception("job %s crashed", job_id)
            code = "RENDER_FAILED" if job.kind == "render" else "JOB_FAILED"
            return self._stop_and_end(handler, job, beat, stop, "failed", code,
                                      f"the {job.kind.replace('_', ' ')} failed unexpectedly "
                                      f"({type(exc).__name__})", progress)
        stop.set()
        beat.join()
        if not self._complete(handler, job, outcome, progress):
            return "lost"
        for follow_up in outcome.then:  # e.g. the publish a render asked for
            enqueue(self.studio, follow_up)
        return "completed"

    def _stop_and_end(
        self, handler: JobHandler, job: JobRow, beat: threading.Thread, stop: threading.Event,
        status: str, code: str | None, message: str | None, progress: JobProgress,
        details: dict[str, Any] | None = None,
    ) -> str:
        stop.set()
        beat.join()
        if not self._end(job, status, code, message, progress, details):
            # Another worker owns the job now (our lease went stale): its files are not ours to clean.
            return "lost"
        handler.discard(job)
        return status

    # -- internals ----------------------------------------------------------------------------

    def _cancel_requested(self, job_id: str) -> bool:
        row = rows.lease_state(self.studio.store, job_id)
        return row is None or bool(row["cancel_requested"]) or row["lease_owner"] != self.owner

    def _heartbeat(self, job_id: str, progress: JobProgress, cancel: CancelToken, stop: threading.Event) -> None:
        interval = min(0.5, self.studio.settings.lease_seconds / 3)
        try:
            while not stop.wait(interval):
                fields = {**progress.snapshot(), "lease_until": time.time() + self.studio.settings.lease_seconds}
                with self.studio.store.write() as db:
                    held = rows.update_leased(db, job_id, self.owner, fields)
                if not held:  # another worker took the job over: stop working on it here
                    cancel.cancel()
                    return
        finally:
            self.studio.store.close()

    def _complete(self, handler: JobHandler, job: JobRow, outcome: JobOutcome,
                  progress: JobProgress) -> bool:
        now = utcnow()
        snap = progress.snapshot()
        with self.studio.store.write() as db:
            done = rows.update_leased(db, job.id, self.owner, {
                "status": "completed", "progress": 100, "current_step": snap["current_step"],
                "stage_timings": snap["stage_timings"], "finished_at": now, "lease_until": None,
                "output_dir": outcome.output_dir, "warnings": json.dumps(list(outcome.warnings)),
                "result": json.dumps(dict(outcome.result)),
            })
            if done:
                extra = handler.completed(db, job, outcome, now)
                events.emit(db, job.account_id, "job.completed", job.id, job.project_id, "completed",
                            kind=job.kind, result=dict(outcome.result), **extra)
        return done

    def _end(
        self, job: JobRow, status: str, code: str | None, message: str | None,
        progress: JobProgress | None = None, details: dict[str, Any] | None = None,
    ) -> bool:
        now = utcnow()
        fields: dict[str, Any] = {"status": status, "error_code": code, "error_message": message,
                                  "error_details": json.dumps(details, default=str) if details else None,
                                  "finished_at": now, "lease_until": None}
        detail: dict[str, Any] | None = None
        if progress is not None:
            snap = progress.snapshot()
            fields["stage_timings"] = snap["stage_timings"]
            if "result" in snap:  # what the job got to (a publish's video id): kept, and sent with job.failed
                fields["result"] = snap["result"]
                detail = json.loads(snap["result"])
        with self.studio.store.write() as db:
            if not rows.update_leased(db, job.id, self.owner, fields):
                return False
            settle_project(db, job, status, now, result=detail)
        return True


def reconcile(studio: Studio, *, requeue_after: float | None = None) -> list[str]:
    """Re-enqueue queued jobs that may have missed the queue and running jobs whose lease went stale.

    Jobs interrupted more than `max_attempts` times fail (credits refunded). Returns the ids re-enqueued.
    A duplicate enqueue is harmless: only one worker can claim a job.
    """
    now = time.time()
    horizon = requeue_after if requeue_after is not None else studio.settings.lease_seconds * 2
    queued_before = _iso_ago(horizon)
    again: list[str] = []
    for row in rows.jobs_to_reconcile(studio.store, now, queued_before):
        if row.status == "processing" and row.attempts >= studio.settings.max_attempts:
            with studio.store.write() as db:
                if rows.lease_still_stale(db, row.id, now):
                    finish_unleased(db, row, "failed", "ATTEMPTS_EXHAUSTED",
                                    f"the job was interrupted {row.attempts} times; giving up")
            continue
        if row.status == "processing" and row.cancel_requested:
            with studio.store.write() as db:
                finish_unleased(db, row, "cancelled", None, None)
            continue
        enqueue(studio, row.id)
        again.append(row.id)
    return again


def _iso_ago(seconds: float) -> str:
    from datetime import UTC, datetime, timedelta

    moment = datetime.now(UTC) - timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
