"""api_keys rows: a display prefix and a SHA-256 digest, never the secret."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from filmstudio.store.db import Store
from filmstudio.store.rows import insert, update


def add_key(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    insert(db, "api_keys", row)


def key_by_prefix(store: Store, prefix: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM api_keys WHERE prefix = ?", [prefix])


def get_key(store: Store, key_id: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM api_keys WHERE id = ?", [key_id])


def list_keys(store: Store, account_id: str | None = None) -> list[dict[str, Any]]:
    if account_id is None:
        return store.all("SELECT * FROM api_keys ORDER BY created_at")
    return store.all("SELECT * FROM api_keys WHERE account_id = ? ORDER BY created_at", [account_id])


def update_key(db: sqlite_utils.Database, key_id: str, fields: dict[str, Any]) -> int:
    return update(db, "api_keys", key_id, fields)
