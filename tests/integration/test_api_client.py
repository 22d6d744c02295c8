"""What the desktop's remote studio client needs from /api/v1 (issue 21), over a real uvicorn on loopback:
project versions (ETag, If-Match, 412), cacheable stills and pictures, stable file URLs."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from PIL import Image

from filmstudio.app.compose import pipeline_renderer
from integration.conftest_server import SCRIPT, SMALL, LiveServer, live_server, server_settings, wait_job
from integration.test_pictures import FlatPictures
from studio_engines import real_engines


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


def test_a_picture_is_served_back_with_an_etag_and_304(server: LiveServer, key: str) -> None:
    with server.client(key) as c:
        pid = _project(c, "Pictures")
        red = _png((220, 30, 30))
        assert c.put(f"/projects/{pid}/images/shot-2.png", content=red).status_code == 201
        got = c.get(f"/projects/{pid}/images/shot-2")  # the stem finds it, as DELETE does
        assert got.status_code == 200 and got.content == red and got.headers["content-type"] == "image/png"
        assert got.headers["cache-control"] == "private, no-cache" and got.headers["etag"]
        same = c.get(f"/projects/{pid}/images/shot-2.png", headers={"If-None-Match": got.headers["etag"]})
        assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == got.headers["etag"]
        blue = _png((30, 30, 220))
        assert c.put(f"/projects/{pid}/images/shot-2.png", content=blue).status_code == 201
        changed = c.get(f"/projects/{pid}/images/shot-2", headers={"If-None-Match": got.headers["etag"]})
        assert changed.status_code == 200 and changed.content == blue
        _error(c.get(f"/projects/{pid}/images/shot-9"), 404, "IMAGE_NOT_FOUND")
    with server.client(server.new_key("someone-else")) as other:
        _error(other.get(f"/projects/{pid}/images/shot-2"), 404, "PROJECT_NOT_FOUND")


def test_the_film_has_stable_key_urls_with_range_if_range_and_304(server: LiveServer, key: str) -> None:
    with server.client(key) as c:
        pid = _project(c, "Download")
        job = c.post(f"/projects/{pid}/generate").json()["job_id"]
        assert wait_job(c, job)["status"] == "completed"
        first, second = c.get(f"/projects/{pid}").json()["assets"], c.get(f"/projects/{pid}").json()["assets"]
        files = first["files"]
        assert files == second["files"]  # stable from one read to the next (the signed URLs are not)
        assert files["video"].endswith(f"/api/v1/files/{pid}/{job}/film.mp4") and "?" not in files["video"]
        assert set(files["subtitles"]) == {"en"} and files["thumbnail"].endswith("/film.jpg")
        whole = c.get(files["video"])
        signed = httpx.get(first["video_url"])
        assert whole.status_code == 200 and whole.content == signed.content and whole.content[4:8] == b"ftyp"
        tag, size = whole.headers["etag"], len(whole.content)
        assert whole.headers["accept-ranges"] == "bytes" and whole.headers["cache-control"] == "private, no-cache"
        # Resume: the rest from byte 1000, only while the file is still the one the ETag names.
        rest = c.get(files["video"], headers={"Range": "bytes=1000-", "If-Range": tag})
        assert rest.status_code == 206 and rest.content == whole.content[1000:]
        assert rest.headers["content-range"] == f"bytes 1000-{size - 1}/{size}"
        stale = c.get(files["video"], headers={"Range": "bytes=1000-", "If-Range": '"another"'})
        assert stale.status_code == 200 and stale.content == whole.content
        assert c.get(files["video"], headers={"If-None-Match": tag}).status_code == 304
        srt = c.get(files["subtitles"]["en"])
        assert srt.status_code == 200 and "-->" in srt.text
        # A stable URL needs the key of the project's account.
        assert httpx.get(files["video"]).json()["error"]["code"] == "MISSING_API_KEY"
    with server.client(server.new_key("not-the-owner")) as other:
        _error(other.get(files["video"]), 404, "FILE_NOT_FOUND")


def test_the_script_check_casts_with_the_studios_voices(server: LiveServer, key: str) -> None:
    with server.client(key) as c:
        ok = c.post("/scripts/check", json={"script": SCRIPT, "settings": SMALL})
        assert ok.status_code == 200, ok.text
        body = ok.json()
        assert body["fits"] is True and body["error"] is None and body["characters"] == ["DR. REYES"]
        assert body["scenes"] == 1 and body["credits"] == 1 and 0 < body["speech_seconds"] < 8
        assert set(body["voices"]) >= {"DR. REYES"} and all(body["voices"].values())
        assert "DR. REYES" in body["readings"]
        long = c.post("/scripts/check", json={"script": SCRIPT + "\n\nDR. REYES\n" + "word " * 400,
                                              "settings": {**SMALL, "duration": 5}}).json()
        assert long["fits"] is False and long["error"]["code"] == "SCRIPT_TOO_LONG" and long["speech_seconds"] is None
        empty = c.post("/scripts/check", json={"script": "[[a note]]"}).json()
        assert empty["fits"] is False and empty["error"]["code"] == "SCRIPT_EMPTY"
        # Bad settings are bad input, answered as PATCH answers them.
        _error(c.post("/scripts/check", json={"script": SCRIPT, "settings": {"duration": 3}}), 400,
               "DURATION_OUT_OF_RANGE")
    with server.client(server.new_key("checker", scopes=["jobs:read"])) as narrow:
        _error(narrow.post("/scripts/check", json={"script": SCRIPT}), 403, "INSUFFICIENT_SCOPE")


def test_an_audition_is_a_wav_in_the_cast_voice(server: LiveServer, key: str) -> None:
    import wave

    with server.client(key) as c:
        r = c.post("/scripts/audition", json={"script": SCRIPT, "character": "DR. REYES", "text": "It finally works.",
                                              "settings": SMALL})
        assert r.status_code == 200 and r.headers["content-type"] == "audio/wav", r.text[:300]
        with wave.open(io.BytesIO(r.content)) as w:
            seconds = w.getnframes() / w.getframerate()
        assert 0.5 < seconds < 5, seconds
        _error(c.post("/scripts/audition", json={"script": SCRIPT, "character": "NOBODY", "text": "Hi."}), 400,
               "CHARACTER_NOT_FOUND")
        _error(c.post("/scripts/audition", json={"script": SCRIPT, "character": "DR. REYES", "text": "\f "}), 400,
               "BLANK_TEXT")


def test_the_studio_says_what_its_machine_offers(server: LiveServer, key: str) -> None:
    with server.client(key) as c:
        info = c.get("/studio").json()
    assert info["version"] and info["schema_version"] == 9
    assert info["hardware"]["cpu_cores"] >= 1 and info["hardware"]["ram_mb"] > 0
    assert info["hardware"]["summary"].startswith(f"{info['hardware']['cpu_cores']} CPU cores")
    assert isinstance(info["translation_pairs"], list) and isinstance(info["writer"], bool)


@pytest.mark.slow
def test_a_drawn_still_is_cacheable_by_its_etag(tmp_path: Path) -> None:
    """A real render (the pipeline, espeak-ng, ffmpeg) with the test picture engine drawing the stills."""
    base = real_engines()
    engines = replace(base, pictures=FlatPictures())
    settings = server_settings(tmp_path / "stills", lease_seconds=10.0)
    with live_server(settings, renderer=pipeline_renderer(engines), engines=engines) as live, \
            live.client(live.new_key("board")) as c:
        pid = _project(c, "Stills")
        assert wait_job(c, c.post(f"/projects/{pid}/generate").json()["job_id"], timeout=240)["status"] == "completed"
        board = c.get(f"/projects/{pid}/storyboard").json()
        path = board["shots"][0]["still"]
        assert path == f"/api/v1/projects/{pid}/storyboard/shots/1/still"
        still = c.get(path.removeprefix("/api/v1"))
        assert still.status_code == 200 and still.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(still.content)).size[0] > 0
        assert still.headers["cache-control"] == "private, no-cache" and still.headers["etag"]
        again = c.get(path.removeprefix("/api/v1"), headers={"If-None-Match": still.headers["etag"]})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == still.headers["etag"]


def test_a_retried_publish_with_its_idempotency_key_is_one_job(tmp_path: Path) -> None:
    from folder_target import FolderTarget

    settings = server_settings(tmp_path / "home", secrets_backend="file")
    with live_server(settings, targets={"folder": FolderTarget(tmp_path / "shelf")}) as live, \
            live.client(live.new_key("retry")) as c:
        pid = _project(c, "Retry")
        assert wait_job(c, c.post(f"/projects/{pid}/generate").json()["job_id"])["status"] == "completed"
        body = {"target": "folder", "options": {"name": "cut"}}
        first = c.post(f"/projects/{pid}/publish", json=body, headers={"Idempotency-Key": "pub-1"})
        assert first.status_code == 202, first.text
        again = c.post(f"/projects/{pid}/publish", json=body, headers={"Idempotency-Key": "pub-1"})
        assert again.status_code == 202 and again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        other = c.post(f"/projects/{pid}/publish", json={**body, "options": {"name": "other"}},
                       headers={"Idempotency-Key": "pub-1"})
        _error(other, 422, "IDEMPOTENCY_KEY_REUSED")
        assert wait_job(c, first.json()["job_id"])["status"] == "completed"
        publishes = c.get("/jobs", params={"kind": "publish", "per_page": 100}).json()["jobs"]
        assert [j["job_id"] for j in publishes] == [first.json()["job_id"]]


def test_the_youtube_channels_an_account_may_publish_to(server: LiveServer, key: str) -> None:
    from filmstudio.services import accounts
    from filmstudio.store import channels

    store = server.parts.studio.store
    owner = accounts.account_by_name(store, "studio-client").account_id
    with server.client(key) as c:
        assert c.get("/youtube/channels").json() == []  # none connected for this account yet
        with store.write() as db:  # what `filmstudio youtube connect --account studio-client` records
            channels.upsert_channel(db, {"channel_id": "UC123", "title": "Harbour Films", "client_id": "x",
                                         "token_uri": "https://oauth2.example/token", "scopes": "[]",
                                         "connected_at": "2026-01-01T00:00:00.000Z", "account_id": owner})
        assert c.get("/youtube/channels").json() == [{"channel_id": "UC123", "title": "Harbour Films",
                                                      "connected_at": "2026-01-01T00:00:00.000Z",
                                                      "login_saved": False}]
    with server.client(server.new_key("another-account")) as other:
        assert other.get("/youtube/channels").json() == []  # not shared with it
    with server.client(server.new_key("narrow", scopes=["jobs:read"])) as narrow:
        _error(narrow.get("/youtube/channels"), 403, "INSUFFICIENT_SCOPE")
