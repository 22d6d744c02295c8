"""Scale benchmark (not a test): films per hour with 1 and with 2 remote segment-worker processes.

    .venv/bin/python bench/scale.py                          # 4 films of 20 s at 640x360, 1 then 2 workers
    .venv/bin/python bench/scale.py --films 2 --size 320x180 --duration 12

Starts a real redis-server on loopback, the main server with `--farm-segments` (the jobs, the
voices, the music and the join stay there) and N `filmstudio worker --server` processes with their
own work folders, submits all films at once over the API and reports films per hour. Each
configuration gets a fresh data folder, so nothing is served from an earlier run's cache.

On one machine the "remote" workers share the main server's CPU cores: on the 2-core CI machine
this shows that the farm spreads and joins correctly far more than it shows a speed-up.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _script(i: int) -> str:
    return (f"Title: Reel {i}\n\nINT. WORKSHOP {i} - NIGHT\n\nMARA bends over projector number {i}.\n\n"
            f"MARA\nOne more reel, number {i}, and we are done.\n\nEXT. HARBOUR {i} - DAY\n\n"
            f"The ferry horn sounds across the water.\n\nTOMAS\nYou said that about reel {i} an hour ago.\n")


def _wait(cond: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError("gave up waiting")
        time.sleep(0.1)


def run(workers: int, films: int, film: dict[str, Any], root: Path, redis_exe: str) -> dict[str, Any]:
    from filmstudio.app.compose import build_server, run_server
    from filmstudio.config import Settings
    from filmstudio.services import accounts, keys

    home = root / f"studio-{workers}"
    rport = _free_port()
    redis = subprocess.Popen([redis_exe, "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", str(root)], stdout=subprocess.DEVNULL)
    queue_url = f"redis://127.0.0.1:{rport}/0"
    settings = Settings.model_validate({
        "home": home, "port": _free_port(), "workers": films, "secrets_backend": "file", "queue_url": queue_url,
        "segment_farm": True, "lease_seconds": 10.0, "rate_limits": False,
    })
    time.sleep(0.3)
    parts = build_server(settings)
    holder: dict[str, Any] = {}
    server = threading.Thread(target=run_server, args=(parts,), daemon=True,
                              kwargs={"on_started": lambda s: holder.setdefault("s", s)})
    server.start()
    base = f"http://127.0.0.1:{settings.port}"
    _wait(lambda: _healthy(base), 30)
    store = parts.studio.store
    acct = accounts.create_account(store, "bench", plan="enterprise", credits=None)
    user = keys.create_key(store, acct.account_id, name="bench").secret
    farm_key = keys.create_key(store, acct.account_id, name="farm", scopes=["worker"]).secret
    procs = []
    for n in range(workers):
        env = {**os.environ, "FILMSTUDIO_HOME": str(root / f"worker-{workers}-{n}"), "FILMSTUDIO_WORKER_KEY": farm_key}
        procs.append(subprocess.Popen([sys.executable, "-m", "filmstudio.cli_studio", "worker", "--queue", queue_url,
                                       "--server", base, "--name", f"w{n + 1}"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    api = httpx.Client(base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {user}"}, timeout=60)
    try:
        started = time.monotonic()
        jobs = []
        for i in range(films):
            pid = api.post("/projects", json={"title": f"reel {i}", "script": _script(i), "settings": film}).json()
            jobs.append(api.post(f"/projects/{pid['project_id']}/generate").json()["job_id"])
        states: dict[str, str] = {}
        while len(states) < films:
            for job in jobs:
                status = api.get(f"/jobs/{job}").json()["status"]
                if status in ("completed", "failed", "cancelled"):
                    states[job] = status
            time.sleep(0.25)
        seconds = time.monotonic() - started
        by: dict[str, int] = {}
        for manifest in home.glob("media/*/*/film.manifest.json"):
            import json

            for seg in json.loads(manifest.read_text())["segments"]:
                by[seg["worker"]] = by.get(seg["worker"], 0) + 1
        return {"workers": workers, "films": films, "completed": sum(s == "completed" for s in states.values()),
                "seconds": round(seconds, 1), "films_per_hour": round(films * 3600 / seconds, 1),
                "segments_by_worker": dict(sorted(by.items()))}
    finally:
        api.close()
        for p in procs:
            p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        holder["s"].should_exit = True
        server.join(timeout=30)
        REDIS.append(redis)  # stopped at exit: the server's consumer threads may still poll it for a moment


REDIS: list[subprocess.Popen[bytes]] = []


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--films", type=int, default=4)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--workers", default="1,2", help="worker counts to try, comma separated")
    args = parser.parse_args()
    redis_exe = shutil.which("redis-server")
    if redis_exe is None:
        print("redis-server is needed (apt-get install redis-server)", file=sys.stderr)
        return 2
    film = {"duration": args.duration, "resolution": args.size, "fps": 24, "music_genre": "calm"}
    print(f"{args.films} films of {args.duration} s at {args.size}, {os.cpu_count()} CPU cores on this machine")
    with tempfile.TemporaryDirectory(prefix="filmstudio-scale-") as tmp:
        for n in (int(x) for x in args.workers.split(",")):
            result = run(n, args.films, film, Path(tmp), redis_exe)
            print(f"{n} worker process(es): {result['completed']}/{result['films']} films in {result['seconds']} s "
                  f"= {result['films_per_hour']} films/hour; segments by worker {result['segments_by_worker']}",
                  flush=True)
    for redis in REDIS:
        redis.terminate()
        redis.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
