"""Issue #4 against a live server: rate limits, credits, idempotency, mass assignment, JWT, batch, /account."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from filmstudio.domain.models import ProjectCreate
from filmstudio.services import accounts, idempotency, keys
from integration.conftest_server import SCRIPT, SMALL, LiveServer, live_server, server_settings, wait_job


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # workers=0: accepted jobs stay queued, so credits and cancels are deterministic.
    with live_server(server_settings(tmp_path_factory.mktemp("depth"), workers=0)) as live:
        yield live


def _project(c: httpx.Client, **settings: object) -> str:
    r = c.post("/projects", json={"title": "t", "script": SCRIPT, "settings": {**SMALL, **settings}})
    assert r.status_code == 201, r.text
    return str(r.json()["project_id"])


def _error(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    return dict(body["error"])


def test_rate_limit_exact_under_a_200_request_burst(server: LiveServer) -> None:
    store = server.parts.studio.store
    burst = server.new_key("burst", plan="enterprise")
    calm = server.new_key("calm", plan="enterprise")
    accounts.set_plan(store, "burst", "enterprise", per_day=37)
    accounts.set_plan(store, "calm", "enterprise", per_day=37)
    limits = httpx.Limits(max_connections=50)
    with server.client(burst, limits=limits) as c, ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda _: c.get("/account"), range(200)))
    ok = [r for r in answers if r.status_code == 200]
    limited = [r for r in answers if r.status_code == 429]
    assert len(ok) == 37 and len(limited) == 163
    assert sorted(int(r.headers["X-RateLimit-Remaining"]) for r in ok) == list(range(37))
    for r in limited:
        _error(r, 429, "RATE_LIMIT_EXCEEDED")
        assert int(r.headers["Retry-After"]) >= 1 and r.headers["X-RateLimit-Remaining"] == "0"
        assert int(r.headers["X-RateLimit-Reset"]) > time.time()
    with server.client(calm) as c:  # another account's burst does not touch this one
        r = c.get("/account")
        assert r.status_code == 200 and r.headers["X-RateLimit-Remaining"] == "36"
        assert r.json()["usage_today"]["requests"] == 1


def test_free_plan_ten_per_minute_with_headers(server: LiveServer) -> None:
    if time.time() % 60 > 45:  # keep the dozen requests inside one minute window
        time.sleep(61 - time.time() % 60)
    key = server.new_key("freebie", plan="free")
    with server.client(key) as c:
        answers = [c.get("/projects") for _ in range(12)]
    assert [r.status_code for r in answers] == [200] * 10 + [429] * 2
    assert answers[0].headers["X-RateLimit-Limit"] == "10" and answers[0].headers["X-RateLimit-Remaining"] == "9"
    assert int(answers[-1].headers["Retry-After"]) <= 60


def test_cli_creates_sets_plan_and_grants(server: LiveServer, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from filmstudio.cli_studio import main

    monkeypatch.setenv("FILMSTUDIO_HOME", str(server.parts.settings.home))
    assert main(["accounts", "create", "cli-acct", "--plan", "standard", "--credits", "100"]) == 0
    assert main(["accounts", "set-plan", "cli-acct", "enterprise", "--per-minute", "500"]) == 0
    assert main(["accounts", "grant", "cli-acct", "5"]) == 0
    out = capsys.readouterr().out
    assert "500/minute" in out and "credits=105" in out
    made = accounts.account_by_name(server.parts.studio.store, "cli-acct")
    assert made.plan == "enterprise" and made.credit_balance == 105


def test_credits_20_parallel_generates_accept_exactly_k_then_refund_once(server: LiveServer) -> None:
    key = server.new_key("spender", credits=3 * 2)  # 30 s films cost 2 credits: room for k = 3
    with server.client(key) as c:
        pids = [_project(c, duration=30) for _ in range(20)]
        created = c.post("/projects", json={"title": "t", "script": SCRIPT, "settings": {**SMALL, "duration": 60}})
        assert created.json()["estimated_credits"] == 3  # ceil(60 / 20)
        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(lambda p: c.post(f"/projects/{p}/generate"), pids))
        accepted = [r.json() for r in answers if r.status_code == 202]
        assert len(accepted) == 3 and all(a["credits_deducted"] == 2 for a in accepted)
        for r in answers:
            if r.status_code != 202:
                err = _error(r, 402, "INSUFFICIENT_CREDITS")
                assert err["details"]["required"] == 2 and err["details"]["available"] in (0, 2, 4)
        account = c.get("/account").json()
        assert account["credit_balance"] == 0 and account["plan"] == "enterprise"
        assert [row["kind"] for row in account["ledger"]][:3] == ["deduct"] * 3
        job = accepted[0]["job_id"]
        assert c.post(f"/jobs/{job}/cancel").json()["status"] == "cancelled"
        _error(c.post(f"/jobs/{job}/cancel"), 409, "JOB_FINISHED")
        account = c.get("/account").json()
    assert account["credit_balance"] == 2
    store = server.parts.studio.store
    rows = store.all("SELECT kind, amount FROM credit_ledger WHERE job_id = ?", [job])
    assert sorted((r["kind"], r["amount"]) for r in rows) == [("deduct", 2), ("refund", 2)]
    acct = accounts.account_by_name(store, "spender")
    total = store.one("SELECT SUM(CASE kind WHEN 'deduct' THEN -amount ELSE amount END) AS s FROM credit_ledger "
                      "WHERE account_id = ?", [acct.account_id])
    assert total is not None and total["s"] == acct.credit_balance == 2


def test_idempotency_replay_mismatch_and_in_flight(server: LiveServer) -> None:
    key = server.new_key("idem", credits=10)
    with server.client(key) as c:
        body = {"title": "once", "script": SCRIPT, "settings": SMALL}
        first = c.post("/projects", json=body, headers={"Idempotency-Key": "p-1"})
        again = c.post("/projects", json=body, headers={"Idempotency-Key": "p-1"})
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first.headers
        assert c.get("/projects").json()["total_count"] == 1
        _error(c.post("/projects", json={**body, "title": "other"}, headers={"Idempotency-Key": "p-1"}),
               422, "IDEMPOTENCY_KEY_REUSED")
        pid = first.json()["project_id"]
        gen = c.post(f"/projects/{pid}/generate", headers={"Idempotency-Key": "g-1"})
        replay = c.post(f"/projects/{pid}/generate", headers={"Idempotency-Key": "g-1"})
        assert gen.status_code == replay.status_code == 202 and replay.json() == gen.json()
        assert replay.headers["Idempotent-Replayed"] == "true"
        _error(c.post(f"/projects/{pid}/generate", json={"settings": {"duration": 40}},
                      headers={"Idempotency-Key": "g-1"}), 422, "IDEMPOTENCY_KEY_REUSED")
        assert c.get("/account").json()["credit_balance"] == 9  # charged once
        assert c.get("/jobs").json()["total_count"] == 1
        # A request still being processed with the key: 409 until it finishes.
        who = keys.authenticate(server.parts.studio.store, key, None)
        canonical = ProjectCreate.model_validate(body).model_dump_json()
        fp = idempotency.fingerprint("POST", "/api/v1/projects", canonical)
        claim = idempotency.begin(server.parts.studio.store, who.account_id, "p-2", fp)
        assert isinstance(claim, idempotency.Claim)
        _error(c.post("/projects", json=body, headers={"Idempotency-Key": "p-2"}), 409, "IDEMPOTENCY_KEY_IN_USE")
        # A failed request does not burn its key.
        poor = c.post("/projects", json={**body, "settings": {"duration": 0}}, headers={"Idempotency-Key": "p-3"})
        assert poor.status_code == 400


def test_parallel_same_key_creates_one_project(server: LiveServer) -> None:
    key = server.new_key("race")
    body = {"title": "race", "script": SCRIPT, "settings": SMALL}
    with server.client(key) as c, ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: c.post("/projects", json=body, headers={"Idempotency-Key": "r"}), range(10)))
        assert {r.status_code for r in answers} <= {201, 409}
        ids = {r.json()["project_id"] for r in answers if r.status_code == 201}
        assert len(ids) == 1 and c.get("/projects").json()["total_count"] == 1


def test_mass_assignment_and_oversized_bodies(server: LiveServer) -> None:
    key = server.new_key("mass", credits=5)
    with server.client(key) as c:
        for extra in ({"status": "completed"}, {"credits": 1000}, {"account_id": "someone-else"}):
            r = c.post("/projects", json={"title": "t", "script": SCRIPT, **extra})
            assert r.status_code == 400 and r.json()["error"]["code"] == "UNKNOWN_FIELD", r.text
        pid = _project(c)
        for extra in ({"status": "completed"}, {"account_id": "x"}):
            assert c.patch(f"/projects/{pid}", json=extra).status_code == 400
        assert c.post(f"/projects/{pid}/generate", json={"credits": 0}).status_code == 400
        r = c.post("/webhooks", json={"url": "http://127.0.0.1:9/h", "events": ["job.queued"], "account_id": "x"})
        assert r.status_code in (400, 403)
        big = c.post("/projects", content=b'{"title": "' + b"x" * 70_000 + b'"}',
                     headers={"content-type": "application/json"})
        _error(big, 413, "PAYLOAD_TOO_LARGE")
        batch = c.post("/projects/batch", json={"projects": [{"title": "t", "script": SCRIPT}] * 101})
        assert batch.status_code == 400
        assert c.get("/account").json()["credit_balance"] == 5


def test_jwt_exchange_use_and_revocation(server: LiveServer) -> None:
    store = server.parts.studio.store
    key = server.new_key("jwt", scopes=["projects:read"])
    with server.client(key) as c:
        issued = c.post("/auth/token")
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == server.parts.settings.token_seconds
    token = body["access_token"]
    with server.client(token) as t:
        assert t.get("/projects").status_code == 200
        _error(t.post("/projects", json={"title": "t", "script": SCRIPT}), 403, "INSUFFICIENT_SCOPE")
        _error(t.post("/auth/token"), 401, "INVALID_API_KEY")  # no token for a token
    with server.client(token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")) as bad:
        _error(bad.get("/projects"), 401, "INVALID_TOKEN")
    keys.revoke_key(store, key[: len(keys.KEY_PREFIX) + 12])
    with server.client(token) as t:
        _error(t.get("/projects"), 401, "API_KEY_REVOKED")


def test_expired_token_refused(server: LiveServer) -> None:
    from filmstudio.services import tokens

    key = server.new_key("jwt-exp")
    who = keys.authenticate(server.parts.studio.store, key, None)
    old = tokens.issue_token(server.parts.studio, who, seconds=-30).access_token
    with server.client(old) as t:
        _error(t.get("/projects"), 401, "TOKEN_EXPIRED")


def test_batch_partial_success_and_credits_per_item(server: LiveServer) -> None:
    key = server.new_key("batcher", credits=2)
    with server.client(key) as c:
        items = [{"title": f"b{i}", "script": SCRIPT, "settings": SMALL} for i in range(3)]
        items.insert(1, {"title": "", "script": SCRIPT})
        items.append({"title": "x", "script": SCRIPT, "status": "completed"})
        r = c.post("/projects/batch", json={"projects": items}, headers={"Idempotency-Key": "b-1"})
        assert r.status_code == 200, r.text
        res = r.json()
        assert [i["status"] for i in res["results"]] == [201, 400, 201, 201, 400]
        assert res["succeeded"] == 3 and res["failed"] == 2
        assert res["results"][1]["error"]["code"] == "VALIDATION_ERROR"
        replay = c.post("/projects/batch", json={"projects": items}, headers={"Idempotency-Key": "b-1"})
        assert replay.json() == res and replay.headers["Idempotent-Replayed"] == "true"
        pids = [i["project"]["project_id"] for i in res["results"] if i["project"]]
        gen = c.post("/projects/batch/generate", json={"project_ids": [*pids, "nope"]}).json()
        assert [i["status"] for i in gen["results"]] == [202, 202, 402, 404]
        assert gen["results"][2]["error"]["code"] == "INSUFFICIENT_CREDITS"
        assert gen["results"][2]["error"]["details"] == {"required": 1, "available": 0}
        assert c.get("/account").json()["credit_balance"] == 0


def test_account_needs_auth_and_shows_limits(server: LiveServer) -> None:
    with server.client() as anon:
        _error(anon.get("/account"), 401, "MISSING_API_KEY")
    key = server.new_key("shower", plan="standard", credits=7)
    with server.client(key) as c:
        r = c.get("/account")
    body = r.json()
    assert body["limits"] == {"per_minute": 60, "per_day": 5000} and body["credit_balance"] == 7
    assert body["ledger"][0]["kind"] == "grant" and body["ledger"][0]["amount"] == 7
    assert r.headers["X-RateLimit-Limit"] == "60"


@pytest.mark.slow
def test_failed_job_refunds_exactly_once_with_a_worker(tmp_path: Path) -> None:
    from filmstudio.domain.errors import RenderFailed
    from integration.conftest_server import FakeRenderer

    with live_server(server_settings(tmp_path / "s"), renderer=FakeRenderer(fail_with=RenderFailed("boom"))) as live:
        key = live.new_key("refund", credits=1)
        with live.client(key) as c:
            pid = _project(c)
            job = c.post(f"/projects/{pid}/generate").json()["job_id"]
            assert wait_job(c, job)["status"] == "failed"
            account = c.get("/account").json()
    assert account["credit_balance"] == 1
    assert sorted(r["kind"] for r in account["ledger"]) == ["deduct", "grant", "refund"]


def test_huge_page_numbers_are_a_400_not_a_crash(server: LiveServer) -> None:
    # Found by schemathesis: page=5645158326938095616 overflowed SQLite's OFFSET into a 500.
    key = server.new_key("pager")
    with server.client(key) as c:
        for path in ("/jobs", "/projects"):
            r = c.get(path, params={"page": 5645158326938095616})
            _error(r, 400, "VALIDATION_ERROR")


def test_idempotency_claims_expire_and_answers_are_kept_a_day(server: LiveServer) -> None:
    store = server.parts.studio.store
    who = keys.authenticate(store, server.new_key("keeper"), None)
    t0 = time.time()
    claim = idempotency.begin(store, who.account_id, "k", "fp", now=t0)
    assert isinstance(claim, idempotency.Claim)
    with pytest.raises(idempotency.IdempotencyKeyInUse):
        idempotency.begin(store, who.account_id, "k", "fp", now=t0 + 1)
    # The first request died without an answer: after the lock it may be retried (nothing was done).
    again = idempotency.begin(store, who.account_id, "k", "fp", now=t0 + idempotency.LOCK_SECONDS + 1)
    assert isinstance(again, idempotency.Claim)
    with store.write() as db:
        idempotency.complete(db, again, 201, '{"ok": true}')
    later = idempotency.begin(store, who.account_id, "k", "fp", now=t0 + 23.9 * 3600)
    assert later == idempotency.Replay(201, '{"ok": true}')
    fresh = idempotency.begin(store, who.account_id, "k", "other", now=t0 + idempotency.KEEP_SECONDS + 1)
    assert isinstance(fresh, idempotency.Claim)  # forgotten after the retention period
