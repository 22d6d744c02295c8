"""The subtitle languages checklist: one row per language, saying before the render whether it will work."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from filmstudio.domain.settings import LANGUAGES

READY_SCRIPT = "the script's language"
READY_GIVEN = "translation added"
READY_ENGINE = "machine translation installed"
MISSING = "no translation (skipped)"


def availability(lang: str, source: str, translations: dict[str, str], pairs: set[tuple[str, str]]) -> str:
    """Why `lang` subtitles will (or will not) be made for a script in `source`."""
    if lang == source:
        return READY_SCRIPT
    if lang in translations:
        return READY_GIVEN
    if (source, lang) in pairs:
        return READY_ENGINE
    return MISSING


class SubtitleChecklist(QWidget):
    """Checkable languages with their state; `changed` on a tick, `add_translation(lang)` on the button."""

    changed = Signal()
    add_translation = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setObjectName("subtitleLanguages")
        for code, lang in LANGUAGES.items():
            item = QListWidgetItem(f"{lang.name} ({code})")
            item.setData(Qt.ItemDataRole.UserRole, code)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.list.setMinimumHeight(90)
        self.list.setMaximumHeight(130)
        self.hint = QLabel("None ticked: subtitles in the script's language.")
        self.hint.setWordWrap(True)
        self.add_button = QPushButton("Add translation…")
        self.add_button.setObjectName("addTranslation")
        self.add_button.setToolTip("Load a translated script (same scenes and lines) for the selected language;\n"
                                   "a language with no translation and no installed translator is skipped")
        row = QHBoxLayout()
        row.addWidget(self.hint, 1)
        row.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addLayout(row)
        self.states: dict[str, str] = {}
        self.list.itemChanged.connect(lambda _item: self.changed.emit())
        self.add_button.clicked.connect(self._add)

    def _item(self, code: str) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == code:
                return item
        return None

    def checked(self) -> list[str]:
        return [str(self.list.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def set_checked(self, codes: list[str]) -> None:
        blocked = self.list.blockSignals(True)
        for i in range(self.list.count()):
            item = self.list.item(i)
            on = item.data(Qt.ItemDataRole.UserRole) in codes
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.list.blockSignals(blocked)

    def set_checked_one(self, code: str, on: bool = True) -> None:
        item = self._item(code)
        if item is not None:
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def show_availability(self, source: str, translations: dict[str, str], pairs: set[tuple[str, str]]) -> None:
        """Write each language's state beside it; ticked ones that will not work are marked ✗."""
        blocked = self.list.blockSignals(True)
        self.states = {}
        for i in range(self.list.count()):
            item = self.list.item(i)
            code = str(item.data(Qt.ItemDataRole.UserRole))
            state = availability(code, source, translations, pairs)
            self.states[code] = state
            mark = "✗" if state == MISSING else "✓"
            item.setText(f"{mark} {LANGUAGES[code].name} ({code}) — {state}")
        self.list.blockSignals(blocked)
        missing = [c for c in self.checked() if self.states.get(c) == MISSING]
        if missing:
            self.hint.setText(f"Will be skipped: {', '.join(missing)} (no translation).")
        elif self.checked():
            self.hint.setText("All ticked languages will be made.")
        else:
            self.hint.setText("None ticked: subtitles in the script's language.")

    def selected_language(self) -> str | None:
        item = self.list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def _add(self) -> None:
        lang = self.selected_language()
        if lang is not None:
            self.add_translation.emit(lang)
