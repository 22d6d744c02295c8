"""The projects page: thumbnails, status, duration and date; filter, search, new, duplicate, delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from filmstudio.desktop.backend_contract import PROJECT_STATUSES, StudioBackend
from filmstudio.desktop.tasks import TaskRunner
from filmstudio.desktop.widgets import read_only_table, show_error
from filmstudio.domain.models import ProjectPublic

COLUMNS = ("Title", "Status", "Duration", "Updated")
THUMB = QSize(96, 54)


class ProjectsPage(QWidget):
    """Lists the owner's projects; emits `open_project(id)` on double-click or New."""

    open_project = Signal(str)


    def __init__(self, backend: StudioBackend, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.tasks = tasks
        self.projects: list[ProjectPublic] = []
        # The window points this at the settings page's defaults (style, narrator voice).
        self.new_settings: Callable[[], dict[str, Any]] = dict
        self._seq = 0

        self.search = QLineEdit()
        self.search.setObjectName("projectSearch")
        self.search.setPlaceholderText("Search by title")
        self.search.setClearButtonEnabled(True)
        self.status = QComboBox()
        self.status.addItem("All statuses", None)
        for s in PROJECT_STATUSES:
            self.status.addItem(s.capitalize(), s)
        self.new_button = QPushButton("New project  (Ctrl+N)")
        self.duplicate_button = QPushButton("Duplicate")
        self.delete_button = QPushButton("Delete")
        self.table = read_only_table(COLUMNS, "projectsTable", stretch=0)
        self.table.setIconSize(THUMB)
        self.table.verticalHeader().setDefaultSectionSize(THUMB.height() + 8)
        self.empty = QLabel("No projects yet. Press “New project” to write your first film.")
        self.empty.setObjectName("emptyLabel")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message = QLabel("")
        self.message.setObjectName("projectsMessage")
        self.message.setWordWrap(True)

        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.status)
        bar.addWidget(self.new_button)
        bar.addWidget(self.duplicate_button)
        bar.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.message)

        self.search.textChanged.connect(self.refresh)
        self.status.currentIndexChanged.connect(self.refresh)
        self.new_button.clicked.connect(self.new_project)
        self.duplicate_button.clicked.connect(self.duplicate)
        self.delete_button.clicked.connect(self.delete)
        self.table.cellDoubleClicked.connect(lambda row, _col: self._open_row(row))
        self.table.itemSelectionChanged.connect(self._buttons)
        self._buttons()

    def _buttons(self) -> None:
        chosen = self.selected() is not None and bool(self.table.selectedItems())
        self.duplicate_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen)

    def selected(self) -> ProjectPublic | None:
        row = self.table.currentRow()
        return self.projects[row] if 0 <= row < len(self.projects) else None

    def refresh(self) -> None:
        self._seq += 1
        seq, status, search = self._seq, self.status.currentData(), self.search.text()

        def load() -> list[tuple[ProjectPublic, str | None]]:
            found = self.backend.list_projects(status, search)
            out = []
            for p in found:
                thumb = self.backend.film_files(p.project_id, chapters=False).thumbnail if p.assets.video_url else None
                out.append((p, str(thumb) if thumb and thumb.exists() else None))
            return out

        self.tasks.run(load, lambda rows: self._show(seq, rows), lambda e: show_error(self.message, e))

    def _show(self, seq: int, rows: list[tuple[ProjectPublic, str | None]]) -> None:
        if seq != self._seq:
            return
        current = self.selected()
        keep = current.project_id if current else None
        self.projects = [p for p, _ in rows]
        self.table.setRowCount(len(rows))
        for r, (p, thumb) in enumerate(rows):
            title = QTableWidgetItem(p.title)
            title.setIcon(self._thumbnail(thumb))
            self.table.setItem(r, 0, title)
            self.table.setItem(r, 1, QTableWidgetItem(p.status))
            self.table.setItem(r, 2, QTableWidgetItem(f"{p.settings.get('duration', '?')} s"))
            self.table.setItem(r, 3, QTableWidgetItem(p.updated_at[:16].replace("T", " ")))
            if p.project_id == keep:
                self.table.selectRow(r)
        filtered = bool(self.search.text().strip()) or self.status.currentData() is not None
        self.empty.setText("No project matches the filter." if filtered else
                           "No projects yet. Press “New project” to write your first film.")
        self.empty.setVisible(not rows)
        self.table.setVisible(bool(rows))
        self._buttons()

    def _thumbnail(self, path: str | None) -> QIcon:
        if path:
            return QIcon(QPixmap(path).scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                              Qt.TransformationMode.SmoothTransformation))
        # Rows without a film get a same-size placeholder so titles line up.
        pix = QPixmap(THUMB)
        pix.fill(self.palette().color(QPalette.ColorRole.Mid))
        painter = QPainter(pix)
        painter.setPen(self.palette().color(QPalette.ColorRole.Light))
        painter.drawText(pix.rect(), Qt.AlignmentFlag.AlignCenter, "no film yet")
        painter.end()
        return QIcon(pix)

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(self.projects):
            self.open_project.emit(self.projects[row].project_id)

    def new_project(self) -> None:
        def made(p: ProjectPublic) -> None:
            self.refresh()
            self.open_project.emit(p.project_id)

        settings = self.new_settings()
        self.tasks.run(lambda: self.backend.create_project(settings=settings), made, lambda e: show_error(self.message, e))

    def duplicate(self) -> None:
        p = self.selected()
        if p is None:
            self.message.setText("Select a project to duplicate.")
            return
        self.tasks.run(lambda: self.backend.duplicate_project(p.project_id), lambda _: self.refresh(),
                       lambda e: show_error(self.message, e))

    def delete(self) -> None:
        p = self.selected()
        if p is None:
            self.message.setText("Select a project to delete.")
            return
        if p.status == "processing":
            self.message.setText("PROJECT_BUSY: the project is rendering; cancel its job on the Jobs page first.")
            return
        if not self.confirm_delete(p.title):
            return

        def deleted(_: object) -> None:
            self.message.setText(f"Deleted “{p.title}”.")
            self.refresh()

        self.tasks.run(lambda: self.backend.delete_project(p.project_id), deleted,
                       lambda e: show_error(self.message, e))

    def confirm_delete(self, title: str) -> bool:
        """Ask before deleting (tests replace this)."""
        answer = QMessageBox.question(self, "Delete project",
                                      f"Delete “{title}” and its films? They are removed from disk.")
        return answer == QMessageBox.StandardButton.Yes
