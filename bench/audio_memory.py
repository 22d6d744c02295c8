"""Peak memory and wall time of the audio path (voice track + music stage) against film length.

Each measurement runs in a fresh child process, so ru_maxrss is that step's own peak:
  voice: the voice stage's track writing (speech-like clips placed every few seconds -> voice.wav)
  music: the music stage (compose + duck + mix and master to -14 LUFS), from that voice.wav

    python bench/audio_memory.py [--seconds 60 300 900] [--genre upbeat]
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SR = 48000


def _clips(folder: Path) -> list[Path]:
    """A few speech-like clips (voiced buzz with syllable-rate envelopes), 1.5-3 s each, at 22.05 kHz."""
    from filmstudio.pipeline.media.audio import write_wav

    rng = np.random.default_rng(7)
    out = []
    for i in range(4):
        sr = 22050
        n = int((1.5 + 0.5 * i) * sr)
        t = np.arange(n) / sr
        f0 = 110 + 40 * i
        buzz = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 12))
        env = np.clip(np.sin(2 * np.pi * 4.0 * t), 0, None) ** 0.5
        x = 0.25 * buzz * env + 0.01 * rng.standard_normal(n)
        path = folder / f"clip{i}.wav"
        write_wav(path, x.astype(np.float32), sr)
        out.append(path)
    return out


def _placements(clips: list[Path], seconds: float) -> list[tuple[Path, float]]:
    step, t, i, out = 3.7, 0.8, 0, []
    while t < seconds - 3.5:
        out.append((clips[i % len(clips)], t))
        t += step
        i += 1
    return out


def child_voice(folder: Path, seconds: float) -> None:
    from filmstudio.pipeline.media import audio

    placed = _placements(_clips(folder), seconds)
    t0 = time.perf_counter()
    stream = getattr(audio, "write_voice_track", None)
    if stream is not None:
        stream(folder / "voice.wav", placed, seconds, SR)
    else:  # the whole-array path (before streaming)
        audio.write_wav(folder / "voice.wav", audio.place_clips(placed, seconds, SR), SR)
    _done(time.perf_counter() - t0)


def child_music(folder: Path, seconds: float, genre: str) -> None:
    from filmstudio.app.compose import build_engines
    from filmstudio.domain.settings import RenderSettings
    from filmstudio.pipeline.context import Cache, CancelToken, StageContext
    from filmstudio.pipeline.plan import RenderPlan, SceneTiming, Script
    from filmstudio.pipeline.stages.music_generation import MusicGeneration

    scene = 40.0  # a scene every 40 s, so longer films have more scenes (as real ones do)
    bounds = [0.0, *np.arange(scene, seconds - 5, scene).tolist(), seconds]
    timeline = tuple(SceneTiming("scene", k, a, b) for k, (a, b) in enumerate(itertools.pairwise(bounds)))
    plan = RenderPlan(settings=RenderSettings(duration=60, music_genre=genre), script_text="", work_dir=folder,
                      output=folder / "film.mp4", script=Script(f"Bench {seconds}", (), ()), timeline=timeline,
                      voice_track=folder / "voice.wav")
    ctx = StageContext(engines=build_engines(), cache=Cache(folder / f"cache-{seconds}"), progress=lambda s, f: None, cancel=CancelToken())
    t0 = time.perf_counter()
    out = MusicGeneration().run(plan, ctx)
    wall = time.perf_counter() - t0
    assert out.mix_track is not None and out.mix_track.exists()
    _done(wall)


def _done(wall: float) -> None:
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"wall_s": round(wall, 2), "peak_rss_mb": round(peak_mb, 1)}))


def _run(*args: str) -> dict[str, float]:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, nargs="+", default=[60.0, 300.0, 900.0])
    ap.add_argument("--genre", default="upbeat")
    ap.add_argument("--child", choices=["voice", "music"])
    ap.add_argument("--folder", type=Path)
    a = ap.parse_args()
    if a.child == "voice":
        child_voice(a.folder, a.seconds[0])
        return
    if a.child == "music":
        child_music(a.folder, a.seconds[0], a.genre)
        return
    print(f"{'film s':>7} {'voice MB':>9} {'voice s':>8} {'music MB':>9} {'music s':>8}")
    for seconds in a.seconds:
        with tempfile.TemporaryDirectory(prefix="fs-audio-bench-") as tmp:
            v = _run("--child", "voice", "--folder", tmp, "--seconds", str(seconds))
            m = _run("--child", "music", "--folder", tmp, "--seconds", str(seconds), "--genre", a.genre)
        print(f"{seconds:7.0f} {v['peak_rss_mb']:9.1f} {v['wall_s']:8.2f} {m['peak_rss_mb']:9.1f} {m['wall_s']:8.2f}",
              flush=True)


if __name__ == "__main__":
    main()
