"""How a webhook's secret is kept and turned into its signing key, and where webhooks may be sent.

Shared by the webhook use cases (`webhooks.py`) and the sender (`webhook_sender.py`), which the use
cases call: this leaf keeps the two from importing each other.
"""

from __future__ import annotations

import base64
import binascii

from filmstudio.domain.errors import BadRequest
from filmstudio.services import netpolicy
from filmstudio.services.studio import Studio

SECRET_PREFIX = "whsec_"


def secret_name(webhook_id: str) -> str:
    return f"webhook:{webhook_id}"


def secret_key(secret: str) -> bytes:
    """The HMAC key of a secret as the keyring holds it (`whsec_` + base64; older rows: bare base64)."""
    raw = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("the webhook secret must be whsec_ followed by base64", code="INVALID_WEBHOOK_SECRET") from None
    if not key:
        raise BadRequest("the webhook secret is empty", code="INVALID_WEBHOOK_SECRET")
    return key


def policy(studio: Studio) -> netpolicy.Policy:
    return netpolicy.Policy(loopback_ok=studio.settings.loopback_only, allowed=studio.settings.webhook_allowed_hosts)
