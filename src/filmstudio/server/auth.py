"""Bearer authentication (API key or JWT) and the per-account rate limit, as FastAPI dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from filmstudio.services import keys, ratelimit, tokens
from filmstudio.services.keys import Principal
from filmstudio.services.studio import Studio

bearer = HTTPBearer(auto_error=False, description="An API key (`fs_live_...`) or an access token from /auth/token")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
RATE_STATE = "ratelimit"


def studio_of(request: Request) -> Studio:
    studio: Studio = request.app.state.studio
    return studio


def _token(request: Request, creds: HTTPAuthorizationCredentials | None) -> str | None:
    if creds is not None and creds.scheme.lower() == "bearer":
        return creds.credentials
    return None


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _authenticate(request: Request, token: str | None) -> Principal:
    studio = studio_of(request)
    if token is not None and tokens.looks_like_token(token):
        return tokens.authenticate_token(studio, token, _client(request))
    return keys.authenticate(studio.store, token, _client(request))


def _count(request: Request, caller: Principal) -> None:
    """Count the request against the caller's plan; RateLimitHeaders adds the headers (every plan)."""
    if not getattr(request.app.state, "rate_limits", True):
        setattr(request.state, RATE_STATE, ratelimit.unlimited())  # limits switched off: every account unlimited
        return
    decision = ratelimit.hit(studio_of(request).store, caller.account_id)
    setattr(request.state, RATE_STATE, decision)
    if not decision.allowed:
        raise ratelimit.RateLimited(
            f"rate limit exceeded: {decision.limit} requests per {decision.window}; retry in "
            f"{decision.retry_after} s",
            details={"limit": decision.limit, "window": decision.window, "retry_after": decision.retry_after},
        )


def principal(request: Request, creds: Credentials) -> Principal:
    """The authenticated caller (401/403 with a stable code otherwise), counted against its limits."""
    caller = _authenticate(request, _token(request, creds))
    _count(request, caller)
    return caller


def key_principal(request: Request, creds: Credentials) -> Principal:
    """The caller behind an API key proper (token exchange refuses a token for a token)."""
    token = _token(request, creds)
    caller = keys.authenticate(studio_of(request).store, token, _client(request))
    _count(request, caller)
    return caller


def optional_principal(request: Request, creds: Credentials) -> Principal | None:
    """The caller if credentials were sent (signed file links need none)."""
    token = _token(request, creds)
    if token is None:
        return None
    caller = _authenticate(request, token)
    _count(request, caller)
    return caller


Caller = Annotated[Principal, Depends(principal)]
KeyCaller = Annotated[Principal, Depends(key_principal)]
MaybeCaller = Annotated[Principal | None, Depends(optional_principal)]
StudioDep = Annotated[Studio, Depends(studio_of)]
