"""Batch use cases: up to 100 projects created, or renders queued, with one result per item."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from filmstudio.domain.errors import FilmStudioError
from filmstudio.domain.models import (
    BatchGenerate,
    BatchItem,
    BatchResult,
    ErrorBody,
    GenerateRequest,
    ProjectCreate,
)
from filmstudio.services import jobs, projects
from filmstudio.services.keys import Principal
from filmstudio.services.studio import Studio

MAX_ITEMS = 100


def _invalid(index: int, exc: ValidationError) -> BatchItem:
    errors = [{"field": ".".join(str(p) for p in e.get("loc", ())) or "body", "message": str(e.get("msg", "")),
               "code": "INVALID_VALUE"} for e in exc.errors()]
    message = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid item"
    return BatchItem(index=index, status=400,
                     error=ErrorBody(code="VALIDATION_ERROR", message=message, details={"errors": errors}))


def _failed(index: int, exc: FilmStudioError) -> BatchItem:
    return BatchItem(index=index, status=exc.http_status,
                     error=ErrorBody(code=exc.code, message=exc.message, details=exc.details))


def _result(items: list[BatchItem]) -> BatchResult:
    ok = sum(1 for i in items if i.error is None)
    return BatchResult(results=items, succeeded=ok, failed=len(items) - ok)


def create_projects(studio: Studio, principal: Principal, items: list[dict[str, Any]]) -> BatchResult:
    """Create each valid project; invalid ones get their error envelope, the rest still happen."""
    principal.require("projects:write")
    out: list[BatchItem] = []
    for index, raw in enumerate(items[:MAX_ITEMS]):
        try:
            created = projects.create_project(studio, principal, ProjectCreate.model_validate(raw))
        except ValidationError as exc:
            out.append(_invalid(index, exc))
        except FilmStudioError as exc:
            out.append(_failed(index, exc))
        else:
            out.append(BatchItem(index=index, status=201, project=created))
    return _result(out)


def generate_projects(
    studio: Studio, principal: Principal, data: BatchGenerate, *, idempotency_key: str | None = None
) -> BatchResult:
    """Queue a render per project, credits checked item by item (402 items once the balance runs out).

    With a key, each item carries `<key>#<index>` on its job, so a retried batch never charges twice.
    """
    principal.require("jobs:write")
    out: list[BatchItem] = []
    request = GenerateRequest(settings=data.settings) if data.settings else None
    for index, project_id in enumerate(data.project_ids[:MAX_ITEMS]):
        key = f"{idempotency_key}#{index}" if idempotency_key else None
        try:
            accepted = jobs.generate(studio, principal, project_id, request, idempotency_key=key)
        except FilmStudioError as exc:
            out.append(_failed(index, exc))
        else:
            out.append(BatchItem(index=index, status=202, job=accepted))
    return _result(out)
