"""kill -9 chaos: random SIGKILLs of the API server and the render/webhook worker while jobs and
webhook deliveries run; then every invariant is checked.

    python bench/chaos.py --cycles 50        # the full loop (CI runs 8 via tests/integration/test_chaos.py)

Needs a keyring (or FILMSTUDIO_SECRETS_BACKEND=file) like the server does.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
SCRIPT = "INT. LAB - NIGHT\n\nDR. REYES stares at the glowing screen.\n\nDR. REYES\nIt finally works."
SMALL = {"duration": 8, "resolution": "320x180", "fps": 12, "music_genre": "calm"}  # 8 s: the neural voice needs 6 for SCRIPT
FINAL = ("completed", "failed", "cancelled")


def make_chaos_renderer() -> Any:
    """The issue-#3 fake renderer (a real tiny MP4 via ffmpeg lavfi), a little slow so kills land mid-job."""
    sys.path.insert(0, str(REPO / "tests"))
    from integration.conftest_server import FakeRenderer

    return FakeRenderer(step_seconds=0.15)


@dataclass
class Report:
    cycles: int
    kills: dict[str, int] = field(default_factory=lambda: {"server": 0, "worker": 0})
    jobs: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    deliveries: int = 0
    redelivered: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Chaos:
    def __init__(self, home: Path, seed: int) -> None:
        self.home = home
        self.rng = random.Random(seed)
        self.port = _free_port()
        self.env = {
            **os.environ, "FILMSTUDIO_HOME": str(home), "FILMSTUDIO_PORT": str(self.port),
            "FILMSTUDIO_LEASE_SECONDS": "1.5", "FILMSTUDIO_RECONCILE_SECONDS": "0.3", "FILMSTUDIO_MAX_ATTEMPTS": "20",
            "FILMSTUDIO_WEBHOOK_TIMEOUT_SECONDS": "2", "FILMSTUDIO_WEBHOOK_LEASE_SECONDS": "3",
            "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")]),
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.base = f"http://127.0.0.1:{self.port}/api/v1"

    def start(self, which: str) -> None:
        cmd = {"server": ["serve", "--workers", "0"],
               "worker": ["worker", "--renderer", "chaos:make_chaos_renderer"]}[which]
        env = {**self.env, "PYTHONPATH": os.pathsep.join([str(REPO / "bench"), self.env["PYTHONPATH"]])}
        self.procs[which] = subprocess.Popen([sys.executable, "-m", "filmstudio.cli_studio", *cmd], env=env, cwd=REPO,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if which == "server":
            sys.path.insert(0, str(REPO / "tests"))
            from integration.conftest_server import wait_healthy

            proc = self.procs[which]
            wait_healthy(f"http://127.0.0.1:{self.port}", timeout=30, alive=lambda: proc.poll() is None)

    def kill(self, which: str) -> None:
        proc = self.procs[which]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)


def _call(method: str, url: str, key: str, body: Any, idem: str, deadline: float) -> httpx.Response:
    """Retry through kills with the same Idempotency-Key until the server answers."""
    while True:
        try:
            r = httpx.request(method, url, json=body, timeout=5,
                              headers={"Authorization": f"Bearer {key}", "Idempotency-Key": idem})
            if r.status_code != 409 or r.json()["error"]["code"] != "IDEMPOTENCY_KEY_IN_USE":
                return r
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{method} {url} never answered")
        time.sleep(0.1)


def run_chaos(home: Path, cycles: int, *, seed: int = 4, jobs_per_cycle: int = 2) -> Report:
    """Run the loop under `home` and return what happened, with any broken invariant in `problems`."""
    from filmstudio.config import load_settings
    from filmstudio.domain.models import WebhookCreate
    from filmstudio.services import accounts, keys, webhooks
    from filmstudio.services.factory import open_studio

    started = time.monotonic()
    report = Report(cycles)
    chaos = Chaos(home, seed)
    sys.path.insert(0, str(REPO / "tests"))
    from webhook_receiver import Receiver

    receiver = Receiver()
    studio = open_studio(load_settings(chaos.env))
    credits = cycles * jobs_per_cycle + 5
    acct = accounts.create_account(studio.store, "chaos", plan="enterprise", credits=credits)
    key = keys.create_key(studio.store, acct.account_id, name="chaos", scopes=["admin"]).secret
    who = keys.authenticate(studio.store, key, None)
    webhooks.create_webhook(studio, who, WebhookCreate(url=receiver.url, events=["job.queued", "job.started",
                                                                                   "job.completed", "job.failed",
                                                                                   "job.cancelled"]))
    accepted: dict[str, str] = {}
    try:
        chaos.start("server")
        chaos.start("worker")
        for cycle in range(cycles):
            for n in range(jobs_per_cycle):
                tag = f"{cycle}-{n}"
                deadline = time.monotonic() + 60
                made = _call("POST", f"{chaos.base}/projects", key,
                             {"title": tag, "script": SCRIPT, "settings": SMALL}, f"p-{tag}", deadline)
                if made.status_code != 201:
                    report.problems.append(f"create {tag}: {made.status_code} {made.text}")
                    continue
                job = _call("POST", f"{chaos.base}/projects/{made.json()['project_id']}/generate", key, None,
                            f"g-{tag}", deadline)
                if job.status_code != 202:
                    report.problems.append(f"generate {tag}: {job.status_code} {job.text}")
                    continue
                accepted[tag] = job.json()["job_id"]
            time.sleep(chaos.rng.uniform(0.1, 1.2))
            victim = chaos.rng.choice(["server", "worker"])
            chaos.kill(victim)
            report.kills[victim] += 1
            chaos.start(victim)
        _drain(studio, report, deadline=time.monotonic() + 180)
    finally:
        chaos.stop_all()
    _check(studio, home, acct.account_id, credits, accepted, receiver, report)
    receiver.close()
    report.seconds = round(time.monotonic() - started, 1)
    return report


def _drain(studio: Any, report: Report, deadline: float) -> None:
    """Wait (servers still up) until every job is final and every delivery is out."""
    while time.monotonic() < deadline:
        open_jobs = studio.store.one("SELECT count(*) AS n FROM jobs WHERE status NOT IN ('completed', 'failed', "
                                     "'cancelled')")
        pending = studio.store.one("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'pending'")
        if open_jobs and pending and open_jobs["n"] == 0 and pending["n"] == 0:
            return
        time.sleep(0.2)
    report.problems.append("jobs or deliveries did not finish in time")


def _check(studio: Any, home: Path, account_id: str, credits: int, accepted: dict[str, str], receiver: Any,
           report: Report) -> None:
    store = studio.store
    jobs = store.all("SELECT id, status, idempotency_key FROM jobs WHERE account_id = ?", [account_id])
    report.jobs = len(jobs)
    for j in jobs:
        report.statuses[j["status"]] = report.statuses.get(j["status"], 0) + 1
    if sorted(j["id"] for j in jobs) != sorted(accepted.values()):
        report.problems.append("the jobs in the database are not exactly the accepted ones")
    if [j for j in jobs if j["status"] not in FINAL]:
        report.problems.append("some accepted job did not reach a final state")
    twice = store.all("SELECT job_id, kind, count(*) AS n FROM credit_ledger WHERE job_id IS NOT NULL "
                      "GROUP BY job_id, kind HAVING n > 1")
    if twice:
        report.problems.append(f"charged or refunded twice: {twice}")
    balance = store.one("SELECT credit_balance AS b FROM accounts WHERE id = ?", [account_id])
    moved = store.one("SELECT SUM(CASE kind WHEN 'deduct' THEN -amount ELSE amount END) AS s FROM credit_ledger "
                      "WHERE account_id = ?", [account_id])
    if balance is None or moved is None or balance["b"] != moved["s"]:
        report.problems.append(f"ledger {moved} does not sum to the balance {balance}")
    refunds = {r["job_id"] for r in store.all("SELECT job_id FROM credit_ledger WHERE kind = 'refund'")}
    for j in jobs:
        if (j["status"] in ("failed", "cancelled")) != (j["id"] in refunds):
            report.problems.append(f"job {j['id']} {j['status']} refund mismatch")
    deliveries = store.all("SELECT id, event, status, payload FROM webhook_deliveries")
    report.deliveries = len(deliveries)
    got = set(receiver.ids)
    report.redelivered = len(receiver.ids) - len(got)
    for d in deliveries:
        if d["status"] != "delivered" or d["id"] not in got:
            report.problems.append(f"event {d['id']} ({d['event']}) lost: {d['status']}")
    per_job: dict[str, set[str]] = {}
    for d in deliveries:
        per_job.setdefault(json.loads(d["payload"])["data"]["job_id"], set()).add(d["event"])
    for j in jobs:
        expected = {"job.queued", f"job.{j['status']}"}
        if not expected <= per_job.get(j["id"], set()):
            report.problems.append(f"job {j['id']}: events {sorted(per_job.get(j['id'], set()))}")
    for db in ("studio.db", "queue.db"):
        with sqlite3.connect(home / db) as conn:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            report.problems.append(f"{db} integrity_check: {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--home", type=Path)
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="filmstudio-chaos-"))
    report = run_chaos(home, args.cycles, seed=args.seed)
    print(json.dumps(report.__dict__, indent=2))
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
