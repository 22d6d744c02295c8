"""/account and /auth/token."""

from __future__ import annotations

from fastapi import APIRouter

from filmstudio.domain.models import AccountOverview, TokenIssued
from filmstudio.server.auth import Caller, KeyCaller, StudioDep
from filmstudio.server.routes.common import ERRORS
from filmstudio.services import accounts, tokens

router = APIRouter(responses=ERRORS)


@router.get("/account", response_model=AccountOverview, tags=["account"])
def get_account(caller: Caller, studio: StudioDep) -> AccountOverview:
    """Your plan, its limits, your credit balance, today's usage and the latest ledger rows."""
    return accounts.overview_for(studio.store, caller)


@router.post("/auth/token", response_model=TokenIssued, tags=["auth"])
def issue_token(caller: KeyCaller, studio: StudioDep) -> TokenIssued:
    """Exchange the API key in `Authorization` for a short-lived bearer JWT with the key's scopes."""
    return tokens.issue_token(studio, caller, seconds=studio.settings.token_seconds)
