"""Per-account request limits: fixed minute and UTC-day windows counted exactly in studio.db."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from filmstudio.domain.errors import FilmStudioError
from filmstudio.store import accounts as account_rows
from filmstudio.store import rate_counters as counter_rows
from filmstudio.store.db import Store

MINUTE = 60
DAY = 86_400

# (per minute, per day); None is unlimited. Enterprise is configured per account (accounts.rate_per_*).
PLAN_LIMITS: dict[str, tuple[int | None, int | None]] = {
    "free": (10, 100),
    "standard": (60, 5_000),
    "pro": (120, 20_000),
    "enterprise": (None, None),
}


# What X-RateLimit-Limit and -Remaining say for an unlimited account: 2**31 - 1, the largest
# integer every client parses, and never counted down. The window is "unlimited".
UNLIMITED = 2**31 - 1


class RateLimited(FilmStudioError):
    code = "RATE_LIMIT_EXCEEDED"
    http_status = 429


@dataclass(frozen=True)
class Limits:
    """An account's request limits; None is unlimited."""

    per_minute: int | None
    per_day: int | None

    @property
    def unlimited(self) -> bool:
        return self.per_minute is None and self.per_day is None


@dataclass(frozen=True)
class Decision:
    """One request's verdict plus the numbers for the X-RateLimit-* headers (the tighter window)."""

    allowed: bool
    window: str
    limit: int
    remaining: int
    reset: int  # epoch seconds when that window starts over
    retry_after: int  # seconds; 0 when allowed

    def headers(self) -> dict[str, str]:
        out = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
               "X-RateLimit-Reset": str(self.reset)}
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after)
        return out


def limits_for(account: dict[str, Any]) -> Limits:
    """The plan's limits, with the account's own overrides (how enterprise limits are configured)."""
    per_minute, per_day = PLAN_LIMITS.get(account["plan"], PLAN_LIMITS["free"])
    if account.get("rate_per_minute") is not None:
        per_minute = int(account["rate_per_minute"])
    if account.get("rate_per_day") is not None:
        per_day = int(account["rate_per_day"])
    return Limits(per_minute, per_day)


def _windows(now: float) -> dict[str, int]:
    return {"minute": int(now // MINUTE) * MINUTE, "day": int(now // DAY) * DAY}


def _counts(db: Any, account_id: str, starts: dict[str, int]) -> dict[str, int]:
    counts = {"minute": 0, "day": 0}
    for window, start, n in counter_rows.counters(db, account_id):
        if start == starts[window]:
            counts[window] = int(n)
    return counts


def unlimited(now: float | None = None) -> Decision:
    """The verdict for an unlimited account: allowed, Limit = Remaining = UNLIMITED, Reset the next minute."""
    now = time.time() if now is None else now
    return Decision(True, "unlimited", UNLIMITED, UNLIMITED, _windows(now)["minute"] + MINUTE, 0)


def hit(store: Store, account_id: str, now: float | None = None) -> Decision:
    """Count one request for `account_id` if a window has room; unlimited accounts count nothing.

    Check and increment happen in one IMMEDIATE transaction, so parallel requests are serialised
    and exactly `limit` of them pass.
    """
    now = time.time() if now is None else now
    starts = _windows(now)
    length = {"minute": MINUTE, "day": DAY}
    account = account_rows.get_account(store, account_id)
    # Unlimited accounts (the owner) cost a read, never the write lock.
    if account is None or limits_for(account).unlimited:
        return unlimited(now)
    with store.write() as db:
        row = account_rows.limits_row(db, account_id)
        assert row is not None  # accounts are never deleted
        limits = limits_for(row)
        if limits.unlimited:  # the plan changed in between
            return unlimited(now)
        counts = _counts(db, account_id, starts)
        caps = {"minute": limits.per_minute, "day": limits.per_day}
        full = [w for w, cap in caps.items() if cap is not None and counts[w] >= cap]
        if full:
            # Blocked until every full window has started over.
            window = max(full, key=lambda w: starts[w] + length[w])
            reset = starts[window] + length[window]
            cap = caps[window]
            assert cap is not None
            return Decision(False, window, cap, 0, reset, max(1, int(reset - now + 0.999)))
        for window, cap in caps.items():
            if cap is None:
                continue
            counter_rows.count_one(db, account_id, window, starts[window])
            counts[window] += 1
    return _tighter(caps, counts, starts, length)


def _tighter(caps: dict[str, int | None], counts: dict[str, int], starts: dict[str, int],
             length: dict[str, int]) -> Decision:
    best: Decision | None = None
    for window in ("minute", "day"):
        cap = caps[window]
        if cap is None:
            continue
        d = Decision(True, window, cap, max(0, cap - counts[window]), starts[window] + length[window], 0)
        if best is None or d.remaining < best.remaining:
            best = d
    assert best is not None
    return best


def usage(store: Store, account_id: str, now: float | None = None) -> dict[str, int]:
    """Requests counted so far in the current minute and UTC day."""
    now = time.time() if now is None else now
    return _counts(store.db, account_id, _windows(now))
