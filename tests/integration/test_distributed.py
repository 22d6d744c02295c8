"""Render workers on other machines: a real redis-server, the server, two worker processes, kill -9 one;
and a farmed film whose stills the main machine draws with the tiny picture model, for workers that have none."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from filmstudio.app.compose import build_engines, build_server, run_server
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.engines import Engines
from filmstudio.pipeline.media.ffmpeg import probe
from filmstudio.services import accounts, keys
from filmstudio.services.farm import SegmentBoard
from integration.conftest_server import free_port, server_settings, wait_healthy, wait_job
from media_checks import decode_frame
from studio_engines import render_film

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """Title: Two Machines

INT. WORKSHOP - NIGHT

MARA bends over the old projector.

MARA
One more reel and we are done.

EXT. HARBOUR - DAY

The ferry horn sounds across the water.

TOMAS
You said that an hour ago.

INT. CINEMA - NIGHT

The lights go down. The film begins.
"""
FILM = {"duration": 16, "resolution": "320x180", "fps": 12, "music_genre": "calm"}


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    exe = shutil.which("redis-server")
    assert exe is not None, "redis-server is needed (apt-get install redis-server; ./studio installs it)"
    port = free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            if client.ping():
                break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def farm_server(home: Path, queue_url: str, engines: Engines | None = None) -> Iterator[tuple[str, Any]]:
    """The main server with the real pipeline, farming segment encodes out over Redis."""
    settings = server_settings(home, secrets_backend="file", queue_url=queue_url, segment_farm=True,
                               lease_seconds=2.0)
    parts = build_server(settings, engines=engines)
    holder: dict[str, Any] = {}
    thread = threading.Thread(target=run_server, args=(parts,), daemon=True,
                              kwargs={"on_started": lambda s: holder.setdefault("s", s)})
    thread.start()
    base = f"http://127.0.0.1:{settings.port}"
    wait_healthy(base, timeout=20)
    try:
        yield base, parts
    finally:
        holder["s"].should_exit = True
        thread.join(timeout=30)


def _worker(tmp_path: Path, name: str, queue_url: str, base: str, key: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FILMSTUDIO_HOME": str(tmp_path / name), "FILMSTUDIO_WORKER_KEY": key}
    log = (tmp_path / f"{name}.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "filmstudio.cli_studio", "worker", "--queue", queue_url,
                             "--server", base, "--name", name], env=env, cwd=REPO, stdout=log, stderr=log)


def _streams(path: Path) -> list[tuple[str, str, Any, Any]]:
    return [(s["codec_type"], s["codec_name"], s.get("width"), s.get("height")) for s in probe(path)["streams"]]


def _film(home: Path, project: dict[str, Any], job_id: str) -> tuple[Path, dict[str, Any]]:
    folder = home / "media" / project["project_id"] / job_id
    return folder / "film.mp4", json.loads((folder / "film.manifest.json").read_text())


@pytest.mark.slow
def test_segments_spread_over_two_workers_and_survive_a_kill_9(redis_url: str, tmp_path: Path) -> None:
    home = tmp_path / "studio"
    with farm_server(home, redis_url) as (base, parts):
        store = parts.studio.store
        acct = accounts.create_account(store, "crew", plan="enterprise", credits=None)
        user = keys.create_key(store, acct.account_id, name="crew").secret
        farm_key = keys.create_key(store, acct.account_id, name="render-farm", scopes=["worker"]).secret
        api = httpx.Client(base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {user}"}, timeout=30)
        # The worker key is for segments only.
        assert httpx.get(f"{base}/api/v1/projects", headers={"Authorization": f"Bearer {farm_key}"}).status_code == 403
        assert api.post("/segments/" + "0" * 64 + "/beat", json={"worker": "x", "frames": 0}).status_code == 403
        workers = {n: _worker(tmp_path, n, redis_url, base, farm_key) for n in ("w1", "w2")}
        try:
            project = api.post("/projects", json={"title": "farm", "script": SCRIPT, "settings": FILM}).json()
            # A picture of the user's own for the first scene: its segments are farmed too (the image by content).
            photo = io.BytesIO()
            Image.new("RGB", (96, 54), (30, 90, 160)).save(photo, format="PNG")
            assert api.put(f"/projects/{project['project_id']}/images/scene-1.png", content=photo.getvalue(),
                           headers={"Content-Type": "image/png"}).status_code == 201
            job = wait_job(api, api.post(f"/projects/{project['project_id']}/generate").json()["job_id"], timeout=240)
            assert job["status"] == "completed", job
            film, manifest = _film(home, project, job["job_id"])
            by = [s["worker"] for s in manifest["segments"]]
            assert {"w1", "w2"} <= set(by), by  # one film's segments, done by both machines
            assert set(by) <= {"w1", "w2", "main"}
            fetched = [p for n in ("w1", "w2") for p in (tmp_path / n / "segment-work" / "images").glob("*.png")]
            assert fetched and all(p.read_bytes() == photo.getvalue() for p in fetched)  # image went to a worker

            # The same film on one machine (its own cache, the job's own settings and voice clips, so
            # the two plans are the same): same duration and streams.
            alone = tmp_path / "alone" / "film.mp4"
            shutil.copytree(home / "cache" / "tts", tmp_path / "alone-cache" / "tts")
            alone_manifest = render_film(SCRIPT, RenderSettings.model_validate(manifest["settings"]), alone,
                                         work_dir=tmp_path / "alone-work", cache_dir=tmp_path / "alone-cache",
                                         title=manifest["title"],
                                         images=(home / "media" / project["project_id"] / "images" / "scene-1.png",))
            assert _streams(film) == _streams(alone)
            assert abs(float(probe(film)["format"]["duration"]) - float(probe(alone)["format"]["duration"])) < 0.05
            # Same plan, same content keys: the farmed film is joined from the very segments one machine makes.
            why = {k: (manifest.get(k), alone_manifest.get(k)) for k in ("settings", "casting", "words_per_minute",
                                                                          "scenes") if manifest.get(k) != alone_manifest.get(k)}
            assert [s["key"] for s in manifest["segments"]] and {s["key"] for s in manifest["segments"]} == {
                p.stem for p in (tmp_path / "alone-cache" / "segments").glob("*.mp4")}, why

            # kill -9 a worker mid-segment: its segment is dispatched again and the film completes.
            bigger = {**FILM, "resolution": "1280x720", "fps": 24, "style": "documentary"}
            second = api.post("/projects", json={"title": "kill", "script": SCRIPT, "settings": bigger}).json()
            job2 = api.post(f"/projects/{second['project_id']}/generate").json()["job_id"]
            board = SegmentBoard(home / "cache")
            victim = None
            deadline = time.monotonic() + 180
            while victim is None:
                assert time.monotonic() < deadline, "w1 never started a segment"
                for beat in board.root.glob("[0-9a-f]*.beat"):  # not the atomic writes' .partial temp files
                    got = board.last_beat(beat.name[: -len(".beat")])
                    if got and got[1]["worker"] == "w1":
                        victim = beat.name[: -len(".beat")]
                        break
                time.sleep(0.02)
            workers["w1"].send_signal(signal.SIGKILL)
            assert workers["w1"].wait(timeout=10) == -signal.SIGKILL
            done = wait_job(api, job2, timeout=300)
            assert done["status"] == "completed", done
            film2, manifest2 = _film(home, second, job2)
            rows = {s["key"]: s["worker"] for s in manifest2["segments"]}
            assert rows[victim] == "w2", rows  # re-run on the other machine, not lost with the dead worker
            streams = _streams(film2)
            assert ("video", "h264", 1280, 720) in streams and any(s[0] == "audio" for s in streams)
            assert abs(float(probe(film2)["format"]["duration"]) - manifest2["duration"]) < 0.1
        finally:
            for proc in workers.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
                    try:
                        proc.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        proc.kill()
            api.close()


def _tiny_model(root: Path) -> Path:
    """The tiny Stable Diffusion, served by the fake hub and pulled into `root` (a studio's models folder)."""
    from fakehub import FakeHub, model_toml
    from filmstudio.pipeline.models.catalogue import load_catalogue
    from filmstudio.pipeline.models.download import pull
    from filmstudio.pipeline.models.library import ModelLibrary
    from tiny_sd import build_tiny_sd, folder_files

    files = folder_files(build_tiny_sd(root.parent / "tiny-built"))
    catalogue = root.parent / "catalogue.toml"
    catalogue.write_text(model_toml("tiny-sd", "test/tiny-sd", files).replace('kind = "voice"', 'kind = "picture"')
                         .replace('engine = "piper"', 'engine = "diffusers"'), encoding="utf-8")
    with FakeHub(repos={"test/tiny-sd": files}) as hub:
        pull(load_catalogue(catalogue).get("tiny-sd"), ModelLibrary(root), endpoint=hub.endpoint)
    return root


@pytest.mark.slow
def test_the_main_machine_draws_the_stills_and_workers_without_a_model_render_them(
        redis_url: str, tmp_path: Path) -> None:
    pytest.importorskip("diffusers")
    from filmstudio.pipeline.providers.pictures import DiffusersPictures

    home = tmp_path / "studio"
    engines = build_engines(jobs=2, models_dir=_tiny_model(home / "models"))
    assert isinstance(engines.pictures, DiffusersPictures)
    engines.pictures.steps = 2
    with farm_server(home, redis_url, engines) as (base, parts):
        store = parts.studio.store
        acct = accounts.create_account(store, "crew", plan="enterprise", credits=None)
        user = keys.create_key(store, acct.account_id, name="crew").secret
        farm_key = keys.create_key(store, acct.account_id, name="render-farm", scopes=["worker"]).secret
        api = httpx.Client(base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {user}"}, timeout=30)
        workers = {n: _worker(tmp_path, n, redis_url, base, farm_key) for n in ("w1", "w2")}
        try:
            settings = {**FILM, "style": "documentary", "music_genre": "none"}
            project = api.post("/projects", json={"title": "drawn", "script": SCRIPT, "settings": settings}).json()
            job = wait_job(api, api.post(f"/projects/{project['project_id']}/generate").json()["job_id"], timeout=240)
            assert job["status"] == "completed", job
            film, manifest = _film(home, project, job["job_id"])
            assert manifest["stills"] >= 3 and manifest["stills_drawn"] == manifest["stills"]
            by = [s["worker"] for s in manifest["segments"]]
            assert {"w1", "w2"} & set(by), by  # farmed out, not all rendered here
            # The workers have no picture model: they got the drawn stills as images, by content.
            for n in ("w1", "w2"):
                assert not (tmp_path / n / "models").exists()
            stills = {p.read_bytes() for p in (home / "cache" / "stills").glob("still-*.png")}
            fetched = [p for n in ("w1", "w2") for p in (tmp_path / n / "segment-work" / "images").glob("*.png")]
            assert fetched and all(p.read_bytes() in stills for p in fetched)

            # One machine, the same model and plan (the job's voice clips), its own cache: it draws the
            # same stills, so its segments have the very keys the farmed film was joined from.
            alone = tmp_path / "alone" / "film.mp4"
            shutil.copytree(home / "cache" / "tts", tmp_path / "alone-cache" / "tts")
            render_film(SCRIPT, RenderSettings.model_validate(manifest["settings"]), alone,
                        work_dir=tmp_path / "alone-work", cache_dir=tmp_path / "alone-cache", title=manifest["title"],
                        engines=engines)
            assert {p.read_bytes() for p in (tmp_path / "alone-cache" / "stills").glob("still-*.png")} == stills
            assert {s["key"] for s in manifest["segments"]} == {
                p.stem for p in (tmp_path / "alone-cache" / "segments").glob("*.mp4")}
            assert _streams(film) == _streams(alone)
            for t in (1.0, manifest["duration"] / 2, manifest["duration"] - 1.5):
                a = decode_frame(film, t, (320, 180)).astype(float)
                b = decode_frame(alone, t, (320, 180)).astype(float)
                assert np.abs(a - b).mean() < 1.0, t  # the same frames (the same encodes, joined)
        finally:
            for proc in workers.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
                    try:
                        proc.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        proc.kill()
            api.close()
