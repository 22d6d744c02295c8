"""Studio client benchmark (not a test): the desktop app on a studio server over loopback vs on this computer.

    .venv/bin/python bench/client.py                     # 30 shots, 1280x720, 5 runs each
    .venv/bin/python bench/client.py --size 640x360 --runs 3   # a quick look

One studio home, rendered once: a 30-shot film with stills drawn by the tiny Stable Diffusion
(tests/tiny_sd.py, installed as a picture model, two denoising steps), served in its own process on a
loopback port by the server `filmstudio serve` builds. Then:
1. Opening the project as the app does (the project, then the storyboard with every still read):
   the local backend over the same home vs `RemoteBackend` cold (empty cache: every still
   downloaded) and warm (the same client again: stills revalidated from its cache).
2. The preview's time to first frame: QMediaPlayer from setSource+play to the first decoded
   video frame, the local file vs the film's signed link over loopback (Range requests).
3. Export: `RemoteBackend.export_film` (download with progress, resumable) vs a plain
   `httpx.stream` download of the same link into a file. Target: >= 90 % of plain httpx.
Medians of --runs, ratios printed; everything in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(BENCH), str(REPO / "tests")]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from gui.studio_server import free_port, stop_serve, studio_env, wait_up  # noqa: E402

# `filmstudio serve` as cmd_serve builds it, but with the tiny model's two denoising steps (a real
# model's default is 20; the tiny one at 20 takes minutes per film on a shared 2-core machine).
SERVE = """
import os, sys
from filmstudio.app.compose import build_engines, build_server, run_server
from filmstudio.config import load_settings
settings = load_settings(dict(os.environ), port=int(sys.argv[1]), workers=1)
engines = build_engines(jobs=2, models_dir=settings.models_dir, cache_dir=settings.cache_dir)
engines.pictures.steps = 2
run_server(build_server(settings, engines=engines))
"""


def start_serve(home: Path, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    log = (home / "serve.log").open("ab")
    return subprocess.Popen([sys.executable, "-c", SERVE, str(port)], env=env, cwd=REPO, stdout=log,
                            stderr=subprocess.STDOUT)

PLACES = ("HARBOUR", "LIGHTHOUSE", "MARKET", "ATTIC", "TRAIN STATION", "ROOFTOP")
LINES = ("The tide is turning faster than anyone said it would tonight.",
         "Then we leave before the lamps are lit along the whole coast.",
         "I kept the letter, every word of it, folded in my coat for years.",
         "Nobody remembers the keeper now, but the light still turns each night.")


def thirty_shot_script(scenes: int = len(PLACES)) -> str:
    """Six scenes of four long lines: the scene's opening plus each line is a shot (30 with the title)."""
    out = ["Title: Thirty Shots", ""]
    for i, place in enumerate(PLACES[:scenes]):
        out += [f"{'EXT' if i % 2 == 0 else 'INT'}. {place} - NIGHT", "", f"Rain on the {place.lower()}.", ""]
        for j, line in enumerate(LINES):
            out += ["MAYA" if j % 2 == 0 else "OLD TOM", line, ""]
    return "\n".join(out)


def install_tiny_sd(home: Path, work: Path) -> Path:
    """The tiny SD model pulled from the fake hub into the studio's models folder; its catalogue file."""
    from fakehub import FakeHub, model_toml
    from filmstudio.pipeline.models.catalogue import load_catalogue
    from filmstudio.pipeline.models.download import pull
    from filmstudio.pipeline.models.library import ModelLibrary
    from tiny_sd import build_tiny_sd, folder_files

    files = folder_files(build_tiny_sd(work / "tiny-sd"))
    catalogue = work / "catalogue.toml"
    catalogue.write_text(model_toml("tiny-sd", "test/tiny-sd", files).replace('kind = "voice"', 'kind = "picture"')
                         .replace('engine = "piper"', 'engine = "diffusers"'), encoding="utf-8")
    with FakeHub(repos={"test/tiny-sd": files}) as hub:
        pull(load_catalogue(catalogue).get("tiny-sd"), ModelLibrary(home / "models"), endpoint=hub.endpoint)
    return catalogue


def cli(env: dict[str, str], *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "filmstudio", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=300, check=True).stdout


def median_time(fn: Callable[[], Any], runs: int, before: Callable[[], Any] | None = None) -> float:
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def open_project(backend: Any, project_id: str) -> int:
    """What opening a project costs the app: the project, the storyboard, every still's bytes."""
    backend.get_project(project_id)
    view = backend.storyboard(project_id)
    for path in view.stills.values():
        path.read_bytes()
    return len(view.stills)


def first_frame_seconds(source: str, timeout: float = 60.0) -> float:
    """setSource + play until the first decoded video frame (QVideoSink), in seconds."""
    from PySide6.QtCore import QEventLoop, QTimer, QUrl
    from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer, QVideoSink
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    assert app is not None
    player = QMediaPlayer()
    audio = QAudioOutput()
    audio.setVolume(0.0)
    player.setAudioOutput(audio)
    sink = QVideoSink()
    player.setVideoSink(sink)
    loop = QEventLoop()
    seen: dict[str, float] = {}

    def frame(f: Any) -> None:
        if f.isValid() and "t" not in seen:
            seen["t"] = time.perf_counter()
            loop.quit()

    sink.videoFrameChanged.connect(frame)
    QTimer.singleShot(int(timeout * 1000), loop.quit)
    start = time.perf_counter()
    player.setSource(QUrl.fromLocalFile(source) if not source.startswith("http") else QUrl(source))
    player.play()
    loop.exec()
    player.stop()
    player.setSource(QUrl())
    if "t" not in seen:
        raise RuntimeError(f"no frame from {source} within {timeout} s")
    return seen["t"] - start


def plain_download(url: str, target: Path) -> None:
    with httpx.stream("GET", url, timeout=60) as response, target.open("wb") as fh:
        response.raise_for_status()
        for chunk in response.iter_bytes(256 * 1024):
            fh.write(chunk)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--duration", type=int, default=120)  # 24 long lines need about 100 s
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-client-"))
    home = work / "home"
    env = studio_env(home)
    env["FILMSTUDIO_MODEL_CATALOGUE"] = str(install_tiny_sd(home, work))
    # The owner's key: the local backend is the owner at the keyboard, so both see the same project.
    key = cli(env, "keys", "create", "--name", "bench", "--account", "owner").strip().splitlines()[-1]
    port = free_port()
    proc = start_serve(home, env, port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(url, proc, home)
        return run(args, work, home, env, url, key)
    finally:
        stop_serve(proc)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path, home: Path, env: dict[str, str], url: str, key: str) -> int:
    from filmstudio.config import Settings
    from filmstudio.desktop.remote import RemoteBackend

    api = httpx.Client(base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {key}"}, timeout=60)
    settings = {"duration": args.duration, "resolution": args.size, "fps": 24, "music_genre": "calm"}
    made = api.post("/projects", json={"title": "Thirty shots", "script": thirty_shot_script(),
                                       "settings": settings})
    made.raise_for_status()
    pid = made.json()["project_id"]
    shots = len(api.get(f"/projects/{pid}/storyboard").json()["shots"])
    print(f"project {pid}: {shots} shots, {args.size}, {args.duration} s; rendering on the server…", flush=True)
    started = time.perf_counter()
    accepted = api.post(f"/projects/{pid}/generate", json={})
    if accepted.status_code != 202:
        print(f"the studio refused the render: {accepted.text}")
        return 1
    job = accepted.json()["job_id"]
    while (state := api.get(f"/jobs/{job}").json())["status"] not in ("completed", "failed", "cancelled"):
        time.sleep(1)
    if state["status"] != "completed":
        print(json.dumps(state, indent=2))
        return 1
    print(f"rendered in {time.perf_counter() - started:.0f} s", flush=True)

    # The local backend over the same home (no server of its own, no worker).
    from filmstudio.app.embedded import EmbeddedApi
    from filmstudio.desktop.backend import LocalBackend

    local_api = EmbeddedApi(Settings.model_validate({"home": home, "port": 0, "workers": 0,
                                                     "secrets_backend": "file"}))
    local = LocalBackend(local_api.studio, None, local_api.engines)
    results: dict[str, Any] = {"shots": shots}
    stills = open_project(local, pid)
    results["stills"] = stills
    results["open_local_s"] = median_time(lambda: open_project(local, pid), args.runs)
    caches = iter(range(10_000))

    def cold() -> None:
        fresh = RemoteBackend(url, key, cache_dir=work / f"cache-{next(caches)}")
        try:
            assert open_project(fresh, pid) == stills
        finally:
            fresh.close()

    results["open_remote_cold_s"] = median_time(cold, args.runs)
    warm = RemoteBackend(url, key, cache_dir=work / "cache-warm")
    open_project(warm, pid)
    results["open_remote_warm_s"] = median_time(lambda: open_project(warm, pid), args.runs)

    files_local = local.film_files(pid)
    files_remote = warm.film_files(pid)
    assert files_local.video is not None and files_remote.video_url
    results["film_bytes"] = files_local.video.stat().st_size
    first_frame_seconds(str(files_local.video))  # the multimedia backend's own start-up, not counted
    results["first_frame_local_s"] = statistics.median(first_frame_seconds(str(files_local.video))
                                                       for _ in range(args.runs))
    results["first_frame_remote_s"] = statistics.median(first_frame_seconds(files_remote.video_url)
                                                        for _ in range(args.runs))

    target = work / "export.mp4"

    def clean() -> None:
        for p in work.glob("export*"):
            p.unlink()

    # Interleaved so a slower moment of the shared machine hits both the same way.
    app_times, plain_times = [], []
    for _ in range(args.runs):
        clean()
        start = time.perf_counter()
        warm.export_film(pid, target, lambda done, total: None)
        app_times.append(time.perf_counter() - start)
        assert target.stat().st_size == results["film_bytes"]
        clean()
        start = time.perf_counter()
        plain_download(files_remote.video_url, target)
        plain_times.append(time.perf_counter() - start)
        assert target.stat().st_size == results["film_bytes"]
    mb = results["film_bytes"] / 1e6
    results["export_app_mb_s"] = mb / statistics.median(app_times)
    results["export_plain_mb_s"] = mb / statistics.median(plain_times)
    warm.close()
    local.close()
    api.close()

    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in results.items()}, indent=2))
    print(f"open a {shots}-shot project ({stills} stills): local {results['open_local_s'] * 1000:.0f} ms, "
          f"remote cold {results['open_remote_cold_s'] * 1000:.0f} ms "
          f"({results['open_remote_cold_s'] / results['open_local_s']:.1f}x), warm "
          f"{results['open_remote_warm_s'] * 1000:.0f} ms ({results['open_remote_warm_s'] / results['open_local_s']:.1f}x)")
    print(f"preview first frame: local {results['first_frame_local_s'] * 1000:.0f} ms, loopback "
          f"{results['first_frame_remote_s'] * 1000:.0f} ms "
          f"({results['first_frame_remote_s'] / results['first_frame_local_s']:.2f}x)")
    ratio = results["export_app_mb_s"] / results["export_plain_mb_s"]
    print(f"export of {mb:.1f} MB: app {results['export_app_mb_s']:.0f} MB/s, plain httpx "
          f"{results['export_plain_mb_s']:.0f} MB/s: {ratio * 100:.0f} % (target >= 90 %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
