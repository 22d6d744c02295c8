"""Starting the desktop app: QApplication, preferences, theme, the embedded server, the main window.

The studio and its embedded server are built by the caller (`filmstudio app`, tests) from the
preferences, because the server and queue live beside the desktop layer, not below it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from filmstudio.desktop.backend_contract import StudioBackend, error_text
from filmstudio.desktop.first_run import offer_first_run
from filmstudio.desktop.settings_page import Preferences, apply_theme
from filmstudio.desktop.studio_session import OpenRemote, StudioSession
from filmstudio.desktop.studios import StudioKeys
from filmstudio.desktop.tasks import TaskRunner
from filmstudio.desktop.window import MainWindow

ORGANIZATION = "FilmStudio"
APPLICATION = "FilmStudio"

OpenBackend = Callable[[Preferences], StudioBackend]


def app_settings(path: Path | None = None) -> QSettings:
    """The app's own settings (geometry, preferences): an INI file when `path` is given (tests)."""
    if path is not None:
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings(ORGANIZATION, APPLICATION)


def client_data_dir() -> Path:
    """The app's own data folder (drafts, remote studios' caches, the opted-in key file)."""
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))


def build_window(backend: StudioBackend, settings: QSettings, prefs: Preferences | None = None,
                 tasks: TaskRunner | None = None) -> MainWindow:
    """A ready main window over `backend` (the caller shows it)."""
    prefs = prefs or Preferences.load(settings)
    return MainWindow(backend, tasks or TaskRunner(), settings, prefs, _home(backend, prefs))


def _home(backend: StudioBackend, prefs: Preferences) -> Path:
    # A remote studio has no data folder here: the settings page shows the local one it would use.
    if backend.home is not None:
        return backend.home
    import platformdirs

    return Path(prefs.data_dir or platformdirs.user_data_dir("filmstudio", appauthor=False))


def build_session(local: StudioBackend, settings: QSettings, *, data_dir: Path, keys: StudioKeys,
                  open_remote: OpenRemote | None, prefs: Preferences | None = None,
                  tasks: TaskRunner | None = None) -> StudioSession:
    """The app's studios: a window over `local` first, File -> Connect to switch (the caller shows it)."""
    prefs = prefs or Preferences.load(settings)
    return StudioSession(local, settings, prefs, tasks or TaskRunner(), home=_home(local, prefs),
                         data_dir=data_dir, keys=keys, open_remote=open_remote)


def run_app(open_backend: OpenBackend, argv: Sequence[str] | None = None, *,
            settings_path: Path | None = None, open_remote: OpenRemote | None = None,
            key_store: str = "keyring", data_dir: Path | None = None, quit_after_ms: int | None = None) -> int:
    """Run the app until the window closes; start the embedded server first, stop it last.

    `quit_after_ms`: quit on its own after that long (`Settings.quit_after_ms`, the bundle's smoke test).
    """
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
    data_dir = data_dir or client_data_dir()
    keys = StudioKeys(key_store, data_dir / "studio-keys.json" if key_store == "file" else None)
    session = build_session(backend, qsettings, data_dir=data_dir, keys=keys, open_remote=open_remote,
                            prefs=prefs, tasks=tasks)
    window = session.window
    window.editor.script.highlighter.set_dark(prefs.theme == "dark")
    session.switched.connect(lambda _url: session.window.editor.script.highlighter.set_dark(prefs.theme == "dark"))
    if server is not None and server.notice:
        window.status_label.setText(server.notice)
    window.show()
    # The first launch with no model pulled: the set for this machine, asked once (never downloads by itself).
    offer_first_run(window, backend, tasks, qsettings)
    if quit_after_ms is not None:
        QTimer.singleShot(quit_after_ms, app.quit)
    code = app.exec()
    tasks.shutdown()
    session.close()
    if server is not None and server.running:
        # A job still rendering is left leased; the reconciler resumes it at the next launch.
        server.stop()
    backend.close()
    return int(code)
