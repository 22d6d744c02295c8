"""Webhooks end to end on loopback: signed deliveries verified by `standardwebhooks`, retries with
the same id, the outbox surviving a kill -9 of its sender, registration refusals, the keyring."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import standardwebhooks

from filmstudio.services.webhook_sender import LEASE_SECONDS, WebhookSender
from integration.conftest_server import SCRIPT, SMALL, live_server, server_settings, wait_job
from webhook_receiver import Receiver

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
REPO = Path(__file__).resolve().parents[2]


def verified(receiver: Receiver) -> list[dict[str, Any]]:
    """Every request's payload, each verified by the independent standardwebhooks package."""
    return [standardwebhooks.Webhook(SECRET).verify(r["body"], r["headers"]) for r in receiver.got]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _hook(c: Any, url: str, events: list[str]) -> str:
    r = c.post("/webhooks", json={"url": url, "events": events, "secret": SECRET})
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) >= {"webhook_id", "url", "events", "created_at"} and body["secret"] is None
    return str(body["webhook_id"])


def _project(c: Any) -> str:
    return str(c.post("/projects", json={"title": "w", "script": SCRIPT, "settings": SMALL}).json()["project_id"])


def _wait(pred: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


@pytest.mark.slow
def test_job_events_delivered_signed_in_order(tmp_path: Path, receiver: Receiver) -> None:
    with live_server(server_settings(tmp_path / "s")) as live:
        key = live.new_key("hooked", credits=5, scopes=["projects:write", "projects:read", "jobs:write", "jobs:read",
                                                         "webhooks"])
        with live.client(key) as c:
            hook = _hook(c, receiver.url, ["job.queued", "job.started", "job.completed", "job.failed"])
            job = c.post(f"/projects/{_project(c)}/generate").json()["job_id"]
            assert wait_job(c, job)["status"] == "completed"
            _wait(lambda: len(receiver.got) >= 3)
            payloads = verified(receiver)
            assert [p["event"] for p in payloads] == ["job.queued", "job.started", "job.completed"]
            for p, raw in zip(payloads, receiver.got, strict=True):
                assert set(p) == {"id", "event", "timestamp", "data"} and p["id"] == raw["headers"]["webhook-id"]
                assert set(p["data"]) - {"result"} == {"job_id", "project_id", "status", "output_url", "kind"}
                assert p["data"]["job_id"] == job
                assert p["data"]["kind"] == "render"
            assert payloads[-1]["data"]["status"] == "completed"
            assert payloads[-1]["data"]["output_url"].startswith(live.base + "/api/v1/files/")
            _wait(lambda: all(d["status"] == "delivered"
                              for d in c.get(f"/webhooks/{hook}/deliveries").json()["deliveries"]))
            deliveries = c.get(f"/webhooks/{hook}/deliveries").json()["deliveries"]
            assert len(deliveries) == 3 and all(d["attempt_log"][0]["status_code"] == 200 for d in deliveries)
            test = c.post(f"/webhooks/{hook}/test")
            assert test.status_code == 200 and test.json()["status"] == "delivered", test.text
            assert verified(receiver)[-1]["event"] == "webhook.test"
        db_bytes = b"".join(p.read_bytes() for p in (tmp_path / "s").glob("studio.db*"))
        assert SECRET.encode() not in db_bytes and SECRET[6:].encode() not in db_bytes


def test_fails_twice_then_succeeds_same_id_on_the_schedule(tmp_path: Path) -> None:
    receiver = Receiver([500, 302])
    try:
        with live_server(server_settings(tmp_path / "s", workers=0)) as live:
            key = live.new_key("retry", credits=5, scopes=["admin"])
            with live.client(key) as c:
                hook = _hook(c, receiver.url, ["job.queued"])
                c.post(f"/projects/{_project(c)}/generate")
                now = [time.time()]
                sender = WebhookSender(live.parts.studio, clock=lambda: now[0], rng=lambda: 0.5)
                assert sender.run_due() == 1
                assert sender.run_due() == 0  # not due for 5 s (fake clock)
                now[0] += 5.01
                assert sender.run_due() == 1
                now[0] += 299  # the third try is due 300 s later, not before
                assert sender.run_due() == 0
                now[0] += 1.01
                assert sender.run_due() == 1
                d = c.get(f"/webhooks/{hook}/deliveries").json()["deliveries"][0]
        assert [a["status_code"] for a in d["attempt_log"]] == [500, 302, 200] and d["status"] == "delivered"
        assert len({r["headers"]["webhook-id"] for r in receiver.got}) == 1 and len(receiver.got) == 3
        assert all(r["path"] == "/hook" for r in receiver.got)  # the redirect was not followed
        assert len({p["id"] for p in verified(receiver)}) == 1
    finally:
        receiver.close()


def test_registration_policy_list_delete_and_scope(tmp_path: Path) -> None:
    with live_server(server_settings(tmp_path / "s", workers=0)) as live:
        # Default keys include `webhooks` now; a key narrowed to projects and jobs does not.
        plain = live.new_key("noscope", scopes=["projects:read", "projects:write", "jobs:read", "jobs:write"])
        key = live.new_key("owner2", scopes=["webhooks"])
        with live.client(plain) as c:
            r = c.post("/webhooks", json={"url": "http://127.0.0.1:9/h", "events": ["job.queued"]})
            assert r.status_code == 403 and r.json()["error"]["code"] == "INSUFFICIENT_SCOPE"
        with live.client(key) as c:
            for url in ("http://10.0.0.1/h", "http://169.254.169.254/", "http://[::ffff:127.0.0.1]:80/",
                        "http://2130706433/", "http://0.0.0.0:1/", "file:///etc/passwd"):
                r = c.post("/webhooks", json={"url": url, "events": ["job.queued"]})
                assert r.status_code == 400 and r.json()["error"]["code"] == "WEBHOOK_TARGET_REFUSED", (url, r.text)
            bad = c.post("/webhooks", json={"url": "http://127.0.0.1:9/h", "events": ["job.queued"], "secret": "x"})
            assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_WEBHOOK_SECRET"
            # The reference's own body, secret and all.
            ref = c.post("/webhooks", json={"url": "http://127.0.0.1:9/webhook", "events": ["job.completed", "job.failed"],
                                            "secret": "your_webhook_secret"})
            assert ref.status_code == 201 and ref.json()["secret"] is None, ref.text
            assert c.delete(f"/webhooks/{ref.json()['webhook_id']}").status_code == 204
            made = c.post("/webhooks", json={"url": "http://localhost:9/h", "events": ["job.completed"]}).json()
            assert made["secret"].startswith("whsec_")
            assert [h["webhook_id"] for h in c.get("/webhooks").json()["webhooks"]] == [made["webhook_id"]]
            assert c.delete(f"/webhooks/{made['webhook_id']}").status_code == 204
            assert c.get("/webhooks").json()["webhooks"] == []
            assert c.get(f"/webhooks/{made['webhook_id']}/deliveries").status_code == 404


SENDER_SCRIPT = """
import sys
from filmstudio.config import load_settings
from filmstudio.services.factory import open_studio
from filmstudio.services.webhook_sender import WebhookSender
studio = open_studio(load_settings())
print("ready", flush=True)
WebhookSender(studio).deliver(sys.argv[1])
"""


def test_kill_9_of_the_sender_mid_delivery_loses_nothing(tmp_path: Path) -> None:
    receiver = Receiver(hang_first=20)
    home = tmp_path / "s"
    try:
        with live_server(server_settings(home, workers=0)) as live:
            key = live.new_key("killed", credits=5, scopes=["admin"])
            with live.client(key) as c:
                hook = _hook(c, receiver.url, ["job.queued"])
                c.post(f"/projects/{_project(c)}/generate")
                (mid,) = [d["delivery_id"] for d in c.get(f"/webhooks/{hook}/deliveries").json()["deliveries"]]
                env = {**os.environ, "FILMSTUDIO_HOME": str(home)}
                proc = subprocess.Popen([sys.executable, "-c", SENDER_SCRIPT, mid], env=env, cwd=REPO,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                try:
                    assert receiver.first_seen.wait(30)  # the request is in flight
                    proc.send_signal(signal.SIGKILL)
                    assert proc.wait(10) == -signal.SIGKILL
                finally:
                    if proc.poll() is None:
                        proc.kill()
                row = live.parts.studio.store.one("SELECT status, lease_until FROM webhook_deliveries WHERE id = ?",
                                                  [mid])
                assert row is not None and row["status"] == "pending" and row["lease_until"] is not None
                # Still leased: a second sender leaves it alone until the lease runs out.
                assert WebhookSender(live.parts.studio).run_due() == 0
                later = WebhookSender(live.parts.studio, clock=lambda: time.time() + LEASE_SECONDS + 1)
                assert later.run_due() == 1
                d = c.get(f"/webhooks/{hook}/deliveries").json()["deliveries"][0]
        assert d["status"] == "delivered"
        ids = [r["headers"]["webhook-id"] for r in receiver.got]
        assert ids == [mid, mid]  # at least once, same id
        assert json.loads(receiver.got[1]["body"])["id"] == mid
    finally:
        receiver.close()
