"""The webhook outbox writer: job state changes become delivery rows in the same transaction."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

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
    hooks = db.execute(
        "SELECT id, events FROM webhooks WHERE account_id = ? AND status = 'active' AND deleted_at IS NULL",
        [account_id],
    ).fetchall()
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
        db.execute(
            """INSERT INTO webhook_deliveries (id, webhook_id, event, payload, status, attempts, next_attempt_at,
                   due_at, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)""",
            [message_id, hook_id, event, payload(message_id, event, now_iso, data), now_iso, now, now_iso, now_iso],
        )
        made.append(message_id)
    return made
