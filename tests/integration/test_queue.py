"""The queue never loses work: kill -9 mid-render and restart, leases, reconciler, signals."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from filmstudio.app.compose import job_handlers
from filmstudio.queue import StudioQueue, WorkerPool, make_huey
from filmstudio.services import accounts, jobs, keys, projects
from filmstudio.services.factory import open_studio
from filmstudio.services.keys import Principal
from filmstudio.services.secrets import MemorySecrets
from integration.conftest_server import (
    SCRIPT,
    SMALL,
    FakeRenderer,
    free_port,
    live_server,
    server_settings,
    wait_job,
    wait_progress,
)

REPO = Path(__file__).resolve().parents[2]


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "FILMSTUDIO_HOME": str(home), "FILMSTUDIO_LEASE_SECONDS": "2", "FILMSTUDIO_RECONCILE_SECONDS": "0.5",
        "PYTHONPATH": str(REPO / "tests"),
    })
    return env


FAKE = "integration.conftest_server:make_slow_renderer"


def _worker(home: Path, renderer: str | None = FAKE) -> subprocess.Popen[bytes]:
    extra = ["--renderer", renderer] if renderer else []
    return subprocess.Popen(
        [sys.executable, "-m", "filmstudio.cli_studio", "worker", *extra],
        env=_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
    )


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


@pytest.mark.slow
@pytest.mark.parametrize("renderer", [FAKE, None], ids=["fake-renderer", "real-pipeline"])
def test_kill_9_mid_render_then_restart_completes(tmp_path: Path, renderer: str | None) -> None:
    home = tmp_path / "studio"
    settings = server_settings(home, workers=0, lease_seconds=2.0)
    film = {**SMALL, "duration": 8} if renderer is None else SMALL
    with live_server(settings) as live:
        key = live.new_key("survivor", credits=5)
        with live.client(key) as c:
            pid = c.post("/projects", json={"title": "k", "script": SCRIPT, "settings": film}).json()["project_id"]
            job_id = c.post(f"/projects/{pid}/generate").json()["job_id"]
            first = _worker(home, renderer)
            try:
                mid = wait_progress(c, job_id, at_least=30, timeout=120)
                assert mid["status"] == "processing" and mid["progress"] < 100
                first.send_signal(signal.SIGKILL)
                assert first.wait(timeout=10) == -signal.SIGKILL
            finally:
                if first.poll() is None:
                    first.kill()
            assert c.get(f"/jobs/{job_id}").json()["status"] == "processing"  # nobody knows yet
            second = _worker(home, renderer)
            try:
                done = wait_job(c, job_id, timeout=180)
            finally:
                second.send_signal(signal.SIGINT)
                second.wait(timeout=20)
            assert done["status"] == "completed", done
            assert done["attempts"] == 2
            project = c.get(f"/projects/{pid}").json()
            assert project["status"] == "completed"
            assert httpx.get(project["assets"]["video_url"]).status_code == 200
    films = sorted(p.relative_to(settings.media_dir) for p in settings.media_dir.rglob("*.mp4"))
    assert films == [Path(pid) / job_id / "film.mp4"]
    assert not [p for p in settings.media_dir.rglob("*") if "partial" in p.name]
    if renderer == FAKE:
        renders = (settings.work_dir / "renders.log").read_text().splitlines()
        assert len(renders) == 2 and len(set(renders)) == 1  # resumed into the same output, once more
    assert _integrity(settings.db_path) == "ok" and _integrity(settings.queue_path) == "ok"
    with sqlite3.connect(settings.db_path) as conn:
        ledger = conn.execute("SELECT kind, amount FROM credit_ledger WHERE job_id = ?", [job_id]).fetchall()
        balance = conn.execute("SELECT credit_balance FROM accounts WHERE name = 'survivor'").fetchone()[0]
    assert ledger == [("deduct", 1)] and balance == 4


def _studio(home: Path, step_seconds: float = 0.0, **kw: object):  # type: ignore[no-untyped-def]
    settings = server_settings(home, lease_seconds=1.0, reconcile_seconds=0.3, **kw)
    queue = StudioQueue(make_huey("sqlite", settings.queue_path))
    studio = open_studio(settings, queue=queue, secrets=MemorySecrets())
    acct = accounts.create_account(studio.store, "q", credits=None)
    key = keys.create_key(studio.store, acct.account_id, name="k")
    who = Principal(acct.account_id, key.key_id, frozenset(key.scopes))
    return settings, queue, studio, who


def _new_job(studio, who) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    from filmstudio.domain.models import ProjectCreate

    pid = projects.create_project(studio, who, ProjectCreate.model_validate(
        {"title": "q", "script": SCRIPT, "settings": SMALL})).project_id
    return pid, jobs.generate(studio, who, pid).job_id


def _until(cond, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_in_process_pool_runs_queued_jobs_and_reconciles_lost_ones(tmp_path: Path) -> None:
    settings, queue, studio, who = _studio(tmp_path)
    # A job accepted while the queue file lost its task (as after a crash before fsync).
    pid, lost = _new_job(studio, who)
    queue.huey.flush()
    pool = WorkerPool(queue, studio, job_handlers(studio, FakeRenderer()), workers=1, reconcile_seconds=0.3)
    pool.start()
    try:
        _until(lambda: studio.store.one("SELECT status FROM jobs WHERE id = ?", [lost])["status"] == "completed")
        _, second = _new_job(studio, who)
        _until(lambda: studio.store.one("SELECT status FROM jobs WHERE id = ?", [second])["status"] == "completed")
    finally:
        pool.stop()
    assert (settings.media_dir / pid / lost / "film.mp4").exists()


def test_stale_lease_is_taken_over_and_attempts_are_bounded(tmp_path: Path) -> None:
    from filmstudio.services.executor import JobExecutor, reconcile

    _settings, _queue, studio, who = _studio(tmp_path, max_attempts=2)
    _, job = _new_job(studio, who)
    # A worker that claimed the job and died: lease in the past.
    with studio.store.write() as db:
        db.execute("UPDATE jobs SET status='processing', attempts=1, lease_owner='dead', lease_until=? WHERE id=?",
                   [time.time() - 5, job])
    assert job in reconcile(studio)
    assert JobExecutor(studio, job_handlers(studio, FakeRenderer())).run(job) == "completed"
    assert JobExecutor(studio, job_handlers(studio, FakeRenderer())).run(job) == "skipped"  # a duplicate task is a no-op
    # Exhausted: interrupted max_attempts times -> failed and refunded, never retried again.
    _, job2 = _new_job(studio, who)
    with studio.store.write() as db:
        db.execute("UPDATE jobs SET status='processing', attempts=2, lease_owner='dead', lease_until=? WHERE id=?",
                   [time.time() - 5, job2])
    assert job2 not in reconcile(studio)
    row = studio.store.one("SELECT status, error_code FROM jobs WHERE id = ?", [job2])
    assert row == {"status": "failed", "error_code": "ATTEMPTS_EXHAUSTED"}
    assert {r["kind"] for r in studio.store.all("SELECT kind FROM credit_ledger WHERE job_id=?", [job2])} == {
        "deduct", "refund"}


def test_a_worker_that_lost_its_lease_leaves_the_new_owner_alone(tmp_path: Path) -> None:
    from filmstudio.services.executor import JobExecutor

    settings, _queue, studio, who = _studio(tmp_path)
    pid, job = _new_job(studio, who)
    inner = FakeRenderer(step_seconds=0.2)

    def stolen(*args, **kwargs):  # type: ignore[no-untyped-def]
        # Mid-render another worker takes the job over (our lease looked stale to it).
        with studio.store.write() as db:
            db.execute("UPDATE jobs SET lease_owner = 'other', lease_until = ? WHERE id = ?", [time.time() + 60, job])
        (settings.media_dir / pid / job).mkdir(parents=True, exist_ok=True)
        (settings.media_dir / pid / job / "theirs.txt").write_text("new owner's work")
        return inner(*args, **kwargs)

    assert JobExecutor(studio, job_handlers(studio, stolen)).run(job) == "lost"
    row = studio.store.one("SELECT status, lease_owner FROM jobs WHERE id = ?", [job])
    assert row == {"status": "processing", "lease_owner": "other"}
    assert (settings.media_dir / pid / job / "theirs.txt").exists()
    assert not (settings.media_dir / pid / job / "film.mp4").exists()


def test_render_failure_fails_the_job_and_refunds(tmp_path: Path) -> None:
    from filmstudio.domain.errors import RenderFailed
    from filmstudio.services.executor import JobExecutor

    settings, _queue, studio, who = _studio(tmp_path)
    pid, job = _new_job(studio, who)
    result = JobExecutor(studio, job_handlers(studio, FakeRenderer(fail_with=RenderFailed("ffmpeg exploded", code="FFMPEG_FAILED")))).run(job)
    assert result == "failed"
    got = jobs.get_job(studio, who, job)
    assert got.status == "failed" and got.error is not None and got.error.code == "FFMPEG_FAILED"
    assert projects.get_project(studio, who, pid).status == "failed"
    assert not (settings.media_dir / pid / job).exists()
    # The renderer wrote into the job's work folder before failing: a failed job leaves none behind.
    assert (settings.work_dir / "renders.log").exists() and not (settings.work_dir / job).exists()


def test_serve_leaves_signals_to_uvicorn(tmp_path: Path) -> None:
    """SIGTERM stops `filmstudio serve` (API + in-process consumer) cleanly."""
    port = free_port()
    env = _env(tmp_path / "serve")
    proc = subprocess.Popen([sys.executable, "-m", "filmstudio.cli_studio", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        _until(lambda: _healthy(port), timeout=30)
        proc.send_signal(signal.SIGTERM)
        # uvicorn re-raises the signal it handled after a clean shutdown, so -SIGTERM is a clean exit.
        assert proc.wait(timeout=20) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.stdout is not None
    with proc.stdout:
        out = proc.stdout.read().decode()
    assert "fs_live_" in out  # the owner's admin key, shown on first run


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_render_runs_at_background_priority_and_the_lease_does_not(tmp_path: Path) -> None:
    """The renderer runs niced (so the API stays quick), then the thread gets its priority back."""
    from filmstudio.pipeline.media.ffmpeg import RENDER_NICENESS
    from filmstudio.services.executor import JobExecutor

    _settings, _queue, studio, who = _studio(tmp_path)
    _, job = _new_job(studio, who)
    seen: dict[str, int] = {}
    inner = FakeRenderer()

    def renderer(*args: Any, **kwargs: Any) -> dict[str, Any]:
        seen["render"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        return inner(*args, **kwargs)

    def run() -> None:  # a thread of its own: the nice value sticks to the thread that rendered
        seen["before"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        seen["result"] = JobExecutor(studio, job_handlers(studio, renderer)).run(job) == "completed"
        seen["after"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    t = threading.Thread(target=run)
    t.start()
    t.join(timeout=60)
    assert seen["result"] is True
    assert seen["before"] < RENDER_NICENESS and seen["render"] == RENDER_NICENESS, seen
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == seen["before"]  # this thread untouched
    assert seen["after"] == seen["before"]  # restored (root may; an unprivileged worker thread stays niced)
