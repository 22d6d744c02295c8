"""Opening studio.db: WAL, busy timeout, foreign keys, one connection per thread, IMMEDIATE writes."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

BUSY_TIMEOUT_MS = 10_000


def utcnow() -> str:
    """Now as the ISO-8601 UTC text every timestamp column stores (sortable as text)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def connect(path: Path | str) -> sqlite_utils.Database:
    """One connection to `path` with the studio's pragmas; autocommit, writes use `write()`."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    # NORMAL is durable in WAL mode except for the last commits on power loss, not on a process crash.
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return sqlite_utils.Database(conn)


class Store:
    """studio.db for a process: a connection per thread (sqlite3 connections are not thread-safe)."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self._local = threading.local()
        self._shared: sqlite_utils.Database | None = None
        self._lock = threading.RLock()
        if str(path) == ":memory:":
            # An in-memory database exists once per connection: share it behind a lock.
            self._shared = connect(path)

    @property
    def db(self) -> sqlite_utils.Database:
        if self._shared is not None:
            return self._shared
        db: sqlite_utils.Database | None = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path)
            self._local.db = db
        return db

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """A write transaction taken with BEGIN IMMEDIATE so it never fails half way on a lock upgrade."""
        with self._lock if self._shared is not None else _nolock():
            db = self.db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        """The first row of a query as a dict, or None."""
        for row in self.db.query(sql, params):
            return row
        return None

    def all(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params))

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.conn.close()
            self._local.db = None


@contextmanager
def _nolock() -> Iterator[None]:
    yield


def snapshot(source: Path, target: Path) -> None:
    """Snapshot `source` into `target` (a single self-contained file, no -wal beside it)."""
    src = sqlite3.connect(str(source), timeout=30)
    try:
        dst = sqlite3.connect(str(target))
        try:
            # pages=-1: the whole database in one step = one read transaction = one consistent snapshot.
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def integrity(path: Path) -> str:
    """`PRAGMA integrity_check` of a database file: "ok" when sound."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()
