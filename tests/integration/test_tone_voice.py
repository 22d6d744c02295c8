"""A second voice engine added the way the next one will be: its module (tests/tone_voices.py), one
catalogue entry (pulled for real from a fake hub) and one line in the composition root's
`VOICE_ENGINES` (here passed to `build_engines`, as the engine is a test's). A real render then
casts it beside Piper, speaks with it, and times subtitles by its words."""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from fakehub import FakeHub, model_toml
from filmstudio.app.compose import VOICE_ENGINES, build_engines
from filmstudio.domain.settings import parse_settings
from filmstudio.pipeline.media.captions import MAX_LAG, parse_srt
from filmstudio.pipeline.media.ffmpeg import ffmpeg_exe
from filmstudio.pipeline.models.catalogue import load_catalogue
from filmstudio.pipeline.models.download import pull
from filmstudio.pipeline.models.library import ModelLibrary
from studio_engines import render_film
from tone_voices import tone_voices

TONES = {"voices": [{"id": "tone-low", "name": "Low tone", "gender": "male", "hz": 220.0},
                    {"id": "tone-high", "name": "High tone", "gender": "female", "hz": 660.0}]}
LINE = ("The keeper climbs the long iron stairs every single night, and tonight, for the first time "
        "in forty years, the great lamp at the top will not light.")


def _audio(film: Path, start: float, end: float, rate: int = 48000) -> np.ndarray:
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-ss", f"{start:.3f}", "-t", f"{end - start:.3f}", "-i",
                          str(film), "-map", "0:a", "-ac", "1", "-ar", str(rate), "-f", "f32le", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.float32)


def test_a_second_voice_engine_speaks_in_a_real_render(tmp_path: Path) -> None:
    files = {"tones.json": json.dumps(TONES).encode()}
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text(model_toml("tone-voices", "test/tone-voices", files).replace('engine = "piper"',
                                                                                      'engine = "tone"'),
                         encoding="utf-8")
    with FakeHub(repos={"test/tone-voices": files}) as hub:
        pull(load_catalogue(catalogue).get("tone-voices"), ModelLibrary(tmp_path / "models"), endpoint=hub.endpoint)
    engines = build_engines(jobs=2, models_dir=tmp_path / "models", voice_engines={**VOICE_ENGINES, "tone": tone_voices})
    assert {v.engine for v in engines.voices.voices("en")} >= {"espeak", "piper", "tone"}

    script = f"INT. LIGHTHOUSE - NIGHT\n\nThe lamp is dark.\n\nMARA\n{LINE}\n"
    settings: Any = parse_settings({"duration": 20, "resolution": "320x180", "fps": 12, "music_genre": "none",
                                    "subtitle_languages": ["en"]})
    film = tmp_path / "out" / "f.mp4"
    manifest = render_film(script, settings, film, work_dir=tmp_path / "work", cache_dir=tmp_path / "cache",
                           engines=engines)
    cast = manifest["casting"]
    assert cast["NARRATOR"]["engine"] == "piper" and cast["MARA"]["engine"] == "tone"
    assert cast["MARA"]["voice"] == "tone-high"  # casting gave the woman the engine's female voice

    # What the film says in Mara's line is the tone voice's tone, at her cast pitch.
    line = next(e for s in manifest["scenes"] if s["kind"] == "scene" for e in s["lines"] if e["speaker"] == "MARA")
    x = _audio(film, line["start"], line["end"])
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    peak = float(np.fft.rfftfreq(len(x), 1 / 48000)[np.argmax(spectrum)])
    want = 660.0 * 2.0 ** ((cast["MARA"]["pitch"] - 50) / 4 / 12.0)
    assert abs(peak - want) < 3.0, (peak, want)

    # Its word timings reach the subtitles through the plan: each later cue of the split line starts with
    # its first word's tone (the subtitle rules may hold it back up to MAX_LAG to leave the cue before up).
    cues = parse_srt(Path(manifest["outputs"]["subtitles"]["en"]["srt"]))
    mara = [c for c in cues if c.start >= line["start"] - 0.01]
    assert len(mara) >= 2
    slot = 60.0 / (manifest["words_per_minute"] * cast["MARA"]["rate_factor"])
    k = 0
    for before, cue in itertools.pairwise(mara):
        k += len(before.text.split())  # words said before this cue's first word
        lag = cue.start - (line["start"] + k * slot)
        assert k > 0 and -0.002 < lag <= MAX_LAG + 0.002, (cue, k, lag)
