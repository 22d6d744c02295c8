"""Job events benchmark (not a test): what open `GET /jobs/{id}/events` streams cost, and how late they are.

    .venv/bin/python bench/events.py                  # 50 streams, 10 s per phase
    .venv/bin/python bench/events.py --streams 100 --seconds 20

Runs `filmstudio serve --workers 0` as its own process on a loopback port, with queued jobs that no
worker takes, then:
  - the delay from a job's change in the store (written by this process, as a worker in another
    process writes it) to its event arriving on an open stream, over --changes changes;
  - GET /jobs/{id} latency at --rate req/s (open loop) with no stream open, then with --streams open;
  - the server process' CPU seconds per wall second over each phase (from /proc/<pid>/stat).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api import SCRIPT, SETTINGS, _free_port, _open_loop


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _queued_jobs(home: Path, n: int) -> tuple[str, list[str]]:
    """An account, a key and `n` queued jobs (bulk SQL: no worker will run them)."""
    from filmstudio.domain.settings import parse_settings
    from filmstudio.services import accounts, keys
    from filmstudio.store.db import Store, utcnow
    from filmstudio.store.migrations import migrate

    store = Store(home / "studio.db")
    migrate(store)
    acct = accounts.create_account(store, "bench", plan="enterprise", credits=None)
    key = keys.create_key(store, acct.account_id, name="bench")
    settings = parse_settings(SETTINGS).model_dump_json()
    jobs = []
    with store.write() as db:
        for i in range(n):
            pid, job_id, now = str(uuid.uuid4()), str(uuid.uuid4()), utcnow()
            db.execute("INSERT INTO projects (id, account_id, title, script, settings, status, created_at, updated_at) "
                       "VALUES (?, ?, ?, ?, ?, 'processing', ?, ?)", [pid, acct.account_id, f"P{i}", SCRIPT, settings,
                                                                    now, now])
            db.execute("INSERT INTO jobs (id, project_id, account_id, status, progress, script, settings, created_at) "
                       "VALUES (?, ?, ?, 'queued', 0, ?, ?, ?)", [job_id, pid, acct.account_id, SCRIPT, settings, now])
            jobs.append(job_id)
    store.close()
    return key.secret, jobs


def _follow(api: str, headers: dict[str, str], job_id: str, stop: threading.Event,
            arrivals: dict[int, float] | None = None) -> None:
    with httpx.Client(headers=headers, timeout=60) as client, client.stream("GET", f"{api}/jobs/{job_id}/events") as r:
        for line in r.iter_lines():
            if arrivals is not None and line.startswith("data: "):
                arrivals[json.loads(line[6:])["progress"]] = time.perf_counter()
            if stop.is_set():
                return


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--streams", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--changes", type=int, default=20)
    args = ap.parse_args()
    from filmstudio.store.db import Store

    with tempfile.TemporaryDirectory(prefix="fs-bench-events-") as tmp:
        home = Path(tmp)
        key, jobs = _queued_jobs(home, args.streams + 1)
        port = _free_port()
        env = {**os.environ, "FILMSTUDIO_HOME": str(home), "FILMSTUDIO_SECRETS_BACKEND": "file",
               "FILMSTUDIO_PORT": str(port), "FILMSTUDIO_WORKERS": "0", "FILMSTUDIO_RATE_LIMITS": "0"}
        server = subprocess.Popen([sys.executable, "-m", "filmstudio.cli_studio", "serve"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stop = threading.Event()
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            api, headers = f"{base}/api/v1", {"Authorization": f"Bearer {key}"}
            probe = f"{api}/jobs/{jobs[0]}"
            httpx.get(probe, headers=headers).raise_for_status()
            results: dict[str, Any] = {}

            # How late an event is: change the job in the store, time until the stream carries it.
            store = Store(home / "studio.db")
            arrivals: dict[int, float] = {}
            follower = threading.Thread(target=_follow, args=(api, headers, jobs[0], stop, arrivals), daemon=True)
            follower.start()
            time.sleep(1.0)
            delays = []
            for progress in range(1, args.changes + 1):
                with store.write() as db:
                    db.execute("UPDATE jobs SET status = 'processing', progress = ? WHERE id = ?", [progress, jobs[0]])
                    written = time.perf_counter()
                deadline = written + 5
                while progress not in arrivals and time.perf_counter() < deadline:
                    time.sleep(0.005)
                delays.append((arrivals.get(progress, deadline) - written) * 1000)
                time.sleep(random.uniform(0.2, 0.9))  # at any point of the poll's beat
            results["event delay after a store write (ms)"] = {
                "n": len(delays), "mean": round(statistics.mean(delays), 1), "max": round(max(delays), 1)}

            # The delay probe's stream stays open through both phases (it ends with the server).
            for phase, streams in (("1 stream open", 0), (f"{args.streams + 1} streams open", args.streams)):
                threads = [threading.Thread(target=_follow, args=(api, headers, j, stop), daemon=True)
                           for j in jobs[1:streams + 1]]
                for t in threads:
                    t.start()
                time.sleep(2.0)
                cpu0, wall0 = _cpu_seconds(server.pid), time.perf_counter()
                row = _open_loop(probe, headers, args.rate, args.seconds)
                row["server_cpu_per_s"] = round((_cpu_seconds(server.pid) - cpu0) / (time.perf_counter() - wall0), 3)
                results[f"GET /jobs/{{id}} at {args.rate:g} req/s, {phase}"] = row
            for name, row in results.items():
                print(f"{name:55s} {json.dumps(row)}")
        finally:
            stop.set()
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
