"""'Write from an idea': the studio's writer fills the script editor as it writes, as one undo step.

The model's text streams into the editor (each piece joined to the same undo block, so Ctrl+Z
after it restores the script that was there before). A repair round starts the text over. Stop
keeps what arrived; a failure (no writer, the server gone, no fitting screenplay) puts the
previous script back and says why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from filmstudio.desktop.backend_contract import StudioBackend, error_text
from filmstudio.desktop.tasks import TaskRunner


class _Stream(QObject):
    """Carries the writer's pieces from its pool thread to the GUI thread (queued signal)."""

    piece = Signal(int, str)  # round, text


class IdeaWriter(QWidget):
    """An idea line, Write and Stop; writes into `editor` with the settings `settings()` gives."""

    started = Signal()
    finished = Signal(str)  # "done", "stopped", "failed"

    def __init__(self, backend: StudioBackend, tasks: TaskRunner, editor: QPlainTextEdit,
                 settings: Callable[[], dict[str, Any]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.tasks = tasks
        self.editor = editor
        self.settings = settings
        self.idea = QLineEdit()
        self.idea.setObjectName("ideaEdit")
        self.idea.setPlaceholderText("Write from an idea: a lighthouse keeper's last night, a storm, a young engineer…")
        self.write_button = QPushButton("Write")
        self.write_button.setObjectName("writeButton")
        self.write_button.setToolTip("Have the studio's local language model write a screenplay sized to the "
                                     "duration; it replaces the script (Ctrl+Z undoes it)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopWritingButton")
        self.stop_button.setEnabled(False)
        self.status = QLabel("")
        self.status.setObjectName("writerStatus")
        self.status.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.idea, 1)
        row.addWidget(self.write_button)
        row.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self.status.hide()
        self._stream = _Stream(self)
        self._stream.piece.connect(self._piece)
        self._cancel: Any = None
        self._round = 0
        self._started_block = False
        self._stopped = False
        self.write_button.clicked.connect(self.write)
        self.idea.returnPressed.connect(self.write)
        self.stop_button.clicked.connect(self.stop)

    @property
    def writing(self) -> bool:
        return self._cancel is not None

    def write(self) -> None:
        if self.writing:
            return
        from filmstudio.pipeline.cancel import CancelToken

        idea = self.idea.text()
        self._cancel = CancelToken()
        self._round, self._started_block, self._stopped = 0, False, False
        self.write_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.idea.setEnabled(False)
        self._say("Writing…")
        self.started.emit()
        cancel, settings = self._cancel, self.settings()
        self.tasks.run(lambda: self.backend.write_screenplay(idea, settings, cancel=cancel,
                                                            on_text=self._stream.piece.emit),
                       self._done, self._failed)

    def stop(self) -> None:
        if self._cancel is not None:
            self._stopped = True
            self._cancel.cancel()
            self._say("Stopping…")

    # -- the editor, one undo block ----------------------------------------------------------------

    def _edit(self, change: Callable[[QTextCursor], None]) -> None:
        cursor = QTextCursor(self.editor.document())
        if self._started_block:
            cursor.joinPreviousEditBlock()
        else:
            cursor.beginEditBlock()
            self._started_block = True
        change(cursor)
        cursor.endEditBlock()

    def _replace_all(self, text: str) -> Callable[[QTextCursor], None]:
        def change(cursor: QTextCursor) -> None:
            cursor.select(QTextCursor.SelectionType.Document)
            cursor.insertText(text)

        return change

    def _piece(self, round_: int, text: str) -> None:
        if self._cancel is None:
            return  # a piece that arrived after the end
        if round_ != self._round:
            self._round = round_
            self._edit(self._replace_all(text))  # a repair starts the text over
            self._say("Writing…" if round_ == 1 else f"Rewriting to fix what did not fit (answer {round_})…")
            return

        def append(cursor: QTextCursor) -> None:
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(text)

        self._edit(append)
        self.editor.moveCursor(QTextCursor.MoveOperation.End)

    def _done(self, play: Any) -> None:
        self._edit(self._replace_all(play.text))  # the checked, cleaned screenplay
        notes = "; ".join(play.advice[:2])
        self._finish("done", f"Written: {play.title!r}, {play.scenes} scenes, {play.words} of about {play.budget} "
                             f"words. Edit it freely (Ctrl+Z restores the previous script)."
                     + (f" Note: {notes}" if notes else ""))

    def _failed(self, exc: BaseException) -> None:
        if self._stopped and getattr(exc, "code", "") == "JOB_CANCELLED":
            self._finish("stopped", "Stopped: the text so far is kept (Ctrl+Z restores the previous script).")
            return
        if self._started_block:
            self.editor.document().undo()  # the previous script, untouched
        self._finish("failed", error_text(exc))

    def _finish(self, how: str, message: str) -> None:
        self._cancel = None
        self.write_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.idea.setEnabled(True)
        self._say(message)
        self.finished.emit(how)

    def _say(self, message: str) -> None:
        self.status.setText(message)
        self.status.setVisible(bool(message))
