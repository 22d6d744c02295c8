"""The embedded API server + queue consumer for the desktop app, as `filmstudio app` composes them.

Part of the composition root, outside `filmstudio.desktop`, because import-linter keeps desktop, server
and queue apart. `filmstudio app`, the GUI tests and scripts/screenshots.py use it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from filmstudio.app.compose import build_server, run_server
from filmstudio.config import Settings
from filmstudio.desktop.backend import Backend
from filmstudio.pipeline.engines import Engines
from filmstudio.services.render import Renderer
from filmstudio.services.secrets import SecretStore
from filmstudio.services.targets import PublishTarget


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def next_free_port(host: str, port: int, tries: int = 50) -> int:
    for candidate in range(port, port + tries):
        if port_free(host, candidate):
            return candidate
    raise OSError(f"no free port in {port}..{port + tries - 1}")


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment a `filmstudio worker` child needs to serve the same studio."""
    env = dict(os.environ)
    env.update({
        "FILMSTUDIO_HOME": str(settings.home), "FILMSTUDIO_QUEUE_URL": settings.queue_url,
        "FILMSTUDIO_SECRETS_BACKEND": settings.secrets_backend,
        "FILMSTUDIO_LEASE_SECONDS": str(settings.lease_seconds),
        "FILMSTUDIO_RECONCILE_SECONDS": str(settings.reconcile_seconds),
        "FILMSTUDIO_MAX_ATTEMPTS": str(settings.max_attempts),
    })
    if settings.model_catalogue is not None:
        env["FILMSTUDIO_MODEL_CATALOGUE"] = str(settings.model_catalogue)
    if settings.model_endpoint is not None:
        env["FILMSTUDIO_MODEL_ENDPOINT"] = settings.model_endpoint
    return env


def _self_command() -> list[str]:
    """How to run `filmstudio` again: the app bundle's own binary when frozen (it takes no `-m`)."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "filmstudio"]


def _finish_when_parent_dies() -> None:
    """In the worker child: if the app dies without stopping us, get SIGINT (finish the job, exit)."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGINT)


class EmbeddedApi:
    """uvicorn in a daemon thread over one Studio, plus render workers.

    `worker="process"` (the app's default) runs `filmstudio worker` as a child process, so a
    render's CPU work never competes with the GUI thread for the GIL; "thread" uses the
    server's in-process pool (a renderer object can only be injected that way).
    """

    def __init__(self, settings: Settings, *, renderer: Renderer | None = None,
                 secrets: SecretStore | None = None, worker: str = "process", engines: Engines | None = None,
                 targets: Mapping[str, PublishTarget] | None = None) -> None:
        self.notice = ""
        self.worker = worker if renderer is None else "thread"
        self.workers = settings.workers
        self._child: subprocess.Popen[bytes] | None = None
        port = settings.port
        if port and not port_free(settings.host, port):
            port = next_free_port(settings.host, port + 1)
            self.notice = f"Port {settings.port} is in use, so the API server listens on port {port}."
            settings = settings.model_copy(update={"port": port})
        self.settings = settings
        in_process = settings if self.worker == "thread" else settings.model_copy(update={"workers": 0})
        self.parts = build_server(in_process, renderer=renderer, secrets=secrets, engines=engines, targets=targets)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def studio(self) -> Any:
        return self.parts.studio

    @property
    def engines(self) -> Engines:
        """The engines of now (rebuilt after a model pull or removal), or the ones the caller gave."""
        return self.parts.live.current() if self.parts.live is not None else self.parts.engines

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and bool(self._server and self._server.started)

    def start(self, timeout: float = 15.0) -> None:
        if self.worker == "process" and self.workers > 0:
            self.settings.home.mkdir(parents=True, exist_ok=True)
            with (self.settings.home / "worker.log").open("ab") as log:
                self._child = subprocess.Popen(
                    [*_self_command(), "worker", "--workers", str(self.workers)],
                    env=worker_env(self.settings), stdout=log, stderr=subprocess.STDOUT,
                    preexec_fn=_finish_when_parent_dies if sys.platform == "linux" else None,
                )
        started = threading.Event()

        def on_started(server: Any) -> None:
            self._server = server
            started.set()

        self._thread = threading.Thread(target=run_server, args=(self.parts,), kwargs={"on_started": on_started},
                                        name="filmstudio-api", daemon=True)
        self._thread.start()
        started.wait(timeout)
        deadline = threading.Event()
        for _ in range(int(timeout / 0.05)):
            if self._server is not None and self._server.started:
                return
            deadline.wait(0.05)
        raise RuntimeError("the embedded API server did not start")

    def stop(self, *, finish_jobs: bool = True, timeout: float = 10.0) -> None:
        """Stop serving; the worker finishes its running job (SIGINT: huey's graceful stop) or is ended."""
        if self._server is not None:
            self._server.should_exit = True
        if self._child is not None and self._child.poll() is None:
            self._child.send_signal(signal.SIGINT if finish_jobs else signal.SIGTERM)
            try:
                self._child.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                if not finish_jobs:
                    self._child.kill()
                    self._child.wait()
                # Still rendering: leave it to finish on its own; if it dies, its lease goes stale
                # and the reconciler resumes the job at the next launch.
                pass
        if self._thread is not None:
            self._thread.join(timeout=20)


def open_desktop(home: Path, *, port: int = 8765, workers: int = 1, renderer: Renderer | None = None,
                 secrets: SecretStore | None = None, **overrides: Any) -> Backend:
    """A Backend whose studio is the embedded server's (one store, one queue)."""
    values: dict[str, Any] = {"home": home, "port": port, "workers": workers}
    values.update(overrides)
    api = EmbeddedApi(Settings.model_validate(values), renderer=renderer, secrets=secrets)
    return Backend(api.studio, api, api.engines)


def run_desktop() -> int:
    """`filmstudio app`: the window, with the embedded API server and a render worker for its data folder."""
    from filmstudio.config import load_settings
    from filmstudio.desktop.app import run_app
    from filmstudio.desktop.remote import RemoteBackend

    def open_backend(prefs: Any) -> Backend:
        over: dict[str, Any] = {"port": prefs.port, "workers": prefs.workers}
        if prefs.data_dir:
            over["home"] = prefs.data_dir
        api = EmbeddedApi(load_settings(**over))
        return Backend(api.studio, api, api.engines)

    def open_remote(url: str, key: str, ca_file: Path | None, cache_dir: Path) -> RemoteBackend:
        return RemoteBackend(url, key, ca_file=ca_file, cache_dir=cache_dir)

    # Studio keys follow the studio's own choice: the OS keyring, or the opted-in file backend.
    key_store = load_settings().secrets_backend
    return run_app(open_backend, open_remote=open_remote, key_store=key_store,
                   quit_after_ms=load_settings().quit_after_ms)
