"""The editor page: title, script, settings, cast, live credits/fit check, autosave and Generate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from filmstudio.desktop.backend_contract import SavedForm, ScriptCheck, StudioBackend, error_code, error_text
from filmstudio.desktop.cast import CastTable
from filmstudio.desktop.drafts import ConflictBar, Draft, DraftBar, DraftStore, conflict_project
from filmstudio.desktop.idea_writer import IdeaWriter
from filmstudio.desktop.progress import ProgressPanel
from filmstudio.desktop.script_editor import ScriptEditor
from filmstudio.desktop.subtitles import SubtitleChecklist
from filmstudio.desktop.tasks import TaskRunner
from filmstudio.domain.models import JobPublic, ProjectPublic
from filmstudio.domain.settings import (
    FPS_VALUES,
    LANGUAGES,
    MAX_DURATION,
    MIN_DURATION,
    MUSIC_GENRES,
    RESOLUTIONS,
    STYLES,
)

AUTOSAVE_MS = 800
INVALID_STYLE = "border: 1px solid #d04040;"
FIELD_NAMES = {"title": "Title", "script": "Script", "subtitle_languages": "Subtitles", "characters": "Cast",
               "duration": "Duration", "translations": "Translations"}
CHECK_MS = 250
POLL_MS = 500


def _timer(parent: QWidget, msecs: int, slot: Callable[[], None], *, single: bool = False) -> QTimer:
    timer = QTimer(parent)
    timer.setInterval(msecs)
    timer.setSingleShot(single)
    timer.timeout.connect(slot)
    return timer


class EditorPage(QWidget):
    """Edits one project; everything slow goes through `tasks`."""

    job_started = Signal(str)
    job_finished = Signal(str, str)  # project id, status
    saved = Signal(str)
    new_requested = Signal()
    job_seen = Signal(object)  # (follow number, JobPublic) from the thread following a job
    progress_changed = Signal(int)  # percent of the followed render; -1 when none  # the "no project yet" call to action

    def __init__(self, backend: StudioBackend, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.tasks = tasks
        self.project: ProjectPublic | None = None
        self.job: JobPublic | None = None
        self.last_check: ScriptCheck | None = None
        self._loading = False
        self._dirty = False
        self._check_seq = 0
        self._previews: dict[str, QPixmap] = {}
        self.problems: dict[str, str] = {}  # fields the last save could not write
        self._translations: dict[str, str] = {}
        self._pairs: set[tuple[str, str]] = set()
        self.drafts: DraftStore | None = None  # set by the window: this studio's local drafts
        self.conflict: ProjectPublic | bool | None = None  # the studio's newer version after a stale save
        self._build()
        self._autosave = _timer(self, AUTOSAVE_MS, self.save, single=True)
        self._checker = _timer(self, CHECK_MS, self._run_check, single=True)
        self._poller = _timer(self, POLL_MS, self._poll_job)
        self._follow_seq = 0
        self.job_seen.connect(self._followed)
        self.player = QMediaPlayer(self)
        self.audio = QAudioOutput(self)
        self.player.setAudioOutput(self.audio)
        self._show_no_project()
        self.tasks.run(self.backend.translation_pairs, self._got_pairs)

    # -- layout -------------------------------------------------------------------------------

    def _build(self) -> None:
        self.title = QLineEdit()
        self.title.setObjectName("titleEdit")
        self.title.setPlaceholderText("Film title")
        self.script = ScriptEditor()
        self.script.setPlaceholderText("INT. KITCHEN - NIGHT\n\nMAYA\nWho left the light on?")
        self.idea_writer = IdeaWriter(self.backend, self.tasks, self.script, self.settings_values)

        self.duration = QSpinBox(minimum=MIN_DURATION, maximum=MAX_DURATION, suffix=" s", value=60)
        self.style_box = QComboBox()
        self.style_box.addItems(list(STYLES))
        self.style_preview = QLabel()
        self.style_preview.setObjectName("stylePreview")
        self.style_preview.setFixedSize(192, 108)
        self.style_preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.resolution = QComboBox()
        self.resolution.addItems(list(RESOLUTIONS))
        self.fps = QComboBox()
        self.fps.addItems([str(f) for f in FPS_VALUES])
        self.language = QComboBox()
        for code, lang in LANGUAGES.items():
            self.language.addItem(f"{lang.name} ({code})", code)
        self.subtitles = SubtitleChecklist()
        self.burn = QCheckBox("Burn the first subtitle language into the picture")
        self.music = QComboBox()
        self.music.addItems(list(MUSIC_GENRES))
        self.music_play = QPushButton("Preview")
        self.music_play.setToolTip("Play a few seconds of this genre")
        music_row = QHBoxLayout()
        music_row.addWidget(self.music, 1)
        music_row.addWidget(self.music_play)

        form = QFormLayout()
        form.addRow("Duration", self.duration)
        form.addRow("Style", self.style_box)
        form.addRow("", self.style_preview)
        form.addRow("Resolution", self.resolution)
        form.addRow("Frames/s", self.fps)
        form.addRow("Language", self.language)
        form.addRow("Subtitles", self.subtitles)
        form.addRow("", self.burn)
        form.addRow("Music", music_row)
        settings_box = QGroupBox("Settings")
        settings_box.setLayout(form)

        self.cast = CastTable()
        self.cast.setMinimumHeight(150)  # a header and about four rows, however small the window
        cast_box = QGroupBox("Cast")
        QVBoxLayout(cast_box).addWidget(self.cast)

        self.estimate = QLabel("")
        self.estimate.setObjectName("estimateLabel")
        self.fit = QLabel("")
        self.fit.setObjectName("fitLabel")
        self.fit.setWordWrap(True)
        self.error = QLabel("")
        self.error.setObjectName("errorLabel")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d04040;")
        self.save_state = QLabel("")
        self.generate_button = QPushButton("Generate  (Ctrl+Enter)")
        self.generate_button.setObjectName("generateButton")
        self.generate_button.setDefault(True)
        self.progress = ProgressPanel()
        self.no_project = QWidget()
        self.no_project.setObjectName("noProject")
        banner = QHBoxLayout(self.no_project)
        banner.addWidget(QLabel("No project is open. Create one to start writing."), 1)
        self.new_button = QPushButton("New project  (Ctrl+N)")
        self.new_button.setObjectName("newProjectButton")
        banner.addWidget(self.new_button)

        right = QVBoxLayout()
        right.addWidget(settings_box)
        right.addStretch(1)
        right.setContentsMargins(0, 0, 0, 0)
        side_body = QWidget()
        side_body.setLayout(right)
        # The settings scroll rather than push the window past a laptop screen.
        side = QScrollArea()
        side.setObjectName("settingsScroll")
        side.setWidgetResizable(True)
        side.setFrameShape(QScrollArea.Shape.NoFrame)
        side.setWidget(side_body)
        side.setMinimumWidth(320)  # narrower than the form's own hint: it scrolls sideways then

        left = QVBoxLayout()
        left.addWidget(self.title)
        left.addWidget(self.idea_writer)
        left.addWidget(self.script, 1)
        left.setContentsMargins(0, 0, 0, 0)
        writing = QWidget()
        writing.setLayout(left)
        # The cast sits under the script, where the width is, so its rows show on a laptop screen.
        main = QSplitter(Qt.Orientation.Vertical)
        main.setChildrenCollapsible(False)
        main.addWidget(writing)
        main.addWidget(cast_box)
        main.setStretchFactor(0, 3)
        main.setStretchFactor(1, 2)
        self.script.setMinimumSize(200, 120)

        split = QSplitter()
        split.setChildrenCollapsible(False)
        self.form_parts = (split,)
        split.addWidget(main)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)

        bottom = QHBoxLayout()
        status = QVBoxLayout()
        status.addWidget(self.estimate)
        status.addWidget(self.fit)
        status.addWidget(self.error)
        bottom.addLayout(status, 1)
        bottom.addWidget(self.save_state)
        bottom.addWidget(self.generate_button)

        self.draft_bar = DraftBar()
        self.conflict_bar = ConflictBar()
        self.draft_bar.restore.connect(self.restore_draft)
        self.draft_bar.discard.connect(self.discard_draft)
        self.conflict_bar.reload.connect(self.reload_theirs)
        self.conflict_bar.overwrite.connect(self.overwrite_theirs)
        layout = QVBoxLayout(self)
        layout.addWidget(self.no_project)
        layout.addWidget(self.conflict_bar)
        layout.addWidget(self.draft_bar)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.progress)

        for signal in (self.title.textChanged, self.script.textChanged, self.duration.valueChanged,
                       self.style_box.currentTextChanged, self.resolution.currentTextChanged, self.fps.currentTextChanged,
                       self.language.currentIndexChanged, self.subtitles.changed, self.burn.toggled,
                       self.music.currentTextChanged, self.cast.changed):
            signal.connect(self._edited)
        self.style_box.currentTextChanged.connect(self._show_style_preview)
        self.generate_button.clicked.connect(self.generate)
        self.idea_writer.started.connect(lambda: self.generate_button.setEnabled(False))
        self.idea_writer.finished.connect(lambda _how: self.generate_button.setEnabled(self.project is not None))
        self.progress.cancel_requested.connect(self.cancel)
        self.music_play.clicked.connect(self._preview_music)
        self.cast.audition_requested.connect(self._audition)
        self.subtitles.add_translation.connect(self.ask_translation)
        self.language.currentIndexChanged.connect(lambda _i: self._show_languages())
        self.subtitles.changed.connect(self._show_languages)
        self.new_button.clicked.connect(self.new_requested)

    def _show_no_project(self) -> None:
        """Without a project the form is off and says how to start (typing is never thrown away)."""
        has = self.project is not None
        self.no_project.setVisible(not has)
        for part in self.form_parts:
            part.setEnabled(has)
        self.generate_button.setEnabled(has and self.generate_button.isEnabled())

    def _got_pairs(self, pairs: set[tuple[str, str]]) -> None:
        self._pairs = pairs
        self._show_languages()

    def _show_languages(self) -> None:
        self.subtitles.show_availability(str(self.language.currentData()), self._translations, self._pairs)

    # -- loading and the form's values --------------------------------------------------------------

    def load(self, project: ProjectPublic, *, offer_draft: bool = True) -> None:
        """Show `project` (flushing unsaved edits to the previous one first); offer its draft back."""
        if self.project is not None and self._dirty:
            self.save()
        self.conflict = None
        self.conflict_bar.hide()
        self.draft_bar.hide()
        self._loading = True
        self.project = project
        s = project.settings
        self.title.setText(project.title)
        self.script.setPlainText(project.script)
        self.duration.setValue(int(s.get("duration", 60)))
        self.style_box.setCurrentText(str(s.get("style", STYLES[0])))
        self.resolution.setCurrentText(str(s.get("resolution", RESOLUTIONS[0])))
        self.fps.setCurrentText(str(s.get("fps", 30)))
        self.language.setCurrentIndex(max(0, self.language.findData(s.get("language", "en"))))
        self.subtitles.set_checked(list(s.get("subtitle_languages") or []))
        self._translations = dict(s.get("translations") or {})
        self.burn.setChecked(bool(s.get("burn_subtitles", False)))
        self.music.setCurrentText(str(s.get("music_genre", "ambient")))
        self.cast.set_specs(list(s.get("characters") or []))
        self.cast.setRowCount(0)
        self._loading = False
        self._dirty = False
        self._mark({})
        self._show_no_project()
        self._show_languages()
        self.error.setText("")
        self.save_state.setText("Saved")
        self.progress.clear()
        self._follow_seq += 1  # the previous project's job is no longer followed
        self._show_style_preview(self.style_box.currentText())
        self._run_check()
        if project.latest_job_id:
            self.track_job(project.latest_job_id)
        self._set_busy(project.status == "processing")
        if offer_draft:
            self._offer_draft(project)

    def settings_values(self) -> dict[str, Any]:
        """The project's settings with the form's fields on top (fields the form lacks, e.g.
        translations set over the API, are kept)."""
        subs = self.subtitles.checked()
        kept = dict(self.project.settings) if self.project is not None else {}
        # An aspect ratio would override the resolution chosen here.
        kept.pop("aspect_ratio", None)
        return kept | {
            "duration": self.duration.value(),
            "style": self.style_box.currentText(),
            "resolution": self.resolution.currentText(),
            "fps": int(self.fps.currentText()),
            "language": self.language.currentData(),
            "subtitle_languages": subs or None,
            "burn_subtitles": self.burn.isChecked(),
            "music_genre": self.music.currentText(),
            "characters": self.cast.specs(),
            "translations": dict(self._translations),
        }

    def _edited(self, *_: object) -> None:
        if self._loading or self.project is None:
            return
        self._dirty = True
        self.save_state.setText("Editing…")
        self._autosave.start()
        self._checker.start()

    # -- autosave and live checks ---------------------------------------------------------------

    def save(self) -> None:
        """Write the form to the project now (autosave calls this; so does Ctrl+S)."""
        self._autosave.stop()
        if self.project is None or not self._dirty:
            return
        pid, title, script, values = self.project.project_id, self.title.text(), self.script.toPlainText(), \
            self.settings_values()
        self._keep_draft(pid, title, script, values)
        if self.conflict is not None:  # nothing goes out until the user chose Reload or Overwrite
            self.save_state.setText("Not saved: changed on the studio")
            return
        self._dirty = False
        self.save_state.setText("Saving…")
        self.tasks.run(lambda: self.backend.save_valid(pid, title, script, values), self._saved,
                       self._save_failed)

    # -- drafts and conflicts ---------------------------------------------------------------------

    def _keep_draft(self, pid: str, title: str, script: str, values: dict[str, Any]) -> None:
        if self.drafts is None or self.project is None:
            return
        try:
            self.drafts.write(Draft(pid, title, script, values, base_updated_at=self.project.updated_at))
        except OSError as exc:  # a full or read-only disk must not stop the save itself
            self.error.setText(f"The local draft could not be written: {exc.strerror or exc}")

    def _offer_draft(self, project: ProjectPublic) -> None:
        draft = self.drafts.read(project.project_id) if self.drafts is not None else None
        if draft is None:
            return
        if draft.differs_from(project.title, project.script):
            self.draft_bar.offer(draft)
        else:
            self.drafts.clear(project.project_id)  # type: ignore[union-attr]  # the studio has exactly this

    def restore_draft(self) -> None:
        """Put the kept draft into the editor; the autosave sends it to the studio."""
        if self.project is None or self.drafts is None:
            return
        draft = self.drafts.read(self.project.project_id)
        self.draft_bar.hide()
        if draft is None:
            return
        base = self.project.model_copy(update={"title": draft.title, "script": draft.script,
                                               "settings": draft.settings or self.project.settings})
        stored = self.project
        self.load(base, offer_draft=False)
        self.project = stored  # the studio's version stays the base the save goes over
        self._edited()

    def discard_draft(self) -> None:
        if self.project is not None and self.drafts is not None:
            self.drafts.clear(self.project.project_id)
        self.draft_bar.hide()

    def _conflicted(self, exc: BaseException) -> bool:
        """A stale save: keep the text (and its draft), say so, and wait for Reload or Overwrite."""
        current = conflict_project(exc)
        if current is None:
            return False
        self.conflict = current
        self._autosave.stop()
        self.save_state.setText("Not saved: changed on the studio")
        self.error.setText("")
        self.conflict_bar.show()
        return True

    def reload_theirs(self) -> None:
        """Show the studio's version; the user's text stays in the local draft, offered back."""
        if self.project is None:
            return
        pid = self.project.project_id
        self._autosave.stop()
        self._dirty = False
        self.tasks.run(lambda: self.backend.get_project(pid), self.load, self._show_error)

    def overwrite_theirs(self) -> None:
        """Save the user's text over the studio's newer version (fetched now, so the save is against it)."""
        if self.project is None:
            return
        pid = self.project.project_id

        def fetched(current: ProjectPublic) -> None:
            if self.project is None or self.project.project_id != current.project_id:
                return
            self.project = current
            self.conflict = None
            self.conflict_bar.hide()
            self._dirty = True
            self.save()

        self.tasks.run(lambda: self.backend.get_project(pid), fetched, self._show_error)

    def discard(self) -> None:
        """Forget unsaved edits (the user chose Discard on quit)."""
        self._autosave.stop()
        self._dirty = False
        self.problems = {}

    def has_unsaved(self) -> bool:
        """Edits not yet written, or fields the last save could not write."""
        return self.project is not None and (self._dirty or bool(self.problems))

    def unsaved_text(self) -> str:
        if self.problems:
            return "These parts could not be saved: " + "; ".join(
                f"{FIELD_NAMES.get(k, k.replace('_', ' ').capitalize())}: {v}" for k, v in self.problems.items())
        return "Your latest edits are not saved yet."

    def _saved(self, result: SavedForm) -> None:
        project = result.project
        if self.project is not None and project.project_id == self.project.project_id:
            self.project = project
            if not self._dirty:
                self._mark(result.problems)
                self.save_state.setText("Saved" if not result.problems else "Saved, except the marked fields")
        if not self._dirty and self.drafts is not None and not result.problems:
            self.drafts.clear(project.project_id)  # the studio has it now
        self.saved.emit(project.project_id)

    def _save_failed(self, exc: BaseException) -> None:
        self._dirty = True
        if self._conflicted(exc):
            return
        self.save_state.setText("Not saved")
        self._show_error(exc)

    def _field_widgets(self) -> dict[str, QWidget]:
        return {"title": self.title, "script": self.script, "subtitle_languages": self.subtitles.list,
                "duration": self.duration, "characters": self.cast}

    def _mark(self, problems: dict[str, str]) -> None:
        """Outline each field the studio refused, with its reason as a tooltip and in the error line."""
        self.problems = dict(problems)
        for name, widget in self._field_widgets().items():
            message = problems.get(name)
            widget.setStyleSheet(INVALID_STYLE if message else "")
            widget.setToolTip(message or "")
        shown = self._fit_message()
        rest = [f"{FIELD_NAMES.get(k, k.replace('_', ' ').capitalize())}: {v}" for k, v in problems.items()
                if not (shown and k == "script")]  # the fit line already says what is wrong with the script
        self.error.setText("Not saved — " + "; ".join(rest) if rest else "")
        self.error.setToolTip("")

    def _fit_message(self) -> str | None:
        return self.last_check.error if self.last_check is not None and not self.last_check.fits else None

    def _show_error(self, exc: BaseException) -> None:
        """The error line, in words; nothing when the fit line already shows the same problem."""
        text = error_text(exc)
        if text == self._fit_message():
            self.error.setText("")
            return
        self.error.setText(text)
        self.error.setToolTip(f"Details: {error_code(exc)}")

    # -- translations -----------------------------------------------------------------------------

    def ask_translation(self, lang: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"Translated script ({lang})", "",
                                              "Scripts (*.fountain *.txt);;All files (*)")
        if path:
            self.add_translation_file(lang, Path(path))

    def add_translation_file(self, lang: str, path: Path) -> None:
        """Load a translated script for `lang` into the project's translations (and tick the language)."""
        def loaded(text: str) -> None:
            self._translations[lang] = text
            self.subtitles.set_checked_one(lang, True)
            self._show_languages()
            self._edited()

        self.tasks.run(lambda: path.read_text(encoding="utf-8"), loaded, self._show_error)

    def _run_check(self) -> None:
        self._check_seq += 1
        seq, script, values = self._check_seq, self.script.toPlainText(), self.settings_values()
        self.tasks.run(lambda: self.backend.check_script(script, values),
                       lambda c: self._checked(seq, c), lambda e: self._checked(seq, None, e))

    def _checked(self, seq: int, check: ScriptCheck | None, exc: BaseException | None = None) -> None:
        if seq != self._check_seq:
            return  # an older check finished after a newer one started
        if check is None:
            self.fit.setText(error_text(exc) if exc else "")
            self.fit.setToolTip(f"Details: {error_code(exc)}" if exc else "")
            return
        self.last_check = check
        self.cast.show_characters(check.characters, check.voices, check.readings, check.mismatches)
        self.estimate.setText(" · ".join(self.summary(check)))
        if check.fits:
            self.fit.setText(f"✓ Fits {self.duration.value()} s (about {check.speech_seconds:.0f} s of speech)")
            self.fit.setStyleSheet("color: #3a9a3a;")
            self.fit.setToolTip("")
        else:
            self.fit.setText(f"✗ {check.error}")
            self.fit.setToolTip(f"Details: {check.error_code}")
            self.fit.setStyleSheet("color: #d04040;")
        self._mark(self.problems)

    def summary(self, check: ScriptCheck) -> list[str]:
        """Cost (not for the unlimited owner account), scenes and characters, with singulars."""
        def count(n: int, word: str) -> str:
            return f"{n} {word}{'' if n == 1 else 's'}"

        parts = [] if self.backend.unlimited else [f"Estimated cost: {count(check.credits, 'credit')}"]
        return [*parts, count(check.scenes, "scene"), count(len(check.characters), "character")]

    # -- generate, progress, cancel -------------------------------------------------------------

    def generate(self) -> None:
        if self.project is None:
            return
        pid, title, script, values = self.project.project_id, self.title.text(), self.script.toPlainText(), \
            self.settings_values()
        self._autosave.stop()
        self._dirty = False
        self._set_busy(True)
        self.error.setText("")
        self.progress.step.setText("Queueing…")

        def work() -> Any:
            saved = self.backend.save_valid(pid, title, script, values)
            return saved if saved.problems else self.backend.generate(pid)

        self.tasks.run(work, self._generate_answer, self._generate_failed)

    def _generate_answer(self, answer: Any) -> None:
        if isinstance(answer, SavedForm):  # some fields are invalid: nothing was queued
            self._saved(answer)
            self._set_busy(False)
            self.progress.step.setText("Not started: fix the marked fields")
            return
        self._accepted(answer.job_id)

    def _accepted(self, job_id: str) -> None:
        self.job_started.emit(job_id)
        self.track_job(job_id)

    def _generate_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.progress.step.setText("Not started")
        if self._conflicted(exc):
            self._dirty = True
            return
        self._show_error(exc)

    def track_job(self, job_id: str) -> None:
        """Follow the job's progress: the backend's live stream (a studio's server-sent events), polling
        as the fallback when following fails."""
        self.job = None
        self.progress.job_id = job_id
        self._poller.stop()
        self._follow_seq += 1
        seq = self._follow_seq

        def follow() -> Any:
            return self.backend.follow_job(job_id, lambda job: self.job_seen.emit((seq, job)),
                                           stop=lambda: seq != self._follow_seq)

        self.tasks.run(follow, None, lambda _exc: self._follow_failed(seq))

    def _followed(self, item: tuple[int, JobPublic]) -> None:
        seq, job = item
        if seq == self._follow_seq:
            self._job_update(job)

    def _follow_failed(self, seq: int) -> None:
        if seq == self._follow_seq and self.progress.job_id is not None:
            self._poll_job()
            self._poller.start()

    def _poll_job(self) -> None:
        job_id = self.progress.job_id
        if job_id is None:
            self._poller.stop()
            return
        self.tasks.run(lambda: self.backend.get_job(job_id), self._job_update)

    def _job_update(self, job: JobPublic) -> None:
        if job.job_id != self.progress.job_id:
            return
        self.job = job
        self.progress.show_job(job)
        self.progress_changed.emit(job.progress if job.status in ("queued", "processing") else -1)
        if job.status in ("completed", "failed", "cancelled"):
            self._poller.stop()
            self._set_busy(False)
            if self.project is not None and job.project_id == self.project.project_id:
                project_id = self.project.project_id
                self.tasks.run(lambda: self.backend.get_project(project_id), self._refreshed)
            self.job_finished.emit(job.project_id or "", job.status)
        else:
            self._set_busy(True)

    def _refreshed(self, project: ProjectPublic) -> None:
        if self.project is not None and project.project_id == self.project.project_id:
            self.project = project

    def cancel(self, job_id: str) -> None:
        self.tasks.run(lambda: self.backend.cancel_job(job_id), self._job_update,
                       lambda e: self._show_error(e))

    def stop_polling(self) -> None:
        self._follow_seq += 1  # a running follow ends at its next update
        self._poller.stop()
        self._checker.stop()

    def _set_busy(self, busy: bool) -> None:
        self.generate_button.setEnabled(not busy)

    # -- previews -------------------------------------------------------------------------------

    def _show_style_preview(self, style: str) -> None:
        if style in self._previews:
            self.style_preview.setPixmap(self._previews[style])
            return
        self.style_preview.setText("…")

        def shown(png: bytes) -> None:
            pix = QPixmap()
            pix.loadFromData(png)
            self._previews[style] = pix
            if self.style_box.currentText() == style:
                self.style_preview.setPixmap(pix)

        self.tasks.run(lambda: self.backend.style_preview_png(style), shown,
                       lambda e: self.style_preview.setText("no preview"))

    def _play(self, path: Path) -> None:
        self.player.setSource(QUrl.fromLocalFile(str(path)))
        self.player.play()

    def _preview_music(self) -> None:
        genre = self.music.currentText()
        self.music_play.setEnabled(False)

        def done(path: Path) -> None:
            self.music_play.setEnabled(True)
            self._play(path)

        def failed(exc: BaseException) -> None:
            self.music_play.setEnabled(True)
            self._show_error(exc)

        self.tasks.run(lambda: self.backend.music_preview(genre), done, failed)

    def _audition(self, character: str) -> None:
        script, values = self.script.toPlainText(), self.settings_values()
        line = self._first_line_of(character)
        self.tasks.run(lambda: self.backend.audition(script, character, line, values), self._play,
                       lambda e: self._show_error(e))

    def _first_line_of(self, character: str) -> str:
        lines = self.script.toPlainText().splitlines()
        for i, text in enumerate(lines):
            if text.strip().upper().startswith(character.upper()) and i + 1 < len(lines):
                nxt = lines[i + 1].strip()
                if nxt.startswith("(") and i + 2 < len(lines):
                    nxt = lines[i + 2].strip()
                if nxt:
                    return nxt
        return f"Hello, I am {character.title()}."
