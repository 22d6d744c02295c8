"""The API page's Webhooks section over the real app: add (secret shown once), test to a loopback
receiver, deliveries, delete with confirmation, and refused URLs that add nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QMessageBox

from filmstudio.desktop.webhooks_panel import AddWebhookDialog, WebhookSecretDialog, WebhooksPanel
from gui.conftest import Desktop
from webhook_receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(default=204)
    yield r
    r.close()


def _panel(desktop: Desktop, qtbot) -> WebhooksPanel:  # type: ignore[no-untyped-def]
    desktop.window.show_page("API")
    panel = desktop.window.api.webhooks
    qtbot.waitUntil(lambda: desktop.window.tasks.pending == 0, timeout=10_000)
    return panel


def _open_add(panel: WebhooksPanel, qtbot) -> AddWebhookDialog:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(panel.add_button, _left())
    qtbot.waitUntil(lambda: panel.findChild(AddWebhookDialog, "addWebhookDialog") is not None, timeout=5_000)
    dialog = panel.findChild(AddWebhookDialog, "addWebhookDialog")
    assert dialog is not None
    return dialog


def _left():  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def _cells(table, row: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [table.item(row, c).text() for c in range(table.columnCount())]


def test_add_test_delivery_and_delete(desktop: Desktop, qtbot, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(desktop, qtbot)
    assert panel.table.rowCount() == 0
    assert not panel.test_button.isEnabled() and not panel.delete_button.isEnabled()

    dialog = _open_add(panel, qtbot)
    qtbot.keyClicks(dialog.url, receiver.url)
    dialog.events["job.queued"].setChecked(True)
    dialog.events["job.failed"].setChecked(False)
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok), _left())

    # No secret given: the studio made one and shows it once, with a copy button.
    qtbot.waitUntil(lambda: panel.findChild(WebhookSecretDialog, "webhookSecretDialog") is not None,
                    timeout=10_000)
    created = panel.last_created
    assert created is not None and created.secret is not None and created.secret.startswith("whsec_")
    shown = panel.findChild(WebhookSecretDialog, "webhookSecretDialog")
    assert shown is not None
    assert shown.secret.text() == created.secret and shown.secret.isReadOnly()
    qtbot.mouseClick(shown.copy_button, _left())
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == created.secret
    shown.accept()

    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=10_000)
    row = _cells(panel.table, 0)
    assert row[0] == receiver.url
    assert row[1] == "job.completed, job.queued"
    assert row[2] == "active"
    assert created.secret not in " ".join(row)
    assert panel.selected() is not None and panel.test_button.isEnabled()

    qtbot.mouseClick(panel.test_button, _left())
    qtbot.waitUntil(lambda: panel.deliveries_table.rowCount() == 1, timeout=15_000)
    event, status, attempts, code, latency, when = _cells(panel.deliveries_table, 0)
    assert (event, status, attempts, code) == ("webhook.test", "delivered", "1", "204")
    assert latency.endswith(" ms") and when
    assert panel.message.text().startswith("Test delivery delivered (204)")
    # The receiver really got it, signed, with the delivery's id.
    assert len(receiver.got) == 1
    got = receiver.got[0]
    assert json.loads(got["body"])["event"] == "webhook.test"
    assert got["headers"]["webhook-id"] == panel.deliveries[0].delivery_id
    assert got["headers"]["webhook-signature"].startswith("v1,")

    # Delete asks first; "No" keeps it.
    box = panel.ask_delete()
    assert isinstance(box, QMessageBox) and receiver.url in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.No), _left())
    qtbot.waitUntil(lambda: desktop.window.tasks.pending == 0, timeout=5_000)
    assert len(desktop.backend.list_webhooks()) == 1
    qtbot.mouseClick(panel.delete_button, _left())
    box = panel.findChild(QMessageBox, "confirmDeleteWebhook")
    assert box is not None
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), _left())
    qtbot.waitUntil(lambda: panel.table.rowCount() == 0, timeout=10_000)
    assert desktop.backend.list_webhooks() == []
    assert panel.deliveries_table.rowCount() == 0
    assert panel.message.text().startswith("Deleted the webhook")


@pytest.mark.parametrize(("url", "code"), [
    ("http://10.0.0.1/x", "WEBHOOK_TARGET_REFUSED"),
    ("ftp://127.0.0.1/x", "WEBHOOK_TARGET_REFUSED"),
])
def test_refused_url_shows_code_and_adds_nothing(desktop: Desktop, qtbot, url: str, code: str) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(desktop, qtbot)
    dialog = _open_add(panel, qtbot)
    qtbot.keyClicks(dialog.url, url)
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok), _left())
    qtbot.waitUntil(lambda: dialog.error.text() != "", timeout=10_000)
    assert not dialog.error.text().startswith(f"{code}")  # words in the line, the code in the tooltip
    assert dialog.error.toolTip() == f"Details: {code}"
    assert dialog.isVisible()  # stays open so the URL can be fixed
    assert desktop.backend.list_webhooks() == [] and panel.last_created is None
    assert panel.table.rowCount() == 0


def test_bad_secret_and_no_events_refused(desktop: Desktop, qtbot, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    panel = _panel(desktop, qtbot)
    dialog = _open_add(panel, qtbot)
    qtbot.keyClicks(dialog.url, receiver.url)
    for box in dialog.events.values():
        box.setChecked(False)
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok), _left())
    assert dialog.error.text() == "Choose at least one event."
    dialog.events["job.completed"].setChecked(True)
    qtbot.keyClicks(dialog.secret, "not-a-secret")
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok), _left())
    qtbot.waitUntil(lambda: dialog.error.text() != "", timeout=10_000)
    assert dialog.error.toolTip() == "Details: INVALID_WEBHOOK_SECRET"
    assert desktop.backend.list_webhooks() == []


def test_deliveries_made_elsewhere_show_up_without_a_refresh(desktop: Desktop, qtbot, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    """A delivery the app did not start (here: sent through the backend, as an event would be) appears by itself."""
    hook = desktop.backend.create_webhook(receiver.url, ["job.completed"])
    panel = _panel(desktop, qtbot)
    panel.refresh()
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1 and panel.selected() is not None, timeout=10_000)
    qtbot.waitUntil(lambda: desktop.window.tasks.pending == 0, timeout=5_000)
    assert panel.deliveries_table.rowCount() == 0
    sent = desktop.backend.send_test_webhook(hook.webhook_id)  # not through the panel: no refresh is asked for
    assert sent.status == "delivered"
    qtbot.waitUntil(lambda: panel.deliveries_table.rowCount() == 1, timeout=3 * 3000)
    assert _cells(panel.deliveries_table, 0)[:2] == ["webhook.test", "delivered"]
