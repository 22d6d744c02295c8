"""/webhooks: register, list, delete, deliveries, test."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from filmstudio.domain.models import DeliveryList, DeliveryPublic, WebhookCreate, WebhookCreated, WebhookList
from filmstudio.server.auth import Caller, StudioDep
from filmstudio.server.routes.common import ERRORS
from filmstudio.services import webhooks

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=ERRORS)


@router.post("", status_code=201, response_model=WebhookCreated)
def create_webhook(body: WebhookCreate, caller: Caller, studio: StudioDep) -> WebhookCreated:
    """Register an endpoint for job events, signed per Standard Webhooks with your secret."""
    return webhooks.create_webhook(studio, caller, body)


@router.get("", response_model=WebhookList)
def list_webhooks(caller: Caller, studio: StudioDep) -> WebhookList:
    """Your endpoints, with why a disabled one was disabled."""
    return webhooks.list_webhooks(studio, caller)


@router.delete("/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: str, caller: Caller, studio: StudioDep) -> Response:
    """Remove an endpoint (pending deliveries are dropped)."""
    webhooks.delete_webhook(studio, caller, webhook_id)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryList)
def list_deliveries(
    webhook_id: str, caller: Caller, studio: StudioDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryList:
    """The latest deliveries to an endpoint, each attempt with status and latency."""
    return webhooks.list_deliveries(studio, caller, webhook_id, limit=limit)


@router.post("/{webhook_id}/test", response_model=DeliveryPublic)
def test_webhook(webhook_id: str, caller: Caller, studio: StudioDep) -> DeliveryPublic:
    """Send a `webhook.test` event now (retried like any other if it fails)."""
    return webhooks.test_webhook(studio, caller, webhook_id)
