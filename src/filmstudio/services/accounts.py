"""Account use cases: create, list, and the desktop's built-in owner account."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from filmstudio.domain.errors import BadRequest, Conflict, NotFound
from filmstudio.domain.models import (
    PLANS,
    AccountOverview,
    AccountPublic,
    ApiKeyCreated,
    LedgerRow,
    RateLimits,
)
from filmstudio.store import accounts as rows
from filmstudio.store.db import Store, utcnow

if TYPE_CHECKING:  # keys imports this module lazily (ensure_owner); annotations only
    from filmstudio.services.keys import Principal

OWNER = "owner"


def _public(row: dict[str, Any]) -> AccountPublic:
    return AccountPublic(
        account_id=row["id"], name=row["name"], plan=row["plan"], credit_balance=row["credit_balance"],
        created_at=row["created_at"],
    )


def create_account(store: Store, name: str, *, plan: str = "free", credits: int | None = 0) -> AccountPublic:
    """A new account; `credits=None` means unlimited."""
    name = name.strip()
    if not name:
        raise BadRequest("account name must not be empty", code="INVALID_ACCOUNT_NAME")
    if plan not in PLANS:
        raise BadRequest(f"plan must be one of {', '.join(PLANS)}", code="UNKNOWN_PLAN", details={"allowed": list(PLANS)})
    account_id = str(uuid.uuid4())
    row: dict[str, Any] = {"id": account_id, "name": name, "plan": plan, "credit_balance": None, "created_at": utcnow()}
    with store.write() as db:
        if rows.name_taken(db, name):
            raise Conflict(f"an account named {name!r} exists", code="ACCOUNT_EXISTS")
        rows.add_account(db, row)
        if credits is not None:
            rows.start_balance(db, account_id)
            if credits:
                rows.ledger_entry(db, account_id, None, "grant", credits)
    found = rows.get_account(store, account_id)
    assert found is not None
    return _public(found)


def get_account(store: Store, account_id: str) -> AccountPublic:
    row = rows.get_account(store, account_id)
    if row is None:
        raise NotFound("no such account", code="ACCOUNT_NOT_FOUND")
    return _public(row)


def account_by_name(store: Store, name: str) -> AccountPublic:
    row = rows.account_by_name(store, name)
    if row is None:
        raise NotFound(f"no account named {name!r}", code="ACCOUNT_NOT_FOUND")
    return _public(row)


def list_accounts(store: Store) -> list[AccountPublic]:
    return [_public(r) for r in rows.list_accounts(store)]


def owner_account(store: Store) -> AccountPublic:
    """The built-in owner account (enterprise, unlimited credits), made on first use."""
    found = rows.account_by_name(store, OWNER)
    if found is not None:
        return _public(found)
    try:
        return create_account(store, OWNER, plan="enterprise", credits=None)
    except Conflict:  # another process made it first
        return account_by_name(store, OWNER)


def ensure_owner(store: Store) -> ApiKeyCreated | None:
    """Make the owner account and, if it has no key yet, an admin key; return that key once."""
    from filmstudio.services import keys

    owner = owner_account(store)
    if keys.list_keys(store, owner.account_id):
        return None
    return keys.create_key(store, owner.account_id, name="owner admin", scopes=["admin"])


# -- issue #4: plans, grants and the account overview (additive) --------------------------------


def set_plan(store: Store, name_or_id: str, plan: str, *, per_minute: int | None = None,
             per_day: int | None = None) -> AccountPublic:
    """Change an account's plan; `per_minute`/`per_day` override the plan's limits (enterprise)."""
    if plan not in PLANS:
        raise BadRequest(f"plan must be one of {', '.join(PLANS)}", code="UNKNOWN_PLAN", details={"allowed": list(PLANS)})
    for value in (per_minute, per_day):
        if value is not None and value < 1:
            raise BadRequest("limits must be at least 1", code="INVALID_LIMIT")
    row = rows.get_account(store, name_or_id) or rows.account_by_name(store, name_or_id)
    if row is None:
        raise NotFound("no such account", code="ACCOUNT_NOT_FOUND")
    with store.write() as db:
        rows.set_limits(db, row["id"], plan, per_minute, per_day)
    return get_account(store, row["id"])


def grant(store: Store, name_or_id: str, credits: int) -> AccountPublic:
    """Add credits (a ledger 'grant' row); unlimited accounts stay unlimited."""
    if credits < 1:
        raise BadRequest("grant a positive number of credits", code="INVALID_CREDITS")
    row = rows.get_account(store, name_or_id) or rows.account_by_name(store, name_or_id)
    if row is None:
        raise NotFound("no such account", code="ACCOUNT_NOT_FOUND")
    with store.write() as db:
        rows.ledger_entry(db, row["id"], None, "grant", credits)
    return get_account(store, row["id"])


def overview_for(store: Store, principal: Principal) -> AccountOverview:
    """GET /account for an API client's key (a worker key is refused)."""
    principal.require_client()
    return overview(store, principal.account_id)


def overview(store: Store, account_id: str, *, ledger_rows: int = 20) -> AccountOverview:
    """GET /account: plan, limits, balance, requests counted today and the latest ledger rows."""
    from filmstudio.services import ratelimit

    row = rows.get_account(store, account_id)
    if row is None:
        raise NotFound("no such account", code="ACCOUNT_NOT_FOUND")
    limits = ratelimit.limits_for(row)
    ledger = rows.latest_ledger(store, account_id, ledger_rows)
    used = ratelimit.usage(store, account_id)
    return AccountOverview(
        account_id=row["id"], name=row["name"], plan=row["plan"],
        limits=RateLimits(per_minute=limits.per_minute, per_day=limits.per_day),
        credit_balance=row["credit_balance"],
        usage_today={"requests": used["day"], "requests_this_minute": used["minute"],
                     "credits_spent": _spent_today(store, account_id)},
        ledger=[LedgerRow(**r) for r in ledger],
    )


def _spent_today(store: Store, account_id: str) -> int:
    return rows.spent_since(store, account_id, utcnow()[:10])
