"""Webhook endpoints: register (secret to the keyring), list, delete, deliveries, test event."""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from typing import Any

from filmstudio.domain.errors import BadRequest, FilmStudioError, NotFound
from filmstudio.domain.models import (
    DeliveryAttempt,
    DeliveryList,
    DeliveryPublic,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookPublic,
    webhook_secret_bytes,
)
from filmstudio.services import events, netpolicy
from filmstudio.services.keys import Principal
from filmstudio.services.studio import Studio
from filmstudio.services.webhook_secrets import SECRET_PREFIX, policy, secret_name
from filmstudio.services.webhook_sender import WebhookSender
from filmstudio.store import webhooks as hook_rows
from filmstudio.store.db import utcnow

MAX_WEBHOOKS = 20


def stored_secret(given: str) -> str:
    """The keyring form of a registered secret: always `whsec_` + base64 of the HMAC key.

    A plain secret's key is its UTF-8 bytes, so receivers verify with the secret as they chose it
    (`standardwebhooks.Webhook(secret.encode())`); a `whsec_` secret is kept as it is.
    """
    return SECRET_PREFIX + base64.b64encode(webhook_secret_bytes(given)).decode()


def _public(row: dict[str, Any]) -> WebhookPublic:
    return WebhookPublic(webhook_id=row["id"], url=row["url"], events=json.loads(row["events"]), status=row["status"],
                         disabled_reason=row["disabled_reason"], created_at=row["created_at"])


def _owned(studio: Studio, principal: Principal, webhook_id: str) -> dict[str, Any]:
    row = hook_rows.live_webhook(studio.store, webhook_id)
    if row is None or row["account_id"] != principal.account_id:
        raise NotFound("no such webhook", code="WEBHOOK_NOT_FOUND")
    return row


def create_webhook(studio: Studio, principal: Principal, data: WebhookCreate) -> WebhookCreated:
    """Register an endpoint; the URL is checked now (literally) and again, resolved, on every delivery."""
    principal.require("webhooks")
    netpolicy.check_url(data.url, policy(studio))
    made = None
    if data.secret is None:
        made = SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()
    secret = stored_secret(data.secret or made or "")
    webhook_id = str(uuid.uuid4())
    now = utcnow()
    events_json = json.dumps(sorted(set(data.events)))
    put = getattr(studio.secrets, "put", None)
    if put is None:
        raise FilmStudioError("this secret store cannot hold webhook secrets", code="KEYRING_UNAVAILABLE",
                              http_status=503)
    put(secret_name(webhook_id), secret)
    with studio.store.write() as db:
        if hook_rows.count_live_webhooks(db, principal.account_id) >= MAX_WEBHOOKS:
            raise BadRequest(f"an account may register at most {MAX_WEBHOOKS} webhooks", code="TOO_MANY_WEBHOOKS")
        hook_rows.add_webhook(db, webhook_id, principal.account_id, data.url.strip(), events_json, now,
                              secret_name(webhook_id))
    return WebhookCreated(webhook_id=webhook_id, url=data.url.strip(), events=json.loads(events_json),
                          created_at=now, secret=made)


def list_webhooks(studio: Studio, principal: Principal) -> WebhookList:
    principal.require("webhooks")
    found = hook_rows.live_webhooks(studio.store, principal.account_id)
    return WebhookList(webhooks=[_public(r) for r in found])


def delete_webhook(studio: Studio, principal: Principal, webhook_id: str) -> None:
    """Stop deliveries now and drop the secret; delivery history stays."""
    principal.require("webhooks")
    _owned(studio, principal, webhook_id)
    now = utcnow()
    with studio.store.write() as db:
        hook_rows.delete_webhook(db, webhook_id, now)
    delete = getattr(studio.secrets, "delete", None)
    if delete is not None:
        delete(secret_name(webhook_id))


def list_deliveries(studio: Studio, principal: Principal, webhook_id: str, *, limit: int = 50) -> DeliveryList:
    """The latest deliveries with every attempt (status code, error, latency)."""
    principal.require("webhooks")
    _owned(studio, principal, webhook_id)
    rows = hook_rows.latest_deliveries(studio.store, webhook_id, max(1, min(limit, 200)))
    out = []
    for r in rows:
        attempts = hook_rows.attempts_of(studio.store, r["id"])
        out.append(DeliveryPublic(
            delivery_id=r["id"], event=r["event"], status=r["status"], attempts=r["attempts"],
            next_attempt_at=r["next_attempt_at"] if r["status"] == "pending" else None,
            last_status_code=r["last_status_code"], last_error=r["last_error"], created_at=r["created_at"],
            attempt_log=[DeliveryAttempt(attempt=a["attempt"], status_code=a["status_code"], error=a["error"],
                                         latency_ms=a["latency_ms"], created_at=a["created_at"]) for a in attempts],
        ))
    return DeliveryList(deliveries=out)


def test_webhook(studio: Studio, principal: Principal, webhook_id: str) -> DeliveryPublic:
    """Queue a `webhook.test` event to this endpoint and try it once right away."""
    principal.require("webhooks")
    row = _owned(studio, principal, webhook_id)
    if row["status"] != "active":
        raise BadRequest(f"the webhook is disabled: {row['disabled_reason']}", code="WEBHOOK_DISABLED")
    message_id = f"msg_{uuid.uuid4().hex}"
    now_iso = utcnow()
    data = {"job_id": None, "project_id": None, "status": "test", "output_url": None}
    with studio.store.write() as db:
        hook_rows.add_delivery(db, message_id, webhook_id, "webhook.test",
                               events.payload(message_id, "webhook.test", now_iso, data), now_iso, time.time())
    WebhookSender(studio).deliver(message_id)
    found = [d for d in list_deliveries(studio, principal, webhook_id, limit=200).deliveries
             if d.delivery_id == message_id]
    return found[0]
