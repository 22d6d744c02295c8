"""youtube_channels rows: which channels are connected, by which account (refresh tokens are in the OS keyring).

A channel belongs to the account that connected it (`account_id`); `youtube_channel_shares` lets
other accounts publish to it too, when an admin shares it.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from filmstudio.store.db import Store, utcnow


def upsert_channel(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    """Add a channel, or refresh its details; its owner stays the account that connected it first."""
    db.execute(
        "INSERT INTO youtube_channels (channel_id, title, client_id, token_uri, scopes, connected_at, account_id) "
        "VALUES (:channel_id, :title, :client_id, :token_uri, :scopes, :connected_at, :account_id) "
        "ON CONFLICT(channel_id) DO UPDATE SET title = excluded.title, client_id = excluded.client_id, "
        "token_uri = excluded.token_uri, scopes = excluded.scopes, connected_at = excluded.connected_at",
        row,
    )


def list_channels(store: Store) -> list[dict[str, Any]]:
    return store.all("SELECT * FROM youtube_channels ORDER BY connected_at")


def channels_for(store: Store, account_id: str) -> list[dict[str, Any]]:
    """The channels an account may publish to: its own, then those shared with it."""
    return store.all(
        "SELECT c.*, c.account_id = :a AS owned FROM youtube_channels c WHERE c.account_id = :a "
        "OR c.channel_id IN (SELECT channel_id FROM youtube_channel_shares WHERE account_id = :a) "
        "ORDER BY owned, c.connected_at", {"a": account_id})


def get_channel(store: Store, channel_id: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM youtube_channels WHERE channel_id = ?", [channel_id])


def delete_channel(db: sqlite_utils.Database, channel_id: str) -> None:
    db.execute("DELETE FROM youtube_channel_shares WHERE channel_id = ?", [channel_id])
    db.execute("DELETE FROM youtube_channels WHERE channel_id = ?", [channel_id])


def share_channel(db: sqlite_utils.Database, channel_id: str, account_id: str) -> None:
    db.execute("INSERT OR IGNORE INTO youtube_channel_shares (channel_id, account_id, shared_at) VALUES (?, ?, ?)",
               [channel_id, account_id, utcnow()])


def unshare_channel(db: sqlite_utils.Database, channel_id: str, account_id: str) -> bool:
    cur = db.execute("DELETE FROM youtube_channel_shares WHERE channel_id = ? AND account_id = ?",
                     [channel_id, account_id])
    return cur.rowcount > 0


def shares(store: Store, channel_id: str) -> list[str]:
    return [r["account_id"] for r in store.all(
        "SELECT account_id FROM youtube_channel_shares WHERE channel_id = ? ORDER BY shared_at", [channel_id])]


def channel_owner(db: sqlite_utils.Database, channel_id: str) -> str | None:
    """The account that connected the channel first (inside a write)."""
    row = db.execute("SELECT account_id FROM youtube_channels WHERE channel_id = ?", [channel_id]).fetchone()
    return None if row is None else str(row[0])
