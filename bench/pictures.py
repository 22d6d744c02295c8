"""AI pictures benchmark (not a test): our Pictures engine vs diffusers called directly, and the
rendering stage of a film made of stills with motion vs the ffmpeg floor.

    .venv/bin/python bench/pictures.py                      # 60 s 1080p30, tiny SD on CPU
    .venv/bin/python bench/pictures.py --duration 20 --size 640x360   # a quick look

1. Per-shot overhead: the tiny Stable Diffusion (built from config, tests/tiny_sd.py) generating
   the storyboard's stills of the sample screenplay, through `DiffusersPictures.stills` (cache
   keys, batching, fitting, atomic PNG writes) vs a plain loop calling the same loaded pipeline
   and saving each image. Both with the pipeline loaded beforehand.
2. The rendering stage of a film whose every shot is a generated still with Ken Burns motion,
   vs the floor (bench/render.py `floor_encode`: the same encoder on the same number of raw frames).
3. Peak RSS of this process (VmHWM) and of its largest child (ffmpeg).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent / "tests")]

from filmstudio.app.compose import build_engines  # noqa: E402
from filmstudio.domain.settings import parse_settings  # noqa: E402
from filmstudio.pipeline.context import CancelToken  # noqa: E402
from filmstudio.pipeline.engines import Engines, StillRequest  # noqa: E402
from filmstudio.pipeline.providers.pictures import DiffusersPictures, native_size  # noqa: E402
from filmstudio.pipeline.request import RenderRequest  # noqa: E402
from filmstudio.pipeline.runner import render  # noqa: E402
from filmstudio.pipeline.script.analysis import analyse  # noqa: E402
from filmstudio.pipeline.storyboard import build_storyboard  # noqa: E402
from render import SAMPLE, floor_encode, peak_rss_mb  # noqa: E402
from tiny_sd import build_tiny_sd  # noqa: E402


def overhead(model: Path, tmp: Path, shots: int, steps: int, rounds: int) -> dict[str, Any]:
    import torch

    text = SAMPLE.read_text(encoding="utf-8")
    settings = parse_settings({})
    board = build_storyboard(analyse(text, settings), settings, text=text)
    prompts = [(s.prompt, s.negative_prompt, s.seed) for s in board.shots][:shots]
    while len(prompts) < shots:
        prompts += prompts[: shots - len(prompts)]
    engine = DiffusersPictures(model, model_id="tiny-sd", steps=steps, batch=1, idle_seconds=0, device="cpu")
    w, h = native_size(16 / 9, engine.native_side())
    pipe = engine.pipeline()  # loaded once, for both
    best_direct, best_ours = float("inf"), float("inf")
    for r in range(rounds):
        t0 = time.perf_counter()
        for n, (p, neg, seed) in enumerate(prompts):
            img = pipe(prompt=p, negative_prompt=neg, width=w, height=h, num_inference_steps=steps,
                       generator=torch.Generator("cpu").manual_seed(seed), output_type="pil").images[0]
            img.save(tmp / f"direct-{r}-{n}.png")
        best_direct = min(best_direct, time.perf_counter() - t0)
        reqs = [StillRequest(p, neg, w, h, seed, tmp / f"ours-{r}" / f"{n}.png", steps)
                for n, (p, neg, seed) in enumerate(prompts)]
        t0 = time.perf_counter()
        engine.stills(reqs, cancel=CancelToken())
        best_ours = min(best_ours, time.perf_counter() - t0)
    return {"shots": shots, "still_size": f"{w}x{h}", "steps": steps,
            "direct_s_per_shot": round(best_direct / shots, 4), "ours_s_per_shot": round(best_ours / shots, 4),
            "overhead": round(best_ours / best_direct - 1, 3)}


def film(model: Path, tmp: Path, duration: int, size: str, fps: int) -> dict[str, Any]:
    base = build_engines()
    pictures = DiffusersPictures(model, model_id="tiny-sd", steps=2, device="cpu")
    engines = Engines(voices=base.voices, music=base.music, translator=base.translator, encoder=base.encoder,
                      pictures=pictures)
    settings = parse_settings({"duration": duration, "resolution": size, "fps": fps, "music_genre": "epic",
                               "subtitle_languages": ["en"]})
    out = tmp / "stills.mp4"
    t0 = time.perf_counter()
    manifest = render(RenderRequest(SAMPLE.read_text(encoding="utf-8"), settings, out, work_dir=tmp / "work",
                                    cache_dir=tmp / "cache"), engines)
    total = time.perf_counter() - t0
    frames = sum(round((s["end"] - s["start"]) * fps) for s in manifest["scenes"])
    floor = floor_encode(out, settings.size, fps, frames, tmp)
    rendering = manifest["stage_seconds"]["rendering"]
    stills = len(list((tmp / "cache" / "stills").glob("*.png")))
    return {"duration": duration, "size": size, "fps": fps, "stills": stills, "frames": frames,
            "render_s": round(total, 2), "stage_seconds": manifest["stage_seconds"],
            "rendering_s": round(rendering, 2), "floor_s": round(floor, 2),
            "rendering_vs_floor": round(rendering / floor, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--shots", type=int, default=12)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", help="write the numbers to this file too")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="filmstudio-bench-pictures-") as name:
        tmp = Path(name)
        model = build_tiny_sd(tmp / "tiny-sd")
        results = {"overhead": overhead(model, tmp, args.shots, args.steps, args.rounds),
                   "film": film(model, tmp, args.duration, args.size, args.fps)}
    own, child = peak_rss_mb()
    results["peak_rss_mb"] = {"self": round(own), "largest_child": round(child)}
    print(json.dumps(results, indent=2))
    o, f = results["overhead"], results["film"]
    print(f"\nper shot: ours {o['ours_s_per_shot']} s vs direct {o['direct_s_per_shot']} s ({o['overhead']:+.1%})"
          f" | rendering {f['rendering_s']} s vs floor {f['floor_s']} s = {f['rendering_vs_floor']}x"
          f" | peak RSS {results['peak_rss_mb']['self']} MB (largest child {results['peak_rss_mb']['largest_child']} MB)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
