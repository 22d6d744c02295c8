"""The API page's Webhooks section: list, add (secret shown once), delete, send a test, deliveries."""

from __future__ import annotations

from collections.abc import Callable
from typing import get_args

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from filmstudio.desktop.backend_contract import StudioBackend
from filmstudio.desktop.tasks import TaskRunner
from filmstudio.desktop.widgets import ShownOnceDialog, read_only_table, show_error
from filmstudio.domain.models import DeliveryPublic, WebhookCreated, WebhookEvent, WebhookPublic

EVENTS: tuple[str, ...] = get_args(WebhookEvent)
DEFAULT_EVENTS = ("job.completed", "job.failed")
HOOK_COLUMNS = ("URL", "Events", "Status", "Created")
DELIVERY_COLUMNS = ("Event", "Status", "Attempts", "Last code", "Latency", "Time")

Failed = Callable[[BaseException], None]


def _time(stamp: str | None) -> str:
    return stamp[:19].replace("T", " ") if stamp else ""


def _fill_row(table: QTableWidget, row: int, texts: tuple[str, ...], tip: str = "") -> None:
    for col, text in enumerate(texts):
        item = QTableWidgetItem(text)
        item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if tip:
            item.setToolTip(tip)
        table.setItem(row, col, item)


def hook_status(hook: WebhookPublic) -> str:
    return hook.status if hook.status == "active" else f"disabled: {hook.disabled_reason or 'unknown reason'}"


def delivery_cells(d: DeliveryPublic) -> tuple[str, ...]:
    """One deliveries-table row; latency is the last attempt's, as the status code is."""
    last = d.attempt_log[-1] if d.attempt_log else None
    latency = f"{last.latency_ms:.0f} ms" if last is not None else ""
    code = str(d.last_status_code) if d.last_status_code is not None else ("—" if d.attempts == 0 else "none")
    status = d.status if d.status != "pending" or not d.next_attempt_at else f"pending (next {_time(d.next_attempt_at)})"
    return (d.event, status, str(d.attempts), code, latency, _time(d.created_at))


LIVE_REFRESH_MS = 3000  # how often a visible deliveries list re-reads the store

class WebhookSecretDialog(ShownOnceDialog):
    """Shows a generated signing secret once, with a copy button and a warning."""

    def __init__(self, created: WebhookCreated, parent: QWidget | None = None) -> None:
        super().__init__(
            title="Webhook signing secret", name="webhookSecretDialog", field_name="webhookSecretField",
            secret=created.secret or "", parent=parent,
            warning=f"Copy this signing secret for {created.url} now. It is shown only once; FilmStudio keeps "
                    "it in its secret store and cannot show it again. Verify each delivery's "
                    "webhook-signature header with it.",
        )


class AddWebhookDialog(QDialog):
    """URL, events and an optional secret; stays open showing the error code when the studio refuses."""

    def __init__(self, panel: WebhooksPanel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.setWindowTitle("Add webhook")
        self.setObjectName("addWebhookDialog")
        self.url = QLineEdit()
        self.url.setObjectName("webhookUrl")
        self.url.setPlaceholderText("https://example.com/hooks/filmstudio")
        self.url.setMinimumWidth(420)
        self.events: dict[str, QCheckBox] = {}
        events_box = QVBoxLayout()
        for name in EVENTS:
            box = QCheckBox(name)
            box.setChecked(name in DEFAULT_EVENTS)
            self.events[name] = box
            events_box.addWidget(box)
        self.secret = QLineEdit()
        self.secret.setObjectName("webhookSecret")
        self.secret.setPlaceholderText("optional: whsec_… (leave empty and one is made for you)")
        self.error = QLabel("")
        self.error.setObjectName("addWebhookError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e")
        form = QFormLayout()
        form.addRow("URL", self.url)
        form.addRow("Events", events_box)
        form.addRow("Secret", self.secret)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def chosen_events(self) -> list[str]:
        return [name for name, box in self.events.items() if box.isChecked()]

    def submit(self) -> None:
        events = self.chosen_events()
        if not events:
            self.error.setText("Choose at least one event.")
            return
        self.error.setText("")
        self.buttons.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self.buttons.setEnabled(True)
            show_error(self.error, exc)

        self.panel.add(self.url.text(), events, self.secret.text().strip() or None,
                       on_added=lambda _: self.accept(), on_error=failed)


class WebhooksPanel(QGroupBox):
    """The owner account's webhooks and, for the selected one, its latest deliveries."""

    def __init__(self, backend: StudioBackend, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__("Webhooks", parent)
        self.backend = backend
        self.tasks = tasks
        self.hooks: list[WebhookPublic] = []
        self.deliveries: list[DeliveryPublic] = []
        self.last_created: WebhookCreated | None = None
        self.last_test: DeliveryPublic | None = None

        self.table = read_only_table(HOOK_COLUMNS, "webhooksTable", stretch=0)
        self.deliveries_table = read_only_table(DELIVERY_COLUMNS, "deliveriesTable", stretch=0)
        self.deliveries_label = QLabel("Deliveries: select a webhook.")
        self.add_button = QPushButton("Add Webhook")
        self.add_button.setObjectName("addWebhook")
        self.test_button = QPushButton("Send test")
        self.test_button.setObjectName("testWebhook")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("deleteWebhook")
        self.reload_button = QPushButton("Refresh deliveries")
        self.message = QLabel("")
        self.message.setObjectName("webhooksMessage")
        self.message.setWordWrap(True)

        bar = QHBoxLayout()
        bar.addWidget(self.add_button)
        bar.addStretch(1)
        bar.addWidget(self.test_button)
        bar.addWidget(self.delete_button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(self.deliveries_label, 1)
        head.addWidget(self.reload_button)
        right_layout.addLayout(head)
        right_layout.addWidget(self.deliveries_table, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(right)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addWidget(self.message)

        self.add_button.clicked.connect(self.ask_add)
        self.test_button.clicked.connect(self.send_test)
        self.delete_button.clicked.connect(self.ask_delete)
        self.reload_button.clicked.connect(self.refresh_deliveries)
        self.table.itemSelectionChanged.connect(self.refresh_deliveries)
        # Deliveries happen in the background (events, retries): keep the shown list live.
        self._loading = False
        self.live = QTimer(self)
        self.live.setInterval(LIVE_REFRESH_MS)
        self.live.timeout.connect(self._live_tick)
        self.live.start()
        self._update_buttons()

    def _live_tick(self) -> None:
        if self.isVisible() and not self._loading and self.selected() is not None:
            self.refresh_deliveries()

    # -- list -------------------------------------------------------------------------------

    def refresh(self) -> None:
        self.tasks.run(self.backend.list_webhooks, self._show, self._fail)

    def _fail(self, exc: BaseException) -> None:
        show_error(self.message, exc)

    def _show(self, hooks: list[WebhookPublic]) -> None:
        keep = self.selected()
        self.hooks = hooks
        self.table.blockSignals(True)
        self.table.setRowCount(len(hooks))
        for r, h in enumerate(hooks):
            _fill_row(self.table, r, (h.url, ", ".join(h.events), hook_status(h), _time(h.created_at)), tip=h.url)
        ids = [h.webhook_id for h in hooks]
        if keep is not None and keep.webhook_id in ids:
            self.table.selectRow(ids.index(keep.webhook_id))
        elif hooks:
            self.table.selectRow(0)
        self.table.blockSignals(False)
        self._update_buttons()
        self.refresh_deliveries()

    def selected(self) -> WebhookPublic | None:
        rows = self.table.selectionModel().selectedRows()
        row = rows[0].row() if rows else -1
        return self.hooks[row] if 0 <= row < len(self.hooks) else None

    def _update_buttons(self) -> None:
        hook = self.selected()
        self.delete_button.setEnabled(hook is not None)
        self.test_button.setEnabled(hook is not None and hook.status == "active")
        self.reload_button.setEnabled(hook is not None)

    # -- add --------------------------------------------------------------------------------

    def ask_add(self) -> AddWebhookDialog:
        """Open the add dialog (non-modal, so the GUI thread and tests keep running)."""
        dialog = AddWebhookDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def add(self, url: str, events: list[str], secret: str | None = None, *,
            on_added: Callable[[WebhookCreated], None] | None = None, on_error: Failed | None = None) -> None:
        def added(created: WebhookCreated) -> None:
            self.last_created = created
            self.message.setText(f"Added {created.url}.")
            if on_added is not None:
                on_added(created)
            self.refresh()
            if created.secret:
                self.show_secret(created)

        self.tasks.run(lambda: self.backend.create_webhook(url, events, secret), added, on_error or self._fail)

    def show_secret(self, created: WebhookCreated) -> None:
        dialog = WebhookSecretDialog(created, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    # -- delete -----------------------------------------------------------------------------

    def ask_delete(self) -> QMessageBox | None:
        """Ask before deleting; the box is non-modal and deletes on Yes."""
        hook = self.selected()
        if hook is None:
            self.message.setText("Select a webhook to delete.")
            return None
        box = QMessageBox(QMessageBox.Icon.Question, "Delete webhook",
                          f"Delete the webhook to {hook.url}? Pending deliveries are dropped; the history stays.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setObjectName("confirmDeleteWebhook")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        yes = box.button(QMessageBox.StandardButton.Yes)
        box.finished.connect(lambda _: self.delete(hook) if box.clickedButton() is yes else None)
        box.open()
        return box

    def delete(self, hook: WebhookPublic) -> None:
        def deleted(_: object) -> None:
            self.message.setText(f"Deleted the webhook to {hook.url}.")
            self.refresh()

        self.tasks.run(lambda: self.backend.delete_webhook(hook.webhook_id), deleted, self._fail)

    # -- test and deliveries ----------------------------------------------------------------

    def send_test(self) -> None:
        hook = self.selected()
        if hook is None:
            self.message.setText("Select a webhook to test.")
            return
        self.test_button.setEnabled(False)
        self.message.setText(f"Sending a test event to {hook.url}…")

        def sent(d: DeliveryPublic) -> None:
            self.last_test = d
            code = d.last_status_code if d.last_status_code is not None else (d.last_error or "no answer")
            self.message.setText(f"Test delivery {d.status} ({code}).")
            self._update_buttons()
            self.refresh_deliveries()

        def failed(exc: BaseException) -> None:
            self._update_buttons()
            self._fail(exc)

        self.tasks.run(lambda: self.backend.send_test_webhook(hook.webhook_id), sent, failed)

    def refresh_deliveries(self) -> None:
        self._update_buttons()
        hook = self.selected()
        if hook is None:
            self._show_deliveries(None, [])
            return
        self._loading = True

        def failed(exc: BaseException) -> None:
            self._loading = False
            self._fail(exc)

        self.tasks.run(lambda: self.backend.list_deliveries(hook.webhook_id),
                       lambda found: self._show_deliveries(hook, found), failed)

    def _show_deliveries(self, hook: WebhookPublic | None, found: list[DeliveryPublic]) -> None:
        self._loading = False
        current = self.selected()
        if hook is not None and (current is None or current.webhook_id != hook.webhook_id):
            return  # the selection moved on while this was loading
        self.deliveries = found
        self.deliveries_label.setText("Deliveries: select a webhook." if hook is None
                                      else f"Deliveries to {hook.url} ({len(found)})")
        self.deliveries_table.setRowCount(len(found))
        for r, d in enumerate(found):
            _fill_row(self.deliveries_table, r, delivery_cells(d), tip=d.last_error or "")
