"""API keys: `fs_live_<random>_<checksum>`, shown once, stored as prefix + SHA-256 digest."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import math
import secrets
import string
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from filmstudio.domain.errors import BadRequest, Forbidden, NotFound, Unauthorized
from filmstudio.domain.models import SCOPES, ApiKeyCreated, ApiKeyPublic
from filmstudio.store import accounts as account_rows
from filmstudio.store import keys as rows
from filmstudio.store.db import Store, utcnow

KEY_PREFIX = "fs_live_"
_ALPHABET = string.ascii_letters + string.digits
_RANDOM_LEN = 32
_DISPLAY_LEN = 12  # characters of the random part kept as the lookup/display prefix
_CHECKSUM_LEN = 6
LAST_USED_RESOLUTION = timedelta(seconds=60)  # keeps auth a read, not a write, on most requests
# A key made without --scope can call every endpoint the public API reference documents.
DEFAULT_SCOPES: tuple[str, ...] = ("projects:read", "projects:write", "jobs:read", "jobs:write", "webhooks")
WORKER_SCOPE = "worker"
# Scopes that make a key an API client (anything but a remote render worker's segment-only key).
CLIENT_SCOPES: tuple[str, ...] = tuple(s for s in SCOPES if s != WORKER_SCOPE)
MAX_EXPIRY_DAYS = 36_500  # a hundred years; beyond it, ask for a key that never expires (0)


@dataclass(frozen=True)
class Principal:
    """Who is calling: an account, through one key, with its scopes."""

    account_id: str
    key_id: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes

    def require(self, scope: str) -> None:
        if not self.allows(scope):
            raise Forbidden(
                f"this key lacks the '{scope}' scope", code="INSUFFICIENT_SCOPE", details={"required": scope}
            )

    def require_client(self) -> None:
        """Refuse keys that carry only the `worker` scope (they may deliver segments, nothing else)."""
        if not self.scopes & set(CLIENT_SCOPES):
            raise Forbidden("a worker key can only deliver segments", code="INSUFFICIENT_SCOPE",
                            details={"required": "any of " + ", ".join(CLIENT_SCOPES)})


def _checksum(random_part: str) -> str:
    n = zlib.crc32(random_part.encode())
    out = ""
    for _ in range(_CHECKSUM_LEN):
        n, r = divmod(n, 62)
        out = _ALPHABET[r] + out
    return out


def _new_secret() -> str:
    random_part = "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LEN))
    return f"{KEY_PREFIX}{random_part}_{_checksum(random_part)}"


def _split(secret: str) -> str | None:
    """The random part of a well-formed key with a matching checksum, else None."""
    if not secret.startswith(KEY_PREFIX):
        return None
    body = secret[len(KEY_PREFIX) :]
    random_part, _, check = body.rpartition("_")
    if len(random_part) != _RANDOM_LEN or not hmac.compare_digest(check, _checksum(random_part)):
        return None
    return random_part


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _validate_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise BadRequest(
            f"unknown scopes: {', '.join(bad) or '(none given)'}", code="UNKNOWN_SCOPE", details={"allowed": list(SCOPES)}
        )
    return sorted(set(scopes))


def _validate_ips(ips: list[str] | tuple[str, ...]) -> list[str]:
    out = []
    for ip in ips:
        try:
            out.append(str(ipaddress.ip_network(ip.strip(), strict=False)))
        except ValueError:
            raise BadRequest(f"{ip!r} is not an IP address or CIDR range", code="INVALID_IP") from None
    return out


def _public(row: dict[str, Any]) -> ApiKeyPublic:
    return ApiKeyPublic(
        key_id=row["id"], account_id=row["account_id"], name=row["name"], prefix=row["prefix"],
        scopes=json.loads(row["scopes"]), allowed_ips=json.loads(row["allowed_ips"]), created_at=row["created_at"],
        last_used_at=row["last_used_at"], expires_at=row["expires_at"], revoked_at=row["revoked_at"],
    )


def create_key(
    store: Store,
    account_id: str,
    *,
    name: str,
    scopes: list[str] | tuple[str, ...] = DEFAULT_SCOPES,
    allowed_ips: list[str] | tuple[str, ...] = (),
    expires_at: datetime | None = None,
    rotated_from: str | None = None,
) -> ApiKeyCreated:
    """Make a key for `account_id`; the returned `secret` is never stored and never shown again."""
    if account_rows.get_account(store, account_id) is None:
        raise NotFound("no such account", code="ACCOUNT_NOT_FOUND")
    secret = _new_secret()
    random_part = _split(secret)
    assert random_part is not None
    row = {
        "id": str(uuid.uuid4()),
        "account_id": account_id,
        "name": name.strip() or "unnamed",
        "prefix": KEY_PREFIX + random_part[:_DISPLAY_LEN],
        "digest": digest(secret),
        "scopes": json.dumps(_validate_scopes(scopes)),
        "allowed_ips": json.dumps(_validate_ips(allowed_ips)),
        "created_at": utcnow(),
        "last_used_at": None,
        "expires_at": _iso(expires_at) if expires_at else None,
        "revoked_at": None,
        "rotated_from": rotated_from,
    }
    with store.write() as db:
        rows.add_key(db, row)
    return ApiKeyCreated(**_public(row).model_dump(), secret=secret)


def expiry_after(days: float | None, *, now: datetime | None = None) -> datetime | None:
    """When a key made now for `days` days expires; None (never) for 0 or no value."""
    if days is None or days == 0:
        return None
    if not math.isfinite(days) or not 0 < days <= MAX_EXPIRY_DAYS:
        raise BadRequest(f"expiry is 0 (never) or more than 0 and up to {MAX_EXPIRY_DAYS} days, got {days:g}",
                         code="INVALID_EXPIRY", details={"days": str(days), "max": MAX_EXPIRY_DAYS})
    return (now or datetime.now(UTC)) + timedelta(days=days)


def list_keys(store: Store, account_id: str | None = None) -> list[ApiKeyPublic]:
    return [_public(r) for r in rows.list_keys(store, account_id)]


def _find(store: Store, key_id_or_prefix: str) -> dict[str, Any]:
    row = rows.get_key(store, key_id_or_prefix) or rows.key_by_prefix(store, key_id_or_prefix)
    if row is None:
        raise NotFound("no such API key", code="API_KEY_NOT_FOUND")
    return row


def revoke_key(store: Store, key_id_or_prefix: str) -> ApiKeyPublic:
    row = _find(store, key_id_or_prefix)
    with store.write() as db:
        rows.update_key(db, row["id"], {"revoked_at": row["revoked_at"] or utcnow()})
    return _public(_find(store, row["id"]))


def rotate_key(store: Store, key_id_or_prefix: str, *, overlap: timedelta = timedelta(hours=24)) -> ApiKeyCreated:
    """A new key with the same account, name, scopes and IPs; the old one keeps working for `overlap`."""
    old = _find(store, key_id_or_prefix)
    if old["revoked_at"]:
        raise BadRequest("a revoked key cannot be rotated", code="API_KEY_REVOKED")
    new = create_key(
        store, old["account_id"], name=old["name"], scopes=json.loads(old["scopes"]),
        allowed_ips=json.loads(old["allowed_ips"]),
        expires_at=_parse(old["expires_at"]) if old["expires_at"] else None, rotated_from=old["id"],
    )
    ends = datetime.now(UTC) + overlap
    current_end = _parse(old["expires_at"]) if old["expires_at"] else None
    with store.write() as db:
        rows.update_key(db, old["id"], {"expires_at": _iso(min(ends, current_end) if current_end else ends)})
    return new


def authenticate(store: Store, secret: str | None, client_ip: str | None) -> Principal:
    """The caller behind a bearer key, or Unauthorized/Forbidden with a stable code."""
    if not secret:
        raise Unauthorized("send an API key: Authorization: Bearer fs_live_...", code="MISSING_API_KEY")
    random_part = _split(secret)
    row = rows.key_by_prefix(store, KEY_PREFIX + random_part[:_DISPLAY_LEN]) if random_part else None
    # Compare digests in constant time; a missing row still costs one comparison.
    expected = row["digest"] if row else "0" * 64
    if not hmac.compare_digest(expected, digest(secret)) or row is None:
        raise Unauthorized("the API key is not valid", code="INVALID_API_KEY")
    now = datetime.now(UTC)
    if row["revoked_at"]:
        raise Unauthorized("the API key was revoked", code="API_KEY_REVOKED")
    if row["expires_at"] and _parse(row["expires_at"]) <= now:
        raise Unauthorized("the API key has expired", code="API_KEY_EXPIRED")
    allowed = json.loads(row["allowed_ips"])
    if allowed and not _ip_allowed(client_ip, allowed):
        raise Forbidden("requests from this address are not allowed for this key", code="IP_NOT_ALLOWED",
                        details={"ip": client_ip})
    if row["last_used_at"] is None or _parse(row["last_used_at"]) < now - LAST_USED_RESOLUTION:
        with store.write() as db:
            rows.update_key(db, row["id"], {"last_used_at": utcnow()})
    return Principal(account_id=row["account_id"], key_id=row["id"], scopes=frozenset(json.loads(row["scopes"])))


def _ip_allowed(client_ip: str | None, allowed: list[str]) -> bool:
    if not client_ip:
        return False
    try:
        ip = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in allowed)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
