"""Render benchmark (not a test): our render vs the ffmpeg floor vs a plain moviepy composite.

    .venv/bin/python bench/render.py --skip-moviepy            # 60 s 1080p30 from the sample screenplay
    .venv/bin/python bench/render.py --skip-moviepy --runs 3 --long 300   # what the README reports
    .venv/bin/python bench/render.py --size 640x360 --skip-moviepy        # a quick look

Each run prints, with the load average (1 min) before and after every measurement:
- full: our render in a fresh process with a cold cache (wall seconds; CPU seconds of the render's
  own threads and of its ffmpeg children, per stage; the mix made beside the frames on its own line);
- floor: the same ffmpeg encoding the very frames our segment graphs composed (written raw first,
  untimed, read back from the page cache) at the same settings, wall and CPU; ours/floor is the
  target (<= 1.3x). Also printed: the old floor, our film decoded and encoded again; its frames went
  through x264 once already (grain partly flattened: about 25 % cheaper to encode), so it is lower;
- re-render after editing one line, in a fresh process and in a process that rendered the film
  before (the app's worker, `serve`), as a share of the full render (target <= 25 % each);
- peak RSS of the render process for the 60 s film and, with --long N, for an N s film (flat);
- with moviepy (no --skip-moviepy): the same layers composed the plain moviepy way.
With --runs N it repeats all of it N times and ends with the median of each ratio. The machine's
other load moves absolute seconds; same-run ratios and CPU seconds are what to compare.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
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


def _cpu() -> tuple[float, float]:
    """(this process's threads, its waited-for children) CPU seconds, user + system."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


class _CpuStage:
    """A stage with its CPU seconds recorded: our Python threads and the ffmpegs it waited for."""

    def __init__(self, inner: Any, sink: dict[str, dict[str, float]]) -> None:
        self.inner, self.sink = inner, sink
        self.name, self.weight = inner.name, inner.weight

    def run(self, plan: Any, ctx: Any) -> Any:
        p0, k0 = _cpu()
        out = self.inner.run(plan, ctx)
        p1, k1 = _cpu()
        self.sink[self.name] = {"python": round(p1 - p0, 2), "ffmpeg": round(k1 - k0, 2), **_rss()}
        return out


def _rss() -> dict[str, int]:
    """This process's resident set now and its peak so far (MB): where the peak is reached, stage by stage."""
    out = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                out["rss_mb" if line.startswith("VmRSS") else "peak_mb"] = int(line.split()[1]) // 1024
    except OSError:
        pass
    return out


def _child(job_path: str) -> int:
    from filmstudio.domain.settings import RenderSettings
    from filmstudio.pipeline.runner import default_stages

    job = json.loads(Path(job_path).read_text())
    settings = RenderSettings.model_validate(job["settings"])
    # As `filmstudio render` builds them (`engines_for`): with the cache folder, where the neural voice
    # keeps its compiled graph (a fresh process loads it in ~0.2 s instead of editing it again).
    engines = build_engines(cache_dir=Path(job["cache"]))
    cpu: dict[str, dict[str, float]] = {}
    stages = [_CpuStage(s, cpu) for s in default_stages()]
    if job.get("warm_script"):
        render(RenderRequest(job["warm_script"], settings, Path(job["out"]).with_name("warm.mp4"), continuity="bench",
                             work_dir=Path(tempfile.mkdtemp(prefix="bench-")), cache_dir=Path(job["cache"])), engines,
               stages=stages)
    cpu.clear()
    p0, k0 = _cpu()
    t0 = time.perf_counter()
    manifest = render(RenderRequest(job["script"], settings, Path(job["out"]), continuity="bench",
                                    work_dir=Path(tempfile.mkdtemp(prefix="bench-")), cache_dir=Path(job["cache"])),
                      engines, stages=stages)
    seconds = time.perf_counter() - t0
    p1, k1 = _cpu()
    manifest.update(stage_cpu=cpu, cpu={"python": round(p1 - p0, 2), "ffmpeg": round(k1 - k0, 2)})
    own, child = peak_rss_mb()
    manifest.update(seconds=seconds, rss_mb={"self": round(own), "largest_child": round(child)})
    print(json.dumps(manifest))
    return 0


def floor_encode(source: Path, size: tuple[int, int], fps: int, frames: int, tmp: Path,
                 *, raw: bool = False) -> tuple[float, float]:
    """(wall, encoder CPU) seconds to encode `frames` raw frames at our settings.

    `raw`: `source` is our composed frames as raw yuv420p (`composed_frames`), read from the page
    cache; else `source` is our film, decoded by a second ffmpeg and piped in (the old floor: those
    frames went through x264 once already, which flattened part of the grain, so they encode cheaper
    than the frames we composed).
    """
    w, h = size
    decoder = None
    if raw:
        src = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{w}x{h}", "-r", str(fps), "-i", str(source)]
    else:
        decoder = subprocess.Popen(
            [ffmpeg_exe(), "-v", "error", "-i", str(source), "-an", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
            stdout=subprocess.PIPE,
        )
        src = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{w}x{h}", "-r", str(fps), "-i", "-"]
    t0 = time.perf_counter()
    encoder = subprocess.Popen(
        [ffmpeg_exe(), "-v", "error", "-y", *src, *h264_args(video_encoder(), fps), "-frames:v", str(frames),
         str(tmp / "floor.mp4")], stdin=decoder.stdout if decoder is not None else subprocess.DEVNULL,
    )
    if decoder is not None:
        assert decoder.stdout is not None
        decoder.stdout.close()  # the encoder holds the pipe now
    _, status, usage = os.wait4(encoder.pid, 0)
    elapsed = time.perf_counter() - t0
    encoder.returncode = os.waitstatus_to_exitcode(status)
    if decoder is not None:
        decoder.wait()
    assert encoder.returncode == 0
    return elapsed, usage.ru_utime + usage.ru_stime


def composed_frames(script: str, settings: Any, cache: Path, tmp: Path, *, engines: Any = None,
                    storyboard: Path | None = None) -> tuple[Path, int]:
    """Our film's frames exactly as our segment graphs compose them, before x264: raw yuv420p in one file.

    Untimed. Each segment's own ffmpeg graph (`visuals._filter_graph`, the one `render_segment` runs)
    writes rawvideo instead of H.264, in film order, so the floor encodes the very frames we encoded.
    """
    from filmstudio.pipeline.providers import visuals
    from filmstudio.pipeline.stages.visual_generation import build_specs

    plan = _plan_for(script, settings, cache, tmp, engines=engines, storyboard=storyboard)
    out, frames = tmp / "composed.yuv", 0
    with out.open("wb") as sink:
        for spec in build_specs(plan):
            folder = Path(tempfile.mkdtemp(prefix="layers-", dir=tmp))
            lay = visuals._layout(spec)
            inputs, graph = visuals._filter_graph(lay, visuals._write_layers(lay, folder), folder)
            subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", *inputs, "-filter_complex", graph,
                            "-map", "[v]", "-an", "-r", str(spec.fps), "-frames:v", str(spec.frames),
                            "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"], stdout=sink, check=True)
            frames += spec.frames
            shutil.rmtree(folder, ignore_errors=True)
    return out, frames


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


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def one_run(script: str, settings: Any, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Every measurement once, in the same run (so the ratios share the machine's load)."""
    results: dict[str, Any] = {}
    cache = tmp / "cache"
    load0 = _load()
    ours, manifest = our_render(script, settings, tmp / "ours.mp4", cache)
    results["full"] = {"seconds": round(ours, 2), "load": [load0, _load()], "stage_seconds": manifest["stage_seconds"],
                       "background_seconds": manifest.get("background_seconds", {}),
                       "cpu": manifest["cpu"], "stage_cpu": manifest["stage_cpu"], "peak_rss_mb": manifest["rss_mb"]}
    frames = sum(round((s["end"] - s["start"]) * args.fps) for s in manifest["scenes"])
    ours_cpu = manifest["cpu"]["python"] + manifest["cpu"]["ffmpeg"]
    # The floor: the same encoder at the same settings on the very frames our graphs composed.
    raw, composed = composed_frames(script, settings, cache, tmp)
    assert composed == frames, (composed, frames)
    load0 = _load()
    floor_s, floor_cpu = floor_encode(raw, settings.size, args.fps, frames, tmp, raw=True)
    raw.unlink()
    results["floor"] = {"seconds": round(floor_s, 2), "encoder_cpu": round(floor_cpu, 2), "frames": frames,
                        "load": [load0, _load()], "of": "our composed frames"}
    results["ours_vs_floor"] = round(ours / floor_s, 3)
    results["ours_cpu_vs_floor_cpu"] = round(ours_cpu / floor_cpu, 3)
    # The old floor, for comparison with earlier numbers: our film decoded and encoded again.
    load0 = _load()
    re_s, re_cpu = floor_encode(tmp / "ours.mp4", settings.size, args.fps, frames, tmp)
    results["floor_reencode"] = {"seconds": round(re_s, 2), "encoder_cpu": round(re_cpu, 2), "load": [load0, _load()],
                                 "ours_vs": round(ours / re_s, 3), "ours_cpu_vs": round(ours_cpu / re_cpu, 3)}

    edited = script.replace(EDIT_FROM, EDIT_TO)
    assert edited != script
    warm_cache = tmp / "cache-warm"
    shutil.copytree(cache, warm_cache)
    load0 = _load()
    rerender, m = our_render(edited, settings, tmp / "edited.mp4", cache)
    full_cpu = manifest["cpu"]["python"] + manifest["cpu"]["ffmpeg"]
    results["rerender_fresh"] = {"seconds": round(rerender, 2), "share": round(rerender / ours, 3),
                                 "cpu_share": round((m["cpu"]["python"] + m["cpu"]["ffmpeg"]) / full_cpu, 3),
                                 "load": [load0, _load()], "stage_seconds": m["stage_seconds"],
                                 "background_seconds": m.get("background_seconds", {}), "cpu": m["cpu"]}
    # The same edit in a process that has rendered the film before (the app's worker, `serve`).
    load0 = _load()
    warm, m = our_render(edited, settings, tmp / "edited-warm.mp4", warm_cache, warm_script=script)
    results["rerender_warm"] = {"seconds": round(warm, 2), "share": round(warm / ours, 3),
                                "cpu_share": round((m["cpu"]["python"] + m["cpu"]["ffmpeg"]) / full_cpu, 3),
                                "load": [load0, _load()], "stage_seconds": m["stage_seconds"],
                                "background_seconds": m.get("background_seconds", {}), "cpu": m["cpu"]}

    if not args.skip_moviepy:
        from filmstudio.pipeline.stages.visual_generation import build_specs
        # Rebuild the plan's segment specs exactly as the render did (same timings), for moviepy.
        plan = _plan_for(script, settings, cache, tmp)
        manifest["_specs"] = build_specs(plan)
        mp = moviepy_render(manifest, settings, plan.mix_track, tmp / "moviepy.mp4")
        results["moviepy"] = {"seconds": round(mp, 2), "vs_ours": round(mp / ours, 2)}

    if args.long:
        long_settings = settings.model_copy(update={"duration": args.long})
        long_script = "\n\n".join([script] + [_scene_copy(script, i) for i in range(1, max(1, args.long // 60))])
        load0 = _load()
        t_long, long_manifest = our_render(long_script, long_settings, tmp / "long.mp4", tmp / "cache-long")
        results["long"] = {"duration": args.long, "seconds": round(t_long, 1), "load": [load0, _load()],
                           "peak_rss_mb": long_manifest["rss_mb"], "stage_cpu": long_manifest["stage_cpu"]}
    return results


def _line(r: dict[str, Any], long: int) -> str:
    full, floor = r["full"], r["floor"]
    cpu = full["cpu"]["python"] + full["cpu"]["ffmpeg"]
    text = (f"ours {full['seconds']} s (load {full['load'][0]}-{full['load'][1]}) | floor {floor['seconds']} s "
            f"(load {floor['load'][0]}-{floor['load'][1]}) | ours/floor {r['ours_vs_floor']:.2f}x "
            f"(CPU {cpu:.1f} s vs the floor encoder's {floor['encoder_cpu']} s = {r['ours_cpu_vs_floor_cpu']:.2f}x)"
            f" | vs re-encoding our film {r['floor_reencode']['seconds']} s: {r['floor_reencode']['ours_vs']:.2f}x"
            f" (CPU {r['floor_reencode']['ours_cpu_vs']:.2f}x)"
            f" | re-render after one edit {r['rerender_fresh']['seconds']} s = {r['rerender_fresh']['share']:.0%}"
            f" fresh, {r['rerender_warm']['seconds']} s = {r['rerender_warm']['share']:.0%} warm"
            f" (CPU {r['rerender_fresh']['cpu_share']:.0%} / {r['rerender_warm']['cpu_share']:.0%})"
            f" | peak RSS {full['peak_rss_mb']['self']} MB (largest child {full['peak_rss_mb']['largest_child']} MB)")
    if "moviepy" in r:
        text += f" | moviepy {r['moviepy']['seconds']} s = {r['moviepy']['vs_ours']}x ours"
    if long:
        text += f" | {long} s film: peak RSS {r['long']['peak_rss_mb']['self']} MB"
    return text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=60, help="the film's length in seconds (default 60)")
    ap.add_argument("--size", default="1920x1080", help="WIDTHxHEIGHT (default 1920x1080)")
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--long", type=int, default=0, help="also render a film this long (s) for the RSS check")
    ap.add_argument("--runs", type=int, default=1, help="repeat every measurement this many times (default 1)")
    ap.add_argument("--skip-moviepy", action="store_true", help="leave out the plain moviepy composite (slow)")
    ap.add_argument("--json", help="write the numbers to this file too")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return _child(args.child)

    script = SAMPLE.read_text(encoding="utf-8")
    settings = parse_settings({"duration": args.duration, "resolution": args.size, "fps": args.fps,
                               "music_genre": "epic", "subtitle_languages": ["en"]})
    results: dict[str, Any] = {"duration": args.duration, "size": args.size, "fps": args.fps,
                               "encoder": video_encoder(), "cpus": os.cpu_count(), "runs": []}
    for n in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="filmstudio-bench-") as tmp_name:
            run = one_run(script, settings, args, Path(tmp_name))
        results["runs"].append(run)
        print(f"run {n + 1}/{args.runs}: {_line(run, args.long)}", flush=True)
    runs = results["runs"]
    results["median"] = {
        "ours_vs_floor": statistics.median(r["ours_vs_floor"] for r in runs),
        "ours_cpu_vs_floor_cpu": statistics.median(r["ours_cpu_vs_floor_cpu"] for r in runs),
        "ours_vs_reencode": statistics.median(r["floor_reencode"]["ours_vs"] for r in runs),
        "ours_cpu_vs_reencode_cpu": statistics.median(r["floor_reencode"]["ours_cpu_vs"] for r in runs),
        "rerender_fresh_share": statistics.median(r["rerender_fresh"]["share"] for r in runs),
        "rerender_warm_share": statistics.median(r["rerender_warm"]["share"] for r in runs),
        "rerender_fresh_cpu_share": statistics.median(r["rerender_fresh"]["cpu_share"] for r in runs),
        "rerender_warm_cpu_share": statistics.median(r["rerender_warm"]["cpu_share"] for r in runs),
        "peak_rss_mb": statistics.median(r["full"]["peak_rss_mb"]["self"] for r in runs),
        **({"long_peak_rss_mb": statistics.median(r["long"]["peak_rss_mb"]["self"] for r in runs)} if args.long else {}),
    }
    results["spread"] = {name: [min(vals), max(vals)] for name, vals in {
        "ours_vs_floor": [r["ours_vs_floor"] for r in runs],
        "ours_cpu_vs_floor_cpu": [r["ours_cpu_vs_floor_cpu"] for r in runs],
        "rerender_fresh_share": [r["rerender_fresh"]["share"] for r in runs],
        "rerender_warm_share": [r["rerender_warm"]["share"] for r in runs],
        "rerender_fresh_cpu_share": [r["rerender_fresh"]["cpu_share"] for r in runs],
        "rerender_warm_cpu_share": [r["rerender_warm"]["cpu_share"] for r in runs],
        "peak_rss_mb": [r["full"]["peak_rss_mb"]["self"] for r in runs],
    }.items()}
    print(json.dumps(results, indent=2))
    med = results["median"]
    print(f"\nmedian of {len(runs)}: ours/floor {med['ours_vs_floor']:.2f}x (target <= 1.3x; CPU "
          f"{med['ours_cpu_vs_floor_cpu']:.2f}x; vs re-encoding our film {med['ours_vs_reencode']:.2f}x, CPU "
          f"{med['ours_cpu_vs_reencode_cpu']:.2f}x) | re-render {med['rerender_fresh_share']:.0%} fresh, "
          f"{med['rerender_warm_share']:.0%} warm (target <= 25 %; CPU {med['rerender_fresh_cpu_share']:.0%} / "
          f"{med['rerender_warm_cpu_share']:.0%}) | peak RSS {med['peak_rss_mb']:.0f} MB"
          + (f", {args.long} s film {med['long_peak_rss_mb']:.0f} MB" if args.long else "") + " (target <= 800 MB)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


def _scene_copy(script: str, i: int) -> str:
    """The screenplay's scenes again (without its title page) so a long film has proportionally more script."""
    body = script.split("FADE IN:", 1)[-1]
    return body.replace("NIGHT MARKET", f"NIGHT MARKET {i}").replace("ARCADE", f"ARCADE {i}")


def _plan_for(script: str, settings: Any, cache: Path, tmp: Path, *, engines: Any = None,
              storyboard: Path | None = None) -> Any:
    """The render plan up to visual_generation (all cached by now), with the render's engines and storyboard edits."""
    from filmstudio.pipeline.context import Cache, CancelToken, StageContext
    from filmstudio.pipeline.plan import RenderPlan
    from filmstudio.pipeline.runner import default_stages

    class _Quiet:  # the StageProgress shape: nothing to show, the plan is all cached
        def __call__(self, step: str, fraction: float) -> None: ...
        def expect(self, step: str, seconds: float) -> None: ...
        def note(self, **detail: Any) -> None: ...

    ctx = StageContext(engines=engines or build_engines(cache_dir=cache), cache=Cache(cache),
                       progress=_Quiet(), cancel=CancelToken())
    plan = RenderPlan(settings=settings, script_text=script, work_dir=tmp / "plan", output=tmp / "unused.mp4",
                      storyboard_edits=storyboard)
    plan.work_dir.mkdir(parents=True, exist_ok=True)
    for stage in default_stages()[:5]:
        plan = stage.run(plan, ctx)
    return plan


if __name__ == "__main__":
    sys.exit(main())
