"""Moving shots benchmark (not a test): our Motion engine vs the same diffusers pipeline called directly,
and the rendering stage of a film with half its shots moving vs the ffmpeg floor. CPU, tiny models.

    .venv/bin/python bench/motion.py                          # 60 s 1080p30, half the shots moving
    .venv/bin/python bench/motion.py --duration 50 --size 640x360    # a quick look (the sample needs 47 s)

1. Per-clip overhead: the tiny Wan image-to-video pipeline (built from config, tests/tiny_video.py)
   animating stills through `DiffusersMotion.animate` (cache check, the still loaded and fitted,
   the prompt encoded, progress and cancel per step, the frames encoded to an H.264 file written
   atomically) vs a plain loop calling the same loaded pipeline with the same embeddings and piping
   its frames to the same ffmpeg encode. Both with the pipeline loaded beforehand; best of rounds.
2. The rendering stage of a film whose shots are generated stills, every other one moving (its
   clip graded, cover-fitted and held past its end under the camera's move), vs the floor
   (bench/render.py's: the same encoder on the very frames our segment graphs composed, written raw
   first, untimed). The old floor (our film decoded and encoded again: cheaper, x264 flattened part
   of the grain) is printed beside it.
3. Peak RSS of this process (VmHWM) and of the render's largest child (ffmpeg; its VmHWM sampled while
   it runs: the children's ru_maxrss carries this process's size over fork).
A GPU's seconds per clip and VRAM at the catalogue model's full size: bench/motion_gpu.py.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent / "tests")]

from filmstudio.app.compose import build_engines  # noqa: E402
from filmstudio.domain.settings import parse_settings  # noqa: E402
from filmstudio.pipeline.context import CancelToken  # noqa: E402
from filmstudio.pipeline.engines import ClipRequest, Engines  # noqa: E402
from filmstudio.pipeline.media.ffmpeg import ffmpeg_exe  # noqa: E402
from filmstudio.pipeline.providers.motion import CLIP_CRF, DiffusersMotion, ModelShape, wan_embeds  # noqa: E402
from filmstudio.pipeline.providers.pictures import DiffusersPictures  # noqa: E402
from filmstudio.pipeline.request import RenderRequest  # noqa: E402
from filmstudio.pipeline.runner import render  # noqa: E402
from filmstudio.pipeline.script.analysis import analyse  # noqa: E402
from filmstudio.pipeline.storyboard import StoryboardEdits, build_storyboard, set_motion  # noqa: E402
from render import SAMPLE, composed_frames, floor_encode, peak_rss_mb  # noqa: E402
from tiny_sd import build_tiny_sd  # noqa: E402
from tiny_video import build_tiny_wan  # noqa: E402

TINY = ModelShape(max_frames=13, fps=8, native_side=48, frames_step=4, steps=2, guidance=1.0)


def _still(path: Path, size: tuple[int, int], n: int) -> Path:
    from PIL import Image

    Image.new("RGB", size, (40 + 20 * n % 200, 90, 160)).save(path)
    return path


def overhead(model: Path, tmp: Path, clips: int, size: tuple[int, int], frames: int, rounds: int) -> dict[str, Any]:
    import numpy as np
    import torch
    from PIL import Image

    engine = DiffusersMotion(model, model_id="tiny-wan", steps=TINY.steps, idle_seconds=0, device="cpu")
    engine.shape = TINY
    pipe = engine.pipeline()  # loaded once, for both
    w, h = size
    stills = [_still(tmp / f"still-{n}.png", size, n) for n in range(clips)]
    def direct(n: int, still: Path, out: Path) -> None:
        positive, negative, length = wan_embeds(pipe, [f"shot {n}", "blurry"])
        with torch.inference_mode():
            video = pipe(image=Image.open(still).convert("RGB"), prompt_embeds=positive,
                         negative_prompt_embeds=negative, max_sequence_length=length, height=h, width=w,
                         num_frames=frames, num_inference_steps=TINY.steps, guidance_scale=TINY.guidance,
                         generator=torch.Generator("cpu").manual_seed(n), output_type="np").frames[0]
        raw = (np.clip(video, 0, 1) * 255 + 0.5).astype(np.uint8)
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
                        "-framerate", str(TINY.fps), "-i", "-", "-c:v", "libx264", "-preset", "veryfast",
                        "-crf", str(CLIP_CRF), "-pix_fmt", "yuv420p", str(out)],
                       input=raw.tobytes(), check=True)

    def ours(n: int, still: Path, out: Path) -> None:
        engine.animate(ClipRequest(still=still, prompt=f"shot {n}", negative_prompt="blurry", seed=n,
                                   frames=frames, fps=TINY.fps, width=w, height=h, out=out, steps=TINY.steps),
                       cancel=CancelToken())

    # Interleaved clip by clip, the order swapped every round, so a change in the shared machine's
    # load falls on both alike. CPU: this process's threads plus its ffmpeg children.
    direct(0, stills[0], tmp / "warm-direct.mp4")  # untimed: the first call of a loaded pipeline warms it
    ours(0, stills[0], tmp / "warm-ours.mp4")
    wall = {"direct": 0.0, "ours": 0.0}
    cpu = {"direct": 0.0, "ours": 0.0}
    for r in range(rounds):
        for n, still in enumerate(stills):
            for name, fn in sorted((("direct", direct), ("ours", ours)), reverse=(r + n) % 2 == 1):
                c0, t0 = _cpu_seconds(), time.perf_counter()
                fn(n, still, tmp / f"{name}-{r}-{n}.mp4")
                wall[name] += time.perf_counter() - t0
                cpu[name] += _cpu_seconds() - c0
    made = rounds * clips
    return {"clips": clips, "rounds": rounds, "clip_size": f"{w}x{h}", "frames": frames, "steps": TINY.steps,
            "direct_s_per_clip": round(wall["direct"] / made, 4), "ours_s_per_clip": round(wall["ours"] / made, 4),
            "direct_cpu_s_per_clip": round(cpu["direct"] / made, 4), "ours_cpu_s_per_clip": round(cpu["ours"] / made, 4),
            "overhead": round(wall["ours"] / wall["direct"] - 1, 3),
            "overhead_cpu": round(cpu["ours"] / cpu["direct"] - 1, 3)}


def _cpu_seconds() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class ChildPeak:
    """The largest peak RSS (VmHWM) of any child process while it runs, sampled every 50 ms: the
    children's ru_maxrss carries the parent's size over fork, so it is only an upper bound."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ChildPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            for children in Path("/proc/self/task").glob("*/children"):
                try:
                    pids = children.read_text().split()
                except OSError:
                    continue
                for pid in pids:
                    try:
                        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                            if line.startswith("VmHWM:"):
                                self.peak_kb = max(self.peak_kb, int(line.split()[1]))
                    except (OSError, ValueError):
                        pass


def film(sd: Path, wan: Path, tmp: Path, duration: int, size: str, fps: int) -> dict[str, Any]:
    base = build_engines()
    pictures = DiffusersPictures(sd, model_id="tiny-sd", steps=2, device="cpu")
    motion = DiffusersMotion(wan, model_id="tiny-wan", steps=TINY.steps, device="cpu")
    motion.shape = TINY
    engines = Engines(voices=base.voices, music=base.music, translator=base.translator, encoder=base.encoder,
                      pictures=pictures, motion=motion)
    settings = parse_settings({"duration": duration, "resolution": size, "fps": fps, "music_genre": "epic",
                               "subtitle_languages": ["en"], "motion": "all"})
    text = SAMPLE.read_text(encoding="utf-8")
    board = build_storyboard(analyse(text, settings), settings, text=text)
    edits = StoryboardEdits()
    for shot in board.shots[1::2]:  # every other shot stays a still: half the film moves
        edits = set_motion(edits, shot.number, False)
    edits_file = tmp / "storyboard.json"
    edits_file.write_text(json.dumps(edits.as_dict()), encoding="utf-8")
    out = tmp / "moving.mp4"
    load_before = os.getloadavg()[0]
    c0 = _cpu_seconds()
    t0 = time.perf_counter()
    with ChildPeak() as children:
        manifest = render(RenderRequest(text, settings, out, work_dir=tmp / "work", cache_dir=tmp / "cache",
                                        storyboard=edits_file), engines)
    total = time.perf_counter() - t0
    render_cpu = _cpu_seconds() - c0
    load_after = os.getloadavg()[0]
    frames = sum(round((s["end"] - s["start"]) * fps) for s in manifest["scenes"])
    # The floor, as bench/render.py's: the same encoder on the very frames our segment graphs composed
    # (written raw first, untimed, from the same plan: its stills and clips come from the cache).
    raw, composed = composed_frames(text, settings, tmp / "cache", tmp, engines=engines, storyboard=edits_file)
    assert composed == frames, (composed, frames)
    floor, floor_cpu = floor_encode(raw, settings.size, fps, frames, tmp, raw=True)
    raw.unlink()
    # The old floor, for comparison with earlier numbers: our film decoded and encoded again.
    old_floor, old_floor_cpu = floor_encode(out, settings.size, fps, frames, tmp)
    rendering = manifest["stage_seconds"]["rendering"]
    shots = sum(1 for s in manifest["sets"] if s["kind"] == "scene")
    return {"duration": duration, "size": size, "fps": fps, "shots": shots, "moving": len(manifest["shot_clips"]),
            "clips_made": manifest["clips_made"], "clips_seconds": manifest["clips_seconds"], "frames": frames,
            "render_s": round(total, 2), "stage_seconds": manifest["stage_seconds"],
            "rendering_s": round(rendering, 2), "floor_s": round(floor, 2),
            "rendering_vs_floor": round(rendering / floor, 2),
            "old_floor_s": round(old_floor, 2), "rendering_vs_old_floor": round(rendering / old_floor, 2),
            "old_floor_cpu_s": round(old_floor_cpu, 2),
            # CPU seconds of the whole render (every stage, this process and its children) vs the floor's encoder
            "render_cpu_s": round(render_cpu, 2), "floor_cpu_s": round(floor_cpu, 2),
            "render_largest_child_mb": round(children.peak_kb / 1024),
            "load_1min": [round(load_before, 2), round(load_after, 2), round(os.getloadavg()[0], 2)],
            "warnings": manifest["warnings"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--clips", type=int, default=4)
    ap.add_argument("--clip-size", default="96x64")
    ap.add_argument("--frames", type=int, default=13)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--skip-film", action="store_true")
    ap.add_argument("--skip-overhead", action="store_true")
    ap.add_argument("--json", help="write the numbers to this file too")
    ap.add_argument("--keep", help="copy the film (and its manifest) into this folder, to look at")
    args = ap.parse_args()
    cw, ch = (int(x) for x in args.clip_size.split("x"))
    with tempfile.TemporaryDirectory(prefix="filmstudio-bench-motion-") as name:
        tmp = Path(name)
        wan = build_tiny_wan(tmp / "tiny-wan")
        results: dict[str, Any] = {}
        if not args.skip_overhead:
            results["overhead"] = overhead(wan, tmp, args.clips, (cw, ch), args.frames, args.rounds)
            print(json.dumps({"overhead": results["overhead"]}), flush=True)
        if not args.skip_film:
            results["film"] = film(build_tiny_sd(tmp / "tiny-sd"), wan, tmp, args.duration, args.size, args.fps)
            if args.keep:
                Path(args.keep).mkdir(parents=True, exist_ok=True)
                for made in tmp.glob("moving.*"):
                    shutil.copy2(made, Path(args.keep) / made.name)
    own, child = peak_rss_mb()
    results["peak_rss_mb"] = {"self": round(own), "children_upper_bound": round(child)}
    if "film" in results:
        results["peak_rss_mb"]["largest_child"] = results["film"]["render_largest_child_mb"]
    print(json.dumps(results, indent=2))
    line = ""
    if "overhead" in results:
        o = results["overhead"]
        line += (f"\nper clip: ours {o['ours_s_per_clip']} s vs direct {o['direct_s_per_clip']} s wall "
                 f"({o['overhead']:+.1%}), {o['ours_cpu_s_per_clip']} vs {o['direct_cpu_s_per_clip']} CPU s "
                 f"({o['overhead_cpu']:+.1%})")
    if "film" in results:
        f = results["film"]
        line += (f" | {f['moving']} of {f['shots']} shots moving: rendering {f['rendering_s']} s vs floor "
                 f"{f['floor_s']} s = {f['rendering_vs_floor']}x (old re-encode floor {f['old_floor_s']} s: "
                 f"{f['rendering_vs_old_floor']}x)")
    print(line + f" | peak RSS {results['peak_rss_mb']['self']} MB "
          f"(largest child of the render {results['peak_rss_mb'].get('largest_child', '-')} MB)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
