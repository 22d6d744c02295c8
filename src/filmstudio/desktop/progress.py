"""The generate progress panel: bar, current step, ETA, warnings and Cancel."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from filmstudio.domain.models import JobPublic
from filmstudio.pipeline.media import readability

STEP_NAMES = {
    "script_analysis": "Reading the script",
    "voice_synthesis": "Recording voices",
    "subtitles": "Writing subtitles",
    "music_generation": "Composing music",
    "visual_generation": "Drawing scenes",
    "rendering": "Rendering the film",
    "thumbnail": "Making the thumbnail",
}


def parse_eta(text: str | None) -> float | None:
    """Seconds in the API's "12 seconds" / "3 minutes" (None when there is none)."""
    found = re.match(r"\s*(\d+(?:\.\d+)?)\s*(second|minute)", text or "")
    if not found:
        return None
    return float(found.group(1)) * (60 if found.group(2) == "minute" else 1)


def _humanize(seconds: float) -> str:
    s = max(1, round(seconds))
    return f"{s} second{'s' if s != 1 else ''}" if s < 120 else f"{round(s / 60)} minutes"


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
        self.clock: Callable[[], float] = time.monotonic
        # The countdown: the remaining time last shown and when; it only goes down within a step.
        self._eta: tuple[str, float, float] | None = None  # (step, seconds, at)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._show_eta)
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

    def _update_eta(self, job: JobPublic | None) -> None:
        """Count down between polls; within one step a poll may lower the estimate, never raise it.

        The studio's estimate is recomputed from the step's progress, which moves in jumps; a
        number that grows while the user watches reads as a frozen or broken clock.
        """
        seconds = parse_eta(job.estimated_time_remaining) if job is not None else None
        if job is None or seconds is None:
            self._eta = None
            self._tick.stop()
            self.eta.setText("")
            return
        step = job.current_step or job.status
        now = self.clock()
        if self._eta is not None and self._eta[0] == step:
            counted = self._eta[1] - (now - self._eta[2])
            seconds = min(seconds, max(1.0, counted))
        self._eta = (step, seconds, now)
        self._tick.start()
        self._show_eta()

    def _show_eta(self) -> None:
        if self._eta is None:
            return
        _, seconds, at = self._eta
        left = seconds - (self.clock() - at)
        self.eta.setText(f"about {_humanize(left)} left" if left >= 1 else "almost done")

    def clear(self) -> None:
        self.job_id = None
        self._update_eta(None)
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
            tracks = (job.result or {}).get("subtitles")
            if isinstance(tracks, dict) and tracks:
                text = f"Done — {readability.summary(tracks)}"
        elif job.status == "failed":
            text = f"Failed — {job.error.message}" if job.error else "Failed"
            if job.error:
                self.step.setToolTip(f"Details: {job.error.code}")
        else:
            text = "Cancelled"
        self.step.setText(text)
        self._update_eta(job if active else None)
        self.warnings.setText("\n".join(f"⚠ {w}" for w in job.warnings))
        self.cancel.setEnabled(active and not job.cancel_requested)
