"""The public reference's Python example, end to end, with the real render pipeline (espeak, ffmpeg)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from filmstudio.app.compose import pipeline_renderer
from filmstudio.pipeline.media.ffmpeg import ffprobe_exe
from integration.conftest_server import SCRIPT, live_server, server_settings, wait_job, wait_progress
from studio_engines import real_engines

E2E = {"duration": 6, "resolution": "320x180", "fps": 12, "subtitle_languages": ["en"]}


def _probe(path: Path) -> dict:
    out = subprocess.run([ffprobe_exe() or "ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json",
                          str(path)], capture_output=True, check=True, text=True).stdout
    return json.loads(out)


@pytest.mark.slow
def test_reference_python_example_with_the_real_pipeline(tmp_path: Path) -> None:
    settings = server_settings(tmp_path / "studio", lease_seconds=10.0)
    with live_server(settings, renderer=pipeline_renderer(real_engines())) as live:
        key = live.new_key("e2e")
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        base = live.api
        project = httpx.post(f"{base}/projects", headers=headers,
                             json={"title": "My Video", "script": SCRIPT, "settings": E2E}).json()
        assert project["status"] == "draft"
        job = httpx.post(f"{base}/projects/{project['project_id']}/generate", headers=headers,
                         json={"settings": E2E}).json()
        assert job["status"] == "queued"
        with live.client(key) as c:
            done = wait_job(c, job["job_id"], timeout=240)
        assert done["status"] == "completed", done
        got = httpx.get(f"{base}/projects/{project['project_id']}", headers=headers).json()
        assert got["status"] == "completed"
        film = tmp_path / "film.mp4"
        film.write_bytes(httpx.get(got["assets"]["video_url"]).raise_for_status().content)
        thumb = httpx.get(got["assets"]["thumbnail_url"]).raise_for_status()
        assert thumb.headers["content-type"] == "image/jpeg" and thumb.content[:2] == b"\xff\xd8"
        srt = httpx.get(got["assets"]["subtitles"]["en"]).raise_for_status().text
        assert "-->" in srt
    info = _probe(film)
    streams = {s["codec_type"]: s for s in info["streams"]}
    assert streams["video"]["codec_name"] == "h264" and streams["video"]["pix_fmt"] == "yuv420p"
    assert (streams["video"]["width"], streams["video"]["height"]) == (320, 180)
    assert streams["audio"]["codec_name"] == "aac"
    assert abs(float(info["format"]["duration"]) - E2E["duration"]) < 1.0
    assert info["format"]["tags"]["title"] == "My Video"  # the project's title, not the script's "Untitled"


@pytest.mark.slow
def test_cancel_mid_render_with_the_real_pipeline(tmp_path: Path) -> None:
    settings = server_settings(tmp_path / "studio", lease_seconds=10.0)
    with live_server(settings, renderer=pipeline_renderer(real_engines())) as live:
        key = live.new_key("cancel")
        with live.client(key) as c:
            pid = c.post("/projects", json={"title": "c", "script": SCRIPT,
                                            "settings": {**E2E, "duration": 8}}).json()["project_id"]
            job_id = c.post(f"/projects/{pid}/generate").json()["job_id"]
            mid = wait_progress(c, job_id, at_least=5, timeout=120)
            assert mid["status"] == "processing"
            assert c.post(f"/jobs/{job_id}/cancel").status_code == 200
            final = wait_job(c, job_id, timeout=120)
            assert final["status"] == "cancelled"
            project = c.get(f"/projects/{pid}").json()
            assert project["status"] == "draft"
            assert c.patch(f"/projects/{pid}", json={"title": "edited"}).json()["title"] == "edited"
    assert not list(settings.media_dir.rglob("*.mp4"))
