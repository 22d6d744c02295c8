"""The cast table: one row per character found in the script, with age, gender, voice and audition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QComboBox, QHeaderView, QPushButton, QTableWidget, QTableWidgetItem, QWidget

from filmstudio.domain.settings import AGES, GENDERS, VOICE_QUALITIES

AUTO = "auto"
NARRATOR = "NARRATOR"
COLUMNS = ("Character", "Age", "Gender", "Voice", "Cast as", "")
MISMATCH_MARK = "⚠ other sex's voice"  # the cell's tooltip says why and what to pull
WARNING_COLOUR = "#b35900"


class CastTable(QTableWidget):
    """Characters come from the script; a choice other than `auto` becomes a `characters[]` spec."""

    changed = Signal()
    audition_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("castTable")
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        for col in range(len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)  # the cast voice id absorbs spare room
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self._specs: dict[str, dict[str, str]] = {}

    def characters(self) -> list[str]:
        return [item.text() for r in range(self.rowCount()) if (item := self.item(r, 0)) is not None]

    def set_specs(self, specs: list[dict[str, Any]]) -> None:
        """Remember saved choices (from the project's settings) before the script is parsed."""
        self._specs = {str(s["name"]).upper(): {k: str(s.get(k, AUTO)) for k in ("age", "gender", "voice")}
                       for s in specs}

    def specs(self) -> list[dict[str, str]]:
        """`characters[]` for RenderSettings: only characters with at least one explicit choice."""
        out = []
        # The narrator is not a table row but may carry the default voice from the settings page.
        narrator = self._specs.get(NARRATOR)
        if narrator and NARRATOR not in self.characters() and any(v != AUTO for v in narrator.values()):
            out.append({"name": NARRATOR, **{k: v for k, v in narrator.items() if v != AUTO}})
        for name in self.characters():
            chosen = self._specs.get(name.upper(), {})
            if any(v != AUTO for v in chosen.values()):
                spec = {"name": name}
                # RenderSettings needs all three; unset ones take the model's defaults.
                spec.update({k: v for k, v in chosen.items() if v != AUTO})
                out.append(spec)
        return out

    def show_characters(self, names: tuple[str, ...], voices: dict[str, str],
                        readings: dict[str, str] | None = None, mismatches: dict[str, str] | None = None) -> None:
        """Rebuild rows for `names`, keeping each character's choices; `readings`: who the script says they are;
        `mismatches`: characters read by the other sex's voice, with the render's warning (and the pull advice)."""
        if tuple(self.characters()) != names:
            self.setRowCount(0)
            for name in names:
                self._add_row(name, voices.get(name, ""))
        for row, name in enumerate(names):
            cell = self.item(row, 4)
            if cell is not None:
                warning = (mismatches or {}).get(name)
                cell.setText(voices.get(name, "") + (f"  {MISMATCH_MARK}" if warning else ""))
                cell.setToolTip(warning or "")
                cell.setForeground(QBrush(QColor(WARNING_COLOUR)) if warning else QBrush())
            # "auto" casts from the shared reading (pipeline/script/characters.py): say what it read.
            said = (readings or {}).get(name, "")
            for col in (0, 1, 2):
                widget = self.item(row, 0) if col == 0 else self.cellWidget(row, col)
                if widget is not None:
                    widget.setToolTip(f"The script says: {said}" if said else "")

    def _add_row(self, name: str, voice: str) -> None:
        row = self.rowCount()
        self.insertRow(row)
        self.setItem(row, 0, QTableWidgetItem(name))
        chosen = self._specs.setdefault(name.upper(), {"age": AUTO, "gender": AUTO, "voice": AUTO})
        for col, (key, options) in enumerate((("age", AGES), ("gender", GENDERS), ("voice", VOICE_QUALITIES)), 1):
            box = QComboBox()
            box.addItems([AUTO, *options])
            box.setCurrentText(chosen.get(key, AUTO))
            box.currentTextChanged.connect(self._setter(name, key))
            self.setCellWidget(row, col, box)
        self.setItem(row, 4, QTableWidgetItem(voice))
        button = QPushButton("Audition")
        button.setToolTip(f"Hear a line of {name}'s in the voice cast for it")
        button.clicked.connect(lambda _=False, n=name: self.audition_requested.emit(n))
        self.setCellWidget(row, 5, button)

    def _setter(self, name: str, key: str) -> Callable[[str], None]:
        def set_value(value: str) -> None:
            self._specs.setdefault(name.upper(), {})[key] = value
            self.changed.emit()

        return set_value
