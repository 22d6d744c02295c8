"""Measure what a viewer reads: reading speed, breaks, short cues, capital names, karaoke frames.

    PYTHONPATH=src python bench/subtitles.py OUT_DIR

Renders with the CLI only and reads back the files a user gets (SRT, MP4, manifest), with its own
rules, so that it measures any version of FilmStudio the same way (run it with another checkout's
`src` first on PYTHONPATH for a "before"). Prints one JSON object.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "data" / "samples"
# A line or cue that ends on one of these leaves its phrase hanging (article, possessive, preposition...).
HANGING = set(
    ["a", "an", "the", "my", "your", "his", "her", "its", "our", "their", "this", "these", "those", "of", "to", "in", "on", "at", "by", "for", "from", "with", "into", "onto", "and", "or", "but", "nor", "that", "what"]
)
LIT = np.array([255, 214, 10])


def render(script: Path, out: Path, *args: str) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "filmstudio", "render", str(script), "-o", str(out), "-q",
           "--music", "none", "--cache-dir", str(out.parent / "cache"), *args]
    subprocess.run(cmd, check=True, capture_output=True)
    result: dict[str, Any] = json.loads(out.with_suffix(".manifest.json").read_text(encoding="utf-8"))
    return result


def srt_cues(path: Path) -> list[tuple[float, float, str]]:
    cues = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8-sig").strip()):
        lines = block.split("\n")
        m = re.match(r"(\d+):(\d+):(\d+),(\d+) --> (\d+):(\d+):(\d+),(\d+)", lines[1])
        assert m, block
        g = [int(x) for x in m.groups()]
        cues.append((g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000, g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000,
                     "\n".join(lines[2:])))
    return cues


def cue_stats(cues: list[tuple[float, float, str]], names: list[str]) -> dict[str, Any]:
    cps = [len(t.replace("\n", "")) / (b - a) for a, b, t in cues]
    breaks = []
    for n, (_, _, text) in enumerate(cues):
        rows = text.split("\n")
        ends = rows[:-1] + ([rows[-1]] if n + 1 < len(cues) and not re.search(r"[.!?…\"”]$", rows[-1]) else [])
        breaks += [r for r in ends if r.split() and r.split()[-1].lower().strip(",;:") in HANGING]
    capital = [t for _, _, t in cues
               if any(re.search(rf"(?<![\w']){re.escape(nm)}(?![\w])", t) for nm in names)]
    shortest = sorted(cues, key=lambda c: c[1] - c[0])[:3]
    return {
        "cues": len(cues), "cps_median": round(statistics.median(cps), 1), "cps_max": round(max(cps), 1),
        "share_over_17": round(sum(c > 17 + 1e-6 for c in cps) / len(cps), 3),
        "under_5_6_s": sum(b - a < 5 / 6 - 1e-3 for a, b, _ in cues),
        "shortest": [(round(b - a, 3), t.replace("\n", " / ")) for a, b, t in shortest],
        "hanging_breaks": len(breaks), "hanging_examples": breaks[:6],
        "capital_names": len(capital), "capital_examples": [t.replace("\n", " / ") for t in capital[:5]],
    }


def karaoke_frames(film: Path, manifest: dict[str, Any], size: tuple[int, int], fps: int) -> dict[str, Any]:
    """Every frame while a line is spoken: is the caption there, and at full strength?"""
    w, h = size
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(film), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)
    spans = [(ln["start"], ln["end"]) for s in manifest["scenes"] if s["kind"] == "scene"
             for ln in s["lines"] if ln["spoken"]]
    speech = [k for k in range(len(frames)) if any(a <= (k + 0.5) / fps < b for a, b in spans)]
    absent = full = 0
    for k in speech:
        band = frames[k, int(h * 0.5): int(h * 0.92)].astype(np.int16)
        lit = np.abs(band - LIT).max(axis=2) < 60  # the lit colour at (near) full strength
        glow = (band[..., 0] > 90) & (band[..., 2] < 0.5 * band[..., 1])  # any yellow, faded or not
        white = band.min(axis=2) > 200
        if not glow.any() and white.sum() < 4:
            absent += 1
        if lit.sum() >= 6:
            full += 1
    n = max(1, len(speech))
    # (How many words are lit is counted inside the box by tests/integration/test_subtitles.py.)
    return {"speech_frames": len(speech), "absent_share": round(absent / n, 3), "full_share": round(full / n, 3)}


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    from filmstudio.domain.settings import RenderSettings
    from filmstudio.pipeline.script.analysis import analyse

    report: dict[str, Any] = {}
    for name, script, args in (
        ("solar-sails-60s", SAMPLES / "solar-sails.txt", ("--duration", "60", "--size", "320x180", "--fps", "12")),
        ("night-market", SAMPLES / "night-market.fountain", ("--size", "320x180", "--fps", "12")),
    ):
        manifest = render(script, out / f"{name}.mp4", *args)
        names = [c for c in analyse(script.read_text(encoding="utf-8"), RenderSettings()).characters if c.isupper()]
        report[name] = cue_stats(srt_cues(Path(manifest["outputs"]["subtitles"]["en"]["srt"])), names)
        report[name]["manifest_subtitles"] = manifest.get("subtitles")
    short = out / "karaoke.mp4"
    manifest = render(SAMPLES / "solar-sails.txt", short, "--duration", "60", "--size", "180x320", "--fps", "12",
                      "--captions", "karaoke", "--style", "minimal")
    report["karaoke"] = karaoke_frames(short, manifest, (180, 320), 12)
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", str(short)],
                                      capture_output=True, text=True, check=True).stdout)
    report["karaoke"]["default_soft_tracks"] = sum(s["disposition"].get("default", 0) for s in probe["streams"]
                                                   if s["codec_type"] == "subtitle")
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
