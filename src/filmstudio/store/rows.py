"""Small helpers shared by the table modules: building INSERT/UPDATE statements from dicts."""

from __future__ import annotations

from typing import Any

import sqlite_utils


def insert(db: sqlite_utils.Database, table: str, row: dict[str, Any]) -> None:
    cols = ", ".join(row)
    marks = ", ".join(f":{c}" for c in row)
    db.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", row)


def update(db: sqlite_utils.Database, table: str, key: str, fields: dict[str, Any], where: str = "") -> int:
    """UPDATE one row by id; `where` adds a guard (e.g. a status check). Returns rows changed."""
    if not fields:
        return 0
    sets = ", ".join(f"{c} = :{c}" for c in fields)
    params = {**fields, "_id": key}
    sql = f"UPDATE {table} SET {sets} WHERE id = :_id" + (f" AND ({where})" if where else "")
    return int(db.execute(sql, params).rowcount)
