"""How fast a scene segment renders, against two references in the same process.

floor:   ffmpeg encoding the segment's exact frames from an uncompressed file with the same encoder
         arguments — the time no renderer of these frames can beat with this encoder.
moviepy: a plain moviepy CompositeVideoClip of the same layers with the same motion.

Targets: segment <= 1.5x floor, and moviepy / segment >= 3. Segment and floor are best of --repeat runs.

    python bench/segment_speed.py [--size 1280x720] [--fps 30] [--seconds 10] [--style cinematic] [--no-moviepy]
"""

from __future__ import annotations

import argparse
import math
import resource
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.media.ffmpeg import ffmpeg_exe, h264_args
from filmstudio.pipeline.providers.visuals import (
    Overlay,
    SegmentSpec,
    _filter_graph,
    _layout,
    _write_layers,
    render_segment,
)


def scene(style: str, size: tuple[int, int], fps: int, seconds: float) -> SegmentSpec:
    """A typical scene: night market, a scene title and three captions."""
    third = seconds / 3
    return SegmentSpec(
        kind="scene", style=style, size=size, fps=fps, duration=seconds, seed=11,
        heading="EXT. NIGHT MARKET - NIGHT", int_ext="EXT", location="NIGHT MARKET", time_of_day="NIGHT",
        overlays=(
            Overlay("NIGHT MARKET", 0.0, min(3.0, seconds), "scene_title"),
            Overlay("The lanterns came on one by one.", 0.2, third, "caption"),
            Overlay("Nobody noticed the stranger at the noodle stall.", third, 2 * third, "caption"),
            Overlay("Except the cat.", 2 * third, seconds, "caption"),
        ),
    )


@dataclass(frozen=True)
class Cost:
    """Wall seconds, and CPU seconds of this process plus its finished children (steadier on busy CPUs)."""

    wall: float
    cpu: float


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def measure(fn: Callable[[], object]) -> Cost:
    wall, cpu = time.perf_counter(), _cpu()
    fn()
    return Cost(time.perf_counter() - wall, _cpu() - cpu)


def time_segment(spec: SegmentSpec, out: Path) -> Cost:
    return measure(lambda: render_segment(spec, out, encoder="libx264", cancel=CancelToken()))


def raw_frames(spec: SegmentSpec, folder: Path) -> Path:
    """The segment's exact frames, uncompressed (same layers and filter graph, no encode)."""
    layers = folder / "layers"
    layers.mkdir(exist_ok=True)
    lay = _layout(spec)
    inputs, graph = _filter_graph(lay, _write_layers(lay, layers))
    raw = folder / "frames.yuv"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *inputs, "-filter_complex", graph, "-map", "[v]",
                    "-r", str(spec.fps), "-frames:v", str(spec.frames), "-f", "rawvideo", "-pix_fmt", "yuv420p",
                    str(raw)], check=True)
    return raw


def time_floor(raw: Path, spec: SegmentSpec, folder: Path) -> Cost:
    """ffmpeg encoding the same raw frames with the same encoder arguments."""
    w, h = spec.size
    return measure(lambda: subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{w}x{h}",
         "-r", str(spec.fps), "-i", str(raw), *h264_args("libx264", spec.fps), "-frames:v", str(spec.frames),
         "-an", str(folder / "floor.mp4")], check=True))


def time_moviepy(spec: SegmentSpec, folder: Path) -> Cost:
    """The same layers and motion composed by moviepy (layers painted inside the timing, as ours are)."""
    return measure(lambda: _moviepy(spec, folder))


def _moviepy(spec: SegmentSpec, folder: Path) -> None:
    from moviepy import CompositeVideoClip, ImageClip, vfx

    lay = _layout(spec)
    w, h = spec.size
    dur = spec.duration
    x0, y0, x1, y1 = lay.pan
    clips = [ImageClip(np.asarray(lay.backdrop)).with_duration(dur)
             .with_position(lambda t: (-(x0 + (x1 - x0) * t / dur), -(y0 + (y1 - y0) * t / dur)))]
    if lay.foreground is not None:
        a, b = lay.fg_x
        fh = lay.foreground.height
        clips.append(ImageClip(np.asarray(lay.foreground)).with_duration(dur)
                     .with_position(lambda t: (a + (b - a) * t / dur, h - fh)))
    cx, cy, ax, ay, period = lay.light_orbit
    clips.append(ImageClip(np.asarray(lay.light)).with_duration(dur).with_position(
        lambda t: (cx + ax * math.sin(2 * math.pi * t / period), cy + ay * math.cos(2 * math.pi * t / period))))
    if lay.frame is not None:
        clips.append(ImageClip(np.asarray(lay.frame)).with_duration(dur))
    for placed in lay.texts:
        clips.append(ImageClip(np.asarray(placed.image)).with_start(placed.start)
                     .with_duration(placed.end - placed.start).with_position((placed.x, placed.y)))
    edge = min(lay.style.fade, dur / 4)
    film = CompositeVideoClip(clips, size=(w, h)).with_duration(dur)
    if lay.style.grain:
        # The same film has grain: moviepy adds it per frame in numpy (ours uses ffmpeg's noise filter).
        rng = np.random.default_rng(0)
        g = lay.style.grain

        def grain(frame: np.ndarray) -> np.ndarray:
            noise = rng.integers(-g, g + 1, frame.shape[:2], dtype=np.int16)[..., None]
            out: np.ndarray = np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)
            return out

        film = film.image_transform(grain)
    film = film.with_effects([vfx.FadeIn(edge), vfx.FadeOut(edge)])
    film.write_videofile(str(folder / "moviepy.mp4"), fps=spec.fps, codec="libx264", preset="veryfast",
                         audio=False, ffmpeg_params=["-crf", "20", "-g", str(spec.fps * 2)], logger=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--style", default="cinematic")
    parser.add_argument("--repeat", type=int, default=2, help="best of N for segment and floor (shared CPUs)")
    parser.add_argument("--no-moviepy", action="store_true")
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    spec = scene(args.style, (w, h), args.fps, args.seconds)
    with tempfile.TemporaryDirectory(prefix="segment-speed-") as tmp:
        folder = Path(tmp)
        out = folder / "segment.mp4"
        raw = raw_frames(spec, folder)
        ours_runs: list[Cost] = []
        floor_runs: list[Cost] = []
        for _ in range(max(1, args.repeat)):  # interleaved, so a busy spell hits both alike
            ours_runs.append(time_segment(spec, out))
            floor_runs.append(time_floor(raw, spec, folder))
        raw.unlink()
        ours = Cost(min(c.wall for c in ours_runs), min(c.cpu for c in ours_runs))
        floor = Cost(min(c.wall for c in floor_runs), min(c.cpu for c in floor_runs))
        print(f"{args.style} {w}x{h} {args.fps} fps {args.seconds:g} s ({spec.frames} frames), "
              f"best of {args.repeat}; wall s / cpu s")
        print(f"  segment  {ours.wall:7.2f} / {ours.cpu:7.2f}")
        print(f"  floor    {floor.wall:7.2f} / {floor.cpu:7.2f}   segment/floor = {ours.wall / floor.wall:.2f} wall, "
              f"{ours.cpu / floor.cpu:.2f} cpu  (target <= 1.5)")
        if not args.no_moviepy:
            mp = time_moviepy(spec, folder)
            print(f"  moviepy  {mp.wall:7.2f} / {mp.cpu:7.2f}   moviepy/segment = {mp.wall / ours.wall:.2f} wall, "
                  f"{mp.cpu / ours.cpu:.2f} cpu  (target >= 3)")


if __name__ == "__main__":
    main()
