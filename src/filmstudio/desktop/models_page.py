"""Models page: what can be downloaded, what is installed, licences, what fits this machine; pulls with progress."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from filmstudio.desktop.backend_contract import StudioBackend
from filmstudio.desktop.tasks import TaskRunner
from filmstudio.desktop.widgets import read_only_table, show_error
from filmstudio.domain.models import JobPublic, ModelPublic

if TYPE_CHECKING:
    from filmstudio.desktop.first_run import RecommendedDialog

COLUMNS = ("Model", "Kind", "Size", "Licence", "Fits this machine", "State")
POLL_MS = 500


def _size(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


class ModelsPage(QWidget):
    """A table of catalogue models; Download asks first (licence, size), then shows the pull's progress."""

    def __init__(self, backend: StudioBackend, tasks: TaskRunner) -> None:
        super().__init__()
        self.backend = backend
        self.tasks = tasks
        self.models: list[ModelPublic] = []
        self.pulls: dict[str, JobPublic] = {}  # model id -> its running pull job
        self.hardware = QLabel("")
        self.hardware.setObjectName("hardware")
        self.hardware.setWordWrap(True)
        self.table = read_only_table(COLUMNS, "models", stretch=0)
        self.details = QLabel("Pick a model to see its licence and what it needs.")
        self.details.setObjectName("model_details")
        self.details.setWordWrap(True)
        self.details.setOpenExternalLinks(False)
        self.progress = QProgressBar()
        self.progress.setObjectName("pull_progress")
        self.progress.setVisible(False)
        self.download_button = QPushButton("Download…")
        self.cancel_button = QPushButton("Cancel download")
        self.remove_button = QPushButton("Remove")
        for b in (self.download_button, self.cancel_button, self.remove_button):
            b.setEnabled(False)
        # The first launch's question, again: the set for this machine with sizes and licences.
        self.recommended_button = QPushButton("Recommended for this machine…")
        self.recommended_button.setObjectName("recommendedButton")
        self.recommended_button.clicked.connect(self.show_recommended)
        self.recommended: RecommendedDialog | None = None
        buttons = QHBoxLayout()
        for b in (self.download_button, self.cancel_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.recommended_button)
        layout = QVBoxLayout(self)
        intro = QLabel("<b>Models</b> — downloaded only when you ask, checked, and kept in your data folder. "
                       "Everything works without them.")
        intro.setWordWrap(True)  # one long line set the whole window's minimum width
        layout.addWidget(intro)
        layout.addWidget(self.hardware)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)
        self.table.itemSelectionChanged.connect(self._selected_changed)
        self.download_button.clicked.connect(self.download)
        self.cancel_button.clicked.connect(self.cancel)
        self.remove_button.clicked.connect(self.remove)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.refresh)

    # -- data -----------------------------------------------------------------------------------

    def refresh(self) -> None:
        self.tasks.run(lambda: (self.backend.list_models(), self.backend.model_pulls(),
                                self.backend.hardware_summary()), self._show, self._failed)

    def _show(self, found: tuple[list[ModelPublic], list[JobPublic], str]) -> None:
        models, pulls, hardware = found
        keep = self.selected()
        self.models = models
        self.pulls = {str((j.result or {}).get("model_id")): j for j in pulls}
        self.hardware.setText(f"This machine: {hardware}")
        self.table.setRowCount(len(models))
        from PySide6.QtWidgets import QTableWidgetItem

        for r, m in enumerate(models):
            state = "installed" if m.installed else self._pull_state(m.id) or "not installed"
            licence = m.licence + ("" if m.commercial_use else " (non-commercial)")
            for c, text in enumerate((m.title, m.kind, _size(m.size_bytes), licence,
                                      "yes" if m.fits else f"no: {m.fits_reason}", state)):
                item = QTableWidgetItem(text)
                if c == 4:
                    item.setToolTip(m.fits_reason)
                self.table.setItem(r, c, item)
            if keep is not None and m.id == keep.id:
                self.table.selectRow(r)
        if self.pulls and not self._timer.isActive():
            self._timer.start()
        elif not self.pulls:
            self._timer.stop()
        self._selected_changed()

    def _pull_state(self, model_id: str) -> str | None:
        job = self.pulls.get(model_id)
        if job is None:
            return None
        r = job.result or {}
        rate = float(r.get("bytes_per_second") or 0)
        return f"downloading {job.progress}% ({rate / 1e6:.1f} MB/s)" if job.status == "processing" else "queued"

    def _failed(self, exc: BaseException) -> None:
        show_error(self.details, exc)

    def selected(self) -> ModelPublic | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.models[rows[0].row()] if rows and rows[0].row() < len(self.models) else None

    def _selected_changed(self) -> None:
        m = self.selected()
        pulling = m is not None and m.id in self.pulls
        self.download_button.setEnabled(m is not None and not m.installed and not pulling)
        self.cancel_button.setEnabled(pulling)
        self.remove_button.setEnabled(m is not None and m.installed)
        if m is None:
            self.progress.setVisible(False)
            return
        use = "commercial use allowed" if m.commercial_use else "NOT for commercial use"
        self.details.setText(
            f"<b>{m.title}</b> ({m.id}) — {_size(m.size_bytes)}{'' if m.verified else ' (size estimated)'}<br>"
            f"Licence: <a href='{m.licence_url}'>{m.licence}</a>, {use}. {m.licence_note}<br>"
            f"Needs {m.min_ram_mb / 1024:.1f} GB RAM" + (f", a GPU with {m.min_vram_mb / 1024:.0f} GB" if m.min_vram_mb
                                                        else "") + f". Here: {m.fits_reason}.")
        job = self.pulls.get(m.id)
        self.progress.setVisible(job is not None)
        if job is not None:
            self.progress.setValue(job.progress)
            self.progress.setFormat(self._pull_state(m.id) or "")

    # -- actions ----------------------------------------------------------------------------------

    def show_recommended(self) -> None:
        """The recommended set's dialog (the same as the first launch's), not modal."""
        from filmstudio.desktop.first_run import RecommendedDialog, voice_languages

        def shown(languages: tuple[str, ...]) -> None:
            self.recommended = RecommendedDialog(self.backend, self.tasks, self, languages=languages)
            self.recommended.finished.connect(lambda _r: self.refresh())
            self.recommended.show()
            self.refresh()

        self.tasks.run(lambda: voice_languages(self.backend), shown, self._failed)

    def download(self) -> None:
        m = self.selected()
        if m is None:
            return
        use = "allows commercial use" if m.commercial_use else "does NOT allow commercial use of what you make"
        answer = QMessageBox.question(
            self, "Download model",
            f"Download {m.title} ({_size(m.size_bytes)})?\n\nIts licence is {m.licence} ({m.licence_url}), which "
            f"{use}.\n\nHere: {m.fits_reason}.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.tasks.run(lambda: self.backend.pull_model(m.id), lambda _job: self.refresh(), self._failed)

    def cancel(self) -> None:
        m = self.selected()
        job = self.pulls.get(m.id) if m else None
        if job is not None:
            self.tasks.run(lambda: self.backend.cancel_job(job.job_id), lambda _j: self.refresh(), self._failed)

    def remove(self) -> None:
        m = self.selected()
        if m is None:
            return
        answer = QMessageBox.question(self, "Remove model", f"Delete {m.title}'s files ({_size(m.size_bytes)})?")
        if answer == QMessageBox.StandardButton.Yes:
            self.tasks.run(lambda: self.backend.remove_model(m.id), lambda _r: self.refresh(), self._failed)
