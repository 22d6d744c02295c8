"""jobs rows: the truth about every render; the queue only carries their ids."""

from __future__ import annotations

import json
from typing import Any, cast

import sqlite_utils

from filmstudio.domain.jobs import JobRow, parse_params
from filmstudio.domain.models import JOB_KINDS, JobKind, JobStatus
from filmstudio.store.db import Store
from filmstudio.store.rows import insert, update

ACTIVE = ("queued", "processing")


def add_job(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    """Insert a job; its kind must be one the code knows (the table has no CHECK, so a kind is one line)."""
    if row.get("kind", "render") not in JOB_KINDS:
        raise ValueError(f"unknown job kind {row.get('kind')!r} (known: {', '.join(JOB_KINDS)})")
    insert(db, "jobs", row)


def job_row(row: dict[str, Any]) -> JobRow:
    """The one place a `jobs` row becomes a JobRow: its JSON columns parsed, its params by its kind's model."""
    kind = cast(JobKind, row.get("kind") or "render")

    def loaded(column: str) -> Any:
        raw = row.get(column)
        return json.loads(raw) if raw else None

    return JobRow(
        id=row["id"], kind=kind, project_id=row.get("project_id"), account_id=row["account_id"],
        status=cast(JobStatus, row["status"]), params=parse_params(kind, row.get("params")), script=row.get("script") or "",
        settings=loaded("settings") or {}, progress=int(row.get("progress") or 0), current_step=row.get("current_step"),
        result=loaded("result"), attempts=int(row.get("attempts") or 0), lease_owner=row.get("lease_owner"),
        lease_until=row.get("lease_until"), cancel_requested=bool(row.get("cancel_requested")),
        error_code=row.get("error_code"), error_message=row.get("error_message"),
        error_details=loaded("error_details"), warnings=tuple(loaded("warnings") or ()),
        stage_timings=loaded("stage_timings") or {}, credits=int(row.get("credits") or 0),
        idempotency_key=row.get("idempotency_key"), output_dir=row.get("output_dir"),
        created_at=row.get("created_at") or "", enqueued_at=row.get("enqueued_at"), started_at=row.get("started_at"),
        finished_at=row.get("finished_at"),
    )


def _one(store: Store, sql: str, params: Any) -> JobRow | None:
    found = store.one(sql, params)
    return job_row(found) if found is not None else None


def get_job(store: Store, job_id: str) -> JobRow | None:
    return _one(store, "SELECT * FROM jobs WHERE id = ?", [job_id])


def lock_job(db: sqlite_utils.Database, job_id: str) -> JobRow | None:
    """Read a job inside a write transaction."""
    cur = db.execute("SELECT * FROM jobs WHERE id = ?", [job_id])
    found = cur.fetchone()
    return None if found is None else job_row(dict(zip([c[0] for c in cur.description], found, strict=True)))


def job_by_idempotency_key(store: Store, account_id: str, key: str) -> JobRow | None:
    return _one(store, "SELECT * FROM jobs WHERE account_id = ? AND idempotency_key = ?", [account_id, key])


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
) -> tuple[list[JobRow], int]:
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
    return [job_row(r) for r in rows], int(total["n"]) if total else 0


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


def jobs_to_reconcile(store: Store, now: float, queued_before: str) -> list[JobRow]:
    """Queued jobs last enqueued before `queued_before`, and processing jobs whose lease is stale."""
    return [job_row(r) for r in store.all(
        """
        SELECT * FROM jobs
        WHERE (status = 'queued' AND (enqueued_at IS NULL OR enqueued_at < ?))
           OR (status = 'processing' AND (lease_until IS NULL OR lease_until < ?))
        ORDER BY created_at
        """,
        [queued_before, now],
    )]


def finished_renders(store: Store, limit: int = 20) -> list[JobRow]:
    """The newest completed render jobs (their settings, stage timings and results make the estimates)."""
    return [job_row(r) for r in store.all(
        "SELECT * FROM jobs WHERE status = 'completed' AND kind = 'render' ORDER BY finished_at DESC LIMIT ?",
        [limit],
    )]


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


# -- publish jobs ---------------------------------------------------------------------------------


def last_ended_publish(db: sqlite_utils.Database, project_id: str) -> JobRow | None:
    """The project's newest failed or cancelled publish job (what it got done), if any."""
    cur = db.execute(
        "SELECT * FROM jobs WHERE kind = 'publish' AND project_id = ? AND status IN ('failed', 'cancelled') "
        "ORDER BY created_at DESC LIMIT 1", [project_id])
    found = cur.fetchone()
    return None if found is None else job_row(dict(zip([c[0] for c in cur.description], found, strict=True)))


def running_publish(db: sqlite_utils.Database, project_id: str) -> str | None:
    """The id of the project's queued or running publish job, if there is one."""
    row = db.execute("SELECT id FROM jobs WHERE kind = 'publish' AND project_id = ? "
                     "AND status IN ('queued', 'processing')", [project_id]).fetchone()
    return None if row is None else str(row[0])


def orphaned_publish(store: Store, project_id: str, now: float) -> str | None:
    """A queued or running publish of the project whose worker is gone (no lease, or a stale one)."""
    found = store.one(
        "SELECT id FROM jobs WHERE kind = 'publish' AND project_id = ? AND status IN ('queued', 'processing') "
        "AND (lease_until IS NULL OR lease_until < ?)", [project_id, now])
    return None if found is None else str(found["id"])


def latest_publish(store: Store) -> JobRow | None:
    """The newest publish job of any project."""
    return _one(store, "SELECT * FROM jobs WHERE kind = 'publish' ORDER BY created_at DESC LIMIT 1", [])
