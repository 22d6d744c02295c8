"""Hooks for `schemathesis run` against our server (SCHEMATHESIS_HOOKS=this file).

A real client sends a new Idempotency-Key with each new request; generated keys repeat ("0",
"null") across different bodies, which the server rightly answers 422 IDEMPOTENCY_KEY_REUSED (or
with the replayed answer of an earlier request). A well-formed generated key is replaced by a
fresh one just before the call; malformed ones (empty, too long) are sent as generated, so their
rejection is still tested.
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    headers = case.headers or {}
    for name, value in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) and 1 <= len(value) <= 200:
            headers[name] = uuid.uuid4().hex
