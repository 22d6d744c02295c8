"""One storyboard shot as a card: its still, scene, line, prompt and seed; redo, lock, replace (or drop a
picture); whether it moves (Animate / Still), and its clip played on hover when the last render made one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QEnterEvent, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

STILL_SIZE = (240, 135)  # the card's picture box; a still is scaled into it keeping its aspect
IMAGE_FILTER = "Pictures (*.png *.jpg *.jpeg *.webp *.bmp)"
NO_MODEL_TEXT = "No picture model: this shot will be a procedural backdrop"
NOT_DRAWN_TEXT = "Not drawn yet: render the film to draw this shot"
LINE_CHARS = 160
CLIP_FPS = 12  # the hover preview's rate (`clip_frames.PREVIEW_FPS`)
MOVING_TEXT, STILL_TEXT = "moving", "still"


def scaled(image: QImage, size: tuple[int, int] = STILL_SIZE) -> QPixmap:
    """A picture as the card shows it: fitted into the box, smooth, aspect kept."""
    return QPixmap.fromImage(image.scaled(*size, Qt.AspectRatioMode.KeepAspectRatio,
                                          Qt.TransformationMode.SmoothTransformation))


class ShotCard(QFrame):
    """A storyboard shot; its actions go out as signals (the page calls the backend)."""

    regenerate = Signal(int, str)  # shot number, the prompt as edited (new seed)
    prompt_saved = Signal(int, str)  # shot number, prompt (same seed)
    lock_changed = Signal(int, bool)
    replace_requested = Signal(int, str)  # shot number, picture file path
    use_generated = Signal(int)
    motion_changed = Signal(int, bool)  # shot number, moves (Animate) or not (Still)
    clip_requested = Signal(int)  # the pointer is over a card whose clip is not decoded yet

    def __init__(self, shot: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.number = int(shot["number"])
        self.shot = shot
        self.source = "none"  # what the picture box shows: "still", "replacement" or "none"
        self.clip: Path | None = None  # the last render's clip of this shot (moving shots only)
        self.frames: list[QPixmap] = []  # the clip decoded at the picture box's size, once asked for
        self.frame = 0  # the frame shown while playing
        self._picture = QPixmap()  # what the picture box shows when not playing
        self._placeholder = NOT_DRAWN_TEXT  # its text when there is no picture
        self._hovered = False
        self.player = QTimer(self)
        self.player.setInterval(1000 // CLIP_FPS)
        self.player.timeout.connect(self._next_frame)
        self.setObjectName(f"shotCard{self.number}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAcceptDrops(True)
        self.setFixedWidth(STILL_SIZE[0] + 24)
        # As tall as its contents: a lone row of cards must not stretch to the grid's height.
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Maximum)
        self.still = QLabel(NOT_DRAWN_TEXT)
        self.still.setObjectName("still")
        self.still.setFixedSize(*STILL_SIZE)
        self.still.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.still.setWordWrap(True)
        self.still.setStyleSheet("background: #202428; color: #c8ccd0; padding: 6px;")
        self.still.setToolTip("Drop a picture here to use it for this shot")
        self.title = QLabel()
        self.title.setObjectName("shotTitle")
        self.heading = QLabel()
        self.heading.setObjectName("heading")
        self.heading.setWordWrap(True)
        self.line = QLabel()
        self.line.setObjectName("line")
        self.line.setWordWrap(True)
        self.prompt = QPlainTextEdit()
        self.prompt.setObjectName("prompt")
        self.prompt.setFixedHeight(70)
        self.prompt.setToolTip("What the picture model is asked to draw; edit it, then Save prompt or Regenerate")
        self.seed = QLabel()
        self.seed.setObjectName("seed")
        self.lock = QCheckBox("Lock")
        self.lock.setToolTip("A locked shot keeps its prompt and seed whatever the script says")
        self.state = QLabel("")
        self.state.setObjectName("drawState")
        self.motion = QLabel("")
        self.motion.setObjectName("motionState")
        self.motion_button = QPushButton("")
        self.motion_button.setObjectName("motionToggle")
        self.message = QLabel("")
        self.message.setObjectName("cardMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d04040;")
        self.message.setVisible(False)
        self.regenerate_button = QPushButton("Regenerate")
        self.regenerate_button.setToolTip("Draw this shot again with a new seed at the next render")
        self.save_prompt_button = QPushButton("Save prompt")
        self.replace_button = QPushButton("Replace…")
        self.replace_button.setToolTip("Use your own picture for this shot (or drop one on the card)")
        self.generated_button = QPushButton("Use generated")
        self.generated_button.setToolTip("Remove your picture: the generated still shows again")

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.state)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.lock)
        motion_row = QHBoxLayout()
        motion_row.addWidget(self.motion, 1)
        motion_row.addWidget(self.motion_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.regenerate_button)
        buttons.addWidget(self.save_prompt_button)
        pictures = QHBoxLayout()
        pictures.addWidget(self.replace_button)
        pictures.addWidget(self.generated_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(4)
        layout.addWidget(self.still)
        layout.addLayout(top)
        layout.addWidget(self.heading)
        layout.addWidget(self.line)
        layout.addWidget(self.prompt)
        layout.addLayout(seed_row)
        layout.addLayout(motion_row)
        layout.addLayout(buttons)
        layout.addLayout(pictures)
        layout.addWidget(self.message)

        self.regenerate_button.clicked.connect(lambda: self.regenerate.emit(self.number, self.prompt_text()))
        self.save_prompt_button.clicked.connect(lambda: self.prompt_saved.emit(self.number, self.prompt_text()))
        self.lock.toggled.connect(lambda on: self.lock_changed.emit(self.number, on))
        self.replace_button.clicked.connect(self.choose_picture)
        self.generated_button.clicked.connect(lambda: self.use_generated.emit(self.number))
        self.motion_button.clicked.connect(lambda: self.motion_changed.emit(self.number, not self.moves))
        self.prompt.textChanged.connect(self._prompt_edited)
        self.show_shot(shot)

    # -- what it shows ------------------------------------------------------------------------

    def show_shot(self, shot: dict[str, Any]) -> None:
        self.shot = shot
        who = ", ".join(shot.get("characters") or ())
        self.title.setText(f"<b>Shot {self.number}</b> · {shot['camera']}" + (f" · {who}" if who else ""))
        self.heading.setText(shot.get("heading") or shot.get("location") or "")
        text = shot.get("text") or ""
        self.line.setText(text if len(text) <= LINE_CHARS else text[:LINE_CHARS - 1].rstrip() + "…")
        self.line.setToolTip(text)
        if self.prompt.toPlainText() != shot["prompt"]:
            self.prompt.blockSignals(True)
            self.prompt.setPlainText(shot["prompt"])
            self.prompt.blockSignals(False)
        self.seed.setText(f"Seed {shot['seed']}")
        self.lock.blockSignals(True)
        self.lock.setChecked(bool(shot.get("locked")))
        self.lock.blockSignals(False)
        locked = bool(shot.get("locked"))
        self.prompt.setReadOnly(locked)
        self.regenerate_button.setEnabled(not locked)
        self.generated_button.setVisible(bool(shot.get("image")))
        self.motion.setText(MOVING_TEXT if self.moves else STILL_TEXT)
        self.motion.setToolTip(shot.get("motion_reason") or "")
        self.motion_button.setText("Still" if self.moves else "Animate")
        self.motion_button.setToolTip("Keep this shot a still with its camera move" if self.moves else
                                      "Have the video model animate this shot at the next render")
        self._prompt_edited()

    @property
    def moves(self) -> bool:
        return bool(self.shot.get("motion"))

    def show_picture(self, image: QImage | None, source: str, *, model: bool) -> None:
        """The user's picture, the drawn still, or a placeholder saying what will show instead."""
        self.stop_clip()
        if image is None or image.isNull():
            self.source = "none"
            self._picture = QPixmap()
            self._placeholder = NOT_DRAWN_TEXT if model else NO_MODEL_TEXT
            self.still.setPixmap(self._picture)
            self.still.setText(self._placeholder)
            return
        self.source = source
        self.still.setText("")
        self._picture = scaled(image)
        self.still.setPixmap(self._picture)
        self.still.setToolTip("Your picture (drop another to change it)" if source == "replacement"
                              else "The still the last render drew (drop a picture to replace it)")

    def show_state(self, text: str) -> None:
        self.state.setText(text)

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def prompt_text(self) -> str:
        return self.prompt.toPlainText().strip()

    def _prompt_edited(self) -> None:
        changed = self.prompt_text() != self.shot["prompt"] and bool(self.prompt_text())
        self.save_prompt_button.setEnabled(changed and not self.shot.get("locked"))

    # -- the clip, played on hover ----------------------------------------------------------------

    def set_clip(self, clip: Path | None) -> None:
        """The shot's clip from the last render (None: it has none); decoded only when first hovered."""
        if clip != self.clip:
            self.stop_clip()
            self.clip, self.frames = clip, []
        self.still.setToolTip("Hover to play this shot's clip" if clip else self.still.toolTip())

    def set_clip_frames(self, frames: list[QImage]) -> None:
        """The clip's frames (decoded off the GUI thread); plays at once if the pointer is still here."""
        self.frames = [scaled(f) for f in frames if not f.isNull()]
        if self._hovered:
            self.play_clip()

    @property
    def playing(self) -> bool:
        return self.player.isActive()

    def play_clip(self) -> None:
        if not self.frames:
            return
        self.frame = 0
        self.still.setPixmap(self.frames[0])
        self.player.start()

    def stop_clip(self) -> None:
        if self.player.isActive():
            self.player.stop()
            self.still.setPixmap(self._picture)
            if self._picture.isNull():
                self.still.setText(self._placeholder)

    def _next_frame(self) -> None:
        if self.frames:
            self.frame = (self.frame + 1) % len(self.frames)
            self.still.setPixmap(self.frames[self.frame])

    def enterEvent(self, event: QEnterEvent) -> None:
        self._hovered = True
        if self.clip is not None:
            if self.frames:
                self.play_clip()
            else:
                self.clip_requested.emit(self.number)
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self._hovered = False
        self.stop_clip()
        super().leaveEvent(event)

    # -- pictures -----------------------------------------------------------------------------

    def choose_picture(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"A picture for shot {self.number}", "", IMAGE_FILTER)
        if path:
            self.replace_requested.emit(self.number, path)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if len(files) != 1 or not Path(files[0]).is_file():
            self.show_message("Drop one picture file (PNG, JPEG, WebP or BMP) to use it for this shot.")
            event.ignore()
            return
        event.acceptProposedAction()
        self.replace_requested.emit(self.number, files[0])
