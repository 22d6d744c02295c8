"""/models: the model catalogue as this machine sees it, pulls as jobs, removal."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from filmstudio.domain.models import ModelPublic, ModelPullAccepted
from filmstudio.server.auth import Caller, StudioDep
from filmstudio.server.routes.common import CONFLICT, ERRORS
from filmstudio.services import models

router = APIRouter(prefix="/models", tags=["models"], responses=ERRORS)


@router.get("", response_model=list[ModelPublic])
def list_models(
    caller: Caller, studio: StudioDep,
    kind: Annotated[Literal["voice", "picture", "translation", "video", "writer"] | None, Query()] = None,
) -> list[ModelPublic]:
    """Every model the studio can download: size, licence, installed, and whether it fits this machine."""
    return models.list_models(studio, caller, kind)


@router.get("/{model_id}", response_model=ModelPublic)
def get_model(model_id: str, caller: Caller, studio: StudioDep) -> ModelPublic:
    """One catalogue model."""
    return models.get_model(studio, caller, model_id)


@router.post("/{model_id}/pull", status_code=202, response_model=ModelPullAccepted, responses=CONFLICT)
def pull_model(model_id: str, caller: Caller, studio: StudioDep) -> ModelPullAccepted:
    """Download a model as a `model_pull` job (admin scope): poll /jobs/{id} for progress and bytes per second.

    Resumable: a cancelled, failed or killed pull continues from the bytes already on disk.
    """
    return models.start_pull(studio, caller, model_id)


@router.delete("/{model_id}", status_code=204)
def remove_model(model_id: str, caller: Caller, studio: StudioDep) -> Response:
    """Delete an installed model's files (admin scope)."""
    models.remove_model(studio, caller, model_id)
    return Response(status_code=204)
