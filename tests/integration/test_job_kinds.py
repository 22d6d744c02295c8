"""Jobs of more than one kind over the real API: model pulls (a fake hub), project pictures, migration 4."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from fakehub import FakeHub, model_toml
from filmstudio.store.db import Store
from filmstudio.store.migrations import MIGRATIONS, migrate
from integration.conftest_server import SCRIPT, SMALL, FakeRenderer, live_server, server_settings, wait_job

REPO = Path(__file__).resolve().parents[2]
BIG = "voice.onnx"
FILES = {BIG: os.urandom(3 * 1024 * 1024 + 123), "voice.onnx.json": b'{"audio": {"sample_rate": 22050}}'}


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub(repos={"test/voice": dict(FILES)}) as fake:
        yield fake


def _catalogue(tmp_path: Path) -> Path:
    path = tmp_path / "catalogue.toml"
    path.write_text(model_toml("test-voice", "test/voice", FILES), encoding="utf-8")
    return path


def _png(size: tuple[int, int] = (64, 36), colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def test_models_are_listed_and_a_pull_is_a_job_that_installs_the_model(tmp_path: Path, hub: FakeHub) -> None:
    settings = server_settings(tmp_path / "studio", model_catalogue=_catalogue(tmp_path), model_endpoint=hub.endpoint)
    with live_server(settings) as live:
        admin = live.new_key("boss", scopes=["admin"])
        user = live.new_key("user2")
        with live.client(admin) as c, live.client(user) as u:
            listed = c.get("/models").json()
            assert [m["id"] for m in listed] == ["test-voice"]
            assert listed[0]["installed"] is False and listed[0]["licence"] == "CC0-1.0" and listed[0]["fits"]
            assert listed[0]["size_bytes"] == sum(len(b) for b in FILES.values())
            assert u.post("/models/test-voice/pull").json()["error"]["code"] == "INSUFFICIENT_SCOPE"
            assert c.post("/models/nope/pull").json()["error"]["code"] == "MODEL_NOT_FOUND"
            accepted = c.post("/models/test-voice/pull")
            assert accepted.status_code == 202, accepted.text
            job_id = accepted.json()["job_id"]
            done = wait_job(c, job_id, timeout=60)
            assert done["status"] == "completed" and done["kind"] == "model_pull", done
            assert done["project_id"] is None and done["credits"] == 0
            assert done["result"]["model_id"] == "test-voice" and done["result"]["bytes"] == listed[0]["size_bytes"]
            assert (Path(done["result"]["path"]) / BIG).read_bytes() == FILES[BIG]
            assert c.get("/models/test-voice").json()["installed"] is True
            assert [j["job_id"] for j in c.get("/jobs", params={"kind": "model_pull"}).json()["jobs"]] == [job_id]
            assert c.get("/jobs", params={"kind": "render"}).json()["jobs"] == []
            assert c.get("/jobs", params={"kind": "bogus"}).status_code == 400
            # Installed: a second pull is a job that finishes at once, with no bytes fetched.
            before = len(hub.requests)
            again = wait_job(c, c.post("/models/test-voice/pull").json()["job_id"], timeout=30)
            assert again["status"] == "completed" and len(hub.requests) == before
            assert c.delete("/models/test-voice").status_code == 204
            assert c.get("/models/test-voice").json()["installed"] is False


def _worker(home: Path, catalogue: Path, endpoint: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FILMSTUDIO_HOME": str(home), "FILMSTUDIO_LEASE_SECONDS": "2",
           "FILMSTUDIO_RECONCILE_SECONDS": "0.5", "FILMSTUDIO_MODEL_CATALOGUE": str(catalogue),
           "FILMSTUDIO_MODEL_ENDPOINT": endpoint, "PYTHONPATH": str(REPO / "tests")}
    return subprocess.Popen([sys.executable, "-m", "filmstudio.cli_studio", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)


@pytest.mark.slow
def test_kill_9_mid_pull_then_the_reconciler_resumes_from_the_bytes_on_disk(tmp_path: Path, hub: FakeHub) -> None:
    home = tmp_path / "studio"
    catalogue = _catalogue(tmp_path)
    stall_at = 1024 * 1024 + 4096
    hub.stall_after[BIG] = stall_at  # the first GET hangs there: the worker is mid-file when killed
    settings = server_settings(home, workers=0, lease_seconds=2.0, model_catalogue=catalogue,
                               model_endpoint=hub.endpoint)
    with live_server(settings) as live:
        admin = live.new_key("boss", scopes=["admin"])
        with live.client(admin) as c:
            job_id = c.post("/models/test-voice/pull").json()["job_id"]
            first = _worker(home, catalogue, hub.endpoint)
            try:
                deadline = time.monotonic() + 60
                while True:
                    job = c.get(f"/jobs/{job_id}").json()
                    if job["status"] == "processing" and (job["result"] or {}).get("bytes_done", 0) >= stall_at - 300_000:
                        break
                    assert time.monotonic() < deadline, job
                    time.sleep(0.1)
                assert 0 < job["result"]["bytes_done"] < job["result"]["bytes_total"]
                first.send_signal(signal.SIGKILL)
                assert first.wait(timeout=10) == -signal.SIGKILL
            finally:
                if first.poll() is None:
                    first.kill()
            second = _worker(home, catalogue, hub.endpoint)
            try:
                done = wait_job(c, job_id, timeout=90)
            finally:
                second.send_signal(signal.SIGINT)
                second.wait(timeout=20)
    assert done["status"] == "completed" and done["attempts"] == 2, done
    assert (home / "models" / "test-voice" / BIG).read_bytes() == FILES[BIG]
    gets = [r for r in hub.requests if r.method == "GET" and r.path.endswith(BIG)]
    assert len(gets) == 2 and gets[1].range is not None, gets
    resumed_from = int(gets[1].range.split("=")[1].split("-")[0])
    assert resumed_from > 0
    # Bytes sent twice: only what the killed worker had received but not yet written (< one 256 KiB chunk).
    assert sum(g.bytes_sent for g in gets) - len(FILES[BIG]) < 256 * 1024


def test_a_projects_pictures_are_uploaded_checked_and_used_by_its_renders(tmp_path: Path) -> None:
    renderer = FakeRenderer()
    with live_server(server_settings(tmp_path / "studio"), renderer=renderer) as live:
        key = live.new_key("painter")
        with live.client(key) as c:
            pid = c.post("/projects", json={"title": "Pictures", "script": SCRIPT, "settings": SMALL}).json()["project_id"]
            png = {"Content-Type": "image/png"}
            made = c.put(f"/projects/{pid}/images/scene-1.png", content=_png(), headers=png)
            assert made.status_code == 201, made.text
            assert made.json() == {"name": "scene-1.png", "bytes": len(_png()), "width": 64, "height": 36,
                                   "format": "PNG"}
            # The name's extension follows the real format.
            jpeg = io.BytesIO()
            Image.new("RGB", (20, 20), (10, 10, 200)).save(jpeg, format="JPEG")
            assert c.put(f"/projects/{pid}/images/lab.png", content=jpeg.getvalue()).json()["name"] == "lab.jpg"
            bad = c.put(f"/projects/{pid}/images/x.png", content=b"not a picture", headers=png)
            assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_IMAGE"
            hidden = c.put(f"/projects/{pid}/images/..hidden", content=_png())
            assert hidden.status_code == 400 and hidden.json()["error"]["code"] == "INVALID_VALUE"
            huge = c.put(f"/projects/{pid}/images/huge.png", content=b"\0" * 16_000_001, headers=png)
            assert huge.status_code == 413 and huge.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
            assert c.put("/projects/nope/images/a.png", content=_png()).json()["error"]["code"] == "PROJECT_NOT_FOUND"
            assert [i["name"] for i in c.get(f"/projects/{pid}/images").json()] == ["lab.jpg", "scene-1.png"]
            job = wait_job(c, c.post(f"/projects/{pid}/generate").json()["job_id"])
            assert job["status"] == "completed", job
            used = renderer.requests[-1]
            assert [p.name for p in used.images] == ["lab.jpg", "scene-1.png"]
            assert used.images[1].read_bytes() == _png() and used.title == "Pictures"
            assert c.delete(f"/projects/{pid}/images/lab.jpg").status_code == 204
            assert c.delete(f"/projects/{pid}/images/lab.jpg").json()["error"]["code"] == "IMAGE_NOT_FOUND"
            assert [i["name"] for i in c.get(f"/projects/{pid}/images").json()] == ["scene-1.png"]


def test_migration_4_keeps_every_job_and_ledger_row(tmp_path: Path) -> None:
    """A studio.db from before job kinds: the jobs table is rebuilt, nothing is lost, keys still hold."""
    path = tmp_path / "studio.db"
    store = Store(path)
    with store.write() as db:
        for number, sql in MIGRATIONS[:3]:
            from filmstudio.store.migrations import _statements

            for statement in _statements(sql):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")
        db.execute("INSERT INTO accounts (id, name, plan, credit_balance, created_at) VALUES ('a', 'a', 'free', 9, 't')")
        db.execute("INSERT INTO projects (id, account_id, title, script, settings, created_at, updated_at) "
                   "VALUES ('p', 'a', 'T', 's', '{}', 't', 't')")
        db.execute("INSERT INTO jobs (id, project_id, account_id, status, script, settings, credits, created_at) "
                   "VALUES ('j', 'p', 'a', 'completed', 's', '{}', 1, 't')")
        db.execute("INSERT INTO credit_ledger (account_id, job_id, kind, amount, created_at) "
                   "VALUES ('a', 'j', 'deduct', 1, 't')")
    assert migrate(store) == len(MIGRATIONS)
    job = store.one("SELECT id, kind, project_id, status, credits, result FROM jobs")
    assert job == {"id": "j", "kind": "render", "project_id": "p", "status": "completed", "credits": 1, "result": None}
    assert store.one("SELECT job_id, amount FROM credit_ledger") == {"job_id": "j", "amount": 1}
    assert store.all("PRAGMA foreign_key_check") == []
    assert store.one("PRAGMA foreign_keys") == {"foreign_keys": 1}
    with pytest.raises(sqlite3.IntegrityError), store.write() as db:  # a render needs a project
        db.execute("INSERT INTO jobs (id, kind, account_id, created_at) VALUES ('k', 'render', 'a', 't')")
    with pytest.raises(sqlite3.IntegrityError), store.write() as db:  # the ledger still points at real jobs
        db.execute("INSERT INTO credit_ledger (account_id, job_id, kind, amount, created_at) "
                   "VALUES ('a', 'ghost', 'refund', 1, 't')")
    with store.write() as db:
        db.execute("INSERT INTO jobs (id, kind, account_id, params, created_at) "
                   "VALUES ('m', 'model_pull', 'a', ?, 't')", [json.dumps({"model_id": "x"})])
    assert store.one("SELECT project_id FROM jobs WHERE id = 'm'") == {"project_id": None}
