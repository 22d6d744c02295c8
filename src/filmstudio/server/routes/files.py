"""/files/...: produced films, thumbnails and subtitles, with Range requests and signed links."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.types import Receive, Scope, Send

from filmstudio.server.auth import MaybeCaller, StudioDep
from filmstudio.server.errors import envelope
from filmstudio.server.routes.common import ERRORS, REVALIDATE, not_modified
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
    """Download a file by its signed URL (no key needed) or with a key that owns the project.

    `Range: bytes=...` answers 206 (resume with `If-Range: <ETag>`); `If-None-Match: <ETag>` answers 304.
    """
    path = assets.resolve_file(studio, file_path, principal=caller, expires=expires, signature=signature)
    return ranged(request, path, assets.media_type(path))


def ranged(request: Request, path: Path, media_type: str) -> Response:
    """`path` as the request's Range header asks (206, 416 RANGE_NOT_SATISFIABLE) or whole (200), inline;
    `If-None-Match: <ETag>` answers 304."""
    stat = path.stat()
    size = stat.st_size
    verdict, ranges = read_range(request.headers.get("range"), size)
    if verdict == "unsatisfiable":
        return envelope(416, "RANGE_NOT_SATISFIABLE", f"no requested range lies within the file ({size} bytes)",
                        {"size": size}, headers={"Content-Range": f"bytes */{size}"})
    answer = RangedFile(path, ranges if verdict == "partial" else None, media_type=media_type,
                        filename=path.name, content_disposition_type="inline", headers={"Cache-Control": REVALIDATE},
                        stat_result=stat)
    return not_modified(request, answer) or answer


class RangedFile(FileResponse):
    """A FileResponse that serves `ranges` (a checked `bytes=` value) or, with None, the whole file."""

    def __init__(self, path: Path, ranges: str | None, **kw: Any) -> None:
        super().__init__(path, **kw)
        self.ranges = ranges

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(k, v) for k, v in scope.get("headers", []) if k != b"range"]
        if self.ranges is not None:
            headers.append((b"range", self.ranges.encode()))
        await super().__call__({**scope, "headers": headers}, receive, send)


_SPEC = re.compile(r"^([0-9]*)-([0-9]*)$")
MAX_RANGES = 100


def read_range(header: str | None, size: int) -> tuple[str, str | None]:
    """RFC 9110 14.2 on one Range header: ("whole", None), ("partial", "bytes=...") or ("unsatisfiable", None).

    A header that is not a well-formed byte range set (another unit, junk, last < first, too many
    ranges) is ignored: the whole file, 200. Well-formed ranges none of which lies in the file are a
    416; otherwise only the satisfiable ones are served.
    """
    if header is None:
        return "whole", None
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return "whole", None
    parts = [p.strip() for p in spec.split(",")]
    if not parts or len(parts) > MAX_RANGES:
        return "whole", None
    good: list[str] = []
    for part in parts:
        m = _SPEC.match(part)
        if m is None or not (m[1] or m[2]) or (m[1] and m[2] and int(m[2]) < int(m[1])):
            return "whole", None
        first, last = m[1], m[2]
        if (first and int(first) < size) or (not first and int(last) > 0 and size > 0):
            good.append(part)
    if not good:
        return "unsatisfiable", None
    return "partial", "bytes=" + ",".join(good)
