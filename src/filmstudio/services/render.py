"""Running a job in a worker: lease + heartbeat, progress, cooperative cancel, and the reconciler."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from filmstudio.domain.errors import Cancelled, FilmStudioError
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.context import CancelToken, ProgressFn
from filmstudio.pipeline.media.ffmpeg import lower_priority
from filmstudio.services import assets, events
from filmstudio.services.jobs import enqueue, finish_unleased, settle_project
from filmstudio.services.studio import Studio
from filmstudio.store import jobs as rows
from filmstudio.store import projects as project_rows
from filmstudio.store.db import utcnow

log = logging.getLogger(__name__)


class Renderer(Protocol):
    """The render pipeline's entry point (`filmstudio.pipeline.runner.render`) or a test double."""

    def __call__(
        self,
        script_text: str,
        settings: RenderSettings,
        output: Path,
        *,
        work_dir: Path,
        cache_dir: Path,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> dict[str, Any]: ...


@contextlib.contextmanager
def _background_thread() -> Iterator[None]:
    """Run the block at a lower CPU priority (with its children: segment threads, ffmpeg, espeak-ng).

    Linux keeps a nice value per thread, so the API's threads in the same process keep theirs.
    Restored afterwards where allowed (an unprivileged process may not raise it back; then this
    thread, which only renders, stays niced).
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


def pipeline_renderer() -> Renderer:
    from filmstudio.pipeline.runner import render

    return render


@dataclass
class _Progress:
    """What the render reported last; the heartbeat thread writes it out with the lease."""

    step: str | None = None
    fraction: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    step_started: float = field(default_factory=time.monotonic)
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

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            timings = dict(self.timings)
            if self.step is not None:
                timings[self.step] = timings.get(self.step, 0.0) + time.monotonic() - self.step_started
            return {
                "current_step": self.step,
                "progress": min(99, int(self.fraction * 100)),
                "stage_timings": json.dumps({k: round(v, 3) for k, v in timings.items()}),
            }


class JobExecutor:
    """Runs one job id to its end; safe to call twice for the same id (the lease decides)."""

    def __init__(self, studio: Studio, renderer: Renderer, *, owner: str | None = None) -> None:
        self.studio = studio
        self.renderer = renderer
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def run(self, job_id: str) -> str:
        """Claim, render and settle `job_id`; return the job's final status, or "skipped"."""
        lease = self.studio.lease_seconds
        with self.studio.store.write() as db:
            now = time.time()
            claimed = rows.claim(db, job_id, self.owner, now, now + lease, utcnow())
            if claimed:
                started = db.execute("SELECT account_id, project_id, attempts FROM jobs WHERE id = ?",
                                     [job_id]).fetchone()
                if started[2] == 1:  # the first start only; a takeover after a crash is not news
                    events.emit(db, started[0], "job.started", job_id, started[1], "processing")
        if not claimed:
            return "skipped"
        job = rows.get_job(self.studio.store, job_id)
        assert job is not None
        if job["attempts"] > self.studio.max_attempts:
            self._end(job, "failed", "ATTEMPTS_EXHAUSTED",
                      f"the render was interrupted {job['attempts'] - 1} times; giving up")
            return "failed"
        progress = _Progress()
        cancel = CancelToken(check=lambda: self._cancel_requested(job_id), poll_interval=0.3)
        stop = threading.Event()
        beat = threading.Thread(
            target=self._heartbeat, args=(job_id, progress, cancel, stop), name=f"lease-{job_id[:8]}", daemon=True
        )
        beat.start()
        output = assets.output_path(self.studio, job["project_id"], job_id)
        work_dir = self.studio.work_dir / job_id
        try:
            settings = RenderSettings.model_validate_json(job["settings"])
            with _background_thread():  # the heartbeat thread started before: the lease keeps its priority
                manifest = self.renderer(
                    job["script"], settings, output, work_dir=work_dir, cache_dir=self.studio.cache_dir,
                    progress=progress.report, cancel=cancel,
                )
            cancel.raise_if_cancelled()  # a cancel that raced the last frame still wins
        except Cancelled:
            return self._stop_and_end(job, beat, stop, output, "cancelled", None, None, progress)
        except FilmStudioError as exc:
            return self._stop_and_end(job, beat, stop, output, "failed", exc.code, exc.message, progress)
        except Exception as exc:
            log.exception("job %s crashed", job_id)
            return self._stop_and_end(job, beat, stop, output, "failed", "RENDER_FAILED",
                                      f"the render failed unexpectedly ({type(exc).__name__})", progress)
        stop.set()
        beat.join()
        warnings = list((manifest or {}).get("warnings", [])) if isinstance(manifest, dict) else []
        if not self._complete(job, output, progress, warnings):
            return "lost"
        shutil.rmtree(work_dir, ignore_errors=True)
        return "completed"

    def _stop_and_end(
        self, job: dict[str, Any], beat: threading.Thread, stop: threading.Event, output: Path, status: str,
        code: str | None, message: str | None, progress: _Progress,
    ) -> str:
        stop.set()
        beat.join()
        if not self._end(job, status, code, message, progress):
            # Another worker owns the job now (our lease went stale): its files are not ours to clean.
            return "lost"
        shutil.rmtree(output.parent, ignore_errors=True)
        return status

    # -- internals ----------------------------------------------------------------------------

    def _cancel_requested(self, job_id: str) -> bool:
        row = self.studio.store.one("SELECT cancel_requested, lease_owner FROM jobs WHERE id = ?", [job_id])
        return row is None or bool(row["cancel_requested"]) or row["lease_owner"] != self.owner

    def _heartbeat(self, job_id: str, progress: _Progress, cancel: CancelToken, stop: threading.Event) -> None:
        interval = min(0.5, self.studio.lease_seconds / 3)
        try:
            while not stop.wait(interval):
                fields = {**progress.snapshot(), "lease_until": time.time() + self.studio.lease_seconds}
                with self.studio.store.write() as db:
                    held = rows.update_leased(db, job_id, self.owner, fields)
                if not held:  # another worker took the job over: stop rendering it here
                    cancel.cancel()
                    return
        finally:
            self.studio.store.close()

    def _complete(self, job: dict[str, Any], output: Path, progress: _Progress, warnings: list[str]) -> bool:
        now = utcnow()
        found = assets.collect(self.studio, output)
        snap = progress.snapshot()
        with self.studio.store.write() as db:
            done = rows.update_leased(db, job["id"], self.owner, {
                "status": "completed", "progress": 100, "current_step": snap["current_step"] or "thumbnail",
                "stage_timings": snap["stage_timings"], "finished_at": now, "lease_until": None,
                "output_dir": output.parent.relative_to(self.studio.media_dir).as_posix(),
                "warnings": json.dumps(warnings),
            })
            if done:
                project_rows.update_project(db, job["project_id"], {
                    "status": "completed", "assets": json.dumps(found), "completed_at": now, "updated_at": now,
                })
                events.emit(db, job["account_id"], "job.completed", job["id"], job["project_id"], "completed",
                            output_url=_video_url(self.studio, found))
        return done

    def _end(
        self, job: dict[str, Any], status: str, code: str | None, message: str | None,
        progress: _Progress | None = None,
    ) -> bool:
        now = utcnow()
        fields: dict[str, Any] = {"status": status, "error_code": code, "error_message": message,
                                  "finished_at": now, "lease_until": None}
        if progress is not None:
            fields["stage_timings"] = progress.snapshot()["stage_timings"]
        with self.studio.store.write() as db:
            if not rows.update_leased(db, job["id"], self.owner, fields):
                return False
            settle_project(db, job, status, now)
        return True


def reconcile(studio: Studio, *, requeue_after: float | None = None) -> list[str]:
    """Re-enqueue queued jobs that may have missed the queue and running jobs whose lease went stale.

    Jobs interrupted more than `max_attempts` times fail (credits refunded). Returns the ids re-enqueued.
    A duplicate enqueue is harmless: only one worker can claim a job.
    """
    now = time.time()
    horizon = requeue_after if requeue_after is not None else studio.lease_seconds * 2
    queued_before = _iso_ago(horizon)
    again: list[str] = []
    for row in rows.jobs_to_reconcile(studio.store, now, queued_before):
        if row["status"] == "processing" and row["attempts"] >= studio.max_attempts:
            with studio.store.write() as db:
                fresh = db.execute(
                    "SELECT 1 FROM jobs WHERE id = ? AND status = 'processing' AND lease_until < ?", [row["id"], now]
                ).fetchone()
                if fresh:
                    finish_unleased(db, row, "failed", "ATTEMPTS_EXHAUSTED",
                                    f"the render was interrupted {row['attempts']} times; giving up")
            continue
        if row["status"] == "processing" and row["cancel_requested"]:
            with studio.store.write() as db:
                finish_unleased(db, row, "cancelled", None, None)
            continue
        enqueue(studio, row["id"])
        again.append(row["id"])
    return again


def _video_url(studio: Studio, found: dict[str, Any]) -> str | None:
    """The film's signed (expiring) download URL for the job.completed event."""
    try:
        return assets.public_assets(studio, json.dumps(found)).video_url
    except Exception:  # a missing signing secret must not lose the completion
        log.exception("could not sign the output URL")
        return None


def _iso_ago(seconds: float) -> str:
    from datetime import UTC, datetime, timedelta

    moment = datetime.now(UTC) - timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
