"""Starting the desktop app: QApplication, preferences, theme, the embedded server, the main window.

The studio and its embedded server are built by the caller (`filmstudio app`, tests) from the
preferences, because the server and queue live beside the desktop layer, not below it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from filmstudio.desktop.backend import Backend, error_text
from filmstudio.desktop.first_run import offer_first_run
from filmstudio.desktop.settings_page import Preferences, apply_theme
from filmstudio.desktop.tasks import TaskRunner
from filmstudio.desktop.window import MainWindow

ORGANIZATION = "FilmStudio"
APPLICATION = "FilmStudio"

OpenBackend = Callable[[Preferences], Backend]


def app_settings(path: Path | None = None) -> QSettings:
    """The app's own settings (geometry, preferences): an INI file when `path` is given (tests)."""
    if path is not None:
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings(ORGANIZATION, APPLICATION)


def build_window(backend: Backend, settings: QSettings, prefs: Preferences | None = None,
                 tasks: TaskRunner | None = None) -> MainWindow:
    """A ready main window over `backend` (the caller shows it)."""
    prefs = prefs or Preferences.load(settings)
    home = backend.studio.media_dir.parent
    return MainWindow(backend, tasks or TaskRunner(), settings, prefs, home)


def run_app(open_backend: OpenBackend, argv: Sequence[str] | None = None, *,
            settings_path: Path | None = None) -> int:
    """Run the app until the window closes; start the embedded server first, stop it last."""
    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv))
    assert isinstance(app, QApplication)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    qsettings = app_settings(settings_path)
    prefs = Preferences.load(qsettings)
    apply_theme(app, prefs.theme)
    try:
        backend = open_backend(prefs)
    except Exception as exc:
        QMessageBox.critical(None, "FilmStudio cannot start", error_text(exc))
        return 2
    server = backend.server
    if server is not None:
        try:
            server.start()
        except Exception as exc:
            QMessageBox.warning(None, "API server not started", error_text(exc))
    tasks = TaskRunner()
    window = build_window(backend, qsettings, prefs, tasks)
    window.editor.script.highlighter.set_dark(prefs.theme == "dark")
    if server is not None and server.notice:
        window.status_label.setText(server.notice)
    window.show()
    # The first launch with no model pulled: the set for this machine, asked once (never downloads by itself).
    offer_first_run(window, backend, tasks, qsettings)
    if quit_after := os.environ.get("FILMSTUDIO_QUIT_AFTER_MS"):  # smoke tests of the app bundle
        QTimer.singleShot(int(quit_after), app.quit)
    code = app.exec()
    tasks.shutdown()
    if server is not None and server.running:
        # A job still rendering is left leased; the reconciler resumes it at the next launch.
        server.stop()
    backend.close()
    return int(code)
