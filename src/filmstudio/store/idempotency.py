"""idempotency_keys rows: a claimed key, and the answer its first request got."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from filmstudio.store.db import Store


def forget_older(db: sqlite_utils.Database, before: float) -> None:
    db.execute("DELETE FROM idempotency_keys WHERE created_at < ?", [before])


def find_key(db: sqlite_utils.Database, account_id: str, key: str) -> tuple[Any, ...] | None:
    """(fingerprint, state, locked_until, response_status, response_body) of a key, or None."""
    row = db.execute(
        "SELECT fingerprint, state, locked_until, response_status, response_body FROM idempotency_keys "
        "WHERE account_id = ? AND key = ?", [account_id, key]).fetchone()
    return tuple(row) if row is not None else None


def claim_key(db: sqlite_utils.Database, account_id: str, key: str, fingerprint: str, locked_until: float,
              now: float) -> None:
    db.execute(
        "INSERT INTO idempotency_keys (account_id, key, fingerprint, state, locked_until, created_at) "
        "VALUES (?, ?, ?, 'processing', ?, ?)", [account_id, key, fingerprint, locked_until, now])


def relock_key(db: sqlite_utils.Database, account_id: str, key: str, locked_until: float) -> None:
    db.execute("UPDATE idempotency_keys SET locked_until = ? WHERE account_id = ? AND key = ?",
               [locked_until, account_id, key])


def record_answer(db: sqlite_utils.Database, account_id: str, key: str, fingerprint: str, status: int,
                  body: str) -> None:
    db.execute(
        "UPDATE idempotency_keys SET state = 'done', locked_until = NULL, response_status = ?, response_body = ? "
        "WHERE account_id = ? AND key = ? AND fingerprint = ?", [status, body, account_id, key, fingerprint])


def release_key(store: Store, account_id: str, key: str) -> None:
    """Drop an unfinished claim (its own write)."""
    with store.write() as db:
        db.execute("DELETE FROM idempotency_keys WHERE account_id = ? AND key = ? AND state = 'processing'",
                   [account_id, key])
