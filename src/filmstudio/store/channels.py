"""youtube_channels rows: which channels are connected (their refresh tokens are in the OS keyring)."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from filmstudio.store.db import Store


def upsert_channel(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO youtube_channels (channel_id, title, client_id, token_uri, scopes, connected_at) "
        "VALUES (:channel_id, :title, :client_id, :token_uri, :scopes, :connected_at) "
        "ON CONFLICT(channel_id) DO UPDATE SET title = excluded.title, client_id = excluded.client_id, "
        "token_uri = excluded.token_uri, scopes = excluded.scopes, connected_at = excluded.connected_at",
        row,
    )


def list_channels(store: Store) -> list[dict[str, Any]]:
    return store.all("SELECT * FROM youtube_channels ORDER BY connected_at")


def get_channel(store: Store, channel_id: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM youtube_channels WHERE channel_id = ?", [channel_id])


def delete_channel(db: sqlite_utils.Database, channel_id: str) -> None:
    db.execute("DELETE FROM youtube_channels WHERE channel_id = ?", [channel_id])
