"""Render benchmark (not a test): our render vs the ffmpeg floor vs a plain moviepy composite.

    .venv/bin/python bench/render.py                 # 60 s 1080p30 from the sample screenplay
    .venv/bin/python bench/render.py --long 300      # also a 300 s film: peak RSS must not grow
    .venv/bin/python bench/render.py --size 640x360 --skip-moviepy   # a quick look

Prints, from one run: our wall time (cold cache); the floor — the same ffmpeg encoding the same
number of frames at the same settings from raw frames (decoded from our film and piped in); a
plain moviepy composition of the same layers; the ratios; peak RSS of our render's process (and its largest
child); and the re-render time after changing one scene's text (warm cache).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from filmstudio.app.compose import build_engines
from filmstudio.domain.settings import parse_settings
from filmstudio.pipeline.media.ffmpeg import ffmpeg_exe, h264_args, video_encoder
from filmstudio.pipeline.request import RenderRequest
from filmstudio.pipeline.runner import render

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "tests" / "data" / "samples" / "night-market.fountain"
EDIT_FROM, EDIT_TO = "I only needed one more try.", "I only needed one more try, one more coin."


def peak_rss_mb() -> tuple[float, float]:
    """(this process, the largest child process) peak resident set, in MB.

    This process's peak is VmHWM: Linux carries ru_maxrss over fork and exec, so a render started
    by a big parent would report the parent's peak. Children's figure is ru_maxrss (an upper bound).
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                own = int(line.split()[1]) / 1024
    except OSError:
        pass
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, child


def our_render(script: str, settings: Any, out: Path, cache: Path,
               warm_script: str | None = None) -> tuple[float, dict[str, Any]]:
    """Our render in a fresh process, so its peak RSS (and its children's) is its own.

    With `warm_script`, the process first renders that (untimed), as a long-lived server or app
    worker would have: the time is then the render's alone, without the process's start-up.
    """
    job = out.with_suffix(".job.json")
    job.write_text(json.dumps({"script": script, "settings": settings.model_dump(mode="json"),
                               "out": str(out), "cache": str(cache), "warm_script": warm_script}))
    proc = subprocess.run([sys.executable, __file__, "--child", str(job)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result["seconds"], result


def _child(job_path: str) -> int:
    from filmstudio.domain.settings import RenderSettings

    job = json.loads(Path(job_path).read_text())
    settings = RenderSettings.model_validate(job["settings"])
    engines = build_engines()
    if job.get("warm_script"):
        render(RenderRequest(job["warm_script"], settings, Path(job["out"]).with_name("warm.mp4"), continuity="bench",
                             work_dir=Path(tempfile.mkdtemp(prefix="bench-")), cache_dir=Path(job["cache"])), engines)
    t0 = time.perf_counter()
    manifest = render(RenderRequest(job["script"], settings, Path(job["out"]), continuity="bench",
                                    work_dir=Path(tempfile.mkdtemp(prefix="bench-")), cache_dir=Path(job["cache"])),
                      engines)
    seconds = time.perf_counter() - t0
    own, child = peak_rss_mb()
    manifest.update(seconds=seconds, rss_mb={"self": round(own), "largest_child": round(child)})
    print(json.dumps(manifest))
    return 0


def floor_encode(film: Path, size: tuple[int, int], fps: int, frames: int, tmp: Path) -> float:
    """Time to encode `frames` raw frames (our film's, decoded and piped) with the same encoder settings."""
    w, h = size
    decoder = subprocess.Popen(
        [ffmpeg_exe(), "-v", "error", "-i", str(film), "-an", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
        stdout=subprocess.PIPE,
    )
    t0 = time.perf_counter()
    encoder = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{w}x{h}",
         "-r", str(fps), "-i", "-", *h264_args(video_encoder(), fps), "-frames:v", str(frames),
         str(tmp / "floor.mp4")], stdin=decoder.stdout, check=True,
    )
    elapsed = time.perf_counter() - t0
    decoder.wait()
    assert encoder.returncode == 0
    return elapsed


def moviepy_render(manifest: dict[str, Any], settings: Any, mix: Path, out: Path) -> float:
    """The same film's layers composed the plain moviepy way (CompositeVideoClip, per-frame in Python)."""
    from moviepy import AudioFileClip, CompositeVideoClip, ImageClip, concatenate_videoclips
    from moviepy.video.fx import FadeIn, FadeOut

    from filmstudio.pipeline.providers import visuals

    specs = manifest["_specs"]
    t0 = time.perf_counter()
    clips = []
    for spec in specs:
        lay = visuals._layout(spec)
        dur = spec.duration
        x0, y0, x1, y1 = lay.pan
        layers = [ImageClip(np.asarray(lay.backdrop)).with_duration(dur).with_position(
            lambda t, x0=x0, y0=y0, x1=x1, y1=y1, d=dur: (-(x0 + (x1 - x0) * t / d), -(y0 + (y1 - y0) * t / d)))]
        if lay.foreground is not None:
            a, b = lay.fg_x
            fy = spec.size[1] - lay.foreground.height
            layers.append(ImageClip(np.asarray(lay.foreground)).with_duration(dur).with_position(
                lambda t, a=a, b=b, d=dur, fy=fy: (a + (b - a) * t / d, fy)))
        cx, cy, ax, ay, period = lay.light_orbit
        layers.append(ImageClip(np.asarray(lay.light)).with_duration(dur).with_position(
            lambda t, cx=cx, cy=cy, ax=ax, ay=ay, p=period: (cx + ax * math.sin(2 * math.pi * t / p),
                                                             cy + ay * math.cos(2 * math.pi * t / p))))
        if lay.frame is not None:
            layers.append(ImageClip(np.asarray(lay.frame)).with_duration(dur))
        for placed in lay.texts:
            layers.append(ImageClip(np.asarray(placed.image)).with_start(placed.start)
                          .with_duration(max(0.04, placed.end - placed.start)).with_position((placed.x, placed.y)))
        clip = CompositeVideoClip(layers, size=spec.size).with_duration(dur)
        edge = min(lay.style.fade, dur / 4)
        clips.append(clip.with_effects([FadeIn(edge), FadeOut(edge)]) if edge > 0 else clip)
    film = concatenate_videoclips(clips).with_audio(AudioFileClip(str(mix)))
    film.write_videofile(str(out), fps=settings.fps, codec="libx264", audio_codec="aac", preset="veryfast",
                         ffmpeg_params=["-crf", "20", "-pix_fmt", "yuv420p"], logger=None)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--long", type=int, default=0, help="also render a film this long (s) for the RSS check")
    ap.add_argument("--skip-moviepy", action="store_true")
    ap.add_argument("--json", help="write the numbers to this file too")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return _child(args.child)

    script = SAMPLE.read_text(encoding="utf-8")
    settings = parse_settings({"duration": args.duration, "resolution": args.size, "fps": args.fps,
                               "music_genre": "epic", "subtitle_languages": ["en"]})
    results: dict[str, Any] = {"duration": args.duration, "size": args.size, "fps": args.fps,
                               "encoder": video_encoder()}
    with tempfile.TemporaryDirectory(prefix="filmstudio-bench-") as tmp_name:
        tmp = Path(tmp_name)
        cache = tmp / "cache"
        ours, manifest = our_render(script, settings, tmp / "ours.mp4", cache)
        results["ours_s"] = round(ours, 2)
        results["stage_seconds"] = manifest["stage_seconds"]
        results["peak_rss_mb"] = manifest["rss_mb"]
        frames = sum(round((s["end"] - s["start"]) * args.fps) for s in manifest["scenes"])
        results["frames"] = frames
        results["floor_s"] = round(floor_encode(tmp / "ours.mp4", settings.size, args.fps, frames, tmp), 2)
        results["ours_vs_floor"] = round(ours / results["floor_s"], 2)

        edited = script.replace(EDIT_FROM, EDIT_TO)
        assert edited != script
        warm_cache = tmp / "cache-warm"
        shutil.copytree(cache, warm_cache)
        rerender, edited_manifest = our_render(edited, settings, tmp / "edited.mp4", cache)
        results["rerender_one_scene_s"] = round(rerender, 2)
        results["rerender_vs_full"] = round(rerender / ours, 3)
        results["rerender_stage_seconds"] = edited_manifest["stage_seconds"]
        # The same edit in a process that has rendered before (the app's worker, `serve`).
        warm, warm_manifest = our_render(edited, settings, tmp / "edited-warm.mp4", warm_cache, warm_script=script)
        results["rerender_warm_process_s"] = round(warm, 2)
        results["rerender_warm_vs_full"] = round(warm / ours, 3)
        results["rerender_warm_stage_seconds"] = warm_manifest["stage_seconds"]

        if not args.skip_moviepy:
            from filmstudio.pipeline.stages.visual_generation import build_specs
            # Rebuild the plan's segment specs exactly as the render did (same timings), for moviepy.
            plan = _plan_for(script, settings, cache, tmp)
            manifest["_specs"] = build_specs(plan)
            mp = moviepy_render(manifest, settings, plan.mix_track, tmp / "moviepy.mp4")
            results["moviepy_s"] = round(mp, 2)
            results["moviepy_vs_ours"] = round(mp / ours, 2)

        if args.long:
            long_settings = settings.model_copy(update={"duration": args.long})
            long_script = "\n\n".join([script] + [_scene_copy(script, i) for i in range(1, max(1, args.long // 60))])
            t_long, long_manifest = our_render(long_script, long_settings, tmp / "long.mp4", tmp / "cache-long")
            results["long"] = {"duration": args.long, "seconds": round(t_long, 1),
                               "peak_rss_mb": long_manifest["rss_mb"]}

    print(json.dumps(results, indent=2))
    print(f"\nours {results['ours_s']} s | floor {results['floor_s']} s | ours/floor {results['ours_vs_floor']}x"
          + (f" | moviepy {results['moviepy_s']} s = {results['moviepy_vs_ours']}x ours" if "moviepy_s" in results else "")
          + f" | one-scene re-render {results['rerender_one_scene_s']} s = {results['rerender_vs_full']:.0%} of full"
          + f" ({results['rerender_warm_process_s']} s = {results['rerender_warm_vs_full']:.0%} in a warm process)"
          + f" | our peak RSS {results['peak_rss_mb']['self']} MB (largest child {results['peak_rss_mb']['largest_child']} MB)"
          + (f" | {args.long} s film: peak RSS {results['long']['peak_rss_mb']['self']} MB" if args.long else ""))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


def _scene_copy(script: str, i: int) -> str:
    """The screenplay's scenes again (without its title page) so a long film has proportionally more script."""
    body = script.split("FADE IN:", 1)[-1]
    return body.replace("NIGHT MARKET", f"NIGHT MARKET {i}").replace("ARCADE", f"ARCADE {i}")


def _plan_for(script: str, settings: Any, cache: Path, tmp: Path) -> Any:
    """The render plan up to visual_generation (all cached by now), for the moviepy comparison."""
    from filmstudio.pipeline.context import Cache, CancelToken, StageContext
    from filmstudio.pipeline.plan import RenderPlan
    from filmstudio.pipeline.runner import default_stages

    ctx = StageContext(engines=build_engines(), cache=Cache(cache), progress=lambda s, f: None, cancel=CancelToken())
    plan = RenderPlan(settings=settings, script_text=script, work_dir=tmp / "plan", output=tmp / "unused.mp4")
    plan.work_dir.mkdir(parents=True, exist_ok=True)
    for stage in default_stages()[:5]:
        plan = stage.run(plan, ctx)
    return plan


if __name__ == "__main__":
    sys.exit(main())
