"""The main window: a page list and the pages, shortcuts, tray notifications, remembered geometry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QSystemTrayIcon,
    QWidget,
)

from filmstudio.desktop.api_page import ApiPage
from filmstudio.desktop.backend_contract import StudioBackend
from filmstudio.desktop.drafts import DraftStore
from filmstudio.desktop.editor import EditorPage
from filmstudio.desktop.jobs_page import JobsPage
from filmstudio.desktop.models_page import ModelsPage
from filmstudio.desktop.preview import PreviewPage
from filmstudio.desktop.projects_page import ProjectsPage
from filmstudio.desktop.settings_page import Preferences, SettingsPage, apply_theme
from filmstudio.desktop.storyboard_page import StoryboardPage
from filmstudio.desktop.studios import LOCAL_NAME, studio_name
from filmstudio.desktop.tasks import TaskRunner
from filmstudio.desktop.widgets import show_error
from filmstudio.domain.models import JobPublic, ProjectPublic

PAGES = ("Projects", "Editor", "Preview", "Storyboard", "Jobs", "Models", "API", "Settings")
REFRESH_MS = 1000  # jobs started over the API show up within this (the issue asks for 2 s)


def app_icon() -> QIcon:
    pix = QPixmap(32, 32)
    pix.fill(Qt.GlobalColor.darkCyan)
    return QIcon(pix)


class MainWindow(QMainWindow):
    """Holds the pages; gets its services from the caller, keeps no global state."""

    def __init__(self, backend: StudioBackend, tasks: TaskRunner, settings: QSettings, prefs: Preferences,
                 home: Path, *, studio: str | None = None, drafts: DraftStore | None = None) -> None:
        super().__init__()
        self.backend = backend
        self.tasks = tasks
        self.qsettings = settings
        self.prefs = prefs
        # "This computer", or the studio server's host (the title bar and the status line say it).
        self.studio_name = studio or (LOCAL_NAME if backend.home is not None else studio_name(backend.location))
        self.setWindowTitle(self._title())
        self.setWindowIcon(app_icon())
        self.projects = ProjectsPage(backend, tasks)
        self.editor = EditorPage(backend, tasks)
        self.editor.drafts = drafts
        self.preview = PreviewPage(backend, tasks)
        self.storyboard = StoryboardPage(backend, tasks)
        self.jobs = JobsPage(backend, tasks)
        self.models = ModelsPage(backend, tasks)
        self.api = ApiPage(backend, tasks)
        self.settings_page = SettingsPage(prefs, home, connect_youtube=self._connect_youtube)
        self.projects.new_settings = self.new_project_settings
        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.addItems(list(PAGES))
        self.nav.setFixedWidth(130)
        self.stack = QStackedWidget()
        for page in (self.projects, self.editor, self.preview, self.storyboard, self.jobs, self.models, self.api, self.settings_page):
            self.stack.addWidget(page)
        body = QWidget()
        row = QHBoxLayout(body)
        row.addWidget(self.nav)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(body)
        self.status_label = QLabel("")
        self.statusBar().addWidget(self.status_label, 1)
        # Which studio this window works on, always in view (studio_menu.py adds the account to it).
        self.connection_label = QLabel("")
        self.connection_label.setObjectName("connectionLabel")
        self.studio_label = QLabel(self.studio_name)
        self.studio_label.setObjectName("studioLabel")
        self.statusBar().addPermanentWidget(self.connection_label)
        self.statusBar().addPermanentWidget(self.studio_label)

        self.nav.currentRowChanged.connect(self._page_changed)
        self.projects.open_project.connect(self.open_project)
        self.editor.job_started.connect(self._editor_render)
        self.editor.job_finished.connect(self._film_finished)
        self.editor.saved.connect(lambda _id: self._refresh_visible())
        self.jobs.job_changed.connect(self._job_changed)
        self.storyboard.models_requested.connect(lambda: self.show_page("Models"))
        self.storyboard.job_started.connect(self._storyboard_render)
        self.storyboard.project_changed.connect(self.editor._refreshed)  # the motion budget, set on the storyboard
        self.settings_page.changed.connect(self._prefs_changed)

        self.editor.new_requested.connect(self.new_project)
        self.editor.progress_changed.connect(self._show_progress)
        self._build_menus()
        # Ctrl+Enter (the keypad's Enter) beside the menu's Ctrl+Return.
        self._shortcut("Ctrl+Enter", self._generate)
        # Space plays/pauses only inside the preview page, so it still types spaces everywhere else.
        space = QShortcut(QKeySequence("Space"), self.preview)
        space.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        space.activated.connect(self.preview.toggle)

        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(app_icon(), self)
            self.tray.setToolTip("FilmStudio")
            self.tray.activated.connect(self._raise)
            self.tray.show()
        self.notifications: list[str] = []
        self._job_states: dict[str, str] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

        geometry = settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1200, 780)
        self.nav.setCurrentRow(0)
        self.projects.refresh()
        self.jobs.refresh()

    def _build_menus(self) -> None:
        """File, Film and View menus; each item shows its shortcut."""
        bar = self.menuBar()

        def add(menu_name: str, text: str, slot: object, keys: str | QKeySequence.StandardKey | None = None) -> QAction:
            menu = menus.get(menu_name) or bar.addMenu(menu_name)
            menus[menu_name] = menu
            action = QAction(text, self)
            if keys is not None:
                action.setShortcut(QKeySequence(keys))
            action.triggered.connect(slot)
            menu.addAction(action)
            self.actions_by_name[text.replace("&", "").rstrip("…")] = action
            return action

        menus: dict[str, Any] = {}
        self.actions_by_name: dict[str, QAction] = {}
        add("&File", "&New project", self.new_project, "Ctrl+N")
        add("&File", "&Save", self.editor.save, "Ctrl+S")
        add("&File", "&Export…", self._export, "Ctrl+E")
        menus["&File"].addSeparator()
        self.file_menu = menus["&File"]
        self.quit_action = add("&File", "&Quit", self.close, "Ctrl+Q")
        add("F&ilm", "&Generate", self._generate, "Ctrl+Return")
        add("F&ilm", "&Cancel render", self._cancel_render, "Ctrl+.")
        for i, name in enumerate(PAGES, 1):
            add("&View", name, lambda _=False, n=name: self.show_page(n), f"Ctrl+{i}")

    def _export(self) -> None:
        self.show_page("Preview")
        self.preview.export()

    def _cancel_render(self) -> None:
        if self.editor.progress.job_id and self.editor.progress.cancel.isEnabled():
            self.editor.progress.cancel.click()

    def _show_progress(self, percent: int) -> None:
        """The render's progress where the taskbar shows it: the window title (every platform has one)."""
        self.setWindowTitle(f"{percent}% — {self._title()}" if 0 <= percent < 100 else self._title())

    def set_refresh_interval(self, msecs: int) -> None:
        """How often the pages ask for changes (a studio server counts each request against the key's limit)."""
        self._timer.setInterval(msecs)

    def _title(self) -> str:
        return f"FilmStudio — {self.studio_name}"

    def _raise(self, *_: object) -> None:
        self.showNormal()
        self.activateWindow()

    def _shortcut(self, keys: str, slot: object, context: Qt.ShortcutContext = Qt.ShortcutContext.WindowShortcut,
                  ) -> QShortcut:
        sc = QShortcut(QKeySequence(keys), self)
        sc.setContext(context)
        sc.activated.connect(slot)
        return sc

    # -- navigation ---------------------------------------------------------------------------

    def show_page(self, name: str) -> None:
        self.nav.setCurrentRow(PAGES.index(name))

    def _page_changed(self, row: int) -> None:
        self.stack.setCurrentIndex(row)
        if self.stack.currentWidget() is self.preview:
            self.preview.play_button.setFocus()
        self._refresh_visible()

    def _refresh_visible(self) -> None:
        page = self.stack.currentWidget()
        if page is self.projects:
            self.projects.refresh()
        elif page is self.api:
            self.api.refresh()
        elif page is self.models:
            self.models.refresh()
        elif page is self.storyboard:
            self.storyboard.reload()

    def open_project(self, project_id: str) -> None:
        def loaded(project: ProjectPublic) -> None:
            self.editor.load(project)
            self.storyboard.load(project.project_id)
            self.show_page("Editor")

        self.tasks.run(lambda: self.backend.get_project(project_id), loaded,
                       lambda e: show_error(self.status_label, e))

    def new_project(self) -> None:
        self.show_page("Projects")
        self.projects.new_project()

    def new_project_settings(self) -> dict[str, Any]:
        """A new project's settings from the user's defaults (style, narrator voice)."""
        values: dict[str, Any] = {"style": self.prefs.default_style, "motion": self.prefs.default_motion}
        if self.prefs.default_voice != "default":
            values["characters"] = [{"name": "NARRATOR", "voice": self.prefs.default_voice}]
        return values

    def _generate(self) -> None:
        if self.editor.project is not None:
            self.show_page("Editor")
            self.editor.generate()

    def _editor_render(self, job_id: str) -> None:
        """A render started in the editor: the storyboard shows which shots are drawn too."""
        self.jobs.refresh()
        if self.editor.project is not None and self.editor.project.project_id == self.storyboard.project_id:
            self.storyboard.track_job(job_id)

    def _storyboard_render(self, job_id: str) -> None:
        """A render started from the storyboard: the editor's progress (and the title bar) follow it too."""
        self.jobs.refresh()
        if self.editor.project is not None and self.editor.project.project_id == self.storyboard.project_id:
            self.editor.track_job(job_id)

    def _film_finished(self, project_id: str, status: str) -> None:
        self._show_progress(-1)
        if status == "completed" and self.editor.project and self.editor.project.project_id == project_id:
            self.preview.show_project(project_id, self.editor.title.text())
            if self.stack.currentWidget() is self.editor:
                self.show_page("Preview")  # the film the user just asked for, ready to play

    def _job_changed(self, job_id: str) -> None:
        if self.editor.progress.job_id is None or self.editor.job is None:
            return
        # A retry from the Jobs page of the project open in the editor: follow the new job there.
        self.tasks.run(lambda: self.backend.get_job(job_id), self._follow_if_open)

    def _follow_if_open(self, job: JobPublic) -> None:
        if self.editor.project and job.project_id == self.editor.project.project_id:
            self.editor.track_job(job.job_id)

    # -- refresh, notifications ------------------------------------------------------------------

    def _tick(self) -> None:
        self.jobs.refresh()
        if self.stack.currentWidget() is self.projects:
            self.projects.refresh()
        self.tasks.run(self.backend.list_jobs, self._notify_changes)

    def _notify_changes(self, jobs: list[JobPublic]) -> None:
        states: dict[str, str] = {j.job_id: j.status for j in jobs}
        if self._job_states is not None:
            for j in jobs:
                before = self._job_states.get(j.job_id)
                if before != j.status and j.status in ("completed", "failed"):
                    self.notify_job(j)
        self._job_states = states

    def notify_job(self, job: JobPublic) -> None:
        text = "Your film is ready." if job.status == "completed" else (
            f"The render failed: {job.error.message}" if job.error else "The render failed.")
        self.notifications.append(f"{job.job_id}:{job.status}")
        self.status_label.setText(text)
        if self.tray is not None:
            self.tray.showMessage("FilmStudio", text, QSystemTrayIcon.MessageIcon.Information, 5000)

    def _connect_youtube(self, client_secrets: Path) -> None:
        status = self.settings_page.youtube_status
        self.tasks.run(lambda: self.backend.connect_youtube(client_secrets),
                       lambda channel: status.setText(f"Connected: {channel['title']}"),
                       lambda exc: show_error(status, exc))

    def _prefs_changed(self, prefs: Preferences) -> None:
        theme_changed = prefs.theme != self.prefs.theme
        self.prefs = prefs
        prefs.save(self.qsettings)
        if theme_changed:
            app = QApplication.instance()
            if isinstance(app, QApplication):
                apply_theme(app, prefs.theme)
            self.editor.script.highlighter.set_dark(prefs.theme == "dark")

    # -- quit -------------------------------------------------------------------------------------

    def ask_unsaved(self, text: str) -> QMessageBox.StandardButton:
        """Save / Discard / Cancel before quitting with unsaved work (tests replace this)."""
        buttons = (QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                   | QMessageBox.StandardButton.Cancel)
        return QMessageBox.question(self, "Unsaved changes", f"{text}\n\nSave before closing?", buttons,
                                    QMessageBox.StandardButton.Save)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.editor.has_unsaved():
            answer = self.ask_unsaved(self.editor.unsaved_text())
            if answer == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return
            if answer == QMessageBox.StandardButton.Discard:
                self.editor.discard()
        self._timer.stop()
        self.editor.save()
        self.editor.stop_polling()
        self.storyboard.stop_polling()
        self.preview.player.stop()
        self.qsettings.setValue("geometry", self.saveGeometry())
        self.qsettings.sync()
        if self.tray is not None:
            self.tray.hide()
        super().closeEvent(event)
