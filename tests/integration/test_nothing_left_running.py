"""`filmstudio serve` leaves no process behind: SIGTERM, SIGINT, or the server killed outright.

Each test starts `serve` in a new session (its own process group) with its own FILMSTUDIO_HOME,
renders a film through the API with the real pipeline (so the voice helpers, the multiprocessing
forkserver and its resource tracker exist), stops the server, and reads /proc for any process
still in that session. Deadlines are generous: the machine may be busy.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from integration.conftest_server import free_port

REPO = Path(__file__).resolve().parents[2]
SCRIPT = "INT. LAB - NIGHT\n\nDR. REYES stares at the glowing screen.\n\nDR. REYES\nIt finally works."
SMALL = {"duration": 8, "resolution": "320x180", "fps": 12, "music_genre": "calm"}

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")]


def session_processes(sid: int) -> dict[int, str]:
    """pid -> command line of every live process whose session id is `sid` (zombies left out)."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # gone meanwhile
            continue
        # pid (comm) state ppid pgrp session ...: comm may hold spaces and parentheses
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            found[int(entry.name)] = cmdline
    return found


def _start(home: Path, port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "FILMSTUDIO_HOME": str(home), "FILMSTUDIO_SECRETS_BACKEND": "file"}
    env.pop("FILMSTUDIO_ALLOWED_HOSTS", None)
    return subprocess.Popen(
        [sys.executable, "-m", "filmstudio.cli_studio", "serve", "--port", str(port), "--workers", "1"],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )


def _render_once(proc: subprocess.Popen[str], port: int) -> None:
    """Wait for the server, then render SCRIPT through the API until the job completes."""
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while not any(line.startswith("listening on") for line in lines):
        assert time.monotonic() < deadline and proc.poll() is None, "".join(lines)
        lines.append(proc.stdout.readline())
    key = re.search(r"fs_live_\S+", "".join(lines))
    assert key is not None
    base = f"http://127.0.0.1:{port}/api/v1"
    headers = {"Authorization": f"Bearer {key.group(0)}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
        deadline = time.monotonic() + 60
        while True:
            try:
                project = c.post("/projects", json={"title": "Leftovers", "script": SCRIPT, "settings": SMALL})
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        project.raise_for_status()
        job = c.post(f"/projects/{project.json()['project_id']}/generate", json={"settings": SMALL})
        job.raise_for_status()
        deadline = time.monotonic() + 300
        while True:
            got = c.get(f"/jobs/{job.json()['job_id']}").raise_for_status().json()
            if got["status"] in ("completed", "failed", "cancelled"):
                break
            assert time.monotonic() < deadline, got
            time.sleep(0.5)
        assert got["status"] == "completed", got


def _wait_empty(sid: int, seconds: float) -> dict[int, str]:
    deadline = time.monotonic() + seconds
    left = session_processes(sid)
    while left and time.monotonic() < deadline:
        time.sleep(0.25)
        left = session_processes(sid)
    return left


def _kill_session(sid: int) -> None:
    for pid in session_processes(sid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "SIGKILL"])
def test_serve_stopped_leaves_no_process_of_its_session(tmp_path: Path, how: str) -> None:
    port = free_port()
    proc = _start(tmp_path / "studio", port)
    sid = proc.pid  # start_new_session: the server leads its own session and process group
    try:
        _render_once(proc, port)
        helpers = {pid: cmd for pid, cmd in session_processes(sid).items() if pid != proc.pid}
        # The render started its helpers (the forkserver at least): the test would pass vacuously otherwise.
        assert any("forkserver" in cmd for cmd in helpers.values()), helpers
        os.kill(proc.pid, getattr(signal, how))
        try:
            proc.wait(timeout=60)
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
        if how != "SIGKILL":
            assert proc.returncode in (0, -signal.SIGTERM, -signal.SIGINT, 128 + signal.SIGTERM), proc.returncode
        left = _wait_empty(sid, 30.0)
        assert not left, f"left running after {how}: {left}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _kill_session(sid)
