"""API latency benchmark (not a test): GET /jobs/{id} and GET /projects?page=… with 100,000 projects.

    .venv/bin/python bench/api.py                       # 100k projects, 300 req/s, 10 s per phase
    .venv/bin/python bench/api.py --projects 20000 --seconds 5 --rate 200   # a quick look

Runs `filmstudio serve` as its own process on a loopback port (so the load generator does not share
its GIL), fills the store, then for each endpoint measures:
  - open loop at --rate requests/s (4 client threads, fixed schedule): p50/p99/max latency, errors;
  - closed loop (4 threads, back to back): requests/s;
idle, and again while a real render runs in the server's in-process worker. The reference in the
same run is GET /health (no auth, no SQL beyond PRAGMA): ratios say what auth + queries cost.
Target: p99 <= 10 ms at 300 req/s idle.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
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

SCRIPT = "INT. LAB - NIGHT\n\nDR. REYES stares at the glowing screen.\n\nDR. REYES\nIt finally works.\n"
SETTINGS = {"duration": 8, "resolution": "320x180", "fps": 12}
RENDER = {"resolution": "1280x720", "fps": 24}  # the render measured alongside: long enough to outlast a phase


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def fill_store(home: Path, n: int) -> tuple[str, str]:
    """Create an account, a key and `n` projects (bulk SQL; the API would take minutes); return key, job id."""
    from filmstudio.domain.settings import parse_settings
    from filmstudio.services import accounts, keys
    from filmstudio.store.db import Store, utcnow
    from filmstudio.store.migrations import migrate

    store = Store(home / "studio.db")
    migrate(store)
    acct = accounts.create_account(store, "bench", plan="enterprise", credits=None)
    key = keys.create_key(store, acct.account_id, name="bench")
    settings = parse_settings(SETTINGS).model_dump_json()
    statuses = ("draft", "completed", "failed", "draft")
    rows = []
    for i in range(n):
        stamp = f"2026-01-01T00:00:{i % 60:02d}.{i % 1000:03d}Z"
        rows.append((str(uuid.uuid4()), acct.account_id, f"Project {i}", SCRIPT, settings, statuses[i % 4], stamp,
                     stamp))
    with store.write() as db:
        db.conn.executemany(
            "INSERT INTO projects (id, account_id, title, script, settings, status, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        job_id = str(uuid.uuid4())
        db.execute("INSERT INTO jobs (id, project_id, account_id, status, progress, script, settings, created_at, "
                   "finished_at) VALUES (?, ?, ?, 'completed', 100, ?, ?, ?, ?)",
                   [job_id, rows[0][0], acct.account_id, SCRIPT, settings, utcnow(), utcnow()])
    store.db.execute("ANALYZE")
    store.close()
    return key.secret, job_id


def _open_loop(url: str, headers: dict[str, str], rate: float, seconds: float, threads: int = 4) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_thread = rate / threads
    start = time.perf_counter() + 0.2

    def run(offset: float) -> None:
        nonlocal errors
        with httpx.Client(headers=headers, timeout=10) as client:
            i = 0
            while True:
                due = start + offset + i / per_thread
                if due - start > seconds:
                    return
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                # Latency counts from the scheduled time: a server that falls behind is charged for it.
                r = client.get(url)
                took = time.perf_counter() - due
                with lock:
                    latencies.append(took)
                    errors += r.status_code != 200
                i += 1

    workers = [threading.Thread(target=run, args=(k / rate,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return _summary(latencies, errors, seconds)


def _closed_loop(url: str, headers: dict[str, str], seconds: float, threads: int = 4) -> float:
    count = 0
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def run() -> None:
        nonlocal count
        with httpx.Client(headers=headers, timeout=10) as client:
            while time.perf_counter() < stop:
                client.get(url)
                with lock:
                    count += 1

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return count / seconds


def _summary(latencies: list[float], errors: int, seconds: float) -> dict[str, Any]:
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100) if len(ms) >= 2 else [ms[0]] * 99
    return {"requests": len(ms), "achieved_rps": round(len(ms) / seconds, 1), "errors": errors,
            "p50_ms": round(q[49], 2), "p99_ms": round(q[98], 2), "max_ms": round(ms[-1], 2)}


def _start_render(api: str, headers: dict[str, str], duration: int) -> str:
    pid = httpx.post(f"{api}/projects", headers=headers, json={
        # A title of its own: no segment of an earlier render is reused from the cache.
        "title": "bench render", "script": f"Title: Bench {uuid.uuid4().hex[:8]}\n\n" + SCRIPT * 6,
        "settings": {**SETTINGS, **RENDER, "duration": duration}}).raise_for_status().json()["project_id"]
    job_id: str = httpx.post(f"{api}/projects/{pid}/generate", headers=headers).raise_for_status().json()["job_id"]
    return job_id


def _wait_final(api: str, headers: dict[str, str], job_id: str) -> None:
    for _ in range(300):
        if httpx.get(f"{api}/jobs/{job_id}", headers=headers).json()["status"] not in ("queued", "processing"):
            return
        time.sleep(0.1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--projects", type=int, default=100_000)
    ap.add_argument("--rate", type=float, default=300.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--render-duration", type=int, default=60, help="film seconds of the render run alongside")
    ap.add_argument("--separate-worker", action="store_true",
                    help="serve with --workers 0 and render in a `filmstudio worker` process")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="fs-bench-") as tmp:
        home = Path(tmp)
        t0 = time.perf_counter()
        key, job_id = fill_store(home, args.projects)
        print(f"store: {args.projects} projects in {time.perf_counter() - t0:.1f} s")
        port = _free_port()
        env = {**os.environ, "FILMSTUDIO_HOME": str(home), "FILMSTUDIO_SECRETS_BACKEND": "file",
               "FILMSTUDIO_PORT": str(port), "FILMSTUDIO_WORKERS": "0" if args.separate_worker else "1"}
        server = subprocess.Popen([sys.executable, "-m", "filmstudio.cli_studio", "serve"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        worker = None
        if args.separate_worker:
            worker = subprocess.Popen([sys.executable, "-m", "filmstudio.cli_studio", "worker"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            api = f"{base}/api/v1"
            headers = {"Authorization": f"Bearer {key}"}
            targets = {
                "GET /health (reference)": (f"{base}/health", {}),
                "GET /jobs/{id}": (f"{api}/jobs/{job_id}", headers),
                "GET /projects?page=500": (f"{api}/projects?page=500&per_page=20", headers),
                "GET /projects?page=1&status=completed": (f"{api}/projects?page=1&per_page=20&status=completed",
                                                          headers),
            }
            results: dict[str, Any] = {}
            for phase in ("idle", "rendering"):
                for name, (url, h) in targets.items():
                    render_job = None
                    if phase == "rendering":
                        # A fresh render per target, so every measurement runs while one is in progress.
                        render_job = _start_render(api, headers, args.render_duration)
                        time.sleep(2.0)  # let it get past script analysis
                    httpx.get(url, headers=h).raise_for_status()  # warm
                    row = _open_loop(url, h, args.rate, args.seconds)
                    row["closed_loop_rps"] = round(_closed_loop(url, h, min(args.seconds, 5.0)), 1)
                    if render_job is not None:
                        job = httpx.get(f"{api}/jobs/{render_job}", headers=headers).json()
                        row["render_after"] = f"{job['status']} {job['progress']}% {job.get('current_step')}"
                        httpx.post(f"{api}/jobs/{render_job}/cancel", headers=headers)
                        _wait_final(api, headers, render_job)
                    results[f"{phase}: {name}"] = row
            ref = {p: results[f"{p}: GET /health (reference)"]["p50_ms"] for p in ("idle", "rendering")}
            for name, row in results.items():
                phase = name.split(":")[0]
                if "p50_ms" in row and ref.get(phase):
                    row["p50_vs_health"] = round(row["p50_ms"] / ref[phase], 2)
                print(f"{name:50s} {json.dumps(row)}")
            idle_jobs = results["idle: GET /jobs/{id}"]
            idle_list = results["idle: GET /projects?page=500"]
            ok = idle_jobs["p99_ms"] <= 10 and idle_list["p99_ms"] <= 10
            mode = "separate worker process" if args.separate_worker else "in-process worker"
            print(f"render ran in: {mode}")
            print(f"target p99 <= 10 ms at {args.rate:g} req/s idle: {'met' if ok else 'NOT met'}")
        finally:
            for proc in (p for p in (server, worker) if p is not None):
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
