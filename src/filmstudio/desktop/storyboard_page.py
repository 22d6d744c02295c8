"""The storyboard page: the open project's shots as cards, its characters' looks, which shots move
(the motion budget, Animate / Still per card, what motion adds to the render), and the film rendered from them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QRegularExpression, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from filmstudio.desktop.backend_contract import StoryboardView, StudioBackend, error_code, error_text
from filmstudio.desktop.shot_card import STILL_SIZE, ShotCard
from filmstudio.desktop.tasks import TaskRunner
from filmstudio.domain.models import JobPublic, ProjectPublic

POLL_MS = 500
GRID_SPACING = 10
FINISHED = ("completed", "failed", "cancelled")
MOTION_CHOICES = (("none", "No motion"), ("key", "Key shots"), ("all", "All shots"))  # RenderSettings.motion


def decoded_clip(path: Path) -> list[QImage]:
    """A clip's first seconds as images at card size (on a pool thread: ffmpeg decodes it)."""
    from filmstudio.pipeline.media.clip_frames import clip_frames

    got = clip_frames(path, STILL_SIZE)
    return [QImage(f, got.width, got.height, got.width * 3, QImage.Format.Format_RGB888).copy() for f in got.frames]


@dataclass(frozen=True)
class _Loaded:
    project: ProjectPublic
    view: StoryboardView
    pictures: dict[int, tuple[QImage, str]]  # shot number -> (picture, "replacement" | "still")


class CharacterPanel(QGroupBox):
    """Each character's description (used word for word in their shots) and seed, editable."""

    saved = Signal(str, str, object)  # name, description, seed (int or None)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Characters", parent)
        self.setObjectName("characters")
        self.rows: dict[str, tuple[QPlainTextEdit, QLineEdit, QPushButton]] = {}
        self._form = QFormLayout(self)
        self._form.setFormAlignment(Qt.AlignmentFlag.AlignTop)
        self.empty = QLabel("No characters in this script.")
        self._form.addRow(self.empty)

    def show_characters(self, characters: list[dict[str, Any]]) -> None:
        if sorted(self.rows) != sorted(c["name"] for c in characters):
            while self._form.rowCount():
                self._form.removeRow(0)
            self.rows.clear()
            self.empty = QLabel("No characters in this script.")
            self._form.addRow(self.empty)
            for c in characters:
                self._add_row(c["name"])
        self.empty.setVisible(not characters)
        for c in characters:
            description, seed, save = self.rows[c["name"]]
            description.setPlainText(c["description"])
            description.setToolTip(f"From: {c['source']}")
            seed.setText(str(c["seed"]))
            save.setEnabled(False)

    def _add_row(self, name: str) -> None:
        description = QPlainTextEdit()
        description.setObjectName(f"description:{name}")
        description.setFixedHeight(64)
        seed = QLineEdit()
        seed.setObjectName(f"seed:{name}")
        seed.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{1,10}")))
        seed.setToolTip("The same seed brings the same face back in every shot")
        save = QPushButton("Save")
        save.setObjectName(f"save:{name}")
        save.setEnabled(False)
        description.textChanged.connect(lambda: save.setEnabled(True))
        seed.textEdited.connect(lambda _t: save.setEnabled(True))
        save.clicked.connect(lambda: self.saved.emit(name, description.toPlainText().strip(),
                                                     int(seed.text()) if seed.text() else None))
        row = QHBoxLayout()
        row.addWidget(QLabel("Seed"))
        row.addWidget(seed, 1)
        row.addWidget(save)
        title = QLabel(f"<b>{name}</b>")
        self._form.addRow(title)
        self._form.addRow(description)
        self._form.addRow(row)
        self.rows[name] = (description, seed, save)


class StoryboardPage(QWidget):
    """The open project's storyboard; everything slow goes through `tasks`."""

    models_requested = Signal()  # the banner's button: show the Models page
    job_started = Signal(str)
    job_finished = Signal(str, str)  # project id, status
    project_changed = Signal(object)  # ProjectPublic: its settings changed here (the motion budget)

    def __init__(self, backend: StudioBackend, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.tasks = tasks
        self.project_id: str | None = None
        self.view: StoryboardView | None = None
        self.cards: dict[int, ShotCard] = {}
        self.job: JobPublic | None = None
        self.job_id: str | None = None
        self.loads = 0  # finished loads (tests wait on it)
        self._build()
        self._poller = QTimer(self)
        self._poller.setInterval(POLL_MS)
        self._poller.timeout.connect(self._poll)

    def _build(self) -> None:
        self.title = QLabel("<b>Storyboard</b> — open a project to see its shots")
        self.title.setObjectName("storyboardTitle")
        self.status = QLabel("")
        self.status.setObjectName("storyboardStatus")
        self.render_button = QPushButton("Render from storyboard")
        self.render_button.setObjectName("renderStoryboard")
        self.render_button.setEnabled(False)
        self.render_button.clicked.connect(self.render_film)
        self.motion_box = QComboBox()
        self.motion_box.setObjectName("motionBudget")
        for value, label in MOTION_CHOICES:
            self.motion_box.addItem(label, value)
        self.motion_box.setToolTip("Which shots a video model animates: none, the key shots (establishing, a "
                                   "scene's first, action that moves) or all; Animate / Still on a card wins")
        self.motion_box.setEnabled(False)
        self.motion_box.currentIndexChanged.connect(self._budget_chosen)
        self.motion_summary = QLabel("")
        self.motion_summary.setObjectName("motionSummary")
        self.motion_summary.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("storyboardProgress")
        self.progress.setVisible(False)
        self.banner = QFrame()
        self.banner.setObjectName("noModelBanner")
        self.banner.setStyleSheet("#noModelBanner { background: #fff4d6; border: 1px solid #d9b44a; }"
                                  " #noModelBanner QLabel { color: #3a2e00; }")
        self.banner_text = QLabel("")
        self.banner_text.setWordWrap(True)
        self.models_button = QPushButton("Open the Models page")
        self.models_button.clicked.connect(self.models_requested.emit)
        banner = QHBoxLayout(self.banner)
        banner.addWidget(self.banner_text, 1)
        banner.addWidget(self.models_button)
        self.banner.setVisible(False)
        self.message = QLabel("")
        self.message.setObjectName("storyboardMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d04040;")

        self.grid_body = QWidget()
        self.grid = QGridLayout(self.grid_body)
        self.grid.setSpacing(GRID_SPACING)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.shot_scroll = QScrollArea()
        self.shot_scroll.setObjectName("shotGrid")
        self.shot_scroll.setWidgetResizable(True)
        self.shot_scroll.setWidget(self.grid_body)
        self.shot_scroll.setMinimumWidth(300)
        self.shot_scroll.viewport().installEventFilter(self)  # the grid reflows when the viewport resizes
        self._columns = 0
        self.characters = CharacterPanel()
        self.characters.saved.connect(self._save_character)
        side_body = QWidget()
        side_column = QVBoxLayout(side_body)
        side_column.setContentsMargins(0, 0, 0, 0)
        side_column.addWidget(self.characters)
        side_column.addStretch(1)  # the rows stay together at the top
        side = QScrollArea()
        side.setWidgetResizable(True)
        side.setFrameShape(QFrame.Shape.NoFrame)
        side.setWidget(side_body)
        side.setMinimumWidth(220)
        side.setMaximumWidth(300)
        split = QSplitter()
        split.setChildrenCollapsible(False)
        split.addWidget(self.shot_scroll)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)

        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.status)
        head.addWidget(self.render_button)
        motion = QHBoxLayout()
        motion.addWidget(QLabel("Motion"))
        motion.addWidget(self.motion_box)
        motion.addWidget(self.motion_summary, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addLayout(motion)
        layout.addWidget(self.progress)
        layout.addWidget(self.banner)
        layout.addWidget(self.message)
        layout.addWidget(split, 1)

    # -- loading --------------------------------------------------------------------------------

    def load(self, project_id: str) -> None:
        """Show `project_id`'s storyboard (and follow its render if one is running)."""
        if project_id != self.project_id:
            self._clear_cards()
            self.job_id, self.job = None, None
            self._poller.stop()
        self.project_id = project_id
        self.reload(follow=True)

    def reload(self, *, follow: bool = False) -> None:
        pid = self.project_id
        if pid is None:
            return
        self.tasks.run(lambda: self._fetch(pid), lambda got: self._show(got, follow), self._failed)

    def _fetch(self, project_id: str) -> _Loaded:
        """On a pool thread: the storyboard and its pictures, decoded (QImage is thread-safe)."""
        project = self.backend.get_project(project_id)
        view = self.backend.storyboard(project_id)
        pictures: dict[int, tuple[QImage, str]] = {}
        for shot in view.board["shots"]:
            n = shot["number"]
            for path, source in ((view.replacements.get(n), "replacement"), (view.stills.get(n), "still")):
                if path is not None and not (image := QImage(str(path))).isNull():
                    pictures[n] = (image, source)
                    break
        return _Loaded(project, view, pictures)

    def _show(self, got: _Loaded, follow: bool) -> None:
        if got.project.project_id != self.project_id:
            return  # another project was opened meanwhile
        self.view = got.view
        board = got.view.board
        model = got.view.model
        self.title.setText(f"<b>Storyboard</b> — {got.project.title} · {len(board['shots'])} shot"
                           + ("" if len(board["shots"]) == 1 else "s")
                           + (f" · drawn by {model}" if model else ""))
        # The advice starts by saying what is missing, which the banner's first words already say.
        advice = [a.split(": ", 1)[-1] for a in board.get("pictures", {}).get("advice") or []]
        self.banner_text.setText(
            "<b>No picture model is installed</b>, so every shot will be a procedural backdrop (the film "
            "still renders). To have the shots drawn, download a picture model on the Models page"
            + (f"; from a terminal: {'; '.join(advice)}" if advice else "") + ".")
        self.banner.setVisible(model is None)
        numbers = [s["number"] for s in board["shots"]]
        if sorted(self.cards) != numbers:
            self._clear_cards()
            for shot in board["shots"]:
                self.cards[shot["number"]] = self._card(shot)
            self._layout_cards()
        for shot in board["shots"]:
            card = self.cards[shot["number"]]
            card.show_shot(shot)
            image, source = got.pictures.get(shot["number"], (None, "none"))
            card.show_picture(image, source, model=model is not None)
            card.set_clip(got.view.clips.get(shot["number"]))
        self._show_motion(got.project, board.get("motion"))
        self.characters.show_characters(board["characters"])
        self.render_button.setEnabled(self.job_id is None)
        self.loads += 1
        if follow and self.job_id is None and got.project.latest_job_id:
            job_id = got.project.latest_job_id
            self.tasks.run(lambda: self.backend.get_job(job_id), self._maybe_follow)

    def _maybe_follow(self, job: JobPublic) -> None:
        if job.project_id == self.project_id and job.status not in FINISHED:
            self.track_job(job.job_id)

    def _card(self, shot: dict[str, Any]) -> ShotCard:
        card = ShotCard(shot)
        card.regenerate.connect(self._regenerate)
        card.prompt_saved.connect(self._save_prompt)
        card.lock_changed.connect(self._lock)
        card.replace_requested.connect(self._replace)
        card.use_generated.connect(self._use_generated)
        card.motion_changed.connect(self._set_motion)
        card.clip_requested.connect(self._decode_clip)
        return card

    def _show_motion(self, project: ProjectPublic, motion: dict[str, Any] | None) -> None:
        """The project's motion budget and what it adds to the render (or that no video model is installed)."""
        budget = str((project.settings or {}).get("motion") or "key")
        self.motion_box.blockSignals(True)
        self.motion_box.setCurrentIndex(max(0, self.motion_box.findData(budget)))
        self.motion_box.blockSignals(False)
        self.motion_box.setEnabled(self.job_id is None)
        self.motion_summary.setText((motion or {}).get("summary") or "")

    def _decode_clip(self, number: int) -> None:
        card = self.cards.get(number)
        if card is None or card.clip is None:
            return
        clip = card.clip
        self.tasks.run(lambda: decoded_clip(clip), lambda frames: self._clip_decoded(number, clip, frames),
                       self._failed)

    def _clip_decoded(self, number: int, clip: Path, frames: list[QImage]) -> None:
        card = self.cards.get(number)
        if card is not None and card.clip == clip:
            card.set_clip_frames(frames)

    def _clear_cards(self) -> None:
        for card in self.cards.values():
            self.grid.removeWidget(card)
            card.deleteLater()
        self.cards.clear()

    def _layout_cards(self, *, force: bool = True) -> None:
        """As many columns of cards as the grid's width holds."""
        width = self.shot_scroll.viewport().width()
        card_width = next(iter(self.cards.values())).width() if self.cards else 280
        margins = self.grid.contentsMargins()
        room = width - margins.left() - margins.right() + GRID_SPACING
        columns = max(1, room // (card_width + GRID_SPACING))
        if columns == self._columns and not force:
            return
        self._columns = columns
        for card in self.cards.values():
            self.grid.removeWidget(card)
        for i, n in enumerate(sorted(self.cards)):
            self.grid.addWidget(self.cards[n], i // columns, i % columns, Qt.AlignmentFlag.AlignTop)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.shot_scroll.viewport() and event.type() == QEvent.Type.Resize and self.cards:
            self._layout_cards(force=False)
        return super().eventFilter(watched, event)

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(error_text(exc))
        self.message.setToolTip(f"Details: {error_code(exc)}")

    # -- edits ----------------------------------------------------------------------------------

    def _edit(self, number: int | None, work: Any) -> None:
        """Run a storyboard edit off the GUI thread, then show the storyboard again (or the problem)."""
        self.message.setText("")
        if number is not None and number in self.cards:
            self.cards[number].show_message("")

        def failed(exc: BaseException) -> None:
            if number is not None and number in self.cards:
                self.cards[number].show_message(error_text(exc))
            self._failed(exc)

        self.tasks.run(work, lambda _r: self.reload(), failed)

    def _regenerate(self, number: int, prompt: str) -> None:
        pid, shot = self.project_id, self.cards[number].shot
        edited = prompt if prompt and prompt != shot["prompt"] else None
        assert pid is not None
        self._edit(number, lambda: self.backend.regenerate_shot(pid, number, prompt=edited))

    def _save_prompt(self, number: int, prompt: str) -> None:
        pid, seed = self.project_id, int(self.cards[number].shot["seed"])
        assert pid is not None
        self._edit(number, lambda: self.backend.regenerate_shot(pid, number, prompt=prompt, seed=seed))

    def _lock(self, number: int, locked: bool) -> None:
        pid = self.project_id
        assert pid is not None
        self._edit(number, lambda: self.backend.regenerate_shot(pid, number, locked=locked))

    def _replace(self, number: int, path: str) -> None:
        pid = self.project_id
        assert pid is not None
        self._edit(number, lambda: self.backend.replace_shot(pid, number, Path(path)))

    def _use_generated(self, number: int) -> None:
        pid = self.project_id
        assert pid is not None
        self._edit(number, lambda: self.backend.use_generated(pid, number))

    def _set_motion(self, number: int, moves: bool) -> None:
        pid = self.project_id
        assert pid is not None
        self._edit(number, lambda: self.backend.set_shot_motion(pid, number, moves))

    def _budget_chosen(self, _index: int) -> None:
        pid, budget = self.project_id, self.motion_box.currentData()
        if pid is None or budget is None:
            return
        self.message.setText("")
        self.tasks.run(lambda: self.backend.set_motion_budget(pid, str(budget)), self._budget_saved, self._failed)

    def _budget_saved(self, project: ProjectPublic) -> None:
        self.project_changed.emit(project)
        self.reload()

    def _save_character(self, name: str, description: str, seed: int | None) -> None:
        pid = self.project_id
        assert pid is not None
        self._edit(None, lambda: self.backend.update_character(pid, name, description=description or None,
                                                               seed=seed))

    # -- rendering ------------------------------------------------------------------------------

    def render_film(self) -> None:
        """Render the project's film from this storyboard (a normal generate job)."""
        pid = self.project_id
        if pid is None:
            return
        self.render_button.setEnabled(False)
        self.message.setText("")
        self.status.setText("Queueing…")

        def failed(exc: BaseException) -> None:
            self.render_button.setEnabled(True)
            self.status.setText("Not started")
            self._failed(exc)

        self.tasks.run(lambda: self.backend.generate(pid), lambda job: self._accepted(job.job_id, job.estimated_time),
                       failed)

    def _accepted(self, job_id: str, estimate: str | None = None) -> None:
        self.job_started.emit(job_id)
        self.track_job(job_id)
        if estimate:
            self.motion_summary.setText(f"{self.motion_summary.text()} · the render: about {estimate}".lstrip(" ·"))

    def track_job(self, job_id: str) -> None:
        self.job_id, self.job = job_id, None
        self.render_button.setEnabled(False)
        self.motion_box.setEnabled(False)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self._poll()
        self._poller.start()

    def stop_polling(self) -> None:
        self._poller.stop()

    def _poll(self) -> None:
        job_id = self.job_id
        if job_id is None:
            self._poller.stop()
            return
        self.tasks.run(lambda: self.backend.get_job(job_id), self._job_update)

    def _job_update(self, job: JobPublic) -> None:
        if job.job_id != self.job_id:
            return
        self.job = job
        self.progress.setValue(100 if job.status == "completed" else job.progress)
        stills = (job.result or {}).get("stills") if job.status not in FINISHED else None
        self._show_drawing(stills if isinstance(stills, dict) else None)
        if job.status not in FINISHED:
            step = (job.current_step or "queued").replace("_", " ")
            if isinstance(stills, dict) and stills.get("todo") and job.current_step == "visual_generation":
                self.status.setText(f"Drawing shot {stills['todo'][0]} — {len(stills.get('done') or [])} of "
                                    f"{stills.get('total', 0)} stills done")
            else:
                self.status.setText(f"Rendering: {step} ({job.progress}%)")
            return
        self._poller.stop()
        self.job_id = None
        self.progress.setVisible(False)
        self.status.setText({"completed": "Rendered: the cards show the film's stills",
                             "cancelled": "The render was cancelled"}.get(job.status, "The render failed"))
        if job.status == "failed" and job.error is not None:
            self.message.setText(job.error.message)
        self.reload()  # the new stills
        self.job_finished.emit(job.project_id or "", job.status)

    def _show_drawing(self, stills: dict[str, Any] | None) -> None:
        """Per card: drawn, being drawn, or waiting its turn (from the job's `result.stills`)."""
        done = set(stills.get("done") or []) if stills else set()
        todo = list(stills.get("todo") or []) if stills else []
        for n, card in self.cards.items():
            if n in done:
                card.show_state("✓ drawn")
            elif todo and n == todo[0]:
                card.show_state("Drawing…")
            elif n in todo:
                card.show_state("waiting")
            else:
                card.show_state("")
