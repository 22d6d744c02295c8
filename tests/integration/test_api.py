"""The /api/v1 contract against a real uvicorn on loopback, a real queue and a fake (but real-MP4) renderer."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from filmstudio.pipeline.media.ffmpeg import ffprobe_exe
from filmstudio.pipeline.runner import STEPS
from integration.conftest_server import (
    SCRIPT,
    SMALL,
    LiveServer,
    live_server,
    server_settings,
    wait_job,
    wait_progress,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(server_settings(tmp_path_factory.mktemp("studio"))) as live:
        yield live


@pytest.fixture(scope="module")
def alice(server: LiveServer) -> str:
    return server.new_key("alice")


def _create(client: httpx.Client, title: str = "My Video", **settings: object) -> dict:
    r = client.post("/projects", json={"title": title, "script": SCRIPT, "settings": {**SMALL, **settings}})
    assert r.status_code == 201, r.text
    return r.json()


def _assert_error(r: httpx.Response, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def test_reference_flow_create_generate_poll_download(server: LiveServer, alice: str, tmp_path: Path) -> None:
    with server.client(alice) as c:
        created = _create(c, duration=60)
        assert created["status"] == "draft" and created["estimated_credits"] == 3
        assert set(created) >= {"project_id", "title", "status", "estimated_credits", "created_at"}
        pid = created["project_id"]
        job = c.post(f"/projects/{pid}/generate", json={"settings": SMALL})
        assert job.status_code == 202, job.text
        accepted = job.json()
        assert accepted["status"] == "queued" and accepted["credits_deducted"] == 1
        assert set(accepted) >= {"job_id", "status", "estimated_time", "credits_deducted"}
        done = wait_job(c, accepted["job_id"])
        assert done["status"] == "completed", done
        assert done["progress"] == 100 and done["project_id"] == pid and done["started_at"]
        project = c.get(f"/projects/{pid}").json()
    assert project["status"] == "completed" and project["completed_at"]
    assert set(project) >= {"project_id", "title", "script", "settings", "status", "assets", "created_at",
                            "completed_at"}
    assert project["settings"]["resolution"] == "320x180"
    assert set(project["assets"]["subtitles"]) == {"en"}
    # Signed URLs download with a plain GET, no key.
    video = httpx.get(project["assets"]["video_url"])
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    film = tmp_path / "film.mp4"
    film.write_bytes(video.content)
    probe = json.loads(subprocess.run(
        [ffprobe_exe() or "ffprobe", "-v", "error", "-show_streams", "-of", "json", str(film)],
        capture_output=True, check=True, text=True).stdout)
    kinds = {s["codec_type"]: s for s in probe["streams"]}
    assert kinds["video"]["codec_name"] == "h264" and (kinds["video"]["width"], kinds["video"]["height"]) == (320, 180)
    assert kinds["audio"]["codec_name"] == "aac"
    thumb = httpx.get(project["assets"]["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"
    srt = httpx.get(project["assets"]["subtitles"]["en"])
    assert srt.status_code == 200 and "-->" in srt.text


def test_list_pagination_filter_sort(server: LiveServer) -> None:
    key = server.new_key("lister")
    with server.client(key) as c:
        made = [_create(c, title=f"p{i}")["project_id"] for i in range(7)]
        c.patch(f"/projects/{made[2]}", json={"title": "edited"}).raise_for_status()
        page1 = c.get("/projects", params={"page": 1, "per_page": 3, "order": "asc"}).json()
        assert page1["total_count"] == 7 and page1["total_pages"] == 3 and page1["per_page"] == 3
        assert [p["project_id"] for p in page1["projects"]] == made[:3]
        page3 = c.get("/projects", params={"page": 3, "per_page": 3, "order": "asc"}).json()
        assert [p["project_id"] for p in page3["projects"]] == made[6:]
        newest = c.get("/projects", params={"per_page": 1}).json()["projects"][0]
        assert newest["project_id"] == made[-1]
        by_update = c.get("/projects", params={"per_page": 1, "sort": "updated_at"}).json()["projects"][0]
        assert by_update["project_id"] == made[2] and by_update["title"] == "edited"
        assert c.get("/projects", params={"status": "completed"}).json()["total_count"] == 0
        assert c.get("/projects", params={"status": "draft"}).json()["total_count"] == 7
        _assert_error(c.get("/projects", params={"per_page": 101}), 400, "VALIDATION_ERROR")
        _assert_error(c.get("/projects", params={"sort": "title"}), 400)
        c.delete(f"/projects/{made[0]}").raise_for_status()
        assert c.get("/projects").json()["total_count"] == 6
        _assert_error(c.get(f"/projects/{made[0]}"), 404, "PROJECT_NOT_FOUND")


def test_error_envelope_everywhere(server: LiveServer, alice: str) -> None:
    with server.client(alice) as c:
        bad = _assert_error(c.post("/projects", json={"title": "x", "script": "y", "settings": {"duration": 2}}), 400,
                            "DURATION_OUT_OF_RANGE")
        assert bad["details"]["errors"][0]["field"] == "settings.duration"
        two = _assert_error(c.post("/projects", json={"title": "", "settings": {"style": "weird"}}), 400,
                            "VALIDATION_ERROR")
        assert {e["field"] for e in two["details"]["errors"]} >= {"title", "script", "settings.style"}
        _assert_error(c.post("/projects", content=b"{not json", headers={"content-type": "application/json"}), 400)
        _assert_error(c.get("/nope"), 404, "NOT_FOUND")
        _assert_error(c.get("/projects/00000000-0000-0000-0000-000000000000"), 404, "PROJECT_NOT_FOUND")
        _assert_error(c.put("/projects"), 405, "METHOD_NOT_ALLOWED")
        big = {"title": "x", "script": "a" * 70_000}
        _assert_error(c.post("/projects", json=big), 413, "PAYLOAD_TOO_LARGE")

        def chunked() -> Iterator[bytes]:  # no Content-Length: the limit is enforced while streaming
            yield b'{"title": "x", "script": "'
            for _ in range(70):
                yield b"a" * 1000
            yield b'"}'

        _assert_error(c.post("/projects", content=chunked(), headers={"content-type": "application/json"}), 413,
                      "PAYLOAD_TOO_LARGE")
    _assert_error(httpx.get(f"{server.base}/definitely/not/here"), 404, "NOT_FOUND")
    _assert_error(httpx.get(f"{server.api}/projects"), 401, "MISSING_API_KEY")


def test_internal_errors_hide_the_trace(server: LiveServer, alice: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from filmstudio.services import projects

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(projects, "list_projects", boom)
    with server.client(alice) as c:
        err = _assert_error(c.get("/projects"), 500, "INTERNAL_ERROR")
    assert "secret" not in json.dumps(err) and "Traceback" not in json.dumps(err)


def test_conflicts_while_processing_and_cancel_leaves_project_editable(tmp_path: Path) -> None:
    from integration.conftest_server import FakeRenderer

    with live_server(server_settings(tmp_path), renderer=FakeRenderer(step_seconds=0.5)) as live:
        key = live.new_key("carol", credits=10)
        with live.client(key) as c:
            pid = _create(c)["project_id"]
            job = c.post(f"/projects/{pid}/generate").json()
            running = wait_job(c, job["job_id"], until=("processing",))
            assert running["status"] == "processing"
            _assert_error(c.delete(f"/projects/{pid}"), 409, "PROJECT_BUSY")
            _assert_error(c.patch(f"/projects/{pid}", json={"title": "t"}), 409, "PROJECT_BUSY")
            _assert_error(c.post(f"/projects/{pid}/generate"), 409, "PROJECT_BUSY")
            # Wait until it is mid-render, then cancel.
            mid = wait_progress(c, job["job_id"], at_least=14)
            assert mid["status"] == "processing" and mid["current_step"] in STEPS
            assert c.post(f"/jobs/{job['job_id']}/cancel").status_code == 200
            final = wait_job(c, job["job_id"])
            assert final["status"] == "cancelled"
            _assert_error(c.post(f"/jobs/{job['job_id']}/cancel"), 409, "JOB_FINISHED")
            project = c.get(f"/projects/{pid}").json()
            assert project["status"] == "draft" and project["assets"]["video_url"] is None
            assert c.patch(f"/projects/{pid}", json={"title": "after cancel"}).status_code == 200
        out_dir = live.parts.settings.media_dir / pid / job["job_id"]
        assert not (out_dir / "film.mp4").exists()
        ledger = live.parts.studio.store.all("SELECT kind, amount FROM credit_ledger WHERE job_id = ?",
                                             [job["job_id"]])
        assert sorted((r["kind"], r["amount"]) for r in ledger) == [("deduct", 1), ("refund", 1)]
        balance = live.parts.studio.store.one("SELECT credit_balance FROM accounts WHERE name = 'carol'")
        assert balance == {"credit_balance": 10}
        # A script that cannot fit its duration is refused up front, before any credit moves.
        with live.client(key) as c:
            long_pid = c.post("/projects", json={"title": "long", "script": SCRIPT * 30, "settings": SMALL}).json()
            err = _assert_error(c.post(f"/projects/{long_pid['project_id']}/generate"), 400, "SCRIPT_TOO_LONG")
        balance = live.parts.studio.store.one("SELECT credit_balance FROM accounts WHERE name = 'carol'")
        assert balance == {"credit_balance": 10}
        # Insufficient credits: 402 with required/available.
        poor = live.new_key("poor", credits=0)
        with live.client(poor) as c:
            pid2 = _create(c)["project_id"]
            err = _assert_error(c.post(f"/projects/{pid2}/generate"), 402, "INSUFFICIENT_CREDITS")
            assert err["details"] == {"required": 1, "available": 0}
