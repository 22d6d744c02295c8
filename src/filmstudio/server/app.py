"""create_app: the FastAPI application over a Studio. No globals; the entry point builds both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI

from filmstudio.config import Settings
from filmstudio.pipeline.engines import Engines
from filmstudio.server import errors
from filmstudio.server.middleware import BodyLimit, HeadAsGet, HostCheck, RateLimitHeaders
from filmstudio.server.routes import (
    account,
    files,
    health,
    jobs,
    models,
    projects,
    publish,
    segments,
    webhooks,
)
from filmstudio.server.routes import (
    studio as studio_routes,
)
from filmstudio.server.sse import StreamTiming
from filmstudio.services.images import MAX_IMAGE_BYTES
from filmstudio.services.studio import Studio

API_PREFIX = "/api/v1"

DESCRIPTION = """
The FilmStudio API turns a written script into a finished narrated film on this machine.

Authenticate with `Authorization: Bearer fs_live_...` (create a key with `filmstudio keys create`).
Every error answers `{"error": {"code", "message", "details"}}` with a stable `code`.

Typical flow: `POST /projects` → `POST /projects/{id}/generate` → poll `GET /jobs/{job_id}` until
`completed` → `GET /projects/{id}` → download `assets.video_url` with a plain GET (signed, expiring).

Follow a job live with `GET /jobs/{job_id}/events` (server-sent events). A project's `ETag` is its
version: send it back as `If-Match` on `PATCH`, and an edit made since you read it answers 412
`PRECONDITION_FAILED` instead of being overwritten.
"""


def create_app(studio: Studio, settings: Settings, engines: Engines | None = None) -> FastAPI:
    """The API app; `settings` decides docs, CORS, trusted hosts and the body limit.

    `engines` (the composition root's) serve what is heard or listed, not rendered: auditions, the
    translator's pairs; without them those answer that the engine is missing.
    """
    docs = settings.show_docs
    app = FastAPI(
        title="FilmStudio API",
        version="1.0",
        description=DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json" if docs else None,
        docs_url=f"{API_PREFIX}/docs" if docs else None,
        redoc_url=None,
    )
    app.state.studio = studio
    app.state.rate_limits = settings.rate_limits
    app.state.engines = engines
    app.state.event_timing = StreamTiming(keepalive_seconds=settings.event_keepalive_seconds,
                                          max_seconds=settings.event_stream_seconds)
    app.state.stopping = lambda: False  # `serve` replaces it: open event streams end when the server stops
    errors.install(app)
    api = APIRouter(prefix=API_PREFIX)
    modules = (projects, publish, jobs, webhooks, account, files, health, segments, models, studio_routes)
    for module in modules:
        api.include_router(module.router)
    app.state.path_methods = errors.path_methods([(API_PREFIX, m.router) for m in modules] + [("", health.router)])
    app.include_router(api)
    app.include_router(health.router)  # /health at the root too, for supervisors
    if docs:
        app.openapi = _openapi(app)  # type: ignore[method-assign]
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["*"], expose_headers=["ETag"],
                           allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match",
                                          "If-None-Match", "Last-Event-ID"])
    app.add_middleware(HeadAsGet, has_get=errors.head_served_as_get(app.state.path_methods))
    app.add_middleware(RateLimitHeaders)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes,
                       uploads=((r"^/api/v1/projects/[^/]+/images/[^/]+$", MAX_IMAGE_BYTES),))
    app.add_middleware(HostCheck, allowed=settings.trusted_hosts)
    return app


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI's schema without the 422s it adds for validation errors: those are sent as 400.

    The 422s the routes declare themselves (an Idempotency-Key reused for another body) stay.
    """
    build = app.openapi

    def schema() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = build()
        for operations in spec.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.get("responses", {})
                if "HTTPValidationError" in str(responses.get("422", {}).get("content", "")):
                    del responses["422"]
        schemas = spec.get("components", {}).get("schemas", {})
        if "HTTPValidationError" not in str(spec.get("paths")):
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
        app.openapi_schema = spec
        return spec

    return schema
