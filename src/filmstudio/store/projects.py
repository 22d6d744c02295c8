"""projects rows (soft-deleted rows stay, with deleted_at set)."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from filmstudio.store.db import Store
from filmstudio.store.rows import insert, update

SORT_COLUMNS = ("created_at", "updated_at")


def add_project(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    insert(db, "projects", row)


def get_project(store: Store, project_id: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM projects WHERE id = ? AND deleted_at IS NULL", [project_id])


def lock_project(db: sqlite_utils.Database, project_id: str) -> dict[str, Any] | None:
    """Read a live project inside a write transaction."""
    cur = db.execute("SELECT * FROM projects WHERE id = ? AND deleted_at IS NULL", [project_id])
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([c[0] for c in cur.description], row, strict=True))


def list_projects(
    store: Store,
    account_id: str,
    *,
    status: str | None,
    sort: str,
    order: str,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """One page of an account's live projects and the total count."""
    if sort not in SORT_COLUMNS or order not in ("asc", "desc"):
        raise ValueError(f"bad sort {sort!r} {order!r}")
    where = "account_id = ? AND deleted_at IS NULL"
    params: list[Any] = [account_id]
    if status is not None:
        where += " AND status = ?"
        params.append(status)
    total = store.one(
        "SELECT coalesce(sum(n), 0) AS n FROM project_counts WHERE account_id = ?"
        + (" AND status = ?" if status is not None else ""),
        params,
    )
    # Deferred join: page through the covering index, then read only the rows on the page.
    rows = store.all(
        f"SELECT p.* FROM (SELECT rowid AS rid FROM projects WHERE {where} "
        f"ORDER BY {sort} {order}, rowid {order} LIMIT ? OFFSET ?) AS page "
        f"JOIN projects AS p ON p.rowid = page.rid ORDER BY p.{sort} {order}, p.rowid {order}",
        [*params, limit, offset],
    )
    return rows, int(total["n"]) if total else 0


def update_project(db: sqlite_utils.Database, project_id: str, fields: dict[str, Any], where: str = "") -> int:
    return update(db, "projects", project_id, fields, where)


def touch_project(db: sqlite_utils.Database, project_id: str, now: str) -> int:
    """Mark a live project changed by an edit kept beside its row (storyboard edits, its pictures).

    The row's trigger bumps its revision, so the project's ETag changes like on any other write.
    """
    return update(db, "projects", project_id, {"updated_at": now}, "deleted_at IS NULL")
