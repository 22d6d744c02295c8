"""The jobs page: every render job with status, step, progress and times; cancel and retry."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from filmstudio.desktop.backend_contract import StudioBackend
from filmstudio.desktop.progress import step_words
from filmstudio.desktop.tasks import TaskRunner
from filmstudio.desktop.widgets import read_only_table, show_error
from filmstudio.domain.models import JobPublic

COLUMNS = ("Project", "Status", "Step", "Progress", "Created", "Finished", "Credits")


def _time(stamp: str | None) -> str:
    return stamp[:19].replace("T", " ") if stamp else "—"


class JobsPage(QWidget):
    """A live table of jobs; the window refreshes it on a timer (jobs from the API show up too)."""

    job_changed = Signal(str)  # job id, after a cancel or retry from here

    def __init__(self, backend: StudioBackend, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.tasks = tasks
        self.jobs: list[JobPublic] = []
        self._busy = False
        self.table = read_only_table(COLUMNS, "jobsTable", stretch=0)
        # The owner account is unlimited: a credits column would only show numbers that mean nothing.
        self.table.setColumnHidden(COLUMNS.index("Credits"), backend.unlimited)
        self.cancel_button = QPushButton("Cancel job")
        self.retry_button = QPushButton("Retry")
        self.empty = QLabel("No jobs yet. Generate a film from the editor, or over the API.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        bar = QHBoxLayout()
        bar.addStretch(1)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.retry_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.message)
        self.cancel_button.clicked.connect(self.cancel)
        self.retry_button.clicked.connect(self.retry)
        self.table.itemSelectionChanged.connect(self._buttons)
        self._buttons()

    def selected(self) -> JobPublic | None:
        row = self.table.currentRow()
        return self.jobs[row] if 0 <= row < len(self.jobs) else None

    def refresh(self) -> None:
        if self._busy:
            return  # the previous refresh is still running; skip a tick rather than pile up
        self._busy = True

        def load() -> tuple[list[JobPublic], dict[str, str]]:
            return self.backend.list_jobs(), self.backend.project_titles()

        def failed(exc: BaseException) -> None:
            self._busy = False
            show_error(self.message, exc)

        self.tasks.run(load, self._show, failed)

    def _show(self, loaded: tuple[list[JobPublic], dict[str, str]]) -> None:
        self._busy = False
        jobs, titles = loaded
        current = self.selected()
        keep = current.job_id if current else None
        self.jobs = jobs
        self.table.setRowCount(len(jobs))
        for r, j in enumerate(jobs):
            what = (titles.get(j.project_id, j.project_id[:8]) if j.project_id
                    else str((j.result or {}).get("model_id") or j.kind.replace("_", " ")))
            # A job that ended without a film gave its credits back (services/jobs.py `_release`).
            refunded = j.status in ("failed", "cancelled") and j.credits > 0
            status = f"{j.status}, refunded" if refunded and not self.backend.unlimited else j.status
            values = (what, status, step_words(j.current_step) if j.current_step else "—",
                      f"{100 if j.status == 'completed' else j.progress}%", _time(j.created_at),
                      _time(j.completed_at), f"{j.credits} refunded" if refunded else str(j.credits))
            for c, text in enumerate(values):
                item = QTableWidgetItem(text)
                if c == 1 and j.error:
                    item.setToolTip(f"{j.error.message}\nDetails: {j.error.code}")
                self.table.setItem(r, c, item)
            if j.job_id == keep:
                self.table.selectRow(r)
        self.table.setVisible(bool(jobs))
        self.empty.setVisible(not jobs)
        self._buttons()

    def _buttons(self) -> None:
        j = self.selected()
        self.cancel_button.setEnabled(bool(j and j.status in ("queued", "processing") and not j.cancel_requested))
        self.retry_button.setEnabled(bool(j and j.status in ("failed", "cancelled", "completed")))

    def cancel(self) -> None:
        j = self.selected()
        if j is None:
            return
        self.tasks.run(lambda: self.backend.cancel_job(j.job_id), lambda done: self._after(done.job_id),
                       lambda e: show_error(self.message, e))

    def retry(self) -> None:
        j = self.selected()
        if j is None:
            return
        self.tasks.run(lambda: self.backend.retry_job(j.job_id), lambda acc: self._after(acc.job_id),
                       lambda e: show_error(self.message, e))

    def _after(self, job_id: str) -> None:
        self.message.setText("")
        self.job_changed.emit(job_id)
        self.refresh()
