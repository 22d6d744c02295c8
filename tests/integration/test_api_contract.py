"""The public API reference kept as written (issue 10): headers, scopes, secrets, edge input, files."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from filmstudio.services import accounts, keys
from integration.conftest_server import SCRIPT, SMALL, LiveServer, live_server, server_settings, wait_job


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(server_settings(tmp_path_factory.mktemp("contract"))) as live:
        yield live


def _code(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.json()["error"]["code"]


def _key(server: LiveServer, account: str, **kw: Any) -> str:
    return server.new_key(account, credits=100, **kw)


def test_a_default_key_reaches_every_documented_endpoint(server: LiveServer) -> None:
    """`filmstudio keys create --name x` (no --scope) makes keys.DEFAULT_SCOPES: the reference's endpoints."""
    key = _key(server, "defaults")
    with server.client(key) as c:
        created = c.post("/projects", json={"title": "My Video", "script": SCRIPT, "settings": SMALL})
        assert created.status_code == 201, created.text
        pid = created.json()["project_id"]
        assert c.get(f"/projects/{pid}").status_code == 200
        assert c.get("/projects", params={"page": 1, "per_page": 20, "status": "draft"}).status_code == 200
        job = c.post(f"/projects/{pid}/generate", json={"settings": {"duration": 8}})
        assert job.status_code == 202, job.text
        assert c.get(f"/jobs/{job.json()['job_id']}").status_code == 200
        hook = c.post("/webhooks", json={"url": "http://127.0.0.1:9/webhook", "events": ["job.completed", "job.failed"],
                                         "secret": "your_webhook_secret"})
        assert hook.status_code == 201, hook.text
        assert c.get("/webhooks").status_code == 200
        assert c.get("/account").status_code == 200
        wait_job(c, job.json()["job_id"])


def test_narrower_keys_stay_possible(server: LiveServer) -> None:
    key = _key(server, "narrow", scopes=["projects:read"])
    with server.client(key) as c:
        assert c.get("/projects").status_code == 200
        r = c.post("/webhooks", json={"url": "http://127.0.0.1:9/h", "events": ["job.failed"]})
        assert _code(r) == (403, "INSUFFICIENT_SCOPE")


def test_a_worker_key_cannot_read_the_account_or_mint_tokens(server: LiveServer) -> None:
    key = _key(server, "farm", scopes=["worker"])
    with server.client(key) as c:
        assert _code(c.get("/account")) == (403, "INSUFFICIENT_SCOPE")
        assert _code(c.post("/auth/token")) == (403, "INSUFFICIENT_SCOPE")
        assert _code(c.get("/projects")) == (403, "INSUFFICIENT_SCOPE")
    # A client key still can, and its token works.
    with server.client(_key(server, "farm")) as c:
        assert c.get("/account").status_code == 200
        token = c.post("/auth/token").json()["access_token"]
    assert httpx.get(f"{server.api}/account", headers={"Authorization": f"Bearer {token}"}).status_code == 200


RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


@pytest.mark.parametrize("plan", ["owner", "free", "standard", "pro", "enterprise", "enterprise-custom"])
def test_rate_limit_headers_on_every_authenticated_answer(server: LiveServer, plan: str) -> None:
    store = server.parts.studio.store
    if plan == "owner":
        account = accounts.owner_account(store)
        key = keys.create_key(store, account.account_id, name="owner-test", scopes=["admin"]).secret
    else:
        key = server.new_key(f"rl-{plan}", plan=plan.split("-")[0])
        if plan == "enterprise-custom":
            accounts.set_plan(store, f"rl-{plan}", "enterprise", per_minute=1000)
    with server.client(key) as c:
        answers = [c.get("/projects"), c.get("/projects"), c.get("/projects/nope"), c.get("/account"),
                   c.post("/projects", json={"title": " ", "script": SCRIPT})]
    for r in answers:
        assert all(h in r.headers for h in RATE_HEADERS), (r.status_code, dict(r.headers))
        assert int(r.headers["x-ratelimit-reset"]) > 1_700_000_000
    first, second = (int(a.headers["x-ratelimit-remaining"]) for a in answers[:2])
    limit = int(answers[0].headers["x-ratelimit-limit"])
    if plan in ("owner", "enterprise"):
        # Unlimited: limit and remaining both 2**31 - 1, never counted down.
        assert limit == first == second == 2**31 - 1
    else:
        assert second == first - 1 and limit < 2**31 - 1


def _raw(server: LiveServer, request: bytes) -> tuple[int, bytes]:
    """Send bytes as written (clients refuse to send two Host headers) and read the answer."""
    with socket.create_connection(("127.0.0.1", server.parts.settings.port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_duplicate_host_headers_refused(server: LiveServer) -> None:
    port = server.parts.settings.port
    for hosts in ([f"127.0.0.1:{port}", f"127.0.0.1:{port}"], [f"127.0.0.1:{port}", "evil.example"],
                  ["evil.example", f"127.0.0.1:{port}"]):
        lines = "".join(f"Host: {h}\r\n" for h in hosts)
        status, body = _raw(server, f"GET /health HTTP/1.1\r\n{lines}Connection: close\r\n\r\n".encode())
        assert status == 400 and b'"DUPLICATE_HOST"' in body, (hosts, body)
    status, _ = _raw(server, f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
    assert status == 200


def test_a_deleted_projects_files_are_not_served_and_leave_the_disk(server: LiveServer) -> None:
    key = _key(server, "deleter")
    with server.client(key) as c:
        pid = c.post("/projects", json={"title": "gone", "script": SCRIPT, "settings": SMALL}).json()["project_id"]
        job = c.post(f"/projects/{pid}/generate").json()["job_id"]
        assert wait_job(c, job)["status"] == "completed"
        assets = c.get(f"/projects/{pid}").json()["assets"]
        folder = server.parts.settings.media_dir / pid
        assert httpx.get(assets["video_url"]).status_code == 200 and any(folder.rglob("film.mp4"))
        keyed = assets["video_url"].split("?")[0]
        assert c.delete(f"/projects/{pid}").status_code == 204
    for url in (assets["video_url"], assets["thumbnail_url"]):
        r = httpx.get(url)
        assert r.status_code == 404 and r.json()["error"]["code"] == "FILE_NOT_FOUND", url
    assert httpx.get(keyed, headers={"Authorization": f"Bearer {key}"}).status_code == 404
    assert not folder.exists()


@pytest.mark.parametrize(("method", "path", "body", "code"), [
    ("post", "/projects", {"title": "   ", "script": SCRIPT}, "BLANK_TITLE"),
    ("post", "/projects", {"title": "\t\n\u00a0", "script": SCRIPT}, "BLANK_TITLE"),
    ("patch", "/projects/{pid}", {"title": "  "}, "BLANK_TITLE"),
    ("post", "/webhooks", {"url": "http://exa mple.com/h", "events": ["job.failed"]}, "WEBHOOK_TARGET_REFUSED"),
    ("post", "/webhooks", {"url": "http://example .com/h", "events": ["job.failed"]}, "WEBHOOK_TARGET_REFUSED"),
    ("post", "/webhooks", {"url": "http://%20example.com/h", "events": ["job.failed"]}, "WEBHOOK_TARGET_REFUSED"),
    ("post", "/webhooks", {"url": "http://example.com\t/h", "events": ["job.failed"]}, "WEBHOOK_TARGET_REFUSED"),
    ("post", "/projects", {"title": "t", "script": SCRIPT,
                           "settings": {"subtitle_languages": ",".join(["en"] * 3334)}}, "LIST_TOO_LONG"),
    ("post", "/projects", {"title": "t", "script": SCRIPT,
                           "settings": {"subtitle_languages": ["en"] * 10_000}}, "LIST_TOO_LONG"),
    ("post", "/projects", {"title": "t", "script": SCRIPT,
                           "settings": {"characters": [{"name": "A"}] * 2_000}}, "LIST_TOO_LONG"),
    ("patch", "/projects/{pid}", {"settings": {"subtitle_languages": ",".join(["es"] * 3334)}}, "LIST_TOO_LONG"),
    ("post", "/projects/{pid}/generate", {"settings": {"subtitle_languages": ["en"] * 10_000}}, "LIST_TOO_LONG"),
])
def test_edge_input_refused_with_a_stable_code(server: LiveServer, method: str, path: str, body: dict[str, Any],
                                               code: str) -> None:
    with server.client(_key(server, "edges")) as c:
        pid = c.post("/projects", json={"title": "edge", "script": SCRIPT, "settings": SMALL}).json()["project_id"]
        r = getattr(c, method)(path.format(pid=pid), json=body)
        assert r.status_code == 400, r.text[:300]
        error = r.json()["error"]
        found = {error["code"]} | {e["code"] for e in error["details"].get("errors", [])}
        assert code in found, error
        assert c.get(f"/projects/{pid}").json()["title"] == "edge"


def test_openapi_states_what_validation_enforces(server: LiveServer) -> None:
    spec = httpx.get(f"{server.api}/openapi.json").json()
    params = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/projects"]["get"]["parameters"]}

    def enum(schema: dict[str, Any]) -> list[Any]:
        for option in schema.get("anyOf", [schema]):
            if "enum" in option:
                return list(option["enum"])
        raise AssertionError(schema)

    assert enum(params["status"]) == ["draft", "processing", "completed", "failed"]
    assert enum(params["sort"]) == ["created_at", "updated_at"] and enum(params["order"]) == ["asc", "desc"]
    assert (params["per_page"]["minimum"], params["per_page"]["maximum"]) == (1, 100)
    job_params = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/jobs"]["get"]["parameters"]}
    assert enum(job_params["status"]) == ["queued", "processing", "completed", "failed", "cancelled"]
    settings = spec["components"]["schemas"]["RenderSettings"]["properties"]
    assert enum(settings["style"]) == ["cinematic", "documentary", "minimal", "retro"]
    for field in ("language", "music_genre", "resolution", "fps", "aspect_ratio"):
        assert enum(settings[field]), field
    assert settings["subtitle_languages"]["anyOf"][0]["items"]["enum"] == enum(settings["language"])
    character = spec["components"]["schemas"]["CharacterSpec"]["properties"]
    assert all(enum(character[f]) for f in ("age", "gender", "voice"))
    # PATCH and generate take a typed subset of the settings, not a free-form object.
    patch = spec["components"]["schemas"]["ProjectUpdate"]["properties"]["settings"]["anyOf"][0]
    assert patch["additionalProperties"] is False and enum(patch["properties"]["style"]) == enum(settings["style"])
    # Validation errors are sent as 400; no operation documents FastAPI's 422 for them.
    assert "HTTPValidationError" not in str(spec)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if operation.get("parameters") or operation.get("requestBody"):
                assert "400" in operation["responses"], (method, path)
    with server.client(_key(server, "schema")) as c:
        for path, params in (("/projects", {"status": "bogus"}), ("/jobs", {"order": "sideways"})):
            r = c.get(path, params=params)
            assert _code(r) == (400, "VALIDATION_ERROR")
            assert r.json()["error"]["details"]["errors"][0]["code"] == "INVALID_VALUE"


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("PUT", "/projects", "GET, HEAD, POST"),
    ("OPTIONS", "/projects", "GET, HEAD, POST"),
    ("PUT", "/projects/some-id", "DELETE, GET, HEAD, PATCH"),
    ("DELETE", "/webhooks", "GET, HEAD, POST"),
    ("GET", "/jobs/some-id/cancel", "POST"),
    ("OPTIONS", "/projects/batch", "POST"),
])
def test_405_allow_lists_every_method_of_the_path(server: LiveServer, method: str, path: str, allowed: str) -> None:
    with server.client(_key(server, "methods")) as c:
        r = c.request(method, path)
    assert _code(r) == (405, "METHOD_NOT_ALLOWED") and r.headers["allow"] == allowed
    assert r.json()["error"]["details"] == {"allowed": allowed.split(", ")}
