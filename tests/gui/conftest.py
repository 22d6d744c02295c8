"""GUI fixtures: offscreen Qt, a real embedded studio over a temp data folder, the main window."""

from __future__ import annotations

import os

# Must be set before any QApplication exists (pytest-qt makes one per session).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from filmstudio.app.embedded import EmbeddedApi, next_free_port
from filmstudio.desktop.app import app_settings, build_window
from filmstudio.desktop.backend import Backend
from filmstudio.desktop.window import MainWindow
from filmstudio.services.secrets import MemorySecrets

SMALL = {"duration": 8, "resolution": "320x180", "fps": 12, "music_genre": "calm"}
SCRIPT = (
    "Title: The Key\n\n"
    "INT. WORKSHOP - NIGHT\n\n"
    "MAYA\nIt opens everything.\n\n"
    "OLD TOM\n(quietly)\nKeep it hidden.\n"
)
SCRIPT_ES = (  # the same line structure, for user-supplied Spanish subtitles
    "Title: La llave\n\n"
    "INT. TALLER - NOCHE\n\n"
    "MAYA\nLo abre todo.\n\n"
    "OLD TOM\n(en voz baja)\nEscóndela.\n"
)


@dataclass
class Desktop:
    window: MainWindow
    backend: Backend
    api: EmbeddedApi
    home: Path


@pytest.fixture
def desktop(qtbot, tmp_path: Path) -> Iterator[Desktop]:  # type: ignore[no-untyped-def]
    """The real app over a temp data folder: embedded API + one render worker, real pipeline."""
    from filmstudio.config import Settings

    home = tmp_path / "studio"
    settings = Settings.model_validate({
        "home": home, "port": next_free_port("127.0.0.1", 20000 + os.getpid() % 20000), "workers": 1,
        "reconcile_seconds": 1.0, "secrets_backend": "file",
    })
    api = EmbeddedApi(settings, secrets=MemorySecrets())
    api.start()
    backend = Backend(api.studio, api, api.engines)
    window = build_window(backend, app_settings(tmp_path / "app.ini"))
    qtbot.addWidget(window)
    # No modal question may block a test's teardown; tests of the question replace this again.
    from PySide6.QtWidgets import QMessageBox
    window.ask_unsaved = lambda _text: QMessageBox.StandardButton.Discard  # type: ignore[method-assign]
    window.show()
    try:
        yield Desktop(window, backend, api, home)
    finally:
        window.close()
        window.tasks.shutdown()
        api.stop(finish_jobs=False, timeout=5)
        backend.close()


def type_text(qtbot, widget, text: str) -> None:  # type: ignore[no-untyped-def]
    """Type like a user: QTest has no key for '\\n' or non-ASCII, so Return and text go separately."""
    from PySide6.QtCore import Qt

    for i, line in enumerate(text.split("\n")):
        if i:
            qtbot.keyClick(widget, Qt.Key.Key_Return)
        if line:
            qtbot.keyClicks(widget, line)
