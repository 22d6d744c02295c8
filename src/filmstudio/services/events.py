"""The webhook outbox writer: job state changes become delivery rows in the same transaction."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from filmstudio.store import webhooks as hook_rows
from filmstudio.store.db import utcnow

EVENTS: tuple[str, ...] = ("job.queued", "job.started", "job.completed", "job.failed", "job.cancelled")


def payload(message_id: str, event: str, timestamp: str, data: dict[str, Any]) -> str:
    """The JSON body every endpoint receives for one event (identical on every retry)."""
    return json.dumps({"id": message_id, "event": event, "timestamp": timestamp, "data": data},
                      separators=(",", ":"))


def emit(
    db: Any, account_id: str, event: str, job_id: str, project_id: str | None, status: str,
    output_url: str | None = None, *, kind: str = "render", result: dict[str, Any] | None = None,
) -> list[str]:
    """Queue `event` for every active endpoint of the account subscribed to it; return the message ids.

    Call inside the write transaction that changes the job, so the event exists iff the change does.
    """
    hooks = hook_rows.active_subscriptions(db, account_id)
    now_iso, now = utcnow(), time.time()
    data: dict[str, Any] = {"job_id": job_id, "project_id": project_id, "status": status, "output_url": output_url,
                            "kind": kind}
    if result:
        data["result"] = result
    made = []
    for hook_id, subscribed in hooks:
        if event not in json.loads(subscribed):
            continue
        message_id = f"msg_{uuid.uuid4().hex}"
        hook_rows.add_delivery(db, message_id, hook_id, event, payload(message_id, event, now_iso, data), now_iso, now)
        made.append(message_id)
    return made
