"""The API page: the embedded server's state and URL, API keys (generate, list, revoke, rotate) and webhooks."""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from filmstudio.desktop.backend_contract import StudioBackend
from filmstudio.desktop.tasks import TaskRunner
from filmstudio.desktop.webhooks_panel import WebhooksPanel
from filmstudio.desktop.widgets import ShownOnceDialog, read_only_table, show_error
from filmstudio.domain.models import ApiKeyCreated, ApiKeyPublic

COLUMNS = ("Name", "Prefix", "Scopes", "Created", "Last used", "State")


def _time(stamp: str | None) -> str:
    return stamp[:16].replace("T", " ") if stamp else "never"


class SecretDialog(ShownOnceDialog):
    """Shows a new key's secret once, with a copy button and a warning."""

    def __init__(self, created: ApiKeyCreated, parent: QWidget | None = None) -> None:
        super().__init__(
            title="New API key", name="secretDialog", field_name="secretField", secret=created.secret,
            warning="Copy this key now. It is shown only once; FilmStudio keeps only its prefix "
                    f"({created.prefix}…) and a hash.", parent=parent,
        )


class ApiPage(QWidget):
    """Server URL and state; keys and webhooks of the owner account."""

    def __init__(self, backend: StudioBackend, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend = backend
        self.tasks = tasks
        self.keys: list[ApiKeyPublic] = []
        self.last_created: ApiKeyCreated | None = None

        self.state = QLabel("")
        self.state.setObjectName("serverState")
        self.state.setWordWrap(True)
        self.url = QLineEdit()
        self.url.setReadOnly(True)
        self.url.setObjectName("serverUrl")
        copy_url = QPushButton("Copy")
        copy_url.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.url.text()))
        docs = QPushButton("Open API docs")
        docs.clicked.connect(lambda: QDesktopServices.openUrl(QUrl(f"{self.url.text()}/api/v1/docs")))
        url_row = QHBoxLayout()
        url_row.addWidget(QLabel("Server URL"))
        url_row.addWidget(self.url, 1)
        url_row.addWidget(copy_url)
        url_row.addWidget(docs)
        server_box = QGroupBox("Embedded API server")
        server_layout = QVBoxLayout(server_box)
        server_layout.addWidget(self.state)
        server_layout.addLayout(url_row)

        self.table = read_only_table(COLUMNS, "keysTable", stretch=2)
        self.generate_button = QPushButton("Generate New API Key")
        self.generate_button.setObjectName("generateKey")
        self.revoke_button = QPushButton("Revoke")
        self.rotate_button = QPushButton("Rotate")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        key_bar = QHBoxLayout()
        key_bar.addWidget(self.generate_button)
        key_bar.addStretch(1)
        key_bar.addWidget(self.rotate_button)
        key_bar.addWidget(self.revoke_button)
        keys_box = QGroupBox("API Keys")
        keys_layout = QVBoxLayout(keys_box)
        keys_layout.addLayout(key_bar)
        keys_layout.addWidget(self.table, 1)
        keys_layout.addWidget(self.message)

        self.webhooks = WebhooksPanel(backend, tasks)

        layout = QVBoxLayout(self)
        layout.addWidget(server_box)
        layout.addWidget(keys_box, 1)
        layout.addWidget(self.webhooks, 1)

        self.generate_button.clicked.connect(self.ask_generate)
        self.revoke_button.clicked.connect(self.revoke)
        self.rotate_button.clicked.connect(self.rotate)
        self.table.itemSelectionChanged.connect(self._buttons)
        self._buttons()

    def _buttons(self) -> None:
        """Rotate and Revoke only for a selected key that still works."""
        k = self.selected()
        live = k is not None and not k.revoked_at
        self.rotate_button.setEnabled(live)
        self.revoke_button.setEnabled(live)

    def confirm_revoke(self, key: ApiKeyPublic) -> bool:
        answer = QMessageBox.question(
            self, "Revoke API key",
            f"Revoke “{key.name}” ({key.prefix}…)? Scripts using it stop working at once. This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def refresh(self) -> None:
        server = self.backend.server
        if server is None:
            self.state.setText("The API server is not running in this window (started without one).")
            self.url.setText("")
        else:
            text = "Running" if server.running else "Stopped"
            self.state.setText(f"{text}. {server.notice}".strip())
            self.url.setText(server.url)
        self.tasks.run(self.backend.list_keys, self._show, lambda e: show_error(self.message, e))
        self.webhooks.refresh()

    def _show(self, keys: list[ApiKeyPublic]) -> None:
        self.keys = keys
        self.table.setRowCount(len(keys))
        for r, k in enumerate(keys):
            state = "revoked" if k.revoked_at else (f"expires {_time(k.expires_at)}" if k.expires_at else "active")
            for c, text in enumerate((k.name, f"{k.prefix}…", ", ".join(k.scopes), _time(k.created_at),
                                      _time(k.last_used_at), state)):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self._buttons()

    def selected(self) -> ApiKeyPublic | None:
        row = self.table.currentRow()
        return self.keys[row] if 0 <= row < len(self.keys) else None

    def ask_generate(self) -> None:
        name, ok = QInputDialog.getText(self, "Generate New API Key", "Name for the key (where it will be used):")
        if ok:
            self.generate(name)

    def generate(self, name: str) -> None:
        self.tasks.run(lambda: self.backend.create_key(name), self._created,
                       lambda e: show_error(self.message, e))

    def _created(self, created: ApiKeyCreated) -> None:
        self.last_created = created
        self.refresh()
        self.show_secret(created)

    def show_secret(self, created: ApiKeyCreated) -> None:
        """Open the show-once dialog (non-modal so tests and the GUI thread keep running)."""
        dialog = SecretDialog(created, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def revoke(self) -> None:
        k = self.selected()
        if k is None:
            self.message.setText("Select a key to revoke.")
            return
        if k.revoked_at or not self.confirm_revoke(k):
            return
        self.tasks.run(lambda: self.backend.revoke_key(k.key_id), lambda _: self.refresh(),
                       lambda e: show_error(self.message, e))

    def rotate(self) -> None:
        k = self.selected()
        if k is None:
            self.message.setText("Select a key to rotate.")
            return
        if k.revoked_at:
            return

        def rotated(created: ApiKeyCreated) -> None:
            self.message.setText(f"Rotated: the old key keeps working for 24 hours ({k.prefix}…).")
            self._created(created)

        self.tasks.run(lambda: self.backend.rotate_key(k.key_id), rotated,
                       lambda e: show_error(self.message, e))
