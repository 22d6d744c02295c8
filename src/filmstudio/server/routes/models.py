"""/models: the model catalogue as this machine sees it, pulls as jobs, removal."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from filmstudio.domain.models import (
    ModelPublic,
    ModelPullAccepted,
    ModelRecommendation,
    ModelSetPull,
    ModelSetPullAccepted,
)
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


@router.get("/recommended", response_model=ModelRecommendation)
def recommended_models(
    caller: Caller, studio: StudioDep,
    language: Annotated[str, Query(pattern=r"^[a-z]{2,3}$", description="Films' language")] = "en",
) -> ModelRecommendation:
    """The set recommended for this machine (voices with women and men readers, the picture model that
    fits, its reference add-on): each model's size and licence, the total, and what the set lacks here."""
    return models.recommended(studio, caller, language)


@router.post("/pull", status_code=202, response_model=ModelSetPullAccepted, responses=CONFLICT)
def pull_models(body: ModelSetPull, caller: Caller, studio: StudioDep) -> ModelSetPullAccepted:
    """Download several models (`models`, or `recommended: true`) as one `model_pull` job (admin scope).

    Poll /jobs/{id}: `progress` and `result.bytes_done`/`bytes_total` cover the whole set, `result.models`
    gives each model's `bytes_done`, `bytes_total` and `state` (waiting, downloading, done, installed).
    Resumable like a single pull.
    """
    return models.start_pull_set(studio, caller, body)


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
