"""Bearer-key authentication as a FastAPI dependency; the checks themselves live in services.keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from filmstudio.services import keys
from filmstudio.services.keys import Principal
from filmstudio.services.studio import Studio

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer fs_live_...`")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def studio_of(request: Request) -> Studio:
    studio: Studio = request.app.state.studio
    return studio


def _token(request: Request, creds: HTTPAuthorizationCredentials | None) -> str | None:
    if creds is not None and creds.scheme.lower() == "bearer":
        return creds.credentials
    return None


def principal(request: Request, creds: Credentials) -> Principal:
    """The authenticated caller (401/403 with a stable code otherwise)."""
    client = request.client.host if request.client else None
    return keys.authenticate(studio_of(request).store, _token(request, creds), client)


def optional_principal(request: Request, creds: Credentials) -> Principal | None:
    """The caller if credentials were sent (signed file links need none)."""
    token = _token(request, creds)
    if token is None:
        return None
    client = request.client.host if request.client else None
    return keys.authenticate(studio_of(request).store, token, client)


Caller = Annotated[Principal, Depends(principal)]
MaybeCaller = Annotated[Principal | None, Depends(optional_principal)]
StudioDep = Annotated[Studio, Depends(studio_of)]
