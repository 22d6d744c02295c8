"""Short-lived HS256 access tokens exchanged for an API key; the signing secret lives in the keyring."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import jwt

from filmstudio.domain.errors import Forbidden, Unauthorized
from filmstudio.domain.models import TokenIssued
from filmstudio.services import keys
from filmstudio.services.keys import Principal
from filmstudio.services.studio import Studio
from filmstudio.store import keys as key_rows

SIGNING_SECRET = "jwt-signing"
ISSUER = "filmstudio"
AUDIENCE = "filmstudio-api"
TOKEN_SECONDS = 900
ALGORITHM = "HS256"


def looks_like_token(credential: str) -> bool:
    """A JWT (three dot-separated parts), as opposed to an `fs_live_` API key."""
    return not credential.startswith(keys.KEY_PREFIX) and credential.count(".") == 2


def _secret(studio: Studio) -> str:
    return studio.secrets.get_or_create(SIGNING_SECRET)


def issue_token(studio: Studio, principal: Principal, *, seconds: int = TOKEN_SECONDS) -> TokenIssued:
    """A bearer JWT carrying the key's account and scopes; it dies with the key (checked on use)."""
    principal.require_client()
    now = int(datetime.now(UTC).timestamp())
    claims = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": principal.account_id, "kid": principal.key_id,
        "scopes": sorted(principal.scopes), "iat": now, "nbf": now, "exp": now + seconds, "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, _secret(studio), algorithm=ALGORITHM)
    return TokenIssued(access_token=token, token_type="bearer", expires_in=seconds)


def authenticate_token(studio: Studio, token: str, client_ip: str | None) -> Principal:
    """The caller behind a JWT: valid signature and times, and its API key still alive."""
    try:
        claims = jwt.decode(
            token, _secret(studio), algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER, leeway=5,
            options={"require": ["exp", "iat", "sub", "kid", "aud", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the access token has expired; request a new one", code="TOKEN_EXPIRED") from None
    except jwt.PyJWTError:
        raise Unauthorized("the access token is not valid", code="INVALID_TOKEN") from None
    row = key_rows.get_key(studio.store, str(claims["kid"]))
    if row is None or row["account_id"] != claims["sub"]:
        raise Unauthorized("the access token is not valid", code="INVALID_TOKEN")
    if row["revoked_at"]:
        raise Unauthorized("the API key behind this token was revoked", code="API_KEY_REVOKED")
    if row["expires_at"] and keys._parse(row["expires_at"]) <= datetime.now(UTC):
        raise Unauthorized("the API key behind this token has expired", code="API_KEY_EXPIRED")
    allowed = json.loads(row["allowed_ips"])
    if allowed and not keys._ip_allowed(client_ip, allowed):
        raise Forbidden("requests from this address are not allowed for this key", code="IP_NOT_ALLOWED",
                             details={"ip": client_ip})
    # Never more than the key has now (its scopes cannot grow, but stay safe if they are narrowed).
    scopes = frozenset(claims.get("scopes") or ()) & frozenset(json.loads(row["scopes"]))
    return Principal(account_id=row["account_id"], key_id=row["id"], scopes=scopes)
