"""What the desktop's remote studio client needs from /api/v1 (issue 21), over a real uvicorn on loopback:
project versions (ETag, If-Match, 412), cacheable stills and pictures, stable file URLs."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from integration.conftest_server import SCRIPT, SMALL, LiveServer, live_server, server_settings, wait_job


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(server_settings(tmp_path_factory.mktemp("client"))) as live:
        yield live


@pytest.fixture(scope="module")
def key(server: LiveServer) -> str:
    return server.new_key("studio-client")


def _error(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    return dict(body["error"])


def _project(c: httpx.Client, title: str = "Versions") -> str:
    r = c.post("/projects", json={"title": title, "script": SCRIPT, "settings": SMALL})
    assert r.status_code == 201, r.text
    return str(r.json()["project_id"])


def _png(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 36), colour).save(buf, format="PNG")
    return buf.getvalue()


def test_get_and_patch_carry_the_revision_as_a_strong_etag(server: LiveServer, key: str) -> None:
    with server.client(key) as c:
        pid = _project(c)
        got = c.get(f"/projects/{pid}")
        assert got.status_code == 200 and got.headers["etag"] == '"r1"' and got.json()["revision"] == 1
        edited = c.patch(f"/projects/{pid}", json={"title": "Versions 2"}, headers={"If-Match": '"r1"'})
        assert edited.status_code == 200, edited.text
        assert edited.headers["etag"] == '"r2"' and edited.json()["revision"] == 2
        assert edited.json()["title"] == "Versions 2"
        assert c.get(f"/projects/{pid}").headers["etag"] == '"r2"'
        # Listed projects carry their revision too.
        listed = {p["project_id"]: p for p in c.get("/projects", params={"per_page": 100}).json()["projects"]}
        assert listed[pid]["revision"] == 2


def test_a_stale_if_match_is_412_with_the_current_etag_and_changes_nothing(server: LiveServer, key: str) -> None:
    with server.client(key) as first, server.client(key) as second:
        pid = _project(first)
        tag = first.get(f"/projects/{pid}").headers["etag"]
        assert second.get(f"/projects/{pid}").headers["etag"] == tag
        saved = first.patch(f"/projects/{pid}", json={"script": SCRIPT + "\n\nDR. REYES\nAgain."},
                            headers={"If-Match": tag})
        assert saved.status_code == 200, saved.text
        stale = second.patch(f"/projects/{pid}", json={"title": "Second writer"}, headers={"If-Match": tag})
        error = _error(stale, 412, "PRECONDITION_FAILED")
        assert error["details"] == {"etag": saved.headers["etag"]}
        now = second.get(f"/projects/{pid}").json()
        assert now["title"] == "Versions" and now["script"].endswith("Again.")  # the first edit, untouched
        # The second writer reads again and applies its edit to that version.
        again = second.patch(f"/projects/{pid}", json={"title": "Second writer"},
                             headers={"If-Match": error["details"]["etag"]})
        assert again.status_code == 200 and again.json()["script"].endswith("Again.")
        # A stale If-Match on DELETE is refused too, and the project stays.
        _error(second.delete(f"/projects/{pid}", headers={"If-Match": tag}), 412, "PRECONDITION_FAILED")
        assert second.get(f"/projects/{pid}").status_code == 200


def test_if_match_star_lists_weak_tags_and_no_header(server: LiveServer, key: str) -> None:
    with server.client(key) as c:
        pid = _project(c)
        assert c.patch(f"/projects/{pid}", json={"title": "a"}, headers={"If-Match": "*"}).headers["etag"] == '"r2"'
        # A list matches when any of its tags does; a weak tag never does under If-Match (strong comparison).
        listed = c.patch(f"/projects/{pid}", json={"title": "b"}, headers={"If-Match": '"r9", "r2"'})
        assert listed.status_code == 200 and listed.headers["etag"] == '"r3"'
        _error(c.patch(f"/projects/{pid}", json={"title": "c"}, headers={"If-Match": 'W/"r3"'}), 412,
               "PRECONDITION_FAILED")
        _error(c.patch(f"/projects/{pid}", json={"title": "c"}, headers={"If-Match": "r3"}), 412,
               "PRECONDITION_FAILED")  # not a quoted entity tag
        # Without If-Match a script writes as it always did.
        plain = c.patch(f"/projects/{pid}", json={"title": "d"})
        assert plain.status_code == 200 and plain.headers["etag"] == '"r4"'
        # The precondition comes before the edit's own rules: a stale version of an empty script is 412.
        _error(c.patch(f"/projects/{pid}", json={"script": "[[only a note]]"}, headers={"If-Match": '"r1"'}),
               412, "PRECONDITION_FAILED")
        _error(c.patch(f"/projects/{pid}", json={"title": "e"}, headers={"If-Match": '"r1"'}),
               412, "PRECONDITION_FAILED")
        assert c.delete(f"/projects/{pid}", headers={"If-Match": '"r4"'}).status_code == 204
        _error(c.get(f"/projects/{pid}"), 404, "PROJECT_NOT_FOUND")


def test_if_none_match_answers_304_until_the_project_changes(server: LiveServer, key: str) -> None:
    with server.client(key) as c:
        pid = _project(c)
        tag = c.get(f"/projects/{pid}").headers["etag"]
        same = c.get(f"/projects/{pid}", headers={"If-None-Match": tag})
        assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == tag
        assert c.get(f"/projects/{pid}", headers={"If-None-Match": f"W/{tag}"}).status_code == 304  # weak compare
        assert c.get(f"/projects/{pid}", headers={"If-None-Match": '"r99"'}).status_code == 200
        c.patch(f"/projects/{pid}", json={"title": "changed"})
        fresh = c.get(f"/projects/{pid}", headers={"If-None-Match": tag})
        assert fresh.status_code == 200 and fresh.json()["title"] == "changed" and fresh.headers["etag"] != tag


def test_every_write_of_a_project_moves_its_version(server: LiveServer, key: str) -> None:
    """Storyboard edits, its pictures and a render starting and ending all change what the project is."""
    with server.client(key) as c:
        pid = _project(c)

        def revision() -> int:
            r = c.get(f"/projects/{pid}")
            assert r.headers["etag"] == f'"r{r.json()["revision"]}"'
            return int(r.json()["revision"])

        seen = [revision()]
        assert c.post(f"/projects/{pid}/storyboard/shots/1/regenerate", json={"seed": 7}).status_code == 200
        seen.append(revision())
        assert c.patch(f"/projects/{pid}/storyboard/characters/DR. REYES",
                       json={"description": "a tired chemist"}).status_code == 200
        seen.append(revision())
        assert c.put(f"/projects/{pid}/images/shot-1.png", content=_png((200, 40, 40)),
                     headers={"Content-Type": "image/png"}).status_code == 201
        seen.append(revision())
        assert c.delete(f"/projects/{pid}/images/shot-1").status_code == 204
        seen.append(revision())
        job = c.post(f"/projects/{pid}/generate").json()["job_id"]
        assert wait_job(c, job)["status"] == "completed"
        seen.append(revision())
        assert seen == sorted(set(seen)), seen  # strictly increasing: each write moved it
        assert seen[-1] >= seen[-2] + 2  # processing, then completed with its film
