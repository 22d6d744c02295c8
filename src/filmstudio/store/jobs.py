"""jobs rows: the truth about every render; the queue only carries their ids."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from filmstudio.domain.models import JOB_KINDS
from filmstudio.store.db import Store
from filmstudio.store.rows import insert, update

ACTIVE = ("queued", "processing")


def add_job(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    """Insert a job; its kind must be one the code knows (the table has no CHECK, so a kind is one line)."""
    if row.get("kind", "render") not in JOB_KINDS:
        raise ValueError(f"unknown job kind {row.get('kind')!r} (known: {', '.join(JOB_KINDS)})")
    insert(db, "jobs", row)


def get_job(store: Store, job_id: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM jobs WHERE id = ?", [job_id])


def job_by_idempotency_key(store: Store, account_id: str, key: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM jobs WHERE account_id = ? AND idempotency_key = ?", [account_id, key])


def list_jobs(
    store: Store,
    account_id: str,
    *,
    status: str | None,
    project_id: str | None,
    order: str,
    kind: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    where = "account_id = ?"
    params: list[Any] = [account_id]
    if status is not None:
        where += " AND status = ?"
        params.append(status)
    if project_id is not None:
        where += " AND project_id = ?"
        params.append(project_id)
    if kind is not None:
        where += " AND kind = ?"
        params.append(kind)
    direction = "ASC" if order == "asc" else "DESC"
    total = store.one(f"SELECT count(*) AS n FROM jobs WHERE {where}", params)
    rows = store.all(
        f"SELECT * FROM jobs WHERE {where} ORDER BY created_at {direction}, rowid {direction} LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return rows, int(total["n"]) if total else 0


def claim(db: sqlite_utils.Database, job_id: str, owner: str, now: float, lease_until: float, started_at: str) -> bool:
    """Take the lease on a queued job, or on a processing job whose lease went stale."""
    cur = db.execute(
        """
        UPDATE jobs SET status = 'processing', lease_owner = ?, lease_until = ?, attempts = attempts + 1,
               started_at = COALESCE(started_at, ?)
        WHERE id = ? AND cancel_requested = 0
          AND (status = 'queued' OR (status = 'processing' AND (lease_until IS NULL OR lease_until < ?)))
        """,
        [owner, lease_until, started_at, job_id, now],
    )
    return cur.rowcount == 1


def update_leased(db: sqlite_utils.Database, job_id: str, owner: str, fields: dict[str, Any]) -> bool:
    """Update a job only while `owner` still holds its lease (a stolen lease makes this a no-op)."""
    sets = ", ".join(f"{c} = :{c}" for c in fields)
    params = {**fields, "_id": job_id, "_owner": owner}
    cur = db.execute(
        f"UPDATE jobs SET {sets} WHERE id = :_id AND status = 'processing' AND lease_owner = :_owner", params
    )
    return cur.rowcount == 1




def update_job(db: sqlite_utils.Database, job_id: str, fields: dict[str, Any], where: str = "") -> int:
    return update(db, "jobs", job_id, fields, where)


def jobs_to_reconcile(store: Store, now: float, queued_before: str) -> list[dict[str, Any]]:
    """Queued jobs last enqueued before `queued_before`, and processing jobs whose lease is stale."""
    return store.all(
        """
        SELECT * FROM jobs
        WHERE (status = 'queued' AND (enqueued_at IS NULL OR enqueued_at < ?))
           OR (status = 'processing' AND (lease_until IS NULL OR lease_until < ?))
        ORDER BY created_at
        """,
        [queued_before, now],
    )


def finished_jobs_timings(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    return store.all(
        "SELECT settings, stage_timings, result FROM jobs WHERE status = 'completed' AND kind = 'render' "
        "ORDER BY finished_at DESC LIMIT ?",
        [limit],
    )


def started_facts(db: sqlite_utils.Database, job_id: str) -> dict[str, Any]:
    """What the `job.started` event needs of a job just claimed: account, project, attempts, kind."""
    account_id, project_id, attempts, kind = db.execute(
        "SELECT account_id, project_id, attempts, kind FROM jobs WHERE id = ?", [job_id]).fetchone()
    return {"account_id": account_id, "project_id": project_id, "attempts": attempts, "kind": kind}


def lease_state(store: Store, job_id: str) -> dict[str, Any] | None:
    """`cancel_requested` and `lease_owner` of a job (the running worker's checkpoint)."""
    return store.one("SELECT cancel_requested, lease_owner FROM jobs WHERE id = ?", [job_id])


def lease_still_stale(db: sqlite_utils.Database, job_id: str, now: float) -> bool:
    """Inside a write: the job is still processing under a lease that ran out before `now`."""
    return db.execute("SELECT 1 FROM jobs WHERE id = ? AND status = 'processing' AND lease_until < ?",
                      [job_id, now]).fetchone() is not None


def active_pull(db: sqlite_utils.Database, model_id: str) -> str | None:
    """The id of the queued or running pull of `model_id`, if there is one."""
    found = db.execute(
        "SELECT id FROM jobs WHERE kind = 'model_pull' AND status IN ('queued', 'processing') "
        "AND (json_extract(params, '$.model_id') = ? "
        "OR EXISTS (SELECT 1 FROM json_each(params, '$.model_ids') WHERE value = ?))", [model_id, model_id]).fetchone()
    return str(found[0]) if found is not None else None


def latest_job_id(store: Store, project_id: str) -> str | None:
    """The project's newest job of any kind."""
    found = store.one("SELECT id FROM jobs WHERE project_id = ? ORDER BY created_at DESC LIMIT 1", [project_id])
    return str(found["id"]) if found else None


def active_job_of_kind(db: Any, project_id: str, kind: str) -> bool:
    """Whether a job of `kind` for the project is queued or running."""
    return db.execute("SELECT 1 FROM jobs WHERE project_id = ? AND kind = ? AND status IN ('queued', 'processing') "
                      "LIMIT 1", [project_id, kind]).fetchone() is not None
