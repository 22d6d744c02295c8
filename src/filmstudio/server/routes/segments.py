"""/segments: remote render workers report progress and deliver segments (keys with the `worker` scope)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from filmstudio.server.auth import Caller, StudioDep
from filmstudio.server.routes.common import ERRORS
from filmstudio.services.farm import SegmentBoard

router = APIRouter(prefix="/segments", tags=["workers"], responses=ERRORS, include_in_schema=False)

SCOPE = "worker"


class Beat(BaseModel):
    worker: str = Field(min_length=1, max_length=200)
    frames: int = Field(ge=0)


class BeatAnswer(BaseModel):
    proceed: bool  # False: the order is closed (cancelled, or delivered by another worker): stop


class Delivery(BaseModel):
    worker: str = Field(min_length=1, max_length=200)
    parts: int = Field(ge=1, le=100_000)
    sha256: str = Field(pattern="^[0-9a-f]{64}$")


@router.get("/images/{name}")
def image(name: str, caller: Caller, studio: StudioDep) -> FileResponse:
    """A user image a segment order names by content (`<sha256>.<ext>`)."""
    caller.require(SCOPE)
    return FileResponse(SegmentBoard(studio.cache_dir).image(name))


@router.post("/{key}/beat", response_model=BeatAnswer)
def beat(key: str, body: Beat, caller: Caller, studio: StudioDep) -> BeatAnswer:
    """A worker is rendering `key` and has `frames` frames done."""
    caller.require(SCOPE)
    return BeatAnswer(proceed=SegmentBoard(studio.cache_dir).beat(key, body.worker, body.frames))


@router.put("/{key}/parts/{index}", status_code=204)
async def put_part(key: str, index: int, request: Request, caller: Caller, studio: StudioDep,
                   worker: str = Query(min_length=1, max_length=200)) -> None:
    """One part of the segment's bytes (each part fits the request body limit)."""
    caller.require(SCOPE)
    data = await request.body()
    await run_in_threadpool(SegmentBoard(studio.cache_dir).put_part, key, index, data, worker)


@router.post("/{key}/complete", status_code=204)
def complete(key: str, body: Delivery, caller: Caller, studio: StudioDep) -> None:
    """All parts are up: join, check and publish the segment for the film's join."""
    caller.require(SCOPE)
    SegmentBoard(studio.cache_dir).complete(key, body.parts, body.sha256, body.worker)
