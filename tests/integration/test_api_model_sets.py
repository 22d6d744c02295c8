"""Several models as one job over the real API: GET /models/recommended, POST /models/pull, progress per model.

A fake hub on loopback serves the models; the studio runs under a real uvicorn with its in-process
worker. The machine is fixed to a CPU-only one with 16 GB (the plan depends on the hardware).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakehub import FakeHub
from filmstudio.pipeline.models.download import CHUNK_BYTES
from filmstudio.services import models as model_service
from filmstudio.services.secrets import MemorySecrets
from integration.conftest_server import live_server, server_settings, wait_job
from integration.test_recommended_pull import CATALOGUE, CPU_ONLY, REPOS

VOICE = sum(len(d) for d in REPOS["test/voices"].values())
SMALL = sum(len(d) for d in REPOS["test/small-pictures"].values())
ADAPTER = sum(len(d) for d in REPOS["test/adapter"].values())
BIG_FILE = "unet/w.safetensors"


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub(repos={repo: dict(files) for repo, files in REPOS.items()}) as fake:
        yield fake


@pytest.fixture
def settings(tmp_path: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> Any:
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text(CATALOGUE, encoding="utf-8")
    monkeypatch.setattr(model_service, "hardware", lambda: CPU_ONLY)
    return server_settings(tmp_path / "studio", model_catalogue=catalogue, model_endpoint=hub.endpoint,
                           lease_seconds=30.0)


def _poll(c: httpx.Client, job_id: str, until: Any, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = c.get(f"/jobs/{job_id}").json()
        if until(job):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def test_the_recommended_set_is_shown_then_pulled_as_one_job_with_each_models_progress(
        settings: Any, hub: FakeHub) -> None:
    with live_server(settings, secrets=MemorySecrets()) as live:
        admin, user = live.new_key("boss", scopes=["admin"]), live.new_key("user2")
        with live.client(admin) as c, live.client(user) as u:
            plan = u.get("/models/recommended", params={"language": "en"}).json()
            assert [m["id"] for m in plan["models"]] == ["voice-mixed", "pic-small", "adapter-small"]
            assert [m["licence"] for m in plan["models"]] == ["CC-BY-4.0", "LicenseRef-Small", "Apache-2.0"]
            assert plan["total_bytes"] == VOICE + SMALL + ADAPTER and plan["hardware"] == CPU_ONLY.summary()
            assert all(m["why"] and not m["installed"] for m in plan["models"])
            assert hub.requests == []  # shown before any byte
            assert u.get("/models/recommended", params={"language": "EN!"}).status_code == 400

            assert u.post("/models/pull", json={"recommended": True}).json()["error"]["code"] == "INSUFFICIENT_SCOPE"
            both = c.post("/models/pull", json={"recommended": True, "models": ["voice-mixed"]})
            assert both.status_code == 400 and both.json()["error"]["code"] == "VALIDATION_ERROR"
            assert c.post("/models/pull", json={}).json()["error"]["code"] == "VALIDATION_ERROR"
            assert c.post("/models/pull", json={"models": ["nope"]}).json()["error"]["code"] == "MODEL_NOT_FOUND"

            # The picture model's big file stalls: the job is seen mid-set, then cancelled there.
            hub.stall_after[BIG_FILE] = CHUNK_BYTES + 10
            hub.stall_seconds = 3.0
            accepted = c.post("/models/pull", json={"recommended": True})
            assert accepted.status_code == 202, accepted.text
            body = accepted.json()
            assert [m["id"] for m in body["models"]] == ["voice-mixed", "pic-small", "adapter-small"]
            assert body["total_bytes"] == VOICE + SMALL + ADAPTER
            job_id = body["job_id"]
            again = c.post("/models/pull", json={"models": ["pic-small"]})  # one of the set, while it runs
            assert again.status_code == 409 and again.json()["error"]["code"] == "MODEL_PULL_IN_PROGRESS"
            assert c.post("/models/pic-small/pull").json()["error"]["code"] == "MODEL_PULL_IN_PROGRESS"

            mid = _poll(c, job_id, lambda j: any(m["state"] == "downloading" and m["bytes_done"] > 0
                                                 for m in (j["result"] or {}).get("models", [])))
            voice, pictures, adapter = mid["result"]["models"]
            assert (voice["model_id"], voice["state"], voice["bytes_done"]) == ("voice-mixed", "done", VOICE)
            assert pictures["model_id"] == "pic-small" and pictures["state"] == "downloading"
            assert 0 < pictures["bytes_done"] < SMALL and pictures["bytes_total"] == SMALL
            assert adapter["state"] == "waiting" and adapter["bytes_done"] == 0
            assert mid["result"]["bytes_total"] == VOICE + SMALL + ADAPTER
            assert mid["result"]["bytes_done"] == VOICE + pictures["bytes_done"]
            assert 0 < mid["progress"] < 100 and mid["result"]["model_id"] == "pic-small"

            assert c.post(f"/jobs/{job_id}/cancel").status_code == 200
            stopped = wait_job(c, job_id, timeout=60)
            assert stopped["status"] == "cancelled", stopped
            assert [m["id"] for m in c.get("/models").json() if m["installed"]] == ["voice-mixed"]

            # Pulled again: the voice is already there, the picture model resumes from its kept bytes.
            done = wait_job(c, c.post("/models/pull", json={"recommended": True}).json()["job_id"], timeout=60)
            assert done["status"] == "completed", done
            result = done["result"]
            assert result["model_ids"] == ["voice-mixed", "pic-small", "adapter-small"]
            assert [m["state"] for m in result["models"]] == ["installed", "done", "done"]
            assert result["bytes"] == VOICE + SMALL + ADAPTER
            for m in result["models"]:
                assert Path(m["path"]).is_dir()
            resumed = hub.gets(BIG_FILE)[-1]
            assert resumed.range is not None and resumed.status == 206
            assert int(resumed.range.removeprefix("bytes=").rstrip("-")) >= CHUNK_BYTES  # kept bytes not fetched again
            assert len([r for r in hub.gets("en/mixed.onnx")]) == 1  # never fetched twice
            listed = {m["id"]: m["installed"] for m in c.get("/models").json()}
            assert listed == {"voice-mixed": True, "pic-small": True, "adapter-small": True, "pic-big": False}
            assert c.get("/models/recommended").json()["total_bytes"] == 0

            named = wait_job(c, c.post("/models/pull", json={"models": ["pic-big", "pic-big"]}).json()["job_id"])
            assert named["status"] == "completed" and named["result"]["model_ids"] == ["pic-big"]
