"""/health: unauthenticated liveness for scripts and supervisors."""

from __future__ import annotations

from fastapi import APIRouter

import filmstudio
from filmstudio.domain.models import Health
from filmstudio.server.auth import StudioDep
from filmstudio.store.migrations import schema_version

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(studio: StudioDep) -> Health:
    """The server answers and its database is readable."""
    return Health(status="ok", version=getattr(filmstudio, "__version__", "0"),
                  schema_version=schema_version(studio.store), queue=type(studio.queue).__name__)
