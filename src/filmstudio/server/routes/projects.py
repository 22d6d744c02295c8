"""/projects: create, get, list, edit, soft delete, generate."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from filmstudio.domain.models import (
    BatchCreate,
    BatchGenerate,
    BatchResult,
    CharacterLookUpdate,
    GenerateRequest,
    JobAccepted,
    ProjectCreate,
    ProjectCreated,
    ProjectList,
    ProjectPublic,
    ProjectSort,
    ProjectStatus,
    ProjectUpdate,
    ShotRegenerate,
    ShotUpdate,
    SortOrder,
    WriteRequest,
)
from filmstudio.server.auth import Caller, StudioDep
from filmstudio.server.routes.common import (
    CONFLICT,
    ERRORS,
    ETAG_HEADER,
    IDEMPOTENT,
    IF_MATCH_DOC,
    IF_NONE_MATCH_DOC,
    NOT_MODIFIED,
    PRECONDITION,
    SPENDING,
    cached_file,
    idempotent,
    json_response,
)
from filmstudio.server.routes.files import ranged
from filmstudio.services import batch, clips, images, jobs, projects, storyboard, writing
from filmstudio.services.images import ProjectImage
from filmstudio.services.projects import MAX_PAGE, MAX_PER_PAGE

router = APIRouter(prefix="/projects", tags=["projects"], responses=ERRORS)
IdempotencyKey = Annotated[
    str | None,
    Header(min_length=1, max_length=200, description="Replays return the first answer for 24 h at least"),
]


@router.post("", status_code=201, response_model=ProjectCreated, responses=IDEMPOTENT)
def create_project(
    body: ProjectCreate, caller: Caller, studio: StudioDep, request: Request, idempotency_key: IdempotencyKey = None
) -> Response:
    """Create a draft project from a script and settings."""
    return idempotent(studio, caller, request, idempotency_key, body, 201,
                      lambda claim: projects.create_project(studio, caller, body, idempotency=claim))


# Declared before /{project_id}/generate so "batch" is never read as a project id.
@router.post("/batch", status_code=200, response_model=BatchResult, responses=IDEMPOTENT)
def create_batch(
    body: BatchCreate, caller: Caller, studio: StudioDep, request: Request, idempotency_key: IdempotencyKey = None
) -> Response:
    """Create up to 100 projects; one result per item (its project, or its error)."""
    return idempotent(studio, caller, request, idempotency_key, body, 200,
                      lambda claim: batch.create_projects(studio, caller, body.projects), record_after=True)


@router.post("/batch/generate", status_code=200, response_model=BatchResult, responses=SPENDING)
def generate_batch(
    body: BatchGenerate, caller: Caller, studio: StudioDep, request: Request, idempotency_key: IdempotencyKey = None
) -> Response:
    """Queue renders of up to 100 projects; credits are checked per item (402 items when they run out)."""
    return idempotent(
        studio, caller, request, idempotency_key, body, 200,
        lambda claim: batch.generate_projects(studio, caller, body, idempotency_key=idempotency_key),
        record_after=True,
    )


@router.get("", response_model=ProjectList)
def list_projects(
    caller: Caller,
    studio: StudioDep,
    page: Annotated[int, Query(examples=[1], ge=1, le=MAX_PAGE)] = 1,
    per_page: Annotated[int, Query(examples=[20], ge=1, le=MAX_PER_PAGE)] = 20,
    status: Annotated[ProjectStatus | None, Query(description="Only projects in this status")] = None,
    sort: Annotated[ProjectSort, Query(description="Sort field")] = "created_at",
    order: Annotated[SortOrder, Query(description="Sort order")] = "desc",
) -> Response:
    """Your projects, a page at a time."""
    found = projects.list_projects(studio, caller, page=page, per_page=per_page, status=status, sort=sort,
                                   order=order)
    return json_response(found)


IfMatch = Annotated[str | None, Header(max_length=1000, description=IF_MATCH_DOC)]
IfNoneMatch = Annotated[str | None, Header(max_length=1000, description=IF_NONE_MATCH_DOC)]
_VERSIONED: dict[int | str, dict[str, Any]] = {200: {"description": "The project", "headers": ETAG_HEADER}}


def _with_etag(project: ProjectPublic) -> Response:
    return json_response(project, headers={"ETag": projects.etag(project.revision)})


@router.get("/{project_id}", response_model=ProjectPublic, responses={**_VERSIONED, **NOT_MODIFIED})
def get_project(project_id: str, caller: Caller, studio: StudioDep, if_none_match: IfNoneMatch = None) -> Response:
    """A project with signed, expiring download URLs for its latest film; its version in `ETag`.

    Send the ETag back as If-Match on PATCH so an edit never overwrites one made since you read it.
    """
    project = projects.get_project(studio, caller, project_id)
    tag = projects.etag(project.revision)
    if if_none_match is not None and projects.etag_matches(if_none_match, tag, weak=True):
        return Response(status_code=304, headers={"ETag": tag})
    return _with_etag(project)


@router.patch("/{project_id}", response_model=ProjectPublic, responses={**_VERSIONED, **CONFLICT, **PRECONDITION})
def update_project(project_id: str, body: ProjectUpdate, caller: Caller, studio: StudioDep,
                   if_match: IfMatch = None) -> Response:
    """Edit title, script or settings (not while rendering); with If-Match only the version you read."""
    return _with_etag(projects.update_project(studio, caller, project_id, body, if_match=if_match))


@router.delete("/{project_id}", status_code=204, responses={**CONFLICT, **PRECONDITION})
def delete_project(project_id: str, caller: Caller, studio: StudioDep, if_match: IfMatch = None) -> Response:
    """Delete a project (not while rendering); with If-Match only the version you read."""
    projects.delete_project(studio, caller, project_id, if_match=if_match)
    return Response(status_code=204)


@router.post("/{project_id}/write", status_code=202, response_model=JobAccepted, responses=SPENDING)
def write(
    project_id: str,
    caller: Caller,
    studio: StudioDep,
    request: Request,
    body: WriteRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Queue the writing of the project's screenplay from its idea (1 credit, refunded on failure or cancel).

    The job (kind `write`) streams the model's text as progress; when the screenplay fits, it becomes the
    project's script. On any failure the script is untouched (`WRITER_UNAVAILABLE`, `WRITER_FAILED`, ...).
    """
    return idempotent(studio, caller, request, idempotency_key, body, 202,
                      lambda claim: writing.start_write(studio, caller, project_id, body, idempotency=claim))


@router.post("/{project_id}/generate", status_code=202, response_model=JobAccepted, responses=SPENDING)
def generate(
    project_id: str,
    caller: Caller,
    studio: StudioDep,
    request: Request,
    body: GenerateRequest | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Queue a render (credits are deducted now, refunded on failure or cancel); poll the returned job."""
    return idempotent(
        studio, caller, request, idempotency_key, body, 202,
        lambda claim: jobs.generate(studio, caller, project_id, body, idempotency_key=idempotency_key,
                                    idempotency=claim),
    )


ImageName = Annotated[str, Path(pattern=images.NAME_PATTERN, description="e.g. scene-2.png or night-market.jpg")]
_IMAGE_BODY = {"requestBody": {"required": True, "content": {
    t: {"schema": {"type": "string", "format": "binary"}} for t in ("image/png", "image/jpeg", "image/webp", "image/bmp")
}}}


@router.put("/{project_id}/images/{name}", status_code=201, response_model=ProjectImage, responses=CONFLICT,
            openapi_extra=_IMAGE_BODY)
async def put_image(project_id: str, name: ImageName, request: Request, caller: Caller,
                    studio: StudioDep) -> ProjectImage:
    """Upload one of the project's own pictures (PNG, JPEG, WebP or BMP, up to 16 MB) for scene backgrounds.

    Scenes take a picture named `scene-<n>` or after their location (`night-market.jpg`), else the next in turn.
    """
    data = await request.body()
    return await run_in_threadpool(images.add_image, studio, caller, project_id, name, data)


_CACHED: dict[int | str, dict[str, Any]] = {
    304: {"description": "If-None-Match names the file as it is: your copy is current (no body)"},
}
_PICTURE: dict[int | str, dict[str, Any]] = {200: {"description": "The picture, as uploaded", "content": {
    t: {"schema": {"type": "string", "format": "binary"}} for t in ("image/png", "image/jpeg", "image/webp", "image/bmp")
}}, **_CACHED}


@router.get("/{project_id}/images/{name}", response_class=FileResponse, responses=_PICTURE)
def get_image(project_id: str, name: ImageName, caller: Caller, studio: StudioDep, request: Request) -> Response:
    """One of the project's pictures (`shot-3` finds `shot-3.jpg`): the bytes, with an ETag to cache by."""
    path = images.image_path(studio, caller, project_id, name)
    return cached_file(request, path, images.media_type(path))


@router.get("/{project_id}/images", response_model=list[ProjectImage])
def list_images(project_id: str, caller: Caller, studio: StudioDep) -> list[ProjectImage]:
    """The project's pictures, in the order scenes take them."""
    return images.list_images(studio, caller, project_id)


@router.delete("/{project_id}/images/{name}", status_code=204)
def delete_image(project_id: str, name: ImageName, caller: Caller, studio: StudioDep) -> Response:
    """Remove one of the project's pictures."""
    images.delete_image(studio, caller, project_id, name)
    return Response(status_code=204)


_NOT_WRITTEN: dict[int | str, dict[str, Any]] = {
    409: {**CONFLICT[409], "description": "The project has only an idea: no script yet (SCRIPT_NOT_WRITTEN)"}}


@router.get("/{project_id}/storyboard", responses=_NOT_WRITTEN)
def get_storyboard(project_id: str, caller: Caller, studio: StudioDep) -> dict[str, Any]:
    """The shot list: scene, characters, the line each shot carries, camera, prompt and seed per shot.

    Replace a shot with your own picture by uploading it as `shot-<n>.png` (PUT .../images/shot-<n>.png).
    """
    return storyboard.get_storyboard(studio, caller, project_id)


@router.post("/{project_id}/storyboard/shots/{number}/regenerate", responses=_NOT_WRITTEN)
def regenerate_shot(project_id: str, number: int, body: ShotRegenerate, caller: Caller,
                    studio: StudioDep) -> dict[str, Any]:
    """Redo one shot with a new seed or an edited prompt (or lock it); the next render redraws only it."""
    return storyboard.regenerate_shot(studio, caller, project_id, number, body)


_PNG: dict[int | str, dict[str, Any]] = {200: {"description": "The still (PNG)", "content": {"image/png": {"schema": {"type": "string",
                                                                                    "format": "binary"}}}}}


@router.get("/{project_id}/storyboard/shots/{number}/still", response_class=FileResponse,
            responses={**_PNG, **_CACHED})
def get_shot_still(project_id: str, number: int, caller: Caller, studio: StudioDep, request: Request) -> Response:
    """The still the project's last render drew for shot `number` (404 `STILL_NOT_FOUND` when none).

    Cacheable: it has an ETag; send it back as If-None-Match and a 304 says your copy is still the one.
    """
    return cached_file(request, storyboard.shot_still(studio, caller, project_id, number), "image/png")


@router.patch("/{project_id}/storyboard/shots/{number}")
def update_shot(project_id: str, number: int, body: ShotUpdate, caller: Caller, studio: StudioDep) -> dict[str, Any]:
    """Toggle one shot's motion: `true` animates it, `false` keeps it a still, `null` follows the motion budget."""
    return storyboard.update_shot(studio, caller, project_id, number, body)


_MP4: dict[int | str, dict[str, Any]] = {
    200: {"description": "The clip (MP4)", "content": {"video/mp4": {"schema": {"type": "string", "format": "binary"}}}},
    206: {"description": "The requested bytes of the clip (a Range request)",
          "content": {"video/mp4": {"schema": {"type": "string", "format": "binary"}}}},
    416: {"description": "No requested range lies within the clip (RANGE_NOT_SATISFIABLE)"},
}


@router.get("/{project_id}/storyboard/shots/{number}/clip", response_class=FileResponse, responses=_MP4)
def get_shot_clip(project_id: str, number: int, request: Request, caller: Caller, studio: StudioDep) -> Response:
    """The clip the project's last render made for moving shot `number`, with Range requests (404 `CLIP_NOT_FOUND`)."""
    return ranged(request, clips.shot_clip(studio, caller, project_id, number), "video/mp4")


CharacterName = Annotated[str, Path(min_length=1, max_length=100, description="as in the script, e.g. LENA")]


@router.patch("/{project_id}/storyboard/characters/{name}", responses=_NOT_WRITTEN)
def update_character(project_id: str, name: CharacterName, body: CharacterLookUpdate, caller: Caller,
                     studio: StudioDep) -> dict[str, Any]:
    """Edit a character's description or seed; every shot with them uses it from the next render."""
    return storyboard.update_character(studio, caller, project_id, name, body)
