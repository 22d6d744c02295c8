"""OpenAPI response docs shared by the routers, and the Idempotency-Key wrapper."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel

from filmstudio.domain.models import ErrorEnvelope
from filmstudio.services import idempotency as idem
from filmstudio.services.keys import Principal
from filmstudio.services.studio import Studio

_E = {"model": ErrorEnvelope}
_LIMIT_HEADERS = {
    "X-RateLimit-Limit": {"schema": {"type": "integer"}, "description": "Requests allowed in the tighter window"},
    "X-RateLimit-Remaining": {"schema": {"type": "integer"}, "description": "Requests left in that window"},
    "X-RateLimit-Reset": {"schema": {"type": "integer"}, "description": "Epoch seconds when that window resets"},
}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_E, "description": "Invalid parameters; `details.errors` lists the failing fields"},
    401: {**_E, "description": "Missing, invalid, revoked or expired API key or token"},
    403: {**_E, "description": "The key lacks the scope, or the address is not allowed"},
    404: {**_E, "description": "No such object in your account"},
    413: {**_E, "description": "The request body is too large"},
    429: {**_E, "description": "Rate limit exceeded (`RATE_LIMIT_EXCEEDED`); see Retry-After",
          "headers": {**_LIMIT_HEADERS, "Retry-After": {"schema": {"type": "integer"}}}},
    500: {**_E, "description": "Internal error (details are in the server log)"},
}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {**_E, "description": "The project is rendering"}}
SPENDING: dict[int | str, dict[str, Any]] = {
    402: {**_E, "description": "Not enough credits (`INSUFFICIENT_CREDITS`, details `{required, available}`)"},
    409: {**_E, "description": "The project is rendering, or a request with this Idempotency-Key is in progress"},
    422: {**_E, "description": "This Idempotency-Key was used with a different request"},
}
IDEMPOTENT: dict[int | str, dict[str, Any]] = {
    409: SPENDING[409], 422: SPENDING[422],
}


ETAG_HEADER = {"ETag": {"schema": {"type": "string"}, "description": 'The project\'s version, `"r<revision>"`'}}
PRECONDITION: dict[int | str, dict[str, Any]] = {
    412: {**_E, "description": "If-Match names another version: the project changed since it was read "
                               "(`PRECONDITION_FAILED`, `details.etag` is the current ETag)"},
}
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "If-None-Match names the current version: nothing changed (no body)",
          "headers": ETAG_HEADER},
}
IF_MATCH_DOC = ('Only change the version this names (`"r<revision>"` from the ETag, or `*`); '
                "another: 412 PRECONDITION_FAILED. Without it the change is made whatever the version.")
IF_NONE_MATCH_DOC = "The ETag you hold: 304 Not Modified while it is still the current one"


# A file behind an API path that a new render or upload may replace: cache it, but ask first (ETag).
REVALIDATE = "private, no-cache"


def cached_file(request: Request, path: Path, media_type: str, *, filename: str | None = None) -> Response:
    """`path` with its ETag and Last-Modified (Starlette's, from mtime and size) and Cache-Control;
    304 while the client's If-None-Match still names it (RFC 9110 13.1.2, weak comparison)."""
    answer = FileResponse(path, media_type=media_type, filename=filename, content_disposition_type="inline",
                          headers={"Cache-Control": REVALIDATE}, stat_result=path.stat())
    return not_modified(request, answer) or answer


def not_modified(request: Request, answer: FileResponse) -> Response | None:
    """A 304 for `answer` when the request's If-None-Match names its ETag (weak comparison), else None."""
    held = request.headers.get("if-none-match")
    tag = answer.headers["etag"]
    if held is None or not (held.strip() == "*" or tag in {t.strip().removeprefix("W/") for t in held.split(",")}):
        return None
    kept = {k: answer.headers[k] for k in ("cache-control", "last-modified") if k in answer.headers}
    return Response(status_code=304, headers={"ETag": tag, **kept})


def json_response(model: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Serialise a response model once, straight to JSON bytes (the hot polling paths).

    FastAPI would otherwise re-validate the model and go through a dict and json.dumps.
    """
    return Response(model.model_dump_json().encode(), status_code=status_code, media_type="application/json",
                    headers=headers)


def idempotent(
    studio: Studio,
    caller: Principal,
    request: Request,
    key: str | None,
    body: BaseModel | None,
    status: int,
    call: Callable[[idem.Claim | None], BaseModel],
    *,
    record_after: bool = False,
) -> Response:
    """Run `call` at most once per Idempotency-Key: replay the stored answer, 422 another body, 409 in flight.

    `call` records its answer inside its own transaction; `record_after` records it afterwards
    instead (batch endpoints, whose items are each their own transaction).
    """
    if not key:
        return json_response(call(None), status)
    canonical = body.model_dump_json() if body is not None else "null"
    got = idem.begin(studio.store, caller.account_id, key, idem.fingerprint(request.method, request.url.path, canonical))
    if isinstance(got, idem.Replay):
        return Response(got.body.encode(), status_code=got.status, media_type="application/json",
                        headers={"Idempotent-Replayed": "true"})
    try:
        result = call(got)
    except BaseException:
        idem.release(studio.store, got)
        raise
    if record_after:
        with studio.store.write() as db:
            idem.complete(db, got, status, result.model_dump_json())
    return json_response(result, status)
