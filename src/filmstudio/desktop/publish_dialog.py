"""The Publish dialog: where to (the studio's publish targets), the options prefilled from the film, every
refusal shown at its field before the upload, then the job's progress and the published address.

For YouTube: title, description (the chapters from the scenes are added below it), tags, privacy, a
scheduled release and "made for kids", checked as the user types against YouTube's documented rules
(`services/youtube/rules.py`, through `StudioBackend.check_publish`). Another target gets a field per text
option it declares. Nothing is queued until Publish.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QDateTime, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from filmstudio.desktop.backend_contract import StudioBackend
from filmstudio.desktop.tasks import TaskRunner
from filmstudio.desktop.widgets import show_error
from filmstudio.domain.models import JobPublic

YOUTUBE = "youtube"
PRIVACY = ("private", "unlisted", "public")
# Where YouTube's rules name a field of the video resource, the form's field it comes from.
YOUTUBE_FIELDS = {"snippet.title": "title", "snippet.description": "description", "snippet.tags": "tags",
                  "status.publishAt": "publish_at", "status.privacyStatus": "privacy", "snippet.categoryId": "category"}
CHECK_MS = 300
POLL_MS = 400
ERROR_STYLE = "color: #b00020;"


def _error_label(name: str) -> QLabel:
    label = QLabel("")
    label.setObjectName(f"error_{name}")
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.setVisible(False)
    return label


class PublishDialog(QDialog):
    """Publish one project's film; not modal, so the app stays usable while it uploads."""

    def __init__(self, backend: StudioBackend, tasks: TaskRunner, project_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("publishDialog")
        self.setWindowTitle("Publish the film")
        self.backend = backend
        self.tasks = tasks
        self.project_id = project_id
        self.problems: dict[str, str] = {}  # field -> what the target refuses
        self.checked = False  # the current values were checked (and `problems` is their answer)
        self.job: JobPublic | None = None
        self.job_id: str | None = None
        self.url = ""

        self.target = QComboBox()
        self.target.setObjectName("publish_target")
        self.forms = QStackedWidget()
        self.errors: dict[str, QLabel] = {}
        self.fields: dict[str, dict[str, QLineEdit]] = {}  # another target's text options

        # YouTube's form.
        self.title = QLineEdit()
        self.title.setObjectName("publish_title")
        self.description = QPlainTextEdit()
        self.description.setObjectName("publish_description")
        self.description.setMaximumHeight(110)
        self.tags = QLineEdit()
        self.tags.setObjectName("publish_tags")
        self.tags.setPlaceholderText("comma-separated")
        self.privacy = QComboBox()
        self.privacy.setObjectName("publish_privacy")
        self.privacy.addItems(list(PRIVACY))
        self.schedule = QCheckBox("Release at")
        self.schedule.setObjectName("publish_schedule")
        self.publish_at = QDateTimeEdit(QDateTime.currentDateTime().addDays(1))
        self.publish_at.setObjectName("publish_at")
        self.publish_at.setCalendarPopup(True)
        self.publish_at.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.publish_at.setEnabled(False)
        self.kids = QCheckBox("Made for kids")
        self.kids.setObjectName("publish_kids")
        self.channel = QLabel("")
        self.channel.setObjectName("publish_channel")
        self.channel.setWordWrap(True)
        youtube = QWidget()
        form = QFormLayout(youtube)
        form.addRow("Channel", self.channel)
        for name, label, widget in (("title", "Title", self.title), ("description", "Description", self.description),
                                    ("tags", "Tags", self.tags), ("privacy", "Privacy", self.privacy)):
            form.addRow(label, widget)
            self.errors[name] = _error_label(name)
            form.addRow("", self.errors[name])
        when = QHBoxLayout()
        when.addWidget(self.schedule)
        when.addWidget(self.publish_at, 1)
        form.addRow("Schedule", when)
        self.errors["publish_at"] = _error_label("publish_at")
        form.addRow("", self.errors["publish_at"])
        form.addRow("", self.kids)
        chapters = QLabel("The chapters (one per scene) are added below the description. A scheduled film stays "
                          "private until its release.")
        chapters.setWordWrap(True)
        form.addRow("", chapters)
        self.forms.addWidget(youtube)
        self._pages: dict[str, int] = {YOUTUBE: 0}

        self.message = QLabel("")
        self.message.setObjectName("publish_message")
        self.message.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("publish_progress")
        self.progress.setVisible(False)
        self.published = QLabel("")
        self.published.setObjectName("published_url")
        self.published.setOpenExternalLinks(True)
        self.publish_button = QPushButton("Publish")
        self.publish_button.setObjectName("publish_go")
        self.publish_button.setEnabled(False)
        self.close_button = QPushButton("Cancel")
        self.close_button.setObjectName("publish_close")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.publish_button)
        buttons.addWidget(self.close_button)
        top = QFormLayout()
        top.addRow("Publish to", self.target)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.forms, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.progress)
        layout.addWidget(self.published)
        layout.addLayout(buttons)
        self.resize(620, 560)

        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(CHECK_MS)
        self._check_timer.timeout.connect(self.check)
        self._poll_timer = QTimer(self)
        self._poll_timer.setInterval(POLL_MS)
        self._poll_timer.timeout.connect(self._poll)
        for edit in (self.title, self.tags):
            edit.textChanged.connect(self._edited)
        self.description.textChanged.connect(self._edited)
        self.privacy.currentTextChanged.connect(self._edited)
        self.publish_at.dateTimeChanged.connect(self._edited)
        self.kids.toggled.connect(self._edited)
        self.schedule.toggled.connect(self._scheduled)
        self.target.currentTextChanged.connect(self._target_changed)
        self.publish_button.clicked.connect(self.publish)
        self.close_button.clicked.connect(self.close)
        self.tasks.run(self._load, self._loaded, self._failed)

    # -- loading ------------------------------------------------------------------------------------

    def _load(self) -> tuple[list[str], dict[str, dict[str, str]], list[dict[str, Any]], dict[str, Any]]:
        targets = self.backend.publish_targets()
        others = {t: self.backend.publish_target_fields(t) for t in targets if t != YOUTUBE}
        channels = self.backend.youtube_channels() if YOUTUBE in targets else []
        return targets, others, channels, self.backend.publish_defaults(self.project_id)

    def _loaded(self, found: tuple[list[str], dict[str, dict[str, str]], list[dict[str, Any]], dict[str, Any]]) -> None:
        targets, others, channels, defaults = found
        for name, values in others.items():
            page = QWidget()
            form = QFormLayout(page)
            self.fields[name] = {}
            for key, value in values.items():
                edit = QLineEdit(value)
                edit.setObjectName(f"publish_{name}_{key}")
                edit.textChanged.connect(self._edited)
                self.fields[name][key] = edit
                form.addRow(key.replace("_", " ").capitalize(), edit)
                self.errors[f"{name}.{key}"] = _error_label(f"{name}_{key}")
                form.addRow("", self.errors[f"{name}.{key}"])
            self._pages[name] = self.forms.addWidget(page)
        titles = [str(c.get("title") or c.get("channel_id")) for c in channels]
        self.channel.setText(", ".join(titles) if titles else
                             "No YouTube channel is connected: Settings → Connect YouTube first.")
        self.title.setText(str(defaults.get("title") or ""))
        self.description.setPlainText(str(defaults.get("description") or ""))
        self.tags.setText(", ".join(defaults.get("tags") or ()))
        self.privacy.setCurrentText(str(defaults.get("privacy") or "private"))
        self.kids.setChecked(bool(defaults.get("made_for_kids")))
        self.target.blockSignals(True)
        self.target.addItems(targets)
        self.target.blockSignals(False)
        self._target_changed(self.target.currentText())

    def _failed(self, exc: BaseException) -> None:
        show_error(self.message, exc)
        self.publish_button.setEnabled(False)

    # -- what is asked ------------------------------------------------------------------------------

    def options(self) -> dict[str, Any]:
        """The chosen target's options as the publish request carries them."""
        name = self.target.currentText()
        if name != YOUTUBE:
            return {k: e.text() for k, e in self.fields.get(name, {}).items()}
        values: dict[str, Any] = {
            "title": self.title.text(), "description": self.description.toPlainText(),
            "tags": [t.strip() for t in self.tags.text().split(",") if t.strip()],
            "privacy": self.privacy.currentText(), "made_for_kids": self.kids.isChecked(),
        }
        if self.schedule.isChecked():
            values["publish_at"] = self.publish_at.dateTime().toUTC().toString("yyyy-MM-ddTHH:mm:ssZ")
        return values

    def _scheduled(self, on: bool) -> None:
        self.publish_at.setEnabled(on)
        self._edited()

    def _target_changed(self, name: str) -> None:
        self.forms.setCurrentIndex(self._pages.get(name, 0))
        self._edited()

    def _edited(self, *_: object) -> None:
        self.checked = False
        self.publish_button.setEnabled(False)
        self._check_timer.start()

    def check(self) -> None:
        """The target's own check of the values as they are now (nothing is queued)."""
        target, options = self.target.currentText(), self.options()
        if not target:
            return
        self.tasks.run(lambda: (target, options, self.backend.check_publish(self.project_id, target, options)),
                       self._checked, self._failed)

    def _field_of(self, target: str, field: str) -> str:
        if target == YOUTUBE:
            return YOUTUBE_FIELDS.get(field, field.split(".")[0])
        return f"{target}.{field.split('.')[0]}"

    def _checked(self, found: tuple[str, dict[str, Any], list[Any]]) -> None:
        target, options, problems = found
        if (target, options) != (self.target.currentText(), self.options()):
            return  # edited since: a newer check is on its way
        self.problems = {}
        for p in problems:
            self.problems.setdefault(self._field_of(target, p.field), p.message)
        for name, label in self.errors.items():
            text = self.problems.get(name, "")
            label.setText(text)
            label.setVisible(bool(text))
        loose = [m for f, m in self.problems.items() if f not in self.errors]
        self.message.setText("; ".join(loose))
        self.message.setToolTip("")
        self.checked = True
        self.publish_button.setEnabled(not self.problems and self.job_id is None)

    # -- publishing ---------------------------------------------------------------------------------

    def publish(self) -> None:
        if not self.checked or self.problems:
            return
        target, options = self.target.currentText(), self.options()
        self.publish_button.setEnabled(False)
        self.message.setText(f"Starting the publish to {target}…")
        self.tasks.run(lambda: self.backend.publish_to(self.project_id, target, options), self._started,
                       self._refused)

    def _refused(self, exc: BaseException) -> None:
        show_error(self.message, exc)
        details = getattr(exc, "details", None)
        field = details.get("field") if isinstance(details, dict) else None
        if field:  # the service's own check refused a field: shown at it too
            name = self._field_of(self.target.currentText(), str(field))
            if name in self.errors:
                self.errors[name].setText(str(getattr(exc, "message", exc)))
                self.errors[name].setVisible(True)
        self.publish_button.setEnabled(self.checked and not self.problems)

    def _started(self, accepted: Any) -> None:
        self.job_id = accepted.job_id
        self.message.setText(f"Publishing to {accepted.channel_title or accepted.target}…")
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.close_button.setText("Close")
        self.target.setEnabled(False)
        self._poll_timer.start()

    def _poll(self) -> None:
        if self.job_id is not None:
            job_id = self.job_id
            self.tasks.run(lambda: self.backend.get_job(job_id), self._follow, self._failed)

    def _follow(self, job: JobPublic) -> None:
        self.job = job
        self.progress.setValue(job.progress)
        if job.status not in ("completed", "failed", "cancelled"):
            return
        self._poll_timer.stop()
        self.job_id = None
        if job.status == "completed":
            self.url = str((job.result or {}).get("url") or "")
            self.progress.setValue(100)
            self.message.setText("Published.")
            self.published.setText(f"<a href='{self.url}'>{self.url}</a>")
            self.published.setToolTip(self.url)
        else:
            self.message.setText(job.error.message if job.error else f"The publish was {job.status}.")
            self.message.setToolTip(f"Details: {job.error.code}" if job.error else "")
            self.publish_button.setEnabled(True)  # again: it continues where it stopped
            self.target.setEnabled(True)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._poll_timer.stop()  # a running publish goes on; the Jobs page shows it
        self._check_timer.stop()
        super().closeEvent(event)
