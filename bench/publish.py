"""YouTube upload benchmark (not a test): our resumable upload against a plain chunked PUT loop, and kill -9.

    .venv/bin/python bench/publish.py                 # 64 MiB film, 8 MiB chunks, 3 rounds
    .venv/bin/python bench/publish.py --mb 16 --chunk-kib 1024 --rounds 2

Both sides talk to the tests' fake YouTube (tests/fakeyoutube.py) over TLS on loopback, with the
same file and chunk size:
  - plain: one session, then `PUT` chunk after chunk with Content-Range, nothing else;
  - ours: `ResumableUpload` as a publish job runs it, saving the session URI and acknowledged byte
    durably (a SQLite commit, like the job's params) after every chunk, with progress reports.
Target: ours >= 90 % of plain's throughput (best of the rounds).
Then a child process uploads, is killed with SIGKILL inside a chunk, and a new upload resumes from
its saved state: the bytes the fake received twice are printed. Target: <= one chunk.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "tests")]

from fakeyoutube import FakeYouTube, wait_for  # noqa: E402
from filmstudio.pipeline.context import CancelToken  # noqa: E402
from filmstudio.services.youtube.client import Endpoint  # noqa: E402
from filmstudio.services.youtube.upload import ResumableUpload  # noqa: E402

TOKEN = "bench-token"
META = {"snippet": {"title": "bench", "categoryId": "1"}, "status": {"privacyStatus": "private"}}


def plain(fake: FakeYouTube, film: Path, chunk: int) -> float:
    """Seconds for the simplest correct resumable upload: POST, then PUT chunks, nothing saved."""
    size = film.stat().st_size
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(verify=Endpoint(fake.root, fake.ca).ssl_context(), timeout=120) as http:
        started = time.perf_counter()
        r = http.post(f"{fake.root}upload/youtube/v3/videos", params={"uploadType": "resumable", "part": "snippet,status"},
                      content=json.dumps(META).encode(), headers={**auth, "X-Upload-Content-Length": str(size),
                                                                  "Content-Type": "application/json"})
        session = r.headers["location"]
        with film.open("rb") as fh:
            offset = 0
            while offset < size:
                data = fh.read(chunk)
                r = http.put(session, content=data, headers={
                    **auth, "Content-Range": f"bytes {offset}-{offset + len(data) - 1}/{size}"})
                assert r.status_code in (200, 201, 308), r.status_code
                offset += len(data)
        return time.perf_counter() - started


def saver(db_path: Path) -> Any:
    """Durable state as a publish job keeps it: one SQLite commit per acknowledged chunk."""
    conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)  # saved from the upload thread
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, params TEXT)")
    conn.execute("INSERT OR IGNORE INTO jobs VALUES ('bench', '{}')")

    def save(state: dict[str, Any]) -> None:
        conn.execute("UPDATE jobs SET params = ? WHERE id = 'bench'", [json.dumps({"state": {"upload": state}})])

    def load() -> dict[str, Any]:
        row = conn.execute("SELECT params FROM jobs WHERE id = 'bench'").fetchone()
        return dict(json.loads(row[0]).get("state", {}).get("upload", {}))

    save.load = load  # type: ignore[attr-defined]
    return save


def ours(fake: FakeYouTube, film: Path, chunk: int, db_path: Path) -> float:
    save = saver(db_path)
    upload = ResumableUpload(film, META, Endpoint(fake.root, fake.ca), lambda force: TOKEN, save,
                             lambda done, total, rate: None, CancelToken(), chunk)
    started = time.perf_counter()
    upload.run({})
    return time.perf_counter() - started


CHILD = """
import sys, json
from pathlib import Path
sys.path[:0] = [sys.argv[1] + "/src", sys.argv[1] + "/bench"]
from publish import saver, META, TOKEN
from filmstudio.pipeline.context import CancelToken
from filmstudio.services.youtube.client import Endpoint
from filmstudio.services.youtube.upload import ResumableUpload
root, ca, film, chunk, db = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]), Path(sys.argv[6])
ResumableUpload(film, META, Endpoint(root, ca), lambda force: TOKEN, saver(db), lambda *a: None,
                CancelToken(), chunk).run({})
"""


def kill_and_resume(fake: FakeYouTube, film: Path, chunk: int, work: Path) -> dict[str, Any]:
    size = film.stat().st_size
    db = work / "kill.db"
    fake.bytes_received = 0
    fake.released.clear()
    fake.stall_after = size // 2 + chunk // 3  # inside a chunk, about half way
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(REPO), fake.root, str(fake.ca), str(film), str(chunk),
                              str(db)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for(lambda: fake.stall_after is None or child.poll() is not None, timeout=300)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    fake.released.set()
    save = saver(db)
    state = save.load()
    acked_at_kill = state.get("acked", 0)
    upload = ResumableUpload(film, META, Endpoint(fake.root, fake.ca), lambda force: TOKEN, save,
                             lambda *a: None, CancelToken(), chunk)
    video = upload.run(state)
    assert video["size"] == size
    return {"acked_at_kill": acked_at_kill, "resent": fake.bytes_received - size, "chunk": chunk}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=64)
    ap.add_argument("--chunk-kib", type=int, default=8192)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    chunk = args.chunk_kib * 1024
    with tempfile.TemporaryDirectory(prefix="publish-bench-") as tmp:
        work = Path(tmp)
        film = work / "film.mp4"
        with film.open("wb") as fh:
            for _ in range(args.mb):
                fh.write(os.urandom(1 << 20))
        with FakeYouTube(work / "ca") as fake:
            fake.access_tokens.add(TOKEN)
            plain_s, ours_s = [], []
            for i in range(args.rounds):  # alternate, so neither side gets a warmer machine
                plain_s.append(plain(fake, film, chunk))
                ours_s.append(ours(fake, film, chunk, work / f"ours-{i}.db"))
            mb = args.mb * (1 << 20) / 1e6
            best_plain, best_ours = mb / min(plain_s), mb / min(ours_s)
            print(f"file {args.mb} MiB, chunks {args.chunk_kib} KiB, {args.rounds} rounds, TLS on loopback")
            print(f"plain chunked PUT loop : {best_plain:8.1f} MB/s  (rounds: {', '.join(f'{mb / s:.1f}' for s in plain_s)})")
            print(f"ResumableUpload (ours) : {best_ours:8.1f} MB/s  (rounds: {', '.join(f'{mb / s:.1f}' for s in ours_s)})")
            ratio = best_ours / best_plain
            print(f"ours / plain           : {100 * ratio:8.1f} %   (target >= 90 %)")
            killed = kill_and_resume(fake, film, chunk, work)
            print(f"kill -9 inside a chunk : acknowledged {killed['acked_at_kill']} bytes at the kill; "
                  f"re-sent {killed['resent']} bytes after resuming ({killed['resent'] / chunk:.2f} chunk; target <= 1)")
    return 0 if ratio >= 0.9 and killed["resent"] <= chunk else 1


if __name__ == "__main__":
    raise SystemExit(main())
