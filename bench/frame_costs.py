"""Where a segment's CPU goes (not a test): each layer or filter of the graph left out in turn.

    PYTHONPATH=src .venv/bin/python bench/frame_costs.py                  # the bench film's 1080p30 specs
    PYTHONPATH=src .venv/bin/python bench/frame_costs.py --pick 0,2,3,12,13 --size 1920x1080

It builds the segment specs of `bench/render.py`'s film (the sample screenplay, 60 s), paints
their layers (Python CPU of `_layout`, once) and runs each segment's ffmpeg graph alone, one at a
time, twice per variant: into `-f null` (the composition's own CPU) and through libx264 with the
render's settings (composition + encode). A cause's share is the full graph's CPU minus the
graph without it. CPU seconds are the ffmpeg child's rusage (steadier than wall on a shared machine).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filmstudio.domain.settings import parse_settings
from filmstudio.pipeline.media.ffmpeg import ffmpeg_exe, h264_args
from filmstudio.pipeline.providers import visuals as V

sys.path.insert(0, str(Path(__file__).resolve().parent))
import render as bench_render  # the bench film: its script and plan

Variant = Callable[[Any], Any]


def _no_grain(lay: Any) -> Any:
    return dataclasses.replace(lay, style=dataclasses.replace(lay.style, grain=0))


def _no_pan(lay: Any) -> Any:
    x0, y0, _, _ = lay.pan
    return dataclasses.replace(lay, pan=(x0, y0, x0, y0))


VARIANTS: dict[str, Variant] = {
    "full": lambda lay: lay,
    "no grain": _no_grain,
    "no frame layer": lambda lay: dataclasses.replace(lay, frame=None),
    "no foreground": lambda lay: dataclasses.replace(lay, foreground=None),
    "no pan": _no_pan,
    "no texts": lambda lay: dataclasses.replace(lay, texts=()),
    "no light": lambda lay: lay,  # the orbit layer is filtered out of `_layers` below
}


def _cpu_of(args: list[str]) -> float:
    proc = subprocess.Popen([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args])
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"ffmpeg failed: {args[-1]}")
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--pick", default="", help="segment indices, comma-separated (default: all)")
    args = ap.parse_args()
    settings = parse_settings({"duration": 60, "resolution": args.size, "fps": 30, "music_genre": "epic",
                               "subtitle_languages": ["en"]})
    tmp = Path(tempfile.mkdtemp(prefix="frame-costs-"))
    specs = bench_render._plan_for(bench_render.SAMPLE.read_text(encoding="utf-8"), settings,
                                   tmp / "cache", tmp).segment_specs
    pick = [int(x) for x in args.pick.split(",")] if args.pick else list(range(len(specs)))
    t0 = time.process_time()
    lays = [V._layout(specs[i]) for i in pick]
    print(f"{sum(specs[i].frames for i in pick)} frames in {len(pick)} segments; layout Python "
          f"{time.process_time() - t0:.2f} CPU-s; load {os.getloadavg()[0]:.2f}")
    layers = V._layers
    for name, variant in VARIANTS.items():
        cpu = {"null": 0.0, "x264": 0.0}
        for n, lay0 in zip(pick, lays, strict=True):
            lay = variant(lay0)
            if name == "no light":
                V._layers = lambda la: [x for x in layers(la) if not isinstance(x, V._OrbitLayer)]  # type: ignore[assignment]
            folder = tmp / str(n)
            folder.mkdir(exist_ok=True)
            try:
                inputs, graph = V._filter_graph(lay, V._write_layers(lay, folder), folder)
            finally:
                V._layers = layers
            spec = lay.spec
            base = [*inputs, "-filter_complex", graph, "-map", "[v]", "-an", "-frames:v", str(spec.frames)]
            cpu["null"] += _cpu_of([*base, "-f", "null", "-"])
            cpu["x264"] += _cpu_of([*base, *h264_args("libx264", spec.fps), "-r", str(spec.fps), "-f", "mp4",
                                    str(tmp / f"{n}.mp4")])
        print(f"{name:15s} graph alone {cpu['null']:6.2f} CPU-s | graph + x264 {cpu['x264']:6.2f} CPU-s"
              f" | load {os.getloadavg()[0]:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
