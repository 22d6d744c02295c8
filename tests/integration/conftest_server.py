"""Shared fixtures for the studio server tests: a fake renderer, a live uvicorn, API clients.

Import explicitly: `from integration.conftest_server import ...` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from filmstudio.app.compose import ServerParts, build_server, run_server
from filmstudio.config import Settings
from filmstudio.pipeline.context import CancelToken, ProgressFn, atomic_output
from filmstudio.pipeline.media.ffmpeg import run_ffmpeg
from filmstudio.pipeline.request import RenderRequest
from filmstudio.pipeline.runner import STEPS
from filmstudio.services import accounts, keys
from filmstudio.services.render import Renderer

SCRIPT = "INT. LAB - NIGHT\n\nDR. REYES stares at the glowing screen.\n\nDR. REYES\nIt finally works."
SMALL = {"duration": 8, "resolution": "320x180", "fps": 12, "music_genre": "calm"}  # 8 s: the neural voice needs 6 for SCRIPT


class FakeRenderer:
    """A Renderer that writes a tiny real film (lavfi test pattern + tone), thumbnail and SRT.

    `step_seconds` sleeps in each step (checking cancel) so tests can act mid-render. It records
    how often each output was rendered in `<work_dir>/../renders.log` for duplicate checks.
    """

    def __init__(self, step_seconds: float = 0.0, fail_with: Exception | None = None) -> None:
        self.step_seconds = step_seconds
        self.fail_with = fail_with
        self.requests: list[RenderRequest] = []

    def __call__(
        self, request: RenderRequest, *, progress: ProgressFn | None = None, cancel: CancelToken | None = None,
    ) -> dict[str, Any]:
        settings, output, work_dir = request.settings, request.output, request.work_dir
        self.requests.append(request)
        cancel = cancel or CancelToken()
        work_dir.mkdir(parents=True, exist_ok=True)
        with (work_dir.parent / "renders.log").open("a") as log:
            log.write(f"{output}\n")
        for i, step in enumerate(STEPS):
            if progress:
                progress(step, i / len(STEPS))
            deadline = time.monotonic() + self.step_seconds
            while time.monotonic() < deadline:
                cancel.raise_if_cancelled()
                time.sleep(0.05)
            cancel.raise_if_cancelled()
            if self.fail_with is not None and step == "visual_generation":
                raise self.fail_with
        w, h = settings.size
        with atomic_output(output.with_suffix(".jpg")) as tmp:
            run_ffmpeg(["-f", "lavfi", "-i", f"testsrc=size={w}x{h}", "-frames:v", "1", "-f", "mjpeg", str(tmp)],
                       cancel=cancel)
        for lang in settings.subtitle_langs:
            output.with_name(f"{output.stem}.{lang}.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nHi\n")
        with atomic_output(output) as tmp:
            run_ffmpeg([
                "-f", "lavfi", "-i", f"testsrc=size={w}x{h}:rate={settings.fps}:duration=1",
                "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
                "-shortest", "-movflags", "+faststart", "-f", "mp4", str(tmp),
            ], cancel=cancel)
        if progress:
            progress("thumbnail", 1.0)
        return {"output": str(output), "title": request.title}


def make_slow_renderer() -> Renderer:
    """For `filmstudio worker --renderer integration.conftest_server:make_slow_renderer` (kill -9 test)."""
    return FakeRenderer(step_seconds=0.6)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def server_settings(home: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "home": home, "host": "127.0.0.1", "port": free_port(), "workers": 1, "lease_seconds": 2.0,
        "reconcile_seconds": 0.5, "max_body_bytes": 64_000,
    }
    values.update(overrides)
    return Settings.model_validate(values)


@dataclass
class LiveServer:
    parts: ServerParts
    base: str  # http://127.0.0.1:PORT

    @property
    def api(self) -> str:
        return f"{self.base}/api/v1"

    def client(self, key: str | None = None, **kw: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.api, headers=headers, timeout=30, **kw)

    def new_key(self, account: str = "alice", *, credits: int | None = None, plan: str = "enterprise",
                **kw: Any) -> str:
        # Enterprise (no request limit unless configured): these tests poll jobs far faster than 120/min.
        store = self.parts.studio.store
        try:
            acct = accounts.account_by_name(store, account)
        except Exception:
            acct = accounts.create_account(store, account, plan=plan, credits=credits)
        return keys.create_key(store, acct.account_id, name=f"{account}-test", **kw).secret


def wait_healthy(base: str, timeout: float = 15.0, alive: Callable[[], bool] | None = None) -> None:
    """Wait until `base`/health answers 200; RuntimeError after `timeout` s or when `alive()` turns false."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or (alive is not None and not alive()):
            raise RuntimeError(f"the server at {base} did not come up")
        time.sleep(0.05)


@contextmanager
def live_server(settings: Settings, renderer: Renderer | None = None, **build: Any) -> Iterator[LiveServer]:
    """A real uvicorn on a loopback port in a thread, with the in-process worker pool (`build`: more
    build_server arguments, e.g. `targets`)."""
    parts = build_server(settings, renderer=renderer or FakeRenderer(), **build)
    holder: dict[str, Any] = {}
    thread = threading.Thread(target=run_server, args=(parts,), kwargs={"on_started": lambda s: holder.setdefault("s", s)},
                              daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{settings.port}"
    wait_healthy(base)
    try:
        yield LiveServer(parts, base)
    finally:
        holder["s"].should_exit = True
        thread.join(timeout=15)


def wait_job(client: httpx.Client, job_id: str, until: tuple[str, ...] = ("completed", "failed", "cancelled"),
             timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(f"/jobs/{job_id}").json()
        if job["status"] in until:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job stuck: {job}")
        time.sleep(0.1)


def wait_progress(client: httpx.Client, job_id: str, at_least: int, timeout: float = 60) -> dict[str, Any]:
    """Poll until the job reports `at_least` percent (it is then genuinely mid-render)."""
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(f"/jobs/{job_id}").json()
        if job["progress"] >= at_least or job["status"] not in ("queued", "processing"):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job did not progress: {job}")
        time.sleep(0.05)
