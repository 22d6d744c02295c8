"""The script editor: a plain-text editor with line numbers and Fountain syntax highlighting."""

from __future__ import annotations

import re

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from filmstudio.pipeline.script.fountain import is_scene_heading, is_transition

# Block kinds, stored as the block state so the next line knows what came before it.
PLAIN, CHARACTER, DIALOGUE, BLANK = 0, 1, 2, 3

_CHARACTER = re.compile(r"^(?:@.+|[^a-z]*[A-Z][^a-z]*?)(?:\s*\(.*\))?\s*\^?\s*$")
_PARENTHETICAL = re.compile(r"^\s*\(.*\)\s*$")
_NOTE = re.compile(r"\[\[.*?\]\]")
_SECTION = re.compile(r"^\s*#")
_SYNOPSIS = re.compile(r"^\s*=(?!==)")
_TITLE_KEY = re.compile(r"^(Title|Credit|Author|Authors|Source|Draft date|Contact|Notes|Copyright):", re.IGNORECASE)


def classify(line: str, previous: int) -> str:
    """The Fountain element a line is, given the previous block's state (pure, for tests)."""
    stripped = line.strip()
    if not stripped:
        return "blank"
    if previous in (CHARACTER, DIALOGUE):
        return "parenthetical" if _PARENTHETICAL.match(stripped) else "dialogue"
    if _SECTION.match(line):
        return "section"
    if _SYNOPSIS.match(line):
        return "synopsis"
    if _TITLE_KEY.match(stripped):
        return "title"
    if previous == BLANK or previous == -1:
        if is_scene_heading(stripped):  # the parser's own rules: what is coloured is what is parsed
            return "heading"
        if is_transition(stripped):
            return "transition"
        if _CHARACTER.match(stripped) and any(c.isalpha() for c in stripped) and not stripped.startswith("!"):
            return "character"
    return "action"


def _fmt(color: str, *, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    f = QTextCharFormat()
    f.setForeground(QColor(color))
    if bold:
        f.setFontWeight(QFont.Weight.Bold)
    f.setFontItalic(italic)
    return f


class FountainHighlighter(QSyntaxHighlighter):
    """Colours scene headings, character cues, dialogue, parentheticals, transitions and notes."""

    def __init__(self, document: QTextDocument, *, dark: bool = False) -> None:
        super().__init__(document)
        self.set_dark(dark)

    def set_dark(self, dark: bool) -> None:
        palette = {
            "heading": ("#e0a040" if dark else "#9a5b00", True, False),
            "character": ("#7fb2ff" if dark else "#1c4fa0", True, False),
            "dialogue": ("#e6e6e6" if dark else "#202020", False, False),
            "parenthetical": ("#a0a0a0" if dark else "#6b6b6b", False, True),
            "transition": ("#d080ff" if dark else "#7a2aa8", True, False),
            "section": ("#70c070" if dark else "#2c7a2c", True, False),
            "synopsis": ("#70c070" if dark else "#2c7a2c", False, True),
            "title": ("#e0a040" if dark else "#9a5b00", False, True),
            "note": ("#909090" if dark else "#8a8a8a", False, True),
        }
        self.formats = {k: _fmt(c, bold=b, italic=i) for k, (c, b, i) in palette.items()}
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        previous = self.previousBlockState()
        kind = classify(text, previous)
        if kind in self.formats:
            self.setFormat(0, len(text), self.formats[kind])
        for m in _NOTE.finditer(text):
            self.setFormat(m.start(), m.end() - m.start(), self.formats["note"])
        state = {"blank": BLANK, "character": CHARACTER, "dialogue": DIALOGUE, "parenthetical": DIALOGUE}
        self.setCurrentBlockState(state.get(kind, PLAIN))


class _LineNumbers(QWidget):
    def __init__(self, editor: ScriptEditor) -> None:
        super().__init__(editor)
        self.editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self.editor.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self.editor.paint_gutter(event)


class ScriptEditor(QPlainTextEdit):
    """A Fountain-aware plain-text editor with a line-number gutter."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scriptEditor")
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(11)
        self.setFont(font)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.highlighter = FountainHighlighter(self.document())
        self.gutter = _LineNumbers(self)
        self.blockCountChanged.connect(self._update_margin)
        self.updateRequest.connect(self._scroll_gutter)
        self._update_margin()

    def gutter_width(self) -> int:
        digits = max(3, len(str(self.blockCount())))
        return 12 + self.fontMetrics().horizontalAdvance("9") * digits

    def _update_margin(self, *_: object) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _scroll_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self.gutter.scroll(0, dy)
        else:
            self.gutter.update(0, rect.y(), self.gutter.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        cr = self.contentsRect()
        self.gutter.setGeometry(QRect(cr.left(), cr.top(), self.gutter_width(), cr.height()))

    def paint_gutter(self, event: QPaintEvent) -> None:
        painter = QPainter(self.gutter)
        pal = self.palette()
        painter.fillRect(event.rect(), pal.alternateBase())
        painter.setPen(pal.placeholderText().color())
        block = self.firstVisibleBlock()
        number = block.blockNumber()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        bottom = top + round(self.blockBoundingRect(block).height())
        height = self.fontMetrics().height()
        while block.isValid() and top <= event.rect().bottom():
            if block.isVisible() and bottom >= event.rect().top():
                painter.drawText(0, top, self.gutter.width() - 6, height, Qt.AlignmentFlag.AlignRight,
                                 str(number + 1))
            block = block.next()
            top = bottom
            bottom = top + round(self.blockBoundingRect(block).height())
            number += 1
        painter.end()
