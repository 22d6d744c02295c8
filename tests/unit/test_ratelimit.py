"""Rate limits: exact fixed-window counts, the tighter window in headers, persistence across reopen."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from filmstudio.services import accounts, ratelimit
from filmstudio.store.db import Store
from filmstudio.store.migrations import migrate

T0 = 1_800_000_000.0  # a fixed instant: 2027-01-15T08:00:00Z, 0 s into its minute


def _store(path: Path) -> Store:
    store = Store(path)
    migrate(store)
    return store


def test_plan_defaults_and_overrides(tmp_path: Path) -> None:
    assert ratelimit.PLAN_LIMITS["free"] == (10, 100)
    assert ratelimit.PLAN_LIMITS["standard"] == (60, 5_000)
    assert ratelimit.PLAN_LIMITS["pro"] == (120, 20_000)
    store = _store(tmp_path / "s.db")
    ent = accounts.create_account(store, "ent", plan="enterprise", credits=None)
    # Unlimited unless configured: nothing counted, and headers that say so.
    for _ in range(3):
        free = ratelimit.hit(store, ent.account_id, now=T0)
        assert free.allowed and free.window == "unlimited"
        assert free.limit == free.remaining == ratelimit.UNLIMITED and free.reset > T0
        assert free.headers() == {"X-RateLimit-Limit": "2147483647", "X-RateLimit-Remaining": "2147483647",
                                  "X-RateLimit-Reset": str(free.reset)}
    assert ratelimit.usage(store, ent.account_id, now=T0) == {"minute": 0, "day": 0}
    accounts.set_plan(store, "ent", "enterprise", per_minute=3)
    d = ratelimit.hit(store, ent.account_id, now=T0)
    assert d is not None and (d.limit, d.remaining, d.window) == (3, 2, "minute")


def test_free_plan_minute_then_day_window_exactly(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.db")
    acct = accounts.create_account(store, "f", plan="free")
    verdicts = [ratelimit.hit(store, acct.account_id, now=T0 + i * 0.1) for i in range(15)]
    assert [v.allowed for v in verdicts if v] == [True] * 10 + [False] * 5
    blocked = verdicts[-1]
    assert blocked is not None and blocked.headers()["Retry-After"] == "59"
    assert blocked.reset == int(T0) + 60 and blocked.remaining == 0
    # Ten minutes of ten requests each: the 100/day cap then binds, and it is the tighter window.
    allowed = 10
    for minute in range(1, 12):
        for i in range(10):
            v = ratelimit.hit(store, acct.account_id, now=T0 + minute * 60 + i)
            assert v is not None
            allowed += v.allowed
    assert allowed == 100
    last = ratelimit.hit(store, acct.account_id, now=T0 + 12 * 60)
    assert last is not None and not last.allowed and last.window == "day"
    assert last.reset == (int(T0) // 86_400 + 1) * 86_400


def test_headers_name_the_tighter_window(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.db")
    acct = accounts.create_account(store, "t", plan="enterprise")
    accounts.set_plan(store, "t", "enterprise", per_minute=100, per_day=5)
    d = ratelimit.hit(store, acct.account_id, now=T0)
    assert d is not None and d.window == "day" and d.remaining == 4 and d.headers()["X-RateLimit-Limit"] == "5"


def test_daily_count_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = _store(path)
    acct = accounts.create_account(store, "p", plan="standard")
    for i in range(7):
        ratelimit.hit(store, acct.account_id, now=T0 + 61 * i)
    store.close()
    again = _store(path)
    assert ratelimit.usage(again, acct.account_id, now=T0 + 61 * 7)["day"] == 7
    d = ratelimit.hit(again, acct.account_id, now=T0 + 61 * 7)
    assert d is not None and d.window == "minute" and d.remaining == 59


def test_parallel_hits_are_exact_and_accounts_are_separate(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.db")
    a = accounts.create_account(store, "a", plan="enterprise")
    b = accounts.create_account(store, "b", plan="enterprise")
    accounts.set_plan(store, "a", "enterprise", per_day=37)
    accounts.set_plan(store, "b", "enterprise", per_day=37)

    def one(_: int) -> bool:
        d = ratelimit.hit(store, a.account_id, now=T0)
        assert d is not None
        return d.allowed

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, range(200)))
    assert sum(results) == 37
    d = ratelimit.hit(store, b.account_id, now=T0)
    assert d is not None and d.allowed and d.remaining == 36
