"""One place that turns every failure into `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from filmstudio.domain.errors import FilmStudioError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE",
    416: "RANGE_NOT_SATISFIABLE", 429: "RATE_LIMITED", 500: "INTERNAL_ERROR", 503: "SERVICE_UNAVAILABLE",
}
_PYDANTIC_CODES = {
    "missing": "MISSING_FIELD", "extra_forbidden": "UNKNOWN_FIELD", "json_invalid": "INVALID_JSON",
    "model_attributes_type": "INVALID_TYPE", "dict_type": "INVALID_TYPE", "string_too_short": "INVALID_VALUE",
    "string_too_long": "INVALID_VALUE", "string_type": "INVALID_TYPE", "int_parsing": "INVALID_TYPE",
    "int_type": "INVALID_TYPE", "bool_parsing": "INVALID_TYPE", "greater_than_equal": "INVALID_VALUE",
    "less_than_equal": "INVALID_VALUE", "literal_error": "INVALID_VALUE",
}


def envelope(status: int, code: str, message: str, details: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return JSONResponse(body, status_code=status, headers=headers)


def http_code(status: int) -> str:
    return _HTTP_CODES.get(status, f"HTTP_{status}")


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        where = loc[0] if loc else "body"
        kind = str(err.get("type", "value_error"))
        code = kind if kind.isupper() else _PYDANTIC_CODES.get(kind, "INVALID_VALUE")
        item: dict[str, Any] = {"field": ".".join(loc[1:]) or where, "in": where, "code": code,
                                "message": str(err.get("msg", ""))}
        allowed = (err.get("ctx") or {}).get("allowed")
        if allowed:
            item["allowed"] = [a.strip() for a in str(allowed).split(",")]
        out.append(item)
    return out


PathMethods = list[tuple[re.Pattern[str], int, frozenset[str]]]


def path_methods(mounted: list[tuple[str, APIRouter]]) -> PathMethods:
    """(path regex, path parameters, methods) of every route of routers mounted at a prefix."""
    out: PathMethods = []
    for prefix, router in mounted:
        for route in router.routes:
            path, methods = getattr(route, "path", None), getattr(route, "methods", None)
            if path and methods:
                regex, _, params = compile_path(prefix + path)
                out.append((regex, len(params), frozenset(methods)))
    return out


def _routed_methods(table: PathMethods, path: str) -> set[str]:
    """The methods routed for `path`; the most specific templates win (`/projects/batch` is its own
    resource, not `/projects/{id}`)."""
    matching = [(params, ms) for regex, params, ms in table if regex.match(path)]
    fewest = min((params for params, _ in matching), default=0)
    return {m for params, ms in matching if params == fewest for m in ms}


def allowed_methods(request: Request) -> list[str]:
    """The methods of this request's path (HEAD with GET), for the Allow header of a 405."""
    methods = _routed_methods(getattr(request.app.state, "path_methods", []), request.url.path)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def head_served_as_get(table: PathMethods) -> Callable[[str], bool]:
    """Whether a HEAD on a path is to be answered by its GET route (it has one and no HEAD route)."""

    def has_get(path: str) -> bool:
        methods = _routed_methods(table, path)
        return "GET" in methods and "HEAD" not in methods

    return has_get


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""

    @app.exception_handler(FilmStudioError)
    async def _domain(request: Request, exc: FilmStudioError) -> JSONResponse:
        if exc.http_status >= 500:
            log.error("%s %s -> %s", request.method, request.url.path, exc)
        return envelope(exc.http_status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        # Query parameters have always answered VALIDATION_ERROR (the per-field codes are in details).
        single = len(errors) == 1 and errors[0]["in"] != "query"
        code = errors[0]["code"] if single else "VALIDATION_ERROR"
        message = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
        return envelope(400, code, message, {"errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404:
            message = f"no route for {request.method} {request.url.path}"
        headers = dict(exc.headers) if exc.headers else {}
        details: dict[str, Any] = {}
        if exc.status_code == 405:
            # Starlette names the methods of the first route on the path; a path has one route per method.
            allowed = allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            details = {"allowed": allowed}
        return envelope(exc.status_code, http_code(exc.status_code), message, details, headers=headers or None)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return envelope(500, "INTERNAL_ERROR", "the studio hit an internal error; see the server log")
