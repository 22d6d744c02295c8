"""webhooks, webhook_deliveries and webhook_attempts rows: endpoints, the outbox, and what each send got."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from filmstudio.store.db import Store


def live_webhook(store: Store, webhook_id: str) -> dict[str, Any] | None:
    """A webhook that was not deleted."""
    return store.one("SELECT * FROM webhooks WHERE id = ? AND deleted_at IS NULL", [webhook_id])


def count_live_webhooks(db: sqlite_utils.Database, account_id: str) -> int:
    return int(db.execute("SELECT count(*) FROM webhooks WHERE account_id = ? AND deleted_at IS NULL",
                          [account_id]).fetchone()[0])


def add_webhook(db: sqlite_utils.Database, webhook_id: str, account_id: str, url: str, events_json: str,
                created_at: str, secret_ref: str) -> None:
    db.execute(
        "INSERT INTO webhooks (id, account_id, url, events, status, created_at, secret_ref) "
        "VALUES (?, ?, ?, ?, 'active', ?, ?)", [webhook_id, account_id, url, events_json, created_at, secret_ref])


def live_webhooks(store: Store, account_id: str) -> list[dict[str, Any]]:
    return store.all("SELECT * FROM webhooks WHERE account_id = ? AND deleted_at IS NULL ORDER BY created_at",
                     [account_id])


def active_subscriptions(db: sqlite_utils.Database, account_id: str) -> list[tuple[str, str]]:
    """(webhook id, its events as JSON) of the account's active endpoints (inside the job's write)."""
    return [(str(i), str(e)) for i, e in db.execute(
        "SELECT id, events FROM webhooks WHERE account_id = ? AND status = 'active' AND deleted_at IS NULL",
        [account_id]).fetchall()]


def delete_webhook(db: sqlite_utils.Database, webhook_id: str, now: str) -> None:
    """Mark the endpoint deleted and drop its pending deliveries (their history stays)."""
    db.execute("UPDATE webhooks SET deleted_at = ?, status = 'disabled', disabled_reason = 'deleted' WHERE id = ?",
               [now, webhook_id])
    db.execute("UPDATE webhook_deliveries SET status = 'abandoned', last_error = 'endpoint deleted', "
               "updated_at = ? WHERE webhook_id = ? AND status = 'pending'", [now, webhook_id])


def disable_webhook(db: sqlite_utils.Database, webhook_id: str, reason: str, now: str) -> None:
    """An active endpoint disabled for `reason`; its pending, unleased deliveries abandoned."""
    db.execute("UPDATE webhooks SET status = 'disabled', disabled_reason = ? WHERE id = ? AND status = 'active'",
               [reason, webhook_id])
    db.execute("UPDATE webhook_deliveries SET status = 'abandoned', last_error = ?, updated_at = ? "
               "WHERE webhook_id = ? AND status = 'pending' AND lease_until IS NULL",
               [f"endpoint disabled: {reason}", now, webhook_id])


def add_delivery(db: sqlite_utils.Database, message_id: str, webhook_id: str, event: str, payload: str,
                 now_iso: str, due: float) -> None:
    """A pending delivery of one event to one endpoint."""
    db.execute(
        """INSERT INTO webhook_deliveries (id, webhook_id, event, payload, status, attempts, next_attempt_at,
               due_at, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)""",
        [message_id, webhook_id, event, payload, now_iso, due, now_iso, now_iso])


def latest_deliveries(store: Store, webhook_id: str, limit: int) -> list[dict[str, Any]]:
    return store.all(
        "SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
        [webhook_id, limit])


def attempts_of(store: Store, delivery_id: str) -> list[dict[str, Any]]:
    return store.all("SELECT * FROM webhook_attempts WHERE delivery_id = ? ORDER BY attempt, id", [delivery_id])


def lease_delivery(db: sqlite_utils.Database, delivery_id: str, now: float, until: float) -> bool:
    """Take a due, pending, unleased delivery until `until`; False when it is not that."""
    cur = db.execute(
        "UPDATE webhook_deliveries SET lease_until = ? WHERE id = ? AND status = 'pending' "
        "AND (due_at IS NULL OR due_at <= ?) AND (lease_until IS NULL OR lease_until < ?)",
        [until, delivery_id, now, now])
    return bool(cur.rowcount == 1)


def delivery_with_endpoint(store: Store, delivery_id: str) -> dict[str, Any] | None:
    """A delivery with its endpoint's url, status (`hook_status`) and deleted_at."""
    return store.one(
        "SELECT d.*, w.url, w.status AS hook_status, w.deleted_at FROM webhook_deliveries d "
        "JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ?", [delivery_id])


def add_attempt(db: sqlite_utils.Database, delivery_id: str, attempt: int, status_code: int | None,
                error: str | None, latency_ms: float, now: str) -> None:
    db.execute(
        "INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, latency_ms, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)", [delivery_id, attempt, status_code, error, latency_ms, now])


def finish_delivery(db: sqlite_utils.Database, delivery_id: str, status: str, attempted: bool,
                    code: int | None, error: str | None, now: str) -> None:
    """A delivery's end (delivered, failed, abandoned); `attempted`: this end counts one more attempt."""
    db.execute(
        "UPDATE webhook_deliveries SET status = ?, attempts = attempts + ?, last_status_code = ?, "
        "last_error = ?, lease_until = NULL, updated_at = ? WHERE id = ?",
        [status, 1 if attempted else 0, code, error, now, delivery_id])


def reschedule_delivery(db: sqlite_utils.Database, delivery_id: str, attempts: int, code: int | None, error: str,
                        due: float, due_iso: str, now: str) -> None:
    db.execute(
        "UPDATE webhook_deliveries SET attempts = ?, last_status_code = ?, last_error = ?, lease_until = NULL, "
        "due_at = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?",
        [attempts, code, error, due, due_iso, now, delivery_id])


def due_deliveries(store: Store, now: float, limit: int) -> list[str]:
    """Ids of pending, due, unleased deliveries, the oldest due first."""
    return [str(r["id"]) for r in store.all(
        "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND (due_at IS NULL OR due_at <= ?) "
        "AND (lease_until IS NULL OR lease_until < ?) ORDER BY due_at LIMIT ?", [now, now, limit])]
