"""Project use cases: create, get, list, edit and soft delete, always within the caller's account."""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

from filmstudio.domain.errors import BadRequest, Conflict, NotFound, PreconditionFailed
from filmstudio.domain.models import ProjectCreate, ProjectCreated, ProjectList, ProjectPublic, ProjectUpdate
from filmstudio.domain.settings import RenderSettings, estimated_credits, parse_settings
from filmstudio.pipeline.script.analysis import analyse
from filmstudio.services import idempotency as idem
from filmstudio.services.assets import public_assets, remove_project_files
from filmstudio.services.keys import Principal
from filmstudio.services.studio import Studio
from filmstudio.store import jobs as job_rows
from filmstudio.store import projects as rows
from filmstudio.store.db import utcnow

MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000_000  # far past any real page, and keeps OFFSET inside SQLite's 64-bit integers
PROJECT_STATUSES = ("draft", "processing", "completed", "failed")


def etag(revision: int) -> str:
    """A project's strong entity tag: `"r<revision>"`."""
    return f'"r{revision}"'


def etag_matches(header: str, current: str, *, weak: bool = False) -> bool:
    """Whether an If-Match (strong comparison) or If-None-Match (`weak`) value names `current`.

    RFC 9110 13.1: `*` matches any current version; otherwise a comma-separated list of entity
    tags. Under strong comparison a weak tag (`W/"r3"`) never matches.
    """
    if header.strip() == "*":
        return True
    for tag in (t.strip() for t in header.split(",")):
        if tag.startswith("W/"):
            if weak and tag[2:] == current:
                return True
        elif tag == current:
            return True
    return False


def check_if_match(if_match: str | None, revision: int) -> None:
    """PRECONDITION_FAILED (412, `details.etag`: the current one) unless `if_match` names `revision`."""
    current = etag(revision)
    if if_match is not None and not etag_matches(if_match, current):
        raise PreconditionFailed("the project was changed since you read it (its ETag is now "
                                 f"{current}); read it again and apply your edit to that",
                                 details={"etag": current})


def _not_found() -> NotFound:
    return NotFound("no such project", code="PROJECT_NOT_FOUND")


def owned_project(studio: Studio, principal: Principal, project_id: str) -> dict[str, Any]:
    """A live project of the caller's account; other accounts' projects are simply not found."""
    row = rows.get_project(studio.store, project_id)
    if row is None or row["account_id"] != principal.account_id:
        raise _not_found()
    return row


def to_public(studio: Studio, row: dict[str, Any], latest_job_id: str | None = None) -> ProjectPublic:
    settings = json.loads(row["settings"])
    return ProjectPublic(
        project_id=row["id"], title=row["title"], script=row["script"], idea=row.get("idea"), settings=settings,
        status=row["status"],
        assets=public_assets(studio, row["assets"]), estimated_credits=estimated_credits(int(settings["duration"])),
        latest_job_id=latest_job_id, created_at=row["created_at"], updated_at=row["updated_at"],
        completed_at=row["completed_at"], revision=row["revision"],
    )


def check_speakable(script: str, settings: RenderSettings) -> None:
    """SCRIPT_EMPTY for a script with nothing to speak or show (only blanks, notes, boneyard, headings).

    The render's own analysis decides, so a script taken here is never refused as empty at generate.
    """
    analyse(script, settings)


def create_project(
    studio: Studio, principal: Principal, data: ProjectCreate, *, idempotency: idem.Claim | None = None
) -> ProjectCreated:
    """A new draft; with `idempotency`, the answer is recorded in the same transaction as the row."""
    principal.require("projects:write")
    if data.script is not None:
        check_speakable(data.script, data.settings)
    now = utcnow()
    row: dict[str, Any] = {
        "id": str(uuid.uuid4()), "account_id": principal.account_id, "title": data.title,
        "script": data.script or "", "idea": data.idea,
        "settings": data.settings.model_dump_json(), "status": "draft", "assets": "{}",
        "created_at": now, "updated_at": now,
    }
    created = ProjectCreated(
        project_id=row["id"], title=data.title, status="draft",
        estimated_credits=data.settings.estimated_credits, created_at=now,
    )
    with studio.store.write() as db:
        rows.add_project(db, row)
        if idempotency is not None:
            idem.complete(db, idempotency, 201, created.model_dump_json())
    return created


def get_project(studio: Studio, principal: Principal, project_id: str) -> ProjectPublic:
    principal.require("projects:read")
    row = owned_project(studio, principal, project_id)
    return to_public(studio, row, job_rows.latest_job_id(studio.store, project_id))


def list_projects(
    studio: Studio,
    principal: Principal,
    *,
    page: int = 1,
    per_page: int = 20,
    status: str | None = None,
    sort: str = "created_at",
    order: str = "desc",
) -> ProjectList:
    principal.require("projects:read")
    problems: list[dict[str, Any]] = []
    if not 1 <= page <= MAX_PAGE:
        problems.append({"field": "page", "code": "INVALID_VALUE", "message": f"page is 1..{MAX_PAGE}"})
    if not 1 <= per_page <= MAX_PER_PAGE:
        problems.append({"field": "per_page", "code": "INVALID_VALUE", "message": f"per_page is 1..{MAX_PER_PAGE}"})
    if status is not None and status not in PROJECT_STATUSES:
        problems.append({"field": "status", "code": "INVALID_VALUE", "message": "unknown status",
                         "allowed": list(PROJECT_STATUSES)})
    if sort not in rows.SORT_COLUMNS:
        problems.append({"field": "sort", "code": "INVALID_VALUE", "message": "unknown sort field",
                         "allowed": list(rows.SORT_COLUMNS)})
    if order not in ("asc", "desc"):
        problems.append({"field": "order", "code": "INVALID_VALUE", "message": "order is asc or desc",
                         "allowed": ["asc", "desc"]})
    if problems:
        raise BadRequest("invalid query parameters", code="VALIDATION_ERROR", details={"errors": problems})
    found, total = rows.list_projects(
        studio.store, principal.account_id, status=status, sort=sort, order=order,
        limit=per_page, offset=(page - 1) * per_page,
    )
    return ProjectList(
        projects=[to_public(studio, r) for r in found], total_count=total, page=page, per_page=per_page,
        total_pages=math.ceil(total / per_page) if total else 0,
    )


def update_project(studio: Studio, principal: Principal, project_id: str, data: ProjectUpdate, *,
                   if_match: str | None = None) -> ProjectPublic:
    """Edit title, script, idea or settings; with `if_match` (an If-Match value) only the version it names."""
    principal.require("projects:write")
    if data.script is not None:  # analysed outside the write lock; emptiness depends on the script alone
        seen = owned_project(studio, principal, project_id)
        check_if_match(if_match, seen["revision"])  # a stale edit is 412 before its script is judged
        check_speakable(data.script, RenderSettings.model_validate_json(seen["settings"]))
    with studio.store.write() as db:
        row = rows.lock_project(db, project_id)
        if row is None or row["account_id"] != principal.account_id:
            raise _not_found()
        check_if_match(if_match, row["revision"])  # a precondition is checked before the edit's own rules
        if row["status"] == "processing":
            raise Conflict("the project is rendering; cancel the job or wait for it", code="PROJECT_BUSY")
        fields: dict[str, Any] = {}
        if data.title is not None:
            fields["title"] = data.title
        if data.script is not None:
            fields["script"] = data.script
        if data.idea is not None:
            fields["idea"] = data.idea
        if data.settings is not None:
            merged = {**json.loads(row["settings"]), **data.settings}
            fields["settings"] = parse_settings(merged).model_dump_json()
        if fields:
            fields["updated_at"] = utcnow()
            rows.update_project(db, project_id, fields)
    return get_project(studio, principal, project_id)


def delete_project(studio: Studio, principal: Principal, project_id: str, *, if_match: str | None = None) -> None:
    """Soft delete: the row stays (jobs and the ledger point at it) but is gone from the API.

    Its films are removed from disk once the row is marked (links signed earlier stop working).
    With `if_match`, only the version it names is deleted.
    """
    principal.require("projects:write")
    with studio.store.write() as db:
        row = rows.lock_project(db, project_id)
        if row is None or row["account_id"] != principal.account_id:
            raise _not_found()
        check_if_match(if_match, row["revision"])
        if row["status"] == "processing":
            raise Conflict("the project is rendering; cancel the job first", code="PROJECT_BUSY")
        now = utcnow()
        rows.update_project(db, project_id, {"deleted_at": now, "updated_at": now})
    remove_project_files(studio, project_id)
