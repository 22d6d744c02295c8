"""/files/...: produced films, thumbnails and subtitles, with Range requests and signed links."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from filmstudio.server.auth import MaybeCaller, StudioDep
from filmstudio.server.errors import envelope
from filmstudio.server.routes.common import ERRORS
from filmstudio.services import assets

router = APIRouter(prefix="/files", tags=["files"], responses=ERRORS)


@router.head("/{file_path:path}", include_in_schema=False)
@router.get("/{file_path:path}", response_class=FileResponse)
def download(
    file_path: str,
    request: Request,
    caller: MaybeCaller,
    studio: StudioDep,
    expires: int | None = None,
    signature: str | None = None,
) -> Response:
    """Download a file by its signed URL (no key needed) or with a key that owns the project."""
    path = assets.resolve_file(studio, file_path, principal=caller, expires=expires, signature=signature)
    size = path.stat().st_size
    bad = _unsatisfiable(request.headers.get("range"), size)
    if bad:
        return envelope(416, "RANGE_NOT_SATISFIABLE", bad, {"size": size},
                        headers={"Content-Range": f"bytes */{size}"})
    return FileResponse(path, media_type=assets.media_type(path), filename=path.name,
                        content_disposition_type="inline")


def _unsatisfiable(header: str | None, size: int) -> str | None:
    """Why a Range header cannot be served, so the 416 answers in the envelope too."""
    if not header:
        return None
    unit, _, ranges = header.partition("=")
    if unit.strip().lower() != "bytes" or not ranges.strip():
        return "only byte ranges are supported"
    for part in ranges.split(","):
        start, sep, end = part.strip().partition("-")
        if not sep or (not start and not end):
            return "malformed Range header"
        try:
            if start and int(start) >= size:
                return f"range starts past the end of the file ({size} bytes)"
            if start and end and int(end) < int(start):
                return "malformed Range header"
            if not start and int(end) == 0:
                return "empty suffix range"
        except ValueError:
            return "malformed Range header"
    return None
