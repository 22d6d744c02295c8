"""/projects/{id}/publish: publish the project's latest film to the connected YouTube channel, as a job."""

from __future__ import annotations

from fastapi import APIRouter

from filmstudio.domain.models import PublishAccepted, PublishRequest
from filmstudio.server.auth import Caller, StudioDep
from filmstudio.server.routes.common import CONFLICT, ERRORS
from filmstudio.services.youtube import publish

router = APIRouter(prefix="/projects", tags=["publish"], responses=ERRORS)


@router.post("/{project_id}/publish", status_code=202, response_model=PublishAccepted, responses=CONFLICT)
def publish_project(project_id: str, caller: Caller, studio: StudioDep,
                    body: PublishRequest | None = None) -> PublishAccepted:
    """Upload the latest film with its captions, chapters and thumbnail (a resumable `publish` job).

    Private unless `youtube.privacy` says otherwise. Poll /jobs/{id}: while it runs its `result` has
    bytes done and bytes per second; when it completes, the video id and URL (also in the project's assets).
    Errors: YOUTUBE_NOT_CONNECTED (409), PROJECT_NOT_RENDERED (409), PUBLISH_IN_PROGRESS (409).
    """
    return publish.start_publish(studio, caller, project_id, (body or PublishRequest()).youtube)
