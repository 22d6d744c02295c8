"""accounts and credit_ledger rows."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from filmstudio.store.db import Store, utcnow
from filmstudio.store.rows import insert


def add_account(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    insert(db, "accounts", row)


def get_account(store: Store, account_id: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM accounts WHERE id = ?", [account_id])


def account_by_name(store: Store, name: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM accounts WHERE name = ?", [name])


def list_accounts(store: Store) -> list[dict[str, Any]]:
    return store.all("SELECT * FROM accounts ORDER BY created_at, name")


def balance(db: sqlite_utils.Database, account_id: str) -> int | None:
    row = db.execute("SELECT credit_balance FROM accounts WHERE id = ?", [account_id]).fetchone()
    return None if row is None else row[0]


def ledger_entry(db: sqlite_utils.Database, account_id: str, job_id: str | None, kind: str, amount: int) -> bool:
    """Append a ledger row and move the balance; False when this (job, kind) was already booked."""
    cur = db.execute(
        "INSERT OR IGNORE INTO credit_ledger (account_id, job_id, kind, amount, created_at) VALUES (?, ?, ?, ?, ?)",
        [account_id, job_id, kind, amount, utcnow()],
    )
    if cur.rowcount == 0:
        return False
    delta = -amount if kind == "deduct" else amount
    db.execute(
        "UPDATE accounts SET credit_balance = credit_balance + ? WHERE id = ? AND credit_balance IS NOT NULL",
        [delta, account_id],
    )
    return True


def ledger_for_job(store: Store, job_id: str) -> list[dict[str, Any]]:
    return store.all("SELECT * FROM credit_ledger WHERE job_id = ? ORDER BY id", [job_id])
