"""Render every main screen of the desktop app into docs/screenshots/*.png.

Run under Xvfb (a real X server, so the video widget paints):

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshots.py

It uses a throwaway data folder, the real pipeline (one small film) and the embedded API server.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # gui.embedded: the app's server composition

SAMPLE = REPO / "tests" / "data" / "samples" / "night-market.fountain"
SHORT = (
    "Title: The Key\n\nINT. WORKSHOP - NIGHT\n\nMaya turns a brass key in the lamp light.\n\n"
    "MAYA\nIt opens everything.\n\nOLD TOM\n(quietly)\nThen keep it hidden.\n\nCUT TO:\n\n"
    "EXT. HARBOUR - DAWN\n\nGulls. The tide is out.\n\nMAYA\nThere. The door in the wall.\n"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    parser.add_argument("--size", default="1366x768")  # a common laptop screen
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    width, height = (int(v) for v in args.size.split("x"))

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from filmstudio.app.embedded import EmbeddedApi, next_free_port
    from filmstudio.config import Settings
    from filmstudio.desktop.app import app_settings, build_window
    from filmstudio.desktop.backend import Backend
    from filmstudio.desktop.settings_page import apply_theme
    from filmstudio.services.secrets import MemorySecrets

    app = QApplication(sys.argv[:1])
    apply_theme(app, "light")
    home = Path(tempfile.mkdtemp(prefix="filmstudio-shots-"))
    settings = Settings.model_validate({"home": home / "studio", "port": next_free_port("127.0.0.1", 8765),
                                        "workers": 1, "secrets_backend": "file", "reconcile_seconds": 1.0})
    api = EmbeddedApi(settings, secrets=MemorySecrets())
    api.start()
    backend = Backend(api.studio, api, api.engines)
    window = build_window(backend, app_settings(home / "app.ini"))
    window.resize(width, height)
    window.show()

    def pump(seconds: float, until: Callable[[], bool] | None = None) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            if until is not None and until():
                return
            time.sleep(0.02)
        if until is not None and not until():
            raise RuntimeError("timed out waiting for the app")

    def shot(name: str) -> None:
        pump(0.6)
        window.raise_()
        screen = app.primaryScreen()
        image = screen.grabWindow(window.winId()) if os.environ.get("DISPLAY") else window.grab()
        image.save(str(out / f"{name}.png"))
        print(f"wrote {out / f'{name}.png'}")

    try:
        pump(1.0)
        shot("projects-empty")

        film = backend.create_project("The Key", SHORT, {"duration": 20, "resolution": "640x360", "fps": 12,
                                                          "music_genre": "calm", "subtitle_languages": ["en"]})
        sample = SAMPLE.read_text() if SAMPLE.exists() else SHORT
        market = backend.create_project("Night Market", sample, {"duration": 90, "style": "cinematic",
                                                                  "resolution": "1280x720"})
        backend.create_project("Solar Sails", "The ship unfolded its sails at dawn.", {"style": "documentary"})

        window.open_project(film.project_id)
        pump(10, lambda: window.editor.project is not None and window.editor.cast.rowCount() > 0)
        window.editor.generate()
        pump(60, lambda: window.editor.job is not None and window.editor.job.status == "processing"
             and window.editor.job.progress >= 30)
        shot("generating")
        pump(240, lambda: window.editor.job is not None and window.editor.job.status in ("completed", "failed"))

        window.show_page("Preview")
        pump(30, lambda: window.preview.player.duration() > 0 and window.preview.subtitle_box.count() > 1)
        window.preview.subtitle_box.setCurrentIndex(1)
        window.preview._choose_subtitles(1)
        window.preview.player.setPosition(6000)
        window.preview.player.play()
        pump(1.2)
        window.preview.player.pause()
        shot("preview")

        window.open_project(market.project_id)
        pump(10, lambda: window.editor.project is not None and window.editor.project.title == "Night Market"
             and window.editor.cast.rowCount() >= 3)
        pump(3, lambda: window.editor.style_preview.pixmap() is not None
             and not window.editor.style_preview.pixmap().isNull())
        shot("editor")

        window.editor.duration.setValue(10)
        pump(5, lambda: window.editor.fit.text().startswith("✗"))
        shot("editor-too-long")
        window.editor.duration.setValue(90)
        pump(10, lambda: window.editor.save_state.text() == "Saved" and not window.editor._autosave.isActive())

        window.show_page("Projects")
        pump(5, lambda: window.projects.table.rowCount() == 3)
        shot("projects")

        window.show_page("Jobs")
        pump(5, lambda: len(window.jobs.jobs) >= 1)
        shot("jobs")

        window.show_page("API")
        window.api.generate("my laptop")
        pump(5, lambda: window.api.last_created is not None)
        shot("api-new-key")
        for dialog in window.api.findChildren(QDialogType()):
            dialog.close()
        receiver = _receiver()
        hook = backend.create_webhook(receiver, ["job.completed", "job.failed"])
        backend.send_test_webhook(hook.webhook_id)
        window.api.refresh()
        pump(5, lambda: window.api.webhooks.deliveries_table.rowCount() >= 1)
        shot("api")

        window.show_page("Settings")
        shot("settings")

        window.settings_page.theme.setCurrentText("dark")
        window.open_project(market.project_id)
        pump(10, lambda: window.stack.currentWidget() is window.editor)
        shot("editor-dark")
        window.show_page("Projects")
        shot("projects-dark")
        window.settings_page.theme.setCurrentText("light")
    finally:
        from PySide6.QtWidgets import QMessageBox

        # Nothing here is the user's work: no "unsaved changes" question may hold the script open.
        window.ask_unsaved = lambda _text: QMessageBox.StandardButton.Discard  # type: ignore[method-assign]
        QTimer.singleShot(0, window.close)
        pump(0.5)
        window.tasks.shutdown()
        api.stop(finish_jobs=False, timeout=5)
        backend.close()
    return 0


def _receiver() -> str:
    """A loopback endpoint answering 204, so the API shot shows a delivered test event."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_address[1]}/hooks/filmstudio"


def QDialogType() -> type:
    from PySide6.QtWidgets import QDialog

    return QDialog


if __name__ == "__main__":
    raise SystemExit(main())
