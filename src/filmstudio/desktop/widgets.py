"""Small widgets the pages share: a read-only selectable table and a shown-once secret dialog."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from filmstudio.desktop.backend_contract import error_code, error_text


def read_only_table(columns: tuple[str, ...], name: str, stretch: int = 0) -> QTableWidget:
    """A table of whole-row, single selections; column `stretch` takes the spare width."""
    table = QTableWidget(0, len(columns))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(columns))
    table.verticalHeader().setVisible(False)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    header = table.horizontalHeader()
    for col in range(len(columns)):
        mode = QHeaderView.ResizeMode.Stretch if col == stretch else QHeaderView.ResizeMode.ResizeToContents
        header.setSectionResizeMode(col, mode)
    return table


class ShownOnceDialog(QDialog):
    """A secret shown once, read-only, with a Copy button and a warning that it will not be shown again."""

    def __init__(self, *, title: str, name: str, field_name: str, warning: str, secret: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName(name)
        text = QLabel(warning)
        text.setWordWrap(True)
        self.secret = QLineEdit(secret)
        self.secret.setReadOnly(True)
        self.secret.setObjectName(field_name)
        self.secret.setMinimumWidth(460)
        self.copy_button = QPushButton("Copy")
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(secret))
        row = QHBoxLayout()
        row.addWidget(self.secret, 1)
        row.addWidget(self.copy_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(row)
        layout.addWidget(buttons)


def show_error(label: QLabel, exc: BaseException | None) -> None:
    """Put a problem in words on `label`; its stable code goes to the tooltip (details)."""
    if exc is None:
        label.setText("")
        label.setToolTip("")
        return
    label.setText(error_text(exc))
    label.setToolTip(f"Details: {error_code(exc)}")
