"""Launch and quit: run_app starts the embedded server, the window opens, quitting stops the server."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from filmstudio.app.embedded import EmbeddedApi, next_free_port
from filmstudio.config import Settings
from filmstudio.desktop.backend import Backend
from filmstudio.services.secrets import MemorySecrets
from gui.conftest import SCRIPT, SMALL


def _settings(tmp_path, port: int) -> Settings:  # type: ignore[no-untyped-def]
    return Settings.model_validate({"home": tmp_path / "studio", "port": port, "workers": 1,
                                    "secrets_backend": "file"})


def test_port_taken_uses_next_free_port_with_a_message(tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = next_free_port("127.0.0.1", 23000)
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        api = EmbeddedApi(_settings(tmp_path, port), secrets=MemorySecrets())
        assert f"Port {port} is in use" in api.notice
        assert api.url != f"http://127.0.0.1:{port}"
        api.start()
        try:
            assert httpx.get(f"{api.url}/health", timeout=10).status_code == 200
        finally:
            api.stop(finish_jobs=False, timeout=5)


LAUNCH = """
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
sys.path.insert(0, sys.argv[1])
from pathlib import Path
import httpx
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from filmstudio.config import Settings
from filmstudio.desktop.app import run_app
from filmstudio.desktop.backend import Backend
from filmstudio.desktop.window import MainWindow
from filmstudio.services.secrets import MemorySecrets
from filmstudio.app.embedded import EmbeddedApi

home, port = Path(sys.argv[2]), int(sys.argv[3])
made, seen = {}, {}

def open_backend(prefs):
    settings = Settings.model_validate({"home": home / "studio", "port": port, "workers": 1,
                                        "secrets_backend": "file"})
    made["api"] = api = EmbeddedApi(settings, secrets=MemorySecrets())
    return Backend(api.studio, api, api.engines)

def check_and_quit():
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    if not windows:
        QTimer.singleShot(100, check_and_quit)
        return
    seen["health"] = httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code
    seen["running"] = made["api"].running
    seen["title"] = windows[0].windowTitle()
    windows[0].close()

app = QApplication([])  # the timer below needs the app's event dispatcher; run_app reuses it
QTimer.singleShot(200, check_and_quit)
seen["code"] = run_app(open_backend, [], settings_path=home / "app.ini", data_dir=home / "client")
seen["running_after"] = made["api"].running
seen["worker_exit"] = made["api"]._child.poll()
print(json.dumps(seen))
"""


def test_run_app_starts_and_stops_the_server(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """In a child process: after app.exec() returns, Qt will not run another event loop in it."""
    port = next_free_port("127.0.0.1", 24000)
    tests_dir = str(Path(__file__).resolve().parents[1])
    proc = subprocess.run([sys.executable, "-c", LAUNCH, tests_dir, str(tmp_path), str(port)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["health"] == 200 and seen["running"] is True and seen["title"] == "FilmStudio — This computer"
    assert seen["code"] == 0 and seen["running_after"] is False
    assert seen["worker_exit"] is not None  # the render worker ended with the app


QUIT_ON_ITS_OWN = LAUNCH.replace("    windows[0].close()\n", "").replace(
    'run_app(open_backend, [], settings_path=home / "app.ini", data_dir=home / "client")',
    'run_app(open_backend, [], settings_path=home / "app.ini", data_dir=home / "client", '
    'quit_after_ms=load_settings({"FILMSTUDIO_QUIT_AFTER_MS": "3000"}).quit_after_ms)').replace(
    "from filmstudio.config import Settings", "from filmstudio.config import Settings, load_settings")


def test_the_app_quits_on_its_own_after_the_settings_quit_after_ms(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """FILMSTUDIO_QUIT_AFTER_MS (the bundle's smoke test) is a setting handed to run_app, not read by the app."""
    assert "windows[0].close()" not in QUIT_ON_ITS_OWN and "quit_after_ms=" in QUIT_ON_ITS_OWN
    port = next_free_port("127.0.0.1", 24500)
    tests_dir = str(Path(__file__).resolve().parents[1])
    proc = subprocess.run([sys.executable, "-c", QUIT_ON_ITS_OWN, tests_dir, str(tmp_path), str(port)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["health"] == 200 and seen["title"] == "FilmStudio — This computer"  # up; nobody closed it
    assert seen["code"] == 0 and seen["running_after"] is False


@pytest.mark.slow
def test_quit_lets_the_running_job_finish(tmp_path) -> None:  # type: ignore[no-untyped-def]
    api = EmbeddedApi(_settings(tmp_path, next_free_port("127.0.0.1", 25000)), secrets=MemorySecrets())
    api.start()
    backend = Backend(api.studio, api, api.engines)
    made = backend.create_project("Finish me", SCRIPT, SMALL)
    job_id = backend.generate(made.project_id).job_id
    deadline = time.monotonic() + 60
    while backend.get_job(job_id).status != "processing":
        assert time.monotonic() < deadline, "the worker never picked the job up"
        time.sleep(0.1)
    api.stop(finish_jobs=True, timeout=180)  # what quitting the app does
    assert api._child is not None and api._child.poll() is not None
    job = backend.get_job(job_id)
    assert job.status == "completed", job
    files = backend.film_files(made.project_id)
    assert files.video is not None and files.video.stat().st_size > 0
