"""A model pulled or removed while the studio runs is used by the next storyboard and render, no restart.

The real server (uvicorn on loopback, its in-process worker, the real pipeline on the engines built
from its home), the tiny Stable Diffusion model served by the fake hub and pulled over the API as
one set (POST /models/pull), then removed (DELETE /models/{id}).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from fakehub import FakeHub, model_toml
from filmstudio.app.compose import build_server, run_server
from filmstudio.config import Settings
from filmstudio.services.secrets import MemorySecrets
from integration.conftest_server import LiveServer, server_settings, wait_healthy, wait_job

SCRIPT = """Title: The Key

INT. WORKSHOP - NIGHT

MAYA (30s) polishes a brass key at the bench.

MAYA
It opens every door in town.
"""
SMALL = {"duration": 8, "resolution": "320x180", "fps": 12, "music_genre": "none", "style": "documentary"}


@pytest.fixture(scope="module")
def tiny_sd_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    pytest.importorskip("diffusers")
    from tiny_sd import build_tiny_sd, folder_files

    return folder_files(build_tiny_sd(tmp_path_factory.mktemp("tiny-sd") / "built"))


@contextmanager
def real_server(settings: Settings) -> Iterator[LiveServer]:
    """The server as `filmstudio serve` builds it: engines from its home (no engines or renderer given)."""
    parts = build_server(settings, secrets=MemorySecrets())
    holder: dict[str, Any] = {}
    thread = threading.Thread(target=run_server, args=(parts,),
                              kwargs={"on_started": lambda s: holder.setdefault("s", s)}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{settings.port}"
    wait_healthy(base)
    try:
        yield LiveServer(parts, base)
    finally:
        holder["s"].should_exit = True
        thread.join(timeout=15)


@pytest.mark.slow
def test_a_picture_model_pulled_while_serving_draws_the_next_render(tmp_path: Path,
                                                                     tiny_sd_files: dict[str, bytes]) -> None:
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text(model_toml("tiny-sd", "test/tiny-sd", tiny_sd_files).replace('kind = "voice"', 'kind = "picture"')
                         .replace('engine = "piper"', 'engine = "diffusers"'), encoding="utf-8")
    with FakeHub(repos={"test/tiny-sd": tiny_sd_files}) as hub:
        settings = server_settings(tmp_path / "studio", model_catalogue=catalogue, model_endpoint=hub.endpoint,
                                   lease_seconds=30.0, max_body_bytes=1_000_000)
        with real_server(settings) as live:
            assert live.parts.live is not None and live.parts.studio.picture_engine() is None
            with live.client(live.new_key("boss", scopes=["admin"])) as c:
                project = c.post("/projects", json={"title": "The Key", "script": SCRIPT, "settings": SMALL}).json()
                pid = project["project_id"]
                board = c.get(f"/projects/{pid}/storyboard").json()
                assert board["pictures"]["model"] is None
                first = wait_job(c, c.post(f"/projects/{pid}/generate").json()["job_id"], timeout=240)
                assert first["status"] == "completed", first
                assert first["result"].get("stills_drawn", 0) == 0  # procedural backdrops: no model yet

                accepted = c.post("/models/pull", json={"models": ["tiny-sd"]})
                assert accepted.status_code == 202, accepted.text
                pulled = wait_job(c, accepted.json()["job_id"], timeout=120)
                assert pulled["status"] == "completed", pulled
                assert [m["model_id"] for m in pulled["result"]["models"]] == ["tiny-sd"]

                # The same server, no restart: the storyboard counts with the model's tokenizer, the
                # estimate counts the stills to draw, and the render draws them with it.
                board = c.get(f"/projects/{pid}/storyboard").json()
                assert board["pictures"]["model"] == "tiny-sd"
                engine = live.parts.studio.picture_engine()
                assert engine is not None and engine.identity().model == "tiny-sd"
                second = wait_job(c, c.post(f"/projects/{pid}/generate").json()["job_id"], timeout=300)
                assert second["status"] == "completed", second
                assert second["result"]["stills_drawn"] >= 1, second["result"]
                shots = len(board["shots"])
                assert second["result"]["stills"] == shots, second["result"]

                assert c.delete("/models/tiny-sd").status_code == 204
                assert live.parts.studio.picture_engine() is None  # removed: procedural again
                third = wait_job(c, c.post(f"/projects/{pid}/generate", json={"settings": {"duration": 9}})
                                 .json()["job_id"], timeout=240)
                assert third["status"] == "completed", third
                assert third["result"].get("stills_drawn", 0) == 0
            assert live.parts.live.rebuilds == 2


def test_a_video_model_pulled_while_serving_is_in_the_next_storyboards_motion_estimate(tmp_path: Path) -> None:
    """The tiny Wan image-to-video model pulled over the API while the server runs: the storyboard's
    motion block (what animating adds) names it at once, and forgets it once it is removed. Nothing renders."""
    pytest.importorskip("diffusers")
    from tiny_sd import folder_files
    from tiny_video import build_tiny_wan

    wan = folder_files(build_tiny_wan(tmp_path / "wan"))
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text(model_toml("tiny-wan", "test/tiny-wan", wan).replace('kind = "voice"', 'kind = "video"')
                         .replace('engine = "piper"', 'engine = "diffusers"'), encoding="utf-8")
    with FakeHub(repos={"test/tiny-wan": wan}) as hub:
        settings = server_settings(tmp_path / "studio", model_catalogue=catalogue, model_endpoint=hub.endpoint)
        with real_server(settings) as live:
            assert live.parts.live is not None and live.parts.studio.motion_engine() is None
            with live.client(live.new_key("boss", scopes=["admin"])) as c:
                pid = c.post("/projects", json={"title": "The Key", "script": SCRIPT,
                                                "settings": {**SMALL, "motion": "all"}}).json()["project_id"]
                before = c.get(f"/projects/{pid}/storyboard").json()
                shots = len(before["shots"])
                assert before["motion"]["model"] is None and before["motion"]["seconds"] == 0
                assert before["motion"]["summary"].startswith("no video model")

                accepted = c.post("/models/pull", json={"models": ["tiny-wan"]})
                assert accepted.status_code == 202, accepted.text
                assert wait_job(c, accepted.json()["job_id"], timeout=120)["status"] == "completed"

                motion = c.get(f"/projects/{pid}/storyboard").json()["motion"]
                assert (motion["model"], motion["device"], motion["moving"]) == ("tiny-wan", "cpu", shots)
                assert motion["seconds"] > 0 and motion["summary"].endswith("(tiny-wan)"), motion
                engine = live.parts.studio.motion_engine()
                assert engine is not None and engine.identity().model == "tiny-wan"

                assert c.delete("/models/tiny-wan").status_code == 204
                gone = c.get(f"/projects/{pid}/storyboard").json()["motion"]
                assert gone["model"] is None and gone["summary"].startswith("no video model")
            assert live.parts.live.rebuilds == 2
