"""Job use cases: generate (credits + job row in one transaction), get, list and cooperative cancel."""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

from filmstudio.domain.errors import BadRequest, Conflict, InsufficientCredits, NotFound
from filmstudio.domain.jobs import (
    ClipsPlanned,
    JobRow,
    PublishDestination,
    PublishParams,
    RenderParams,
    StillsPlanned,
    params_json,
)
from filmstudio.domain.models import JOB_KINDS, GenerateRequest, JobAccepted, JobError, JobList, JobPublic
from filmstudio.domain.settings import RenderSettings, parse_settings
from filmstudio.pipeline.plan import Script
from filmstudio.pipeline.script.analysis import analyse
from filmstudio.services import estimates, events
from filmstudio.services import idempotency as idem
from filmstudio.services.keys import Principal
from filmstudio.services.studio import Studio
from filmstudio.store import accounts as account_rows
from filmstudio.store import jobs as rows
from filmstudio.store import projects as project_rows
from filmstudio.store.db import utcnow

JOB_STATUSES = ("queued", "processing", "completed", "failed", "cancelled")
MAX_PAGE = 1_000_000_000  # far past any real page, and keeps OFFSET inside SQLite's 64-bit integers


def to_public(studio: Studio, row: JobRow) -> JobPublic:
    error = JobError(code=row.error_code, message=row.error_message or "",
                     details=dict(row.error_details or {})) if row.error_code else None
    return JobPublic(
        job_id=row.id, kind=row.kind, project_id=row.project_id, status=row.status,
        progress=row.progress, result=dict(row.result) if row.result is not None else None,
        current_step=row.current_step,
        estimated_time_remaining=estimates.humanize(estimates.remaining_seconds(studio.store, row)),
        started_at=row.started_at, created_at=row.created_at, completed_at=row.finished_at,
        attempts=row.attempts, credits=row.credits, cancel_requested=row.cancel_requested,
        warnings=list(row.warnings), error=error,
    )


def _preflight(studio: Studio, script: Script, settings: RenderSettings) -> None:
    """Refuse a script that cannot fit before any credit moves (skipped while the pipeline lacks it)."""
    from filmstudio.pipeline import runner

    try:
        runner.preflight_script(script, settings, studio.offered_voices())
    except NotImplementedError:
        return


def generate(
    studio: Studio,
    principal: Principal,
    project_id: str,
    request: GenerateRequest | None = None,
    *,
    idempotency_key: str | None = None,
    idempotency: idem.Claim | None = None,
) -> JobAccepted:
    """Queue a render of a project: deduct credits, write the job, then hand its id to the queue.

    With `idempotency`, the answer is recorded in the same transaction as the job and the deduction.
    """
    principal.require("jobs:write")
    if idempotency_key:
        earlier = rows.job_by_idempotency_key(studio.store, principal.account_id, idempotency_key)
        if earlier is not None:
            return _accepted(studio, earlier)
    overrides = (request.settings if request else None) or {}
    # Validate and preflight outside the write lock (preflight analyses the script); the transaction
    # below re-checks that nothing changed in between.
    seen = project_rows.get_project(studio.store, project_id)
    if seen is None or seen["account_id"] != principal.account_id:
        raise NotFound("no such project", code="PROJECT_NOT_FOUND")
    settings = parse_settings({**json.loads(seen["settings"]), **overrides})
    # A project with only an idea is written first, in the same job (so nothing to preflight yet).
    write_first = not seen["script"].strip() and bool(seen.get("idea"))
    if write_first:
        from filmstudio.pipeline.writer import Brief

        Brief.for_settings(seen["idea"], settings).checked()  # IDEA_EMPTY / IDEA_TOO_LONG before any credit moves
    script = None if write_first else analyse(seen["script"], settings)  # once: preflight and stills share it
    if script is not None:
        _preflight(studio, script, settings)
    credits = settings.estimated_credits
    publish: PublishParams | None = None
    if settings.youtube_upload:  # publish when the render completes: refuse now if there is nowhere to publish
        from filmstudio.domain.models import PublishRequest
        from filmstudio.services.targets import resolve

        name, target, options = resolve(studio.publish_targets, PublishRequest(youtube=request.youtube if request else None))
        pinned = target.destination(principal.account_id, options)
        publish = PublishParams(target=name, options=pinned.options.model_dump(mode="json"),
                                destination=PublishDestination(id=pinned.destination.id,
                                                               title=pinned.destination.title))
    from filmstudio.services.storyboard import planned_motion, planned_stills

    # What the picture model will draw and the video model animate: most of the time (unknown until
    # a written script exists).
    stills = planned_stills(studio, seen, settings, script=script) if script is not None else None
    motion = planned_motion(studio, seen, settings, script=script) if script is not None else None
    clips = (ClipsPlanned(moving=motion.moving, seconds_per_clip=motion.seconds_per_clip, model=motion.model,
                          measured=motion.measured) if motion is not None and motion.model is not None else None)
    params = RenderParams(publish=publish, clips=clips,
                          stills=StillsPlanned.model_validate(stills.as_dict()) if stills is not None else None,
                          write_first=True if write_first else None, idea=seen.get("idea") if write_first else None)
    now = utcnow()
    job_id = str(uuid.uuid4())
    accepted = JobAccepted(
        job_id=job_id, project_id=project_id, status="queued",
        estimated_time=estimates.humanize_range(estimates.expected_total(
            studio.store, settings.duration,
            (stills.seconds if stills is not None else 0.0) + (clips.seconds if clips is not None else 0.0))),
        credits_deducted=credits, created_at=now,
    )
    with studio.store.write() as db:
        project = project_rows.lock_project(db, project_id)
        if project is None:
            raise NotFound("no such project", code="PROJECT_NOT_FOUND")
        if project["status"] == "processing":
            raise Conflict("the project is already rendering", code="PROJECT_BUSY")
        if project["updated_at"] != seen["updated_at"]:
            raise Conflict("the project changed while starting the render; try again", code="PROJECT_CHANGED")
        available = account_rows.balance(db, principal.account_id)
        if available is not None and available < credits:
            raise InsufficientCredits(
                "You don't have enough credits to generate this video.",
                details={"required": credits, "available": available},
            )
        rows.add_job(db, {
            "id": job_id, "project_id": project_id, "account_id": principal.account_id, "status": "queued",
            "script": project["script"], "settings": settings.model_dump_json(), "credits": credits,
            "idempotency_key": idempotency_key, "created_at": now, "params": params_json(params),
        })
        account_rows.ledger_entry(db, principal.account_id, job_id, "deduct", credits)
        project_rows.update_project(
            db, project_id, {"status": "processing", "settings": settings.model_dump_json(), "updated_at": now}
        )
        events.emit(db, principal.account_id, "job.queued", job_id, project_id, "queued")
        if idempotency is not None:
            idem.complete(db, idempotency, 202, accepted.model_dump_json())
    enqueue(studio, job_id)
    return accepted


def enqueue(studio: Studio, job_id: str) -> None:
    """Hand a job id to the queue and note when; a failure here is healed by the reconciler."""
    studio.queue.enqueue(job_id)
    with studio.store.write() as db:
        rows.update_job(db, job_id, {"enqueued_at": utcnow()})


def _accepted(studio: Studio, row: JobRow) -> JobAccepted:
    assert row.project_id is not None  # a render, found by its Idempotency-Key
    return JobAccepted(
        job_id=row.id, project_id=row.project_id, status=row.status,
        estimated_time=estimates.humanize_range(estimates.expected_total(studio.store, row.duration,
                                                                         estimates.stills_seconds(row))),
        credits_deducted=row.credits, created_at=row.created_at,
    )


def get_job(studio: Studio, principal: Principal, job_id: str) -> JobPublic:
    principal.require("jobs:read")
    row = rows.get_job(studio.store, job_id)
    if row is None or row.account_id != principal.account_id:
        raise NotFound("no such job", code="JOB_NOT_FOUND")
    return to_public(studio, row)


def list_jobs(
    studio: Studio,
    principal: Principal,
    *,
    page: int = 1,
    per_page: int = 20,
    status: str | None = None,
    project_id: str | None = None,
    order: str = "desc",
    kind: str | None = None,
) -> JobList:
    principal.require("jobs:read")
    if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= 100 or (status and status not in JOB_STATUSES) or order not in ("asc", "desc") or (kind and kind not in JOB_KINDS):
        raise BadRequest(
            f"invalid query parameters: page 1..{MAX_PAGE}, per_page 1..100, status one of "
            f"{', '.join(JOB_STATUSES)}, order asc|desc, kind one of {', '.join(JOB_KINDS)}",
            code="VALIDATION_ERROR",
        )
    found, total = rows.list_jobs(
        studio.store, principal.account_id, status=status, project_id=project_id, order=order, kind=kind,
        limit=per_page, offset=(page - 1) * per_page,
    )
    return JobList(
        jobs=[to_public(studio, r) for r in found], total_count=total, page=page, per_page=per_page,
        total_pages=math.ceil(total / per_page) if total else 0,
    )


def cancel_job(studio: Studio, principal: Principal, job_id: str) -> JobPublic:
    """Cancel now if still queued; ask the worker to stop (it also stops ffmpeg) if processing."""
    principal.require("jobs:write")
    with studio.store.write() as db:
        row = rows.lock_job(db, job_id)
        if row is None or row.account_id != principal.account_id:
            raise NotFound("no such job", code="JOB_NOT_FOUND")
        if row.status in ("completed", "failed", "cancelled"):
            raise Conflict(f"the job is already {row.status}", code="JOB_FINISHED")
        if row.status == "queued":
            finish_unleased(db, row, "cancelled", None, None)
        else:
            rows.update_job(db, job_id, {"cancel_requested": 1})
    return get_job(studio, principal, job_id)


def finish_unleased(
    db: Any, row: JobRow, status: str, error_code: str | None, error_message: str | None
) -> None:
    """End a job nobody is running: refund, and give the project back to its user."""
    now = utcnow()
    rows.update_job(db, row.id, {
        "status": status, "error_code": error_code, "error_message": error_message, "finished_at": now,
        "lease_owner": None, "lease_until": None,
    })
    settle_project(db, row, status, now)


def settle_project(db: Any, row: JobRow, status: str, now: str,
                   result: dict[str, Any] | None = None) -> None:
    """After a job ends without a film: refund its credits and make the project editable again."""
    if row.credits:
        account_rows.ledger_entry(db, row.account_id, row.id, "refund", row.credits)
    events.emit(db, row.account_id, f"job.{status}", row.id, row.project_id, status, kind=row.kind, result=result)
    if row.kind != "render" or row.project_id is None:
        return  # a pull or an upload never changes a project's state
    project = project_rows.lock_project(db, row.project_id)
    if project is None:
        return
    has_film = bool(json.loads(project["assets"] or "{}").get("video"))
    new_status = "failed" if status == "failed" else "completed" if has_film else "draft"
    project_rows.update_project(db, row.project_id, {"status": new_status, "updated_at": now})
