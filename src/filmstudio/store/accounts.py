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


def name_taken(db: sqlite_utils.Database, name: str) -> bool:
    return db.execute("SELECT 1 FROM accounts WHERE name = ?", [name]).fetchone() is not None


def start_balance(db: sqlite_utils.Database, account_id: str) -> None:
    """Give an unlimited (NULL balance) account a counted balance of 0: the ledger moves it from then on."""
    db.execute("UPDATE accounts SET credit_balance = 0 WHERE id = ?", [account_id])


def set_limits(db: sqlite_utils.Database, account_id: str, plan: str, per_minute: int | None,
               per_day: int | None) -> None:
    db.execute("UPDATE accounts SET plan = ?, rate_per_minute = ?, rate_per_day = ? WHERE id = ?",
               [plan, per_minute, per_day, account_id])


def limits_row(db: sqlite_utils.Database, account_id: str) -> dict[str, Any] | None:
    """The account's plan, rate_per_minute and rate_per_day, read inside a write."""
    row = db.execute("SELECT plan, rate_per_minute, rate_per_day FROM accounts WHERE id = ?", [account_id]).fetchone()
    return None if row is None else {"plan": row[0], "rate_per_minute": row[1], "rate_per_day": row[2]}


def latest_ledger(store: Store, account_id: str, limit: int) -> list[dict[str, Any]]:
    """The account's newest ledger rows: kind, amount, job_id, created_at."""
    return store.all("SELECT kind, amount, job_id, created_at FROM credit_ledger WHERE account_id = ? "
                     "ORDER BY id DESC LIMIT ?", [account_id, limit])


def spent_since(store: Store, account_id: str, since: str) -> int:
    """Credits deducted less refunded since `since` (an ISO timestamp or date)."""
    found = store.one(
        "SELECT COALESCE(SUM(CASE kind WHEN 'deduct' THEN amount WHEN 'refund' THEN -amount ELSE 0 END), 0) AS n "
        "FROM credit_ledger WHERE account_id = ? AND created_at >= ?", [account_id, since])
    return int(found["n"]) if found else 0
