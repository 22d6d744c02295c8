"""The API as its OpenAPI document states it (issue 25): HEAD wherever GET works, the schema as the
validation, scripts refused where they are written, and malformed HTTP answered by uvicorn."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integration.conftest_server import SCRIPT, SMALL, LiveServer, live_server, server_settings, wait_job


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(server_settings(tmp_path_factory.mktemp("schema"))) as live:
        yield live


@pytest.fixture(scope="module")
def spec(server: LiveServer) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(f"{server.api}/openapi.json").json()
    return answer


@pytest.fixture(scope="module")
def rendered(server: LiveServer) -> dict[str, str]:
    """A key and the ids of one of everything it owns: a rendered project, its job, a webhook, a model."""
    key = server.new_key("header", credits=1000, scopes=["admin"])
    with server.client(key) as c:
        pid = c.post("/projects", json={"title": "heads", "script": SCRIPT, "settings": SMALL}).json()["project_id"]
        job = c.post(f"/projects/{pid}/generate").json()["job_id"]
        assert wait_job(c, job)["status"] == "completed"
        hook = c.post("/webhooks", json={"url": "http://127.0.0.1:9/h", "events": ["job.failed"]}).json()
        model = c.get("/models").json()[0]["id"]
        video = c.get(f"/projects/{pid}").json()["assets"]["video_url"]
    file_path = video.split("/files/", 1)[1].split("?")[0]
    return {"key": key, "project_id": pid, "job_id": job, "webhook_id": hook["webhook_id"], "model_id": model,
            "number": "1", "file_path": file_path, "name": "CHARACTER"}


# Headers that may rightly differ between two answers a moment apart.
_MOVING = {"date", "x-ratelimit-remaining", "x-ratelimit-reset"}


def test_head_answers_like_get_on_every_get_route(server: LiveServer, spec: dict[str, Any],
                                                  rendered: dict[str, str]) -> None:
    """RFC 9110 9.3.2: HEAD gets GET's status and headers and no body, on every GET of the document."""
    gets = [path for path, ops in spec["paths"].items() if "get" in ops]
    assert len(gets) >= 12, gets
    auth = {"Authorization": f"Bearer {rendered['key']}"}
    with httpx.Client(base_url=server.base, headers=auth, timeout=30) as c:
        for template in gets:
            path = re.sub(r"\{(\w+)(:path)?\}", lambda m: rendered[m.group(1)], template)
            got, head = c.get(path), c.head(path)
            assert head.status_code == got.status_code, (template, head.status_code, got.status_code, got.text[:200])
            assert head.content == b"", template
            same = {k: v for k, v in got.headers.items() if k not in _MOVING}
            assert {k: v for k, v in head.headers.items() if k not in _MOVING} == same, template
            assert int(head.headers["content-length"]) == len(got.content), template
            if got.status_code == 200 and template.endswith("/projects/{project_id}"):
                assert got.json()["project_id"] == rendered["project_id"]
        # A path with no GET still refuses HEAD, and says what it takes.
        refused = c.head("/api/v1/projects/batch")
        assert refused.status_code == 405 and refused.headers["allow"] == "POST" and refused.content == b""


# Values to try for every render setting: the schema decides which are valid, the server which it takes.
_CANDIDATES: list[Any] = [
    True, False, None, 0, 1, -1, 4, 5, 12, 24, 30, 60, 600, 601, 1.5, 60.0, "", " ", "x", "60", "en", "EN", " en",
    "xx", "true", "Cinematic", "1280X720", "en, es", "en,,es,", ",".join(["en"] * 20), ",".join(["en"] * 21), "cinematic", "epic", "karaoke", "1280x720", "16:9", [], ["en"], ["en", "es"], ["xx"], ["EN"], ["en"] * 21, "en,es",
    {}, {"en": "Hello"}, {"xx": "Hello"}, {"en": 1}, {"EN": "Hello"}, [{"name": "MARA"}], [{"name": ""}],
    [{"name": "MARA", "gender": "female"}], [{"name": "MARA", "gender": "robot"}], [{"name": "MARA", "gender": "Female"}],
]


def _enums(schema: dict[str, Any]) -> list[Any]:
    found = list(schema.get("enum", []))
    for key in ("anyOf", "oneOf"):
        for option in schema.get(key, []):
            found += _enums(option)
    if isinstance(schema.get("items"), dict):
        found += [[v] for v in _enums(schema["items"])]
    return found


def test_every_render_setting_is_accepted_exactly_when_the_schema_says_so(server: LiveServer,
                                                                          spec: dict[str, Any]) -> None:
    """Diff the schema against validation, one setting at a time, at POST /projects and PATCH."""
    import jsonschema_rs

    schemas = spec["components"]["schemas"]
    properties = schemas["RenderSettings"]["properties"]
    resolve = {"components": spec["components"]}
    disagree: list[str] = []
    with server.client(server.new_key("differ", credits=100)) as c:
        pid = c.post("/projects", json={"title": "d", "script": SCRIPT, "settings": SMALL}).json()["project_id"]
        for name, prop in properties.items():
            validator = jsonschema_rs.validator_for({**prop, **resolve})
            for value in [*_CANDIDATES, *_enums(prop)]:
                valid = validator.is_valid(value)
                created = c.post("/projects", json={"title": "d", "script": SCRIPT, "settings": {name: value}})
                patched = c.patch(f"/projects/{pid}", json={"settings": {name: value}})
                for method, r in (("POST", created), ("PATCH", patched)):
                    if (r.status_code < 300) != valid:
                        disagree.append(f"{method} settings.{name}={value!r}: schema-valid {valid}, "
                                        f"answered {r.status_code} {r.text[:120]}")
                    assert r.status_code in (200, 201, 400), r.text
    assert not disagree, "\n".join(disagree)
    assert properties["youtube_upload"] == {"type": "boolean", "default": False, "title": "Youtube Upload"}


NOTHING_TO_SPEAK = ["   ", "\t", "\u00a0", "[[x]]", "/*x*/", "INT. X", "INT. LAB - NIGHT\n\n[[a note]]\n\n/* cut */"]


@pytest.mark.parametrize("script", NOTHING_TO_SPEAK)
def test_a_script_with_nothing_to_speak_is_refused_where_it_is_written(server: LiveServer, script: str) -> None:
    with server.client(server.new_key("writer", credits=100)) as c:
        created = c.post("/projects", json={"title": "t", "script": script})
        assert created.status_code == 400 and created.json()["error"]["code"] == "SCRIPT_EMPTY", created.text
        pid = c.post("/projects", json={"title": "t", "script": SCRIPT}).json()["project_id"]
        patched = c.patch(f"/projects/{pid}", json={"script": script, "title": "changed"})
        assert patched.status_code == 400 and patched.json()["error"]["code"] == "SCRIPT_EMPTY", patched.text
        assert c.get(f"/projects/{pid}").json()["script"] == SCRIPT  # nothing of the edit was kept
        batch = c.post("/projects/batch", json={"projects": [{"title": "t", "script": script},
                                                             {"title": "t", "script": SCRIPT}]}).json()
        assert [r["status"] for r in batch["results"]] == [400, 201]
        assert batch["results"][0]["error"]["code"] == "SCRIPT_EMPTY"


def test_the_references_prose_script_is_still_a_project(server: LiveServer) -> None:
    """The public API reference's own example body: a one-sentence prose script."""
    with server.client(server.new_key("writer", credits=100)) as c:
        r = c.post("/projects", json={"title": "My Video Project", "script": "A compelling story about innovation...",
                                      "settings": {"duration": 60, "style": "cinematic", "language": "en",
                                                   "subtitle_languages": ["en", "es"]}})
        assert r.status_code == 201, r.text
        assert set(r.json()) >= {"project_id", "title", "status", "estimated_credits", "created_at"}


WEBHOOK_URLS = ["0", "x", "http://127.0.0.1:9/h", "https://example.com/hooks?a=b#f", "HTTP://[::1]:8/x",
                "http://exa mple.com", " http://127.0.0.1:9/h", "http://u:p@127.0.0.1/", "ftp://example.com/",
                "http://127.0.0.1/a#b#c", "http://", "http://127.0.0.1:x/", "http://127.0.0.1/%zz",
                "http://127.0.0.1/\u00e9", "javascript:alert(1)", "http:/127.0.0.1/h", "https://10.0.0.1/h"]


def test_the_webhook_url_schema_is_what_registration_takes(server: LiveServer, spec: dict[str, Any]) -> None:
    import jsonschema_rs

    url = spec["components"]["schemas"]["WebhookCreate"]["properties"]["url"]
    assert url["format"] == "uri" and url["pattern"].startswith("^[Hh][Tt][Tt][Pp][Ss]?://")
    validator = jsonschema_rs.validator_for(url, validate_formats=True)
    with server.client(server.new_key("hooker", scopes=["webhooks"])) as c:
        for candidate in WEBHOOK_URLS:
            r = c.post("/webhooks", json={"url": candidate, "events": ["job.failed"]})
            valid = validator.is_valid(candidate)
            if r.status_code == 201:
                assert valid, f"{candidate!r} accepted but not schema-valid"
            else:
                assert r.status_code == 400 and r.json()["error"]["code"] == "WEBHOOK_TARGET_REFUSED", r.text
                # Schema-valid and still refused: only the target policy (a private address here).
                assert not valid or "private" in r.json()["error"]["message"], candidate


def _raw(server: LiveServer, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", server.parts.settings.port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize("trouble", [
    b"Content-Length: -1\r\n",
    b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
    b"X-Folded: a\r\n b\r\n",
])
def test_malformed_http_is_answered_400_by_uvicorn_in_plain_text(server: LiveServer, trouble: bytes) -> None:
    """What the README's API section says: h11 refuses these before the app, so not in the envelope."""
    port = server.parts.settings.port
    status, headers, body = _raw(server, b"POST /api/v1/projects HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % port + trouble
                                 + b"Connection: close\r\n\r\nhello")
    assert status == 400 and headers["content-type"].startswith("text/plain"), (status, headers, body)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    documented = readme[readme.index("- **Malformed HTTP**"):][:600]
    assert "text/plain" in documented and "400" in documented and "Transfer-Encoding" in documented
    nul = _raw(server, b"GET /api/v1/proj\x00ects HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n" % port)
    assert nul[0] == 400 and nul[1]["content-type"].startswith("text/plain")
