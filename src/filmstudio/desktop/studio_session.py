"""Which studio the app works on now, and switching: File -> Connect to a studio…, Recent studios, This computer.

A switch builds a new main window over the new studio's backend (every page new, so no project
list, open project, cache or draft of one studio is ever shown in another) and closes the old one
once its editor flushed its last save. The local backend lives as long as the app (its embedded
server keeps serving scripts); remote backends are kept per URL until the app quits, so switching
back finds that studio's caches again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMenu

from filmstudio.desktop.backend_contract import error_text
from filmstudio.desktop.connect import ConnectDialog, StudioCheck, StudioLogin, check_studio
from filmstudio.desktop.drafts import DraftStore
from filmstudio.desktop.settings_page import Preferences
from filmstudio.desktop.studios import (
    LOCAL,
    LOCAL_NAME,
    RecentStudio,
    RecentStudios,
    StudioKeys,
    studio_name,
)
from filmstudio.desktop.tasks import TaskRunner
from filmstudio.desktop.window import MainWindow

# url, key, CA file (None: the system's certificates), the caches' folder (one per server inside) -> a backend
OpenRemote = Callable[[str, str, Path | None, Path], Any]
ACCOUNT_REFRESH_MS = 30_000
# The job and project lists of a studio server every 5 s, not every second: each request counts
# against the key's per-minute limit (standard plan: 60); a render's progress comes live anyway.
REMOTE_REFRESH_MS = 5_000


class StudioSession(QObject):
    """Owns the current window and backend; the File menu's studio items call it."""

    switched = Signal(str)  # the URL of the studio now shown (LOCAL for this computer)
    notice = Signal(str)  # a backend's network state, queued to the GUI thread

    def __init__(self, local: Any, settings: QSettings, prefs: Preferences, tasks: TaskRunner, *,
                 home: Path, data_dir: Path, keys: StudioKeys, open_remote: OpenRemote | None) -> None:
        super().__init__()
        self.local = local
        self.settings = settings
        self.prefs = prefs
        self.tasks = tasks
        self.home = home
        self.data_dir = data_dir
        self.keys = keys
        self.open_remote = open_remote
        self.recent = RecentStudios(settings)
        self.remotes: dict[str, Any] = {}
        self.url = LOCAL
        self.backend: Any = local
        self.check: StudioCheck | None = None
        self.dialog: ConnectDialog | None = None
        self._closed: MainWindow | None = None
        self.window = self._build(local, LOCAL)
        self.notice.connect(self._show_notice)
        self._account_timer = QTimer(self)
        self._account_timer.setInterval(ACCOUNT_REFRESH_MS)
        self._account_timer.timeout.connect(self.refresh_account)

    # -- the window and its studio menu -----------------------------------------------------------

    def _build(self, backend: Any, url: str) -> MainWindow:
        window = MainWindow(backend, self.tasks, self.settings, self.prefs, self.home, studio=studio_name(url),
                            drafts=DraftStore.for_studio(self.data_dir, url))
        self._add_menu(window)
        self._watch(backend)
        if url != LOCAL:
            window.set_refresh_interval(REMOTE_REFRESH_MS)
        return window

    def _watch(self, backend: Any) -> None:
        """Network states ("reconnecting…", "rate limited, waiting 5 s") from the backend's threads."""
        handler = getattr(backend, "set_notice_handler", None)
        if handler is not None:
            handler(self.notice.emit)

    def _add_menu(self, window: MainWindow) -> None:
        menu: QMenu = window.file_menu
        before = window.quit_action
        connect = QAction("Connect to a studio…", window)
        connect.setObjectName("connectStudio")
        connect.triggered.connect(lambda _=False: self.connect_dialog())
        recent = QMenu("Recent studios", window)
        recent.setObjectName("recentStudios")
        recent.aboutToShow.connect(lambda: self._fill_recent(window, recent))
        local = QAction(LOCAL_NAME, window)
        local.setObjectName("localStudio")
        local.setCheckable(True)
        local.setChecked(self.url == LOCAL)
        local.triggered.connect(lambda _=False: self.go_local())
        menu.insertAction(before, connect)
        menu.insertMenu(before, recent)
        menu.insertAction(before, local)
        menu.insertSeparator(before)
        window.actions_by_name.update({"Connect to a studio": connect, "This computer": local})
        window.recent_menu = recent  # type: ignore[attr-defined]
        self._fill_recent(window, recent)

    def _fill_recent(self, window: MainWindow, menu: QMenu) -> None:
        menu.clear()
        studios = self.recent.all()
        for studio in studios:
            action = QAction(studio.name, window)
            action.setToolTip(studio.url)
            action.setCheckable(True)
            action.setChecked(studio.url == self.url)
            action.setData(studio.url)
            action.triggered.connect(lambda _=False, u=studio.url: self.open_recent(u))
            menu.addAction(action)
        if not studios:
            empty = QAction("No studios yet", window)
            empty.setEnabled(False)
            menu.addAction(empty)
        else:
            menu.addSeparator()
            forget = QAction("Forget this list", window)
            forget.triggered.connect(lambda _=False: self._forget_all())
            menu.addAction(forget)

    def _forget_all(self) -> None:
        for studio in self.recent.all():
            if studio.url != self.url:
                self.keys.delete(studio.url)
                self.recent.forget(studio.url)

    # -- connecting --------------------------------------------------------------------------------

    def connect_dialog(self, url: str = "", message: str = "") -> ConnectDialog:
        """Open the Connect dialog (non-modal; tests drive it); a passed check switches the studio."""
        known = self.recent.get(url) if url else None
        dialog = ConnectDialog(self.tasks, url=url, key=self.keys.get(url) or "" if url else "",
                               ca_file=known.ca_file if known else "", parent=self.window)
        if message:
            dialog.message.setText(message)
        dialog.checked.connect(lambda result: self.use_login(result) if isinstance(result, StudioLogin) else None)
        self.dialog = dialog
        dialog.open()
        return dialog

    def use_login(self, login: StudioLogin) -> None:
        """Remember the studio (URL in the settings, key in the keyring) and switch to it."""
        if self.open_remote is None:
            self.window.status_label.setText("This build of the app cannot open a studio server.")
            return
        remembered = self.keys.put(login.url, login.key)
        self.recent.remember(RecentStudio(login.url, str(login.ca_file or "")))
        old = self.remotes.pop(login.url, None)
        if old is not None:
            old.close()  # a new key (or CA file) for a studio already open: start its client afresh
        # The remote backend keeps one folder per server under this (stills, subtitles, thumbnails).
        backend = self.open_remote(login.url, login.key, login.ca_file, self.data_dir / "cache")
        self.remotes[login.url] = backend
        self._install(backend, login.url, login.check)
        if not remembered:
            self.window.status_label.setText(f"The key is kept for this session only: {self.keys.problem}.")

    def open_recent(self, url: str) -> None:
        """Switch to a studio from the recent list: check its kept key first; ask for one when it fails."""
        if url == self.url:
            return
        key = self.keys.get(url)
        studio = self.recent.get(url)
        ca = Path(studio.ca_file) if studio and studio.ca_file else None
        if not key:
            self.connect_dialog(url, "Enter this studio's API key: none is kept on this computer.")
            return
        if url in self.remotes:
            self._install(self.remotes[url], url, None)
            self.refresh_account()
            return
        self.window.status_label.setText(f"Connecting to {studio_name(url)}…")
        def failed(exc: BaseException) -> None:
            self.window.status_label.setText("")
            self.connect_dialog(url, error_text(exc))

        self.tasks.run(lambda: StudioLogin(url, key, ca, check_studio(url, key, ca)), self.use_login, failed)

    def go_local(self) -> None:
        """Back to the studio on this computer."""
        if self.url != LOCAL:
            self._install(self.local, LOCAL, None)
        else:
            self.window.actions_by_name["This computer"].setChecked(True)

    # -- switching ---------------------------------------------------------------------------------

    def _install(self, backend: Any, url: str, check: StudioCheck | None) -> bool:
        """A new window over `backend`; the old one closes (its editor saves first). False: the user kept it."""
        old = self.window
        geometry = old.saveGeometry()
        app = QApplication.instance()
        quits = isinstance(app, QApplication) and app.quitOnLastWindowClosed()
        if quits:
            QApplication.setQuitOnLastWindowClosed(False)  # the old window is the last one for a moment
        try:
            if not old.close():  # the user chose Cancel on unsaved work: stay where we are
                return False
            self.url, self.backend, self.check = url, backend, check
            self.window = self._build(backend, url)
            self.window.restoreGeometry(geometry)
            self.window.show()
        finally:
            if quits:
                QApplication.setQuitOnLastWindowClosed(True)
        # The old window's last save may still be answering: it goes at the next switch, not now.
        if self._closed is not None:
            self._closed.deleteLater()
        self._closed = old
        self._show_account()
        if url == LOCAL:
            self._account_timer.stop()
        else:
            self._account_timer.start()
        self.switched.emit(url)
        return True

    def _show_account(self) -> None:
        name = studio_name(self.url)
        label = self.window.studio_label
        label.setText(name if self.check is None else f"{name} · {self.check.summary}")
        label.setToolTip(self.url if self.url != LOCAL else "The studio inside this app")

    def refresh_account(self) -> None:
        """Credits and plan change with each render: ask the studio again (quietly: errors show elsewhere)."""
        if self.url == LOCAL:
            return
        url, key = self.url, self.keys.get(self.url)
        studio = self.recent.get(url)
        ca = Path(studio.ca_file) if studio and studio.ca_file else None
        if not key:
            return

        def got(check: StudioCheck) -> None:
            if self.url == url:
                self.check = check
                self._show_account()

        self.tasks.run(lambda: check_studio(url, key, ca), got, lambda _exc: None)

    def _show_notice(self, text: str) -> None:
        text = text[:1].upper() + text[1:]  # "Reconnecting to the studio…", "Rate limited, waiting 5 s"
        self.window.connection_label.setText(text)
        self.window.connection_label.setStyleSheet("color: #c07000;" if text else "")

    def close(self) -> None:
        """On quit: close the remote studios' clients (the local backend is the caller's)."""
        self._account_timer.stop()
        for backend in self.remotes.values():
            backend.close()
        self.remotes.clear()
