"""OpenAPI response docs shared by the routers."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel

from filmstudio.domain.models import ErrorEnvelope

_E = {"model": ErrorEnvelope}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_E, "description": "Invalid parameters; `details.errors` lists the failing fields"},
    401: {**_E, "description": "Missing, invalid, revoked or expired API key"},
    403: {**_E, "description": "The key lacks the scope, or the address is not allowed"},
    404: {**_E, "description": "No such object in your account"},
}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {**_E, "description": "The project is rendering"}}


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    """Serialise a response model once, straight to JSON bytes (the hot polling paths).

    FastAPI would otherwise re-validate the model and go through a dict and json.dumps.
    """
    return Response(model.model_dump_json().encode(), status_code=status_code, media_type="application/json")
