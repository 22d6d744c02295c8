"""Sending the webhook outbox: lease a due delivery, sign it, POST it, log the attempt, reschedule.

At-least-once: a sender killed mid-delivery leaves the row leased; when the lease runs out another
sender sends it again with the same message id (receivers deduplicate on `webhook-id`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from filmstudio.domain.errors import FilmStudioError
from filmstudio.services import netpolicy
from filmstudio.services.studio import Studio
from filmstudio.services.webhook_secrets import policy, secret_key, secret_name
from filmstudio.store import webhooks as hook_rows
from filmstudio.store.db import utcnow

log = logging.getLogger(__name__)

# Seconds to wait before attempt n+1 after attempt n failed (Standard Webhooks' reference schedule):
# now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — about 27.6 hours in all, each +-20 % jitter.
SCHEDULE: tuple[int, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
JITTER = 0.2
LEASE_SECONDS = 60.0  # the default; Studio.webhook_lease_seconds decides


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    latency_ms: float


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed with the registered secret."""
    mac = hmac.new(secret_key(secret), f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def next_delay(attempts: int, rng: Callable[[], float] = random.random) -> float | None:
    """Seconds until the next try after `attempts` failed ones, or None when the schedule is spent."""
    if attempts >= len(SCHEDULE):
        return None
    base = SCHEDULE[attempts]
    return base * (1 + JITTER * (2 * rng() - 1))


def http_post(target: netpolicy.Target, headers: dict[str, str], body: bytes, timeout: float) -> int:
    """POST to the checked address (no new DNS lookup, no proxies, no redirects)."""
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    with httpx.Client(follow_redirects=False, trust_env=False, timeout=timeout) as client:
        r = client.post(target.connect_url, content=body, headers={**headers, "Host": target.host_header},
                        extensions=extensions)
        return r.status_code


class WebhookSender:
    """Delivers due outbox rows; `clock`, `rng`, `resolver` and `post` are swappable for tests."""

    def __init__(
        self,
        studio: Studio,
        *,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
        resolver: netpolicy.Resolver = netpolicy.system_resolver,
        post: Callable[[netpolicy.Target, dict[str, str], bytes, float], int] = http_post,
        interval: float = 0.5,
        owner: str | None = None,
    ) -> None:
        self.studio = studio
        self.clock = clock
        self.rng = rng
        self.resolver = resolver
        self.post = post
        self.interval = interval
        self.owner = owner or f"sender-{random.getrandbits(32):08x}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one delivery ---------------------------------------------------------------------------

    def _claim(self, delivery_id: str) -> dict[str, Any] | None:
        now = self.clock()
        with self.studio.store.write() as db:
            if not hook_rows.lease_delivery(db, delivery_id, now, now + self.studio.settings.webhook_lease_seconds):
                return None
        return hook_rows.delivery_with_endpoint(self.studio.store, delivery_id)

    def deliver(self, delivery_id: str) -> bool:
        """Try one delivery if it is due and unleased; True if this call attempted it."""
        row = self._claim(delivery_id)
        if row is None:
            return False
        if row["hook_status"] != "active" or row["deleted_at"]:
            self._finish(row, "abandoned", None, "the endpoint is disabled or deleted", log_attempt=False)
            return True
        outcome = self._attempt(row)
        attempts = row["attempts"] + 1
        self._log(row["id"], attempts, outcome)
        code = outcome.status_code
        if code is not None and 200 <= code < 300:
            self._finish(row, "delivered", code, None)
        elif code == 410:
            self._finish(row, "abandoned", code, "the endpoint answered 410 Gone")
            self._disable(row["webhook_id"], "the endpoint answered 410 Gone")
        else:
            error = outcome.error or f"HTTP {code}" + (" (redirects are not followed)" if code and 300 <= code < 400
                                                     else "")
            delay = next_delay(attempts, self.rng)
            if delay is None:
                self._finish(row, "failed", code, error)
                self._disable(row["webhook_id"], f"{attempts} attempts over the retry schedule failed; last: {error}")
            else:
                self._reschedule(row, attempts, code, error, delay)
        return True

    def _attempt(self, row: dict[str, Any]) -> Outcome:
        started = time.monotonic()

        def done(code: int | None, error: str | None) -> Outcome:
            return Outcome(code, error, round((time.monotonic() - started) * 1000, 3))

        try:
            target = netpolicy.check_url(row["url"], policy(self.studio), self.resolver)
            assert target is not None
            get = getattr(self.studio.secrets, "get", None)
            secret = get(secret_name(row["webhook_id"])) if get else None
            if secret is None:
                return done(None, "the endpoint's secret is missing from the keyring")
            stamp = int(time.time())  # the real send time: receivers check it against their clock
            headers = {
                "content-type": "application/json", "user-agent": "FilmStudio-Webhooks/1",
                "webhook-id": row["id"], "webhook-timestamp": str(stamp),
                "webhook-signature": sign(secret, row["id"], stamp, row["payload"]),
            }
            code = self.post(target, headers, row["payload"].encode(), self.studio.settings.webhook_timeout_seconds)
            return done(code, None)
        except FilmStudioError as exc:
            return done(None, f"{exc.code}: {exc.message}")
        except httpx.HTTPError as exc:
            return done(None, f"{type(exc).__name__}: {exc}")

    def _log(self, delivery_id: str, attempt: int, outcome: Outcome) -> None:
        with self.studio.store.write() as db:
            hook_rows.add_attempt(db, delivery_id, attempt, outcome.status_code, outcome.error, outcome.latency_ms,
                                  utcnow())

    def _finish(self, row: dict[str, Any], status: str, code: int | None, error: str | None,
                *, log_attempt: bool = True) -> None:
        with self.studio.store.write() as db:
            hook_rows.finish_delivery(db, row["id"], status, log_attempt, code, error, utcnow())

    def _reschedule(self, row: dict[str, Any], attempts: int, code: int | None, error: str, delay: float) -> None:
        due = self.clock() + delay
        with self.studio.store.write() as db:
            hook_rows.reschedule_delivery(db, row["id"], attempts, code, error, due, _iso(due), utcnow())

    def _disable(self, webhook_id: str, reason: str) -> None:
        with self.studio.store.write() as db:
            hook_rows.disable_webhook(db, webhook_id, reason, utcnow())

    # -- the loop -------------------------------------------------------------------------------

    def run_due(self, limit: int = 50) -> int:
        """Attempt every due, unleased delivery (oldest first); return how many were attempted."""
        now = self.clock()
        return sum(1 for delivery_id in hook_rows.due_deliveries(self.studio.store, now, limit)
                   if self.deliver(delivery_id))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="filmstudio-webhooks", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    self.run_due()
                except Exception:
                    log.exception("webhook delivery pass failed")
        finally:
            self.studio.store.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
