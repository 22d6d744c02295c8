"""/projects: create, get, list, edit, soft delete, generate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from filmstudio.domain.models import (
    GenerateRequest,
    JobAccepted,
    ProjectCreate,
    ProjectCreated,
    ProjectList,
    ProjectPublic,
    ProjectUpdate,
)
from filmstudio.server.auth import Caller, StudioDep
from filmstudio.server.routes.common import CONFLICT, ERRORS, json_response
from filmstudio.services import jobs, projects

router = APIRouter(prefix="/projects", tags=["projects"], responses=ERRORS)


@router.post("", status_code=201, response_model=ProjectCreated)
def create_project(body: ProjectCreate, caller: Caller, studio: StudioDep) -> ProjectCreated:
    """Create a draft project from a script and settings."""
    return projects.create_project(studio, caller, body)


@router.get("", response_model=ProjectList)
def list_projects(
    caller: Caller,
    studio: StudioDep,
    page: Annotated[int, Query(examples=[1])] = 1,
    per_page: Annotated[int, Query(examples=[20], description="1..100")] = 20,
    status: Annotated[str | None, Query(description="draft, processing, completed or failed")] = None,
    sort: Annotated[str, Query(description="created_at or updated_at")] = "created_at",
    order: Annotated[str, Query(description="asc or desc")] = "desc",
) -> Response:
    """Your projects, a page at a time."""
    found = projects.list_projects(studio, caller, page=page, per_page=per_page, status=status, sort=sort,
                                   order=order)
    return json_response(found)


@router.get("/{project_id}", response_model=ProjectPublic)
def get_project(project_id: str, caller: Caller, studio: StudioDep) -> ProjectPublic:
    """A project with signed, expiring download URLs for its latest film."""
    return projects.get_project(studio, caller, project_id)


@router.patch("/{project_id}", response_model=ProjectPublic, responses=CONFLICT)
def update_project(project_id: str, body: ProjectUpdate, caller: Caller, studio: StudioDep) -> ProjectPublic:
    """Edit title, script or settings (not while rendering)."""
    return projects.update_project(studio, caller, project_id, body)


@router.delete("/{project_id}", status_code=204, responses=CONFLICT)
def delete_project(project_id: str, caller: Caller, studio: StudioDep) -> Response:
    """Delete a project (not while rendering)."""
    projects.delete_project(studio, caller, project_id)
    return Response(status_code=204)


@router.post("/{project_id}/generate", status_code=202, response_model=JobAccepted, responses=CONFLICT)
def generate(
    project_id: str,
    caller: Caller,
    studio: StudioDep,
    body: GenerateRequest | None = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JobAccepted:
    """Queue a render; poll the returned job."""
    return jobs.generate(studio, caller, project_id, body, idempotency_key=idempotency_key)
