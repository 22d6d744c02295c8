"""/jobs: get, list, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from filmstudio.domain.models import JobKind, JobList, JobPublic, JobStatus, SortOrder
from filmstudio.server.auth import Caller, StudioDep
from filmstudio.server.routes.common import ERRORS, json_response
from filmstudio.services import jobs
from filmstudio.services.jobs import MAX_PAGE
from filmstudio.services.projects import MAX_PER_PAGE

router = APIRouter(prefix="/jobs", tags=["jobs"], responses=ERRORS)


@router.get("", response_model=JobList)
def list_jobs(
    caller: Caller,
    studio: StudioDep,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 20,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this status")] = None,
    project_id: str | None = None,
    order: Annotated[SortOrder, Query(description="By creation time")] = "desc",
    kind: Annotated[JobKind | None, Query(description="render, model_pull or publish")] = None,
) -> JobList:
    """Your jobs, newest first."""
    return jobs.list_jobs(studio, caller, page=page, per_page=per_page, status=status, project_id=project_id,
                          order=order, kind=kind)


@router.get("/{job_id}", response_model=JobPublic)
def get_job(job_id: str, caller: Caller, studio: StudioDep) -> Response:
    """A job's status, progress, current step and time left."""
    return json_response(jobs.get_job(studio, caller, job_id))


@router.post("/{job_id}/cancel", response_model=JobPublic, responses={409: {"description": "Already finished"}})
def cancel_job(job_id: str, caller: Caller, studio: StudioDep) -> JobPublic:
    """Cancel a job: at once if queued, at the next checkpoint if rendering (credits refunded)."""
    return jobs.cancel_job(studio, caller, job_id)
