"""/jobs: get, list, cancel."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from filmstudio.domain.models import JobKind, JobList, JobPublic, JobStatus, SortOrder
from filmstudio.server import sse
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


_EVENT_STREAM: dict[int | str, dict[str, Any]] = {200: {
    "description": "`text/event-stream`: an `event: job` with `id: <n>` and `data: <the job's JSON as GET "
                   "/jobs/{job_id} answers it>` at once and on every change; `: keepalive` comments while "
                   "nothing changes; the stream ends after the event with a final status",
    # Open API before 3.2: `schema` describes each event (as schemathesis and Open API 3.2's itemSchema read it).
    "content": {"text/event-stream": {"schema": {
        "type": "object", "required": ["event", "id", "data"],
        "properties": {
            "event": {"type": "string", "enum": ["job"]},
            "id": {"type": "string", "pattern": "^[0-9]+$"},
            "data": {"type": "string", "contentMediaType": "application/json",
                     "contentSchema": {"$ref": "#/components/schemas/JobPublic"}},
        },
    }}},
}}


@router.get("/{job_id}/events", response_class=StreamingResponse, responses=_EVENT_STREAM)
async def job_events(
    job_id: str, caller: Caller, studio: StudioDep, request: Request,
    last_event_id: Annotated[str | None, Header(max_length=100, description="The last id you saw; the stream "
                                                "sends the current state at once and counts on from it")] = None,
) -> Response:
    """Follow a job live (server-sent events) instead of polling GET /jobs/{job_id}.

    Same key, scope and 404 as GET /jobs/{job_id}. A stream also ends after some minutes or when the
    server stops: reconnect with `Last-Event-ID` (EventSource does) and the current state comes at once.
    """
    first = await run_in_threadpool(jobs.get_job, studio, caller, job_id)
    last_id = sse.first_id(last_event_id)
    if first.status in sse.TERMINAL:  # one event, whole: a plain answer with its length (and its HEAD)
        return Response(sse.opening(last_id + 1, first), media_type=sse.MEDIA_TYPE, headers=sse.HEADERS)

    async def read() -> JobPublic:
        return await run_in_threadpool(jobs.get_job, studio, caller, job_id)

    state = request.app.state
    stream = sse.job_events(read, first, last_id, state.event_timing, state.stopping)
    return StreamingResponse(stream, media_type=sse.MEDIA_TYPE, headers=sse.HEADERS)
