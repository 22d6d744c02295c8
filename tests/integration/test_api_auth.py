"""Auth matrix, cross-account isolation, Host header and docs exposure against a live server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from filmstudio.services import keys
from integration.conftest_server import SCRIPT, SMALL, LiveServer, live_server, server_settings


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(server_settings(tmp_path_factory.mktemp("auth"), workers=0)) as live:
        yield live


def _prefix(secret: str) -> str:
    return secret[: len(keys.KEY_PREFIX) + 12]


def _code(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.json()["error"]["code"]


def test_auth_matrix(server: LiveServer) -> None:
    good = server.new_key("matrix")
    get = lambda key, **kw: httpx.get(f"{server.api}/projects",  # noqa: E731
                                      headers={"Authorization": f"Bearer {key}"} if key else {}, **kw)
    assert get(good).status_code == 200
    assert _code(get(None)) == (401, "MISSING_API_KEY")
    assert _code(get("fs_live_nonsense")) == (401, "INVALID_API_KEY")
    # Right shape and checksum, unknown key.
    forged = keys._new_secret()
    assert _code(get(forged)) == (401, "INVALID_API_KEY")
    # A real key with one character changed fails its checksum.
    assert _code(get(good[:-1] + ("A" if good[-1] != "A" else "B"))) == (401, "INVALID_API_KEY")
    assert _code(httpx.get(f"{server.api}/projects", headers={"Authorization": f"Basic {good}"})) == (
        401, "MISSING_API_KEY")

    store = server.parts.studio.store
    revoked = server.new_key("matrix")
    keys.revoke_key(store, _prefix(revoked))
    assert _code(get(revoked)) == (401, "API_KEY_REVOKED")

    acct = store.one("SELECT id FROM accounts WHERE name = 'matrix'")["id"]
    expired = keys.create_key(store, acct, name="old", expires_at=datetime.now(UTC) - timedelta(seconds=1)).secret
    assert _code(get(expired)) == (401, "API_KEY_EXPIRED")

    read_only = keys.create_key(store, acct, name="ro", scopes=["projects:read"]).secret
    assert get(read_only).status_code == 200
    r = httpx.post(f"{server.api}/projects", headers={"Authorization": f"Bearer {read_only}"},
                   json={"title": "t", "script": SCRIPT})
    assert _code(r) == (403, "INSUFFICIENT_SCOPE") and r.json()["error"]["details"] == {"required": "projects:write"}

    elsewhere = keys.create_key(store, acct, name="ip", allowed_ips=["10.1.2.0/24"]).secret
    assert _code(get(elsewhere)) == (403, "IP_NOT_ALLOWED")
    here = keys.create_key(store, acct, name="ip-ok", allowed_ips=["127.0.0.0/8", "10.1.2.0/24"]).secret
    assert get(here).status_code == 200

    # Rotation: both work during the overlap; the old one stops when it ends.
    new = keys.rotate_key(store, _prefix(here), overlap=timedelta(seconds=1))
    assert get(new.secret).status_code == 200 and get(here).status_code == 200
    assert new.allowed_ips == ["127.0.0.0/8", "10.1.2.0/24"] and new.scopes == sorted(keys.DEFAULT_SCOPES)
    import time

    time.sleep(1.1)
    assert _code(get(here)) == (401, "API_KEY_EXPIRED")
    assert get(new.secret).status_code == 200

    admin = keys.create_key(store, acct, name="admin", scopes=["admin"]).secret
    assert httpx.post(f"{server.api}/projects", headers={"Authorization": f"Bearer {admin}"},
                      json={"title": "t", "script": SCRIPT, "settings": SMALL}).status_code == 201


def test_accounts_see_only_their_own(server: LiveServer) -> None:
    a, b = server.new_key("ann"), server.new_key("bob")
    with server.client(a) as ca, server.client(b) as cb:
        pid = ca.post("/projects", json={"title": "mine", "script": SCRIPT, "settings": SMALL}).json()["project_id"]
        job = ca.post(f"/projects/{pid}/generate").json()["job_id"]
        assert ca.get(f"/projects/{pid}").status_code == 200
        for r in (cb.get(f"/projects/{pid}"), cb.patch(f"/projects/{pid}", json={"title": "x"}),
                  cb.delete(f"/projects/{pid}"), cb.post(f"/projects/{pid}/generate")):
            assert _code(r) == (404, "PROJECT_NOT_FOUND")
        for r in (cb.get(f"/jobs/{job}"), cb.post(f"/jobs/{job}/cancel")):
            assert _code(r) == (404, "JOB_NOT_FOUND")
        assert cb.get("/projects").json()["total_count"] == 0
        assert cb.get("/jobs").json()["total_count"] == 0
        assert ca.get("/jobs").json()["jobs"][0]["job_id"] == job
        # The queued job (no workers here) cancels at once and refunds.
        assert ca.post(f"/jobs/{job}/cancel").json()["status"] == "cancelled"


def test_host_header_must_be_ours(server: LiveServer) -> None:
    r = httpx.get(f"{server.base}/health", headers={"Host": "evil.example"})
    assert _code(r) == (400, "INVALID_HOST")
    port = server.parts.settings.port
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "localhost", f"[::1]:{port}", "LOCALHOST"):
        assert httpx.get(f"{server.base}/health", headers={"Host": host}).status_code == 200
    for evil in (f"evil.example:{port}", "127.0.0.1.evil.example", "[::1].evil", ""):
        assert httpx.get(f"{server.base}/health", headers={"Host": evil}).status_code == 400, evil
    # No CORS by default.
    r = httpx.options(f"{server.api}/projects", headers={"Origin": "http://evil.example",
                                                         "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in r.headers


def test_openapi_and_docs_on_loopback(server: LiveServer) -> None:
    spec = httpx.get(f"{server.api}/openapi.json").json()
    paths = spec["paths"]
    for p in ("/api/v1/projects", "/api/v1/projects/{project_id}", "/api/v1/projects/{project_id}/generate",
              "/api/v1/jobs/{job_id}", "/api/v1/jobs/{job_id}/cancel", "/api/v1/files/{file_path}"):
        assert p in paths, p
    create = spec["components"]["schemas"]["ProjectCreate"]
    assert create["examples"][0]["title"] == "My Video Project"
    assert "bearerAuth" in str(spec["components"].get("securitySchemes", {})) or "HTTPBearer" in str(spec)
    docs = httpx.get(f"{server.api}/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_beyond_loopback_needs_allowed_hosts_and_hides_docs(tmp_path: Path) -> None:
    from filmstudio.config import check_exposure
    from filmstudio.domain.errors import FilmStudioError
    from filmstudio.server.app import create_app

    wide = server_settings(tmp_path, host="0.0.0.0")
    with pytest.raises(FilmStudioError) as err:
        check_exposure(wide)
    assert err.value.code == "ALLOWED_HOSTS_REQUIRED"
    ok = server_settings(tmp_path, host="0.0.0.0", allowed_hosts=("studio.lan",))
    check_exposure(ok)
    app = create_app(object(), ok)  # type: ignore[arg-type]
    assert app.openapi_url is None and app.docs_url is None
    assert "studio.lan" in ok.trusted_hosts
