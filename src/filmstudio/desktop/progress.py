"""The generate progress panel: bar, current step, ETA, warnings and Cancel."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from filmstudio.domain.models import JobPublic

STEP_NAMES = {
    "script_analysis": "Reading the script",
    "voice_synthesis": "Recording voices",
    "subtitles": "Writing subtitles",
    "music_generation": "Composing music",
    "visual_generation": "Drawing scenes",
    "rendering": "Rendering the film",
    "thumbnail": "Making the thumbnail",
}


def step_words(step: str) -> str:
    """A pipeline step in words ("voice synthesis", not `voice_synthesis`)."""
    return step.replace("_", " ")


class ProgressPanel(QWidget):
    """Shows one job; emits `cancel_requested(job_id)` when the user presses Cancel."""

    cancel_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("progressPanel")
        self.job_id: str | None = None
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.step = QLabel("Not started")
        self.step.setObjectName("stepLabel")
        self.eta = QLabel("")
        self.warnings = QLabel("")
        self.warnings.setObjectName("warningsLabel")
        self.warnings.setWordWrap(True)
        self.cancel = QPushButton("Cancel")
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self._cancel)
        top = QHBoxLayout()
        top.addWidget(self.bar, 1)
        top.addWidget(self.cancel)
        info = QHBoxLayout()
        info.addWidget(self.step, 1)
        info.addWidget(self.eta)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(info)
        layout.addWidget(self.warnings)

    def _cancel(self) -> None:
        if self.job_id:
            self.cancel.setEnabled(False)
            self.step.setText("Cancelling…")
            self.cancel_requested.emit(self.job_id)

    def clear(self) -> None:
        self.job_id = None
        self.bar.setValue(0)
        self.step.setText("Not started")
        self.eta.setText("")
        self.warnings.setText("")
        self.cancel.setEnabled(False)

    def show_job(self, job: JobPublic) -> None:
        self.job_id = job.job_id
        active = job.status in ("queued", "processing")
        self.bar.setValue(100 if job.status == "completed" else job.progress)
        if job.status == "queued":
            text = "Waiting in the queue"
        elif job.status == "processing":
            text = STEP_NAMES.get(job.current_step or "", job.current_step or "Starting")
            if job.cancel_requested:
                text = "Cancelling…"
        elif job.status == "completed":
            text = "Done"
        elif job.status == "failed":
            text = f"Failed — {job.error.message}" if job.error else "Failed"
            if job.error:
                self.step.setToolTip(f"Details: {job.error.code}")
        else:
            text = "Cancelled"
        self.step.setText(text)
        self.eta.setText(f"about {job.estimated_time_remaining} left" if active and job.estimated_time_remaining
                         else "")
        self.warnings.setText("\n".join(f"⚠ {w}" for w in job.warnings))
        self.cancel.setEnabled(active and not job.cancel_requested)
