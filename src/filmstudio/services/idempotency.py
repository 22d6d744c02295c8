"""Idempotency-Key bookkeeping: claim a key, replay its first answer, refuse reuse with another body.

The answer is recorded by `complete(db, ...)` inside the same transaction as the request's effect
(the project or job row), so a crash leaves either both or neither; a claim whose request died
unfinished is taken over after `LOCK_SECONDS`.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from filmstudio.domain.errors import Conflict, FilmStudioError
from filmstudio.store import idempotency as rows
from filmstudio.store.db import Store

KEEP_SECONDS = 24 * 3600  # answers are replayable for at least this long
LOCK_SECONDS = 60.0  # a request still unfinished after this long is presumed dead


class IdempotencyKeyReused(FilmStudioError):
    code = "IDEMPOTENCY_KEY_REUSED"
    http_status = 422


class IdempotencyKeyInUse(Conflict):
    code = "IDEMPOTENCY_KEY_IN_USE"


@dataclass(frozen=True)
class Claim:
    """This request owns the key; record its answer with `complete` in the effect's transaction."""

    account_id: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class Replay:
    """The key was used before with the same request: answer what was answered then."""

    status: int
    body: str


def fingerprint(method: str, path: str, body: str) -> str:
    """What makes two requests "the same": method, path and the canonical body."""
    return hashlib.sha256(f"{method.upper()}\n{path}\n{body}".encode()).hexdigest()


def begin(store: Store, account_id: str, key: str, fp: str, now: float | None = None) -> Claim | Replay:
    """Claim `key` for this request, or say how the earlier request with it was answered."""
    now = time.time() if now is None else now
    with store.write() as db:
        rows.forget_older(db, now - KEEP_SECONDS)
        row = rows.find_key(db, account_id, key)
        if row is None:
            rows.claim_key(db, account_id, key, fp, now + LOCK_SECONDS, now)
            return Claim(account_id, key, fp)
        stored_fp, state, locked_until, status, body = row
        if stored_fp != fp:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used with a different request; use a new key for a new request",
                details={"idempotency_key": key},
            )
        if state == "done":
            return Replay(int(status), str(body))
        if locked_until is not None and locked_until > now:
            raise IdempotencyKeyInUse(
                "a request with this Idempotency-Key is still being processed; retry shortly",
                details={"idempotency_key": key, "retry_after": max(1, int(locked_until - now))},
            )
        rows.relock_key(db, account_id, key, now + LOCK_SECONDS)
        return Claim(account_id, key, fp)


def complete(db: Any, claim: Claim, status: int, body: str) -> None:
    """Record the answer; call inside the write transaction that made the request's effect."""
    rows.record_answer(db, claim.account_id, claim.key, claim.fingerprint, status, body)


def release(store: Store, claim: Claim) -> None:
    """Forget an unfinished claim (the request failed): the same key may be retried at once."""
    rows.release_key(store, claim.account_id, claim.key)
