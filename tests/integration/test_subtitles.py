"""Subtitles and karaoke captions on real renders: read back from the film, the SRT and the decoded frames."""

from __future__ import annotations

import itertools
import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from filmstudio.domain.settings import parse_settings
from filmstudio.pipeline.media.captions import GAP_FRAMES, MAX_CUE_SECONDS, parse_srt
from filmstudio.pipeline.script.analysis import analyse
from media_checks import ffprobe
from studio_engines import render_film

pytestmark = pytest.mark.slow

W, H, FPS = 180, 320, 12


def frames(path: Path) -> Any:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3).astype(np.int16)


def lit_words(band: Any) -> int:
    """How many words inside the caption box show the lit colour: the box's ink is cut into words at
    the wide gaps between them, and a word is lit when most of its ink is saturated yellow."""
    dark = band.max(axis=2) < 40
    rows = np.flatnonzero(dark.sum(axis=1) >= max(12, 0.5 * dark.sum(axis=1).max()))
    if not len(rows):
        return 0
    box = band[rows[0]: rows[-1] + 1]
    cols = np.flatnonzero(dark[rows[0]: rows[-1] + 1].sum(axis=0) >= 0.5 * len(rows))
    box = box[:, cols[0]: cols[-1] + 1]
    r, g, b = box[..., 0], box[..., 1], box[..., 2]
    ink = box.max(axis=2) > 110
    yellow = ink & (g - b > 70) & (r - b > 70)
    at = np.flatnonzero(ink.any(axis=0))
    if not len(at):
        return 0
    words = np.split(at, np.flatnonzero(np.diff(at) > 4) + 1)
    words = [w for w in words if ink[:, w].sum() >= 12]  # a full stop is not a word
    return sum(int(yellow[:, w].sum() >= 0.5 * ink[:, w].sum()) for w in words)


def box_rows(band: Any) -> int:
    """How many rows of the caption band are the box: mostly near black, as wide as the box is."""
    dark = (band.max(axis=2) < 40).sum(axis=1)
    return int((dark >= max(12, 0.5 * dark.max())).sum())


def test_karaoke_box_is_opaque_in_every_spoken_frame_with_exactly_one_word_lit(tmp_path: Path) -> None:
    script = ("EXT. BEACH - DAY\n\nMARA\nWe climb to the roof and count the stars until the morning comes.\n\n"
              "TOMAS\nIn 2010 a Japanese probe called IKAROS unfurled the first sail in deep space.\n")
    settings: Any = parse_settings({"duration": 12, "resolution": f"{W}x{H}", "fps": FPS, "music_genre": "none",
                                    "captions": "karaoke", "style": "cinematic", "subtitle_languages": ["en"]})
    out = tmp_path / "short.mp4"
    manifest = render_film(script, settings, out, work_dir=tmp_path / "work", cache_dir=tmp_path / "cache")
    assert manifest["subtitles"]["en"]["max_cps"] == 20  # a vertical short reads at 20 characters a second
    spans = [(ln["start"], ln["end"]) for s in manifest["scenes"] if s["kind"] == "scene" for ln in s["lines"]
             if ln["spoken"]]
    assert len(spans) == 2
    video = frames(out)
    spoken = [k for k in range(len(video)) if any(a <= (k + 0.5) / FPS < b for a, b in spans)]
    assert len(spoken) > 5 * FPS
    band = video[:, int(H * 0.66): int(H * 0.78)]  # where the karaoke box sits (centred at 0.72 h)
    # The box: rows of near-black pixels across most of the caption (the day backdrop is far brighter,
    # so a box faded or drawn half-transparent over it is not near black).
    heights = [box_rows(band[k]) for k in range(len(video))]
    full = max(heights[k] for k in spoken)
    assert full >= 15, full
    # A fading or half-transparent box over the bright sky is not near black: it loses its rows.
    thin = [(k, heights[k]) for k in spoken if heights[k] < 0.7 * full]
    assert not thin, f"caption box not fully opaque in {len(thin)} of {len(spoken)} spoken frames: {thin[:10]}"
    many = [(k, n) for k in spoken if (n := lit_words(band[k])) != 1]
    assert not many, f"not exactly one lit word in {len(many)} of {len(spoken)} spoken frames: {many[:10]}"
    # Before the first line and after the last: no word lit.
    assert all(lit_words(band[k]) == 0 for k in range(len(video))
               if (k + 0.5) / FPS < spans[0][0] - 0.2 or (k + 0.5) / FPS > spans[-1][1] + 0.5)
    # The soft track is offered, never shown by default over the burned captions.
    subs = [s for s in ffprobe(out)["streams"] if s["codec_type"] == "subtitle"]
    assert len(subs) == 1 and subs[0]["disposition"]["default"] == 0


def test_night_market_subtitles_read_as_a_subtitler_writes_them(tmp_path: Path, samples: Path) -> None:
    text = (samples / "night-market.fountain").read_text(encoding="utf-8")
    settings: Any = parse_settings({"duration": 60, "resolution": "320x180", "fps": FPS, "music_genre": "none"})
    out = tmp_path / "night.mp4"
    manifest = render_film(text, settings, out, work_dir=tmp_path / "work", cache_dir=tmp_path / "cache")
    cues = parse_srt(Path(manifest["outputs"]["subtitles"]["en"]["srt"]))
    names = [c for c in analyse(text, settings).characters if c.isupper()]
    body = "\n".join(c.text for c in cues)
    assert not [n for n in names if re.search(rf"(?<![\w']){re.escape(n)}(?![\w])", body)], body
    assert "Lena pushes" in body and "Old Vendor, wiry" in body and "Kai feeds" in body
    for a, b in itertools.pairwise(cues):
        assert b.start - a.end >= GAP_FRAMES / FPS - 1e-3  # two frames apart
    for c in cues:
        rows = c.text.split("\n")
        assert len(rows) <= 2 and all(len(r) <= 42 for r in rows)
        assert 5 / 6 - 1e-3 <= c.end - c.start <= MAX_CUE_SECONDS + 1e-3, c
    report = manifest["subtitles"]["en"]
    assert report["max_cps"] == 17  # a landscape film: the adult reading speed
    assert report["cues"] == len(cues) and report["under_minimum"] == 0 and report["split_phrases"] == 0
    assert report["readable"] == (report["unmet"]["count"] == 0)
    chapters = [c["tags"]["title"] for c in ffprobe(out)["chapters"]]
    assert not [n for n in names if any(re.search(rf"\b{re.escape(n)}\b", t) for t in chapters)]
