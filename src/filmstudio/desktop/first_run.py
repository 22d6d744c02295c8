"""The recommended models for this machine: asked once at the first launch, reachable again from the Models page.

What `filmstudio models pull --recommended` would pull here (voices with women and men readers for
the films' language, the picture model that fits, its reference add-on), each with its size and
licence, shown before any byte. Pull starts one `model_pull` job for the set and shows its
progress per model; Not now downloads nothing. Either answer is remembered in the app's settings,
so the question is not asked again at the next launch.
"""

from __future__ import annotations

from PySide6.QtCore import QLocale, QSettings, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from filmstudio.desktop.backend_contract import StudioBackend
from filmstudio.desktop.tasks import TaskRunner
from filmstudio.desktop.widgets import read_only_table, show_error
from filmstudio.domain.models import JobPublic, ModelRecommendation, ModelSetPullAccepted

ASKED_KEY = "first_run/recommended_asked"  # the app setting that stops the first-run question
COLUMNS = ("Model", "Kind", "Size", "Licence", "Why", "State")
POLL_MS = 400


def _size(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


class RecommendedDialog(QDialog):
    """The recommended set with sizes and licences; Pull queues it as one job and follows it; Not now does nothing."""

    def __init__(self, backend: StudioBackend, tasks: TaskRunner, parent: QWidget | None = None, *,
                 settings: QSettings | None = None, languages: tuple[str, ...] = ("en",)) -> None:
        super().__init__(parent)
        self.setObjectName("recommendedDialog")
        self.setWindowTitle("Voices and pictures for this machine")
        self.backend = backend
        self.tasks = tasks
        self.settings = settings
        self.plan: ModelRecommendation | None = None
        self.job: JobPublic | None = None
        self.job_id: str | None = None
        self.intro = QLabel("FilmStudio works without any model: films speak with the bundled voice and get drawn "
                            "sets. These downloads give women and men their own readers and a picture for every "
                            "shot. Nothing is downloaded unless you press Pull.")
        self.intro.setWordWrap(True)
        self.hardware = QLabel("")
        self.hardware.setObjectName("recommended_hardware")
        self.hardware.setWordWrap(True)
        self.language = QComboBox()
        self.language.setObjectName("recommended_language")
        self.language.addItems(list(languages))
        system = QLocale().name().split("_")[0]
        self.language.setCurrentText(system if system in languages else "en" if "en" in languages else languages[0])
        self.table = read_only_table(COLUMNS, "recommended_models", stretch=4)
        self.notes = QLabel("")
        self.notes.setObjectName("recommended_notes")
        self.notes.setWordWrap(True)
        self.total = QLabel("")
        self.total.setObjectName("recommended_total")
        self.progress = QProgressBar()
        self.progress.setObjectName("recommended_progress")
        self.progress.setVisible(False)
        self.message = QLabel("")
        self.message.setObjectName("recommended_message")
        self.message.setWordWrap(True)
        self.pull_button = QPushButton("Pull")
        self.pull_button.setObjectName("recommended_pull")
        self.pull_button.setEnabled(False)
        self.later_button = QPushButton("Not now")
        self.later_button.setObjectName("recommended_later")
        row = QHBoxLayout()
        row.addWidget(QLabel("Films in:"))
        row.addWidget(self.language)
        row.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.total, 1)
        buttons.addWidget(self.pull_button)
        buttons.addWidget(self.later_button)
        layout = QVBoxLayout(self)
        for w in (self.intro, self.hardware):
            layout.addWidget(w)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.notes)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.resize(820, 420)
        self.pull_button.clicked.connect(self.pull)
        self.later_button.clicked.connect(self.later)
        self.language.currentTextChanged.connect(lambda _l: self.load())
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self.load()

    # -- the plan ---------------------------------------------------------------------------------

    def load(self) -> None:
        language = self.language.currentText()
        self.tasks.run(lambda: self.backend.recommended_models(language), self._show, self._failed)

    def _show(self, plan: ModelRecommendation) -> None:
        self.plan = plan
        self.hardware.setText(f"This machine: {plan.hardware}")
        self.table.setRowCount(len(plan.models))
        for r, m in enumerate(plan.models):
            licence = m.licence + ("" if m.commercial_use else " — NOT for commercial use")
            state = "installed" if m.installed else "to download"
            for c, text in enumerate((m.title, m.kind, _size(m.size_bytes), licence, m.why, state)):
                item = QTableWidgetItem(text)
                if c == 3:
                    item.setToolTip(f"{m.licence_url}\n{m.licence_note}".strip())
                self.table.setItem(r, c, item)
        self.notes.setText("\n".join(f"Note: {n}" for n in plan.notes))
        todo = [m for m in plan.models if not m.installed]
        self.total.setText(f"Total to download: {_size(plan.total_bytes)}" if todo else
                           "Everything recommended is installed.")
        self.pull_button.setEnabled(bool(todo) and self.job_id is None)

    def _failed(self, exc: BaseException) -> None:
        show_error(self.message, exc)
        self.pull_button.setEnabled(self.plan is not None and self.job_id is None)

    # -- answers ----------------------------------------------------------------------------------

    def remember(self) -> None:
        """The question was answered: do not ask at the next launch (the Models page still offers it)."""
        if self.settings is not None:
            self.settings.setValue(ASKED_KEY, True)
            self.settings.sync()

    def later(self) -> None:
        self.remember()
        self.close()

    def pull(self) -> None:
        if self.plan is None:
            return
        ids = [m.id for m in self.plan.models if not m.installed]
        if not ids:
            return
        self.remember()
        self.pull_button.setEnabled(False)
        self.language.setEnabled(False)
        self.tasks.run(lambda: self.backend.pull_models(ids), self._started, self._failed)

    def _started(self, accepted: ModelSetPullAccepted) -> None:
        self.job_id = accepted.job_id
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.later_button.setText("Close")
        self.message.setText("Downloading. You can close this window: the download goes on, and the Models page "
                             "shows it.")
        self._timer.start()

    def _poll(self) -> None:
        if self.job_id is not None:
            job_id = self.job_id
            self.tasks.run(lambda: self.backend.get_job(job_id), self._follow, self._failed)

    def _follow(self, job: JobPublic) -> None:
        self.job = job
        self.progress.setValue(job.progress)
        result = job.result or {}
        states = {str(m.get("model_id")): m for m in result.get("models", []) if isinstance(m, dict)}
        for r in range(self.table.rowCount()):
            model = self.plan.models[r] if self.plan is not None and r < len(self.plan.models) else None
            found = states.get(model.id) if model is not None else None
            cell = self.table.item(r, 5)
            if found is not None and cell is not None:
                state = str(found.get("state", ""))
                if state == "downloading":
                    state = f"downloading {_size(int(found.get('bytes_done', 0)))} of {_size(int(found.get('bytes_total', 0)))}"
                cell.setText(state)
        if job.status in ("completed", "failed", "cancelled"):
            self._timer.stop()
            self.job_id = None
            if job.status == "completed":
                self.message.setText("Installed. The next render uses them (no restart needed).")
            else:
                self.message.setText(job.error.message if job.error else f"The download was {job.status}. "
                                     "Pull again to continue where it stopped.")
            self.load()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.remember()  # closed without an answer is "not now" too: the question never nags
        self._timer.stop()
        super().closeEvent(event)


def should_offer(settings: QSettings, backend: StudioBackend) -> bool:
    """At a launch: ask when nothing was asked before and no model is installed (may block: a folder listing)."""
    asked = settings.value(ASKED_KEY, False)
    if asked in (True, "true", "1", 1):
        return False
    return not backend.models_installed()


def voice_languages(backend: StudioBackend) -> tuple[str, ...]:
    """The films' languages the catalogue has voices for (the dialog's choice), English first."""
    found = {lang.split("-")[0].split("_")[0].lower() for m in backend.list_models() if m.kind == "voice"
             for lang in m.languages}
    return tuple(sorted(found, key=lambda code: (code != "en", code))) or ("en",)


def offer_first_run(parent: QWidget, backend: StudioBackend, tasks: TaskRunner, settings: QSettings,
                    shown: list[RecommendedDialog] | None = None) -> None:
    """At the first launch with no model pulled: show the recommended set (not modal; it never downloads by
    itself). `shown` receives the dialog (tests, and the caller keeping a reference)."""

    def decided(found: tuple[bool, tuple[str, ...]]) -> None:
        offer, languages = found
        if not offer:
            return
        dialog = RecommendedDialog(backend, tasks, parent, settings=settings, languages=languages)
        if shown is not None:
            shown.append(dialog)
        dialog.show()

    tasks.run(lambda: (should_offer(settings, backend), voice_languages(backend)), decided)
