"""rate_counters rows: requests counted per account in the current minute and day windows."""

from __future__ import annotations

import sqlite_utils


def counters(db: sqlite_utils.Database, account_id: str) -> list[tuple[str, int, int]]:
    """(window, window_start, n) of each of the account's counters."""
    return [(str(w), int(s), int(n)) for w, s, n in db.execute(
        "SELECT window, window_start, n FROM rate_counters WHERE account_id = ?", [account_id]).fetchall()]


def count_one(db: sqlite_utils.Database, account_id: str, window: str, start: int) -> None:
    """One more request in `window` starting at `start` (a new window starts the count at 1)."""
    db.execute(
        """INSERT INTO rate_counters (account_id, window, window_start, n) VALUES (?, ?, ?, 1)
           ON CONFLICT (account_id, window) DO UPDATE SET
               n = CASE WHEN window_start = excluded.window_start THEN n + 1 ELSE 1 END,
               window_start = excluded.window_start""",
        [account_id, window, start])
