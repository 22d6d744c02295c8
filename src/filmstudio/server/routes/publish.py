"""/projects/{id}/publish: publish the project's latest film to a publish target (YouTube), as a job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from filmstudio.domain.models import PublishAccepted, PublishRequest
from filmstudio.server.auth import Caller, StudioDep
from filmstudio.server.routes.common import CONFLICT, ERRORS, idempotent
from filmstudio.services import publish

router = APIRouter(prefix="/projects", tags=["publish"], responses=ERRORS)


@router.post("/{project_id}/publish", status_code=202, response_model=PublishAccepted,
             responses={**CONFLICT, 409: {**CONFLICT[409], "description": "A publish of the film is running, or a "
                                          "request with this Idempotency-Key is in progress"},
                        422: {**CONFLICT[409], "description": "The target's options are invalid "
                              "(INVALID_PUBLISH_OPTIONS), or this Idempotency-Key was used with another request"}})
def publish_project(project_id: str, caller: Caller, studio: StudioDep, request: Request,
                    body: PublishRequest | None = None,
                    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200, description=(
                        "Replays return the first answer for 24 h at least"))] = None) -> Response:
    """Upload the latest film with its captions, chapters and thumbnail (a resumable `publish` job).

    `{"youtube": {...}}` or `{"target": "youtube", "options": {...}}`. Private unless `privacy` says
    otherwise. The metadata is checked against YouTube's rules first (YOUTUBE_METADATA_INVALID, 400, with
    `details.field` and the limit). Poll /jobs/{id}: while it runs its `result` has bytes done and bytes
    per second; when it completes, the video id and URL (also in the project's `assets.published`).
    Errors: YOUTUBE_NOT_CONNECTED (409), YOUTUBE_CHANNEL_NOT_FOUND (404), PROJECT_NOT_RENDERED (409),
    PUBLISH_IN_PROGRESS (409), UNKNOWN_PUBLISH_TARGET (400), INVALID_PUBLISH_OPTIONS (422).
    """
    return idempotent(studio, caller, request, idempotency_key, body, 202,
                      lambda claim: publish.start_publish(studio, caller, project_id, body), record_after=True)
