"""Delivery with the bundled neural voice: parentheticals and extensions heard in the clips; a clear rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from filmstudio.domain.errors import ScriptError
from filmstudio.domain.settings import parse_settings
from filmstudio.pipeline.context import Cache, CancelToken, StageContext
from filmstudio.pipeline.fit import MAX_WPM, spoken_wpm
from filmstudio.pipeline.media.audio import read_wav
from filmstudio.pipeline.plan import RenderPlan, TimedLine
from filmstudio.pipeline.stages.script_analysis import ScriptAnalysis
from filmstudio.pipeline.stages.voice_synthesis import VoiceSynthesis
from studio_engines import real_engines, render_film

pytestmark = pytest.mark.slow

LINE = "The lamps went out all along the harbour, one after another."
SCRIPT = f"""Title: Delivery

INT. HARBOUR OFFICE - NIGHT

MARA stands at the window. THE KEEPER counts coins.

MARA
{LINE}

MARA
(whispering)
{LINE}

MARA
(shouting)
{LINE}

MARA
(quietly)
{LINE}

MARA (V.O.)
{LINE}

MARA (O.S.)
{LINE}
"""


def _voiced(tmp_path: Path, script: str = SCRIPT) -> tuple[TimedLine, ...]:
    ctx = StageContext(cache=Cache(tmp_path / "cache"), progress=lambda step, f: None, cancel=CancelToken(),
                       engines=real_engines())
    plan = RenderPlan(settings=parse_settings({"duration": 45, "characters": [{"name": "The Keeper"}]}), script_text=script, work_dir=tmp_path,
                      output=tmp_path / "f.mp4")
    plan = VoiceSynthesis().run(ScriptAnalysis().run(plan, ctx), ctx)
    assert {v.engine for v in plan.casting.values()} == {"piper"}
    return plan.timed_lines


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def _band_share(x: np.ndarray, sr: int, lo: float, hi: float) -> float:
    """Share of the clip's energy between lo and hi Hz."""
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / sr)
    return float(spectrum[(freqs >= lo) & (freqs < hi)].sum() / spectrum.sum())


def test_parentheticals_and_extensions_change_the_delivery(tmp_path: Path) -> None:
    timed = [t for t in _voiced(tmp_path) if t.line.kind == "dialogue"]
    assert len(timed) == 6
    clips = [t.clip for t in timed]
    assert all(c is not None for c in clips) and len({c for c in clips}) == 6  # each delivery its own clip
    (plain, sr), (whisper, _), (shout, _), (quiet, _), (vo, _), (off, _) = (read_wav(c) for c in clips if c)
    # Whisper: lower, breathier (less low-frequency body), a little slower; quiet: lower too.
    assert np.max(np.abs(whisper)) < 0.45 * np.max(np.abs(plain))
    assert _band_share(whisper, sr, 0, 300) < 0.5 * _band_share(plain, sr, 0, 300)
    assert len(whisper) > 1.02 * len(plain)
    assert _rms(quiet) < 0.6 * _rms(plain) and len(quiet) > len(plain)
    # Shout: louder (more energy under the same peak), brighter, a little faster.
    assert _rms(shout) > 1.2 * _rms(plain) and np.max(np.abs(shout)) <= np.max(np.abs(plain)) + 1e-3
    assert _band_share(shout, sr, 2500, 8000) > _band_share(plain, sr, 2500, 8000)
    assert len(shout) < 0.98 * len(plain)
    # O.S.: muffled (little above 4 kHz), lower; V.O.: the same length, at full level.
    assert _band_share(off, sr, 4000, 11025) < 0.3 * _band_share(plain, sr, 4000, 11025)
    assert np.max(np.abs(off)) < 0.7 * np.max(np.abs(plain))
    assert abs(len(vo) - len(plain)) < 0.1 * sr and np.max(np.abs(vo)) > 0.95 * np.max(np.abs(plain))
    assert not np.allclose(vo[: len(plain)], plain[: len(vo)], atol=1e-3)
    # Still speech, with word timings inside each clip (on the film's timeline: from the line's start).
    for t in timed:
        assert t.clip is not None
        x, _ = read_wav(t.clip)
        assert len(t.words) == 11 and t.start <= t.words[0].start and t.words[-1].end - t.start <= len(x) / sr + 1e-6


def test_names_in_action_are_spoken_as_names(tmp_path: Path) -> None:
    (action,) = [t for t in _voiced(tmp_path) if t.line.kind == "action"]
    assert action.line.text.startswith("MARA stands")  # subtitles keep the screenplay's text
    assert action.clip is not None
    words = [w.word for w in action.words]
    assert words[:1] == ["Mara"] and "Keeper" in words
    x, sr = read_wav(action.clip)
    assert len(x) / sr < 4.5  # a name, not spelled-out capitals


def _real_wpm(manifest: dict[str, object]) -> float:
    lines = [ln for scene in manifest["scenes"] for ln in scene.get("lines", []) if ln["spoken"]]  # type: ignore[attr-defined]
    return spoken_wpm([ln["text"] for ln in lines], [ln["end"] - ln["start"] for ln in lines])


@pytest.mark.parametrize("duration", [80, 60, 50])
def test_solar_sails_is_never_spoken_above_the_clear_rate(samples: Path, tmp_path: Path, duration: int) -> None:
    """At 60 s the voice used to come out at 238 real wpm; 50 s cannot fit and is refused with the need."""
    settings = parse_settings({"duration": duration, "resolution": "320x180", "fps": 12})
    try:
        manifest = render_film((samples / "solar-sails.txt").read_text(encoding="utf-8"), settings,
                               tmp_path / "out" / "solar.mp4", work_dir=tmp_path / "work", cache_dir=tmp_path / "c")
    except ScriptError as exc:
        assert duration == 50 and exc.code == "SCRIPT_TOO_LONG"
        assert int(exc.details["required_seconds"]) > duration
        return
    assert duration != 50
    assert abs(float(manifest["duration"]) - duration) <= 1.8  # type: ignore[arg-type]
    assert _real_wpm(manifest) <= MAX_WPM


# Moods the lexicon acts, and two parentheticals that are actions (spoken plain, named in a warning).
MOODS = ("sadly", "excitedly", "wearily", "urgently", "coldly", "pleading", "beat", "to Mara")
MOOD_SCRIPT = "Title: Moods\n\nINT. HARBOUR OFFICE - NIGHT\n\nMARA\n" + LINE + "\n" + "".join(
    f"\nMARA\n({mood})\n{LINE}\n" for mood in MOODS)


def test_moods_change_level_tempo_and_tone_and_actions_stay_plain(tmp_path: Path) -> None:
    ctx = StageContext(cache=Cache(tmp_path / "cache"), progress=lambda step, f: None, cancel=CancelToken(),
                       engines=real_engines())
    plan = RenderPlan(settings=parse_settings({"duration": 60}), script_text=MOOD_SCRIPT, work_dir=tmp_path,
                      output=tmp_path / "f.mp4")
    plan = VoiceSynthesis().run(ScriptAnalysis().run(plan, ctx), ctx)
    timed = [t for t in plan.timed_lines if t.line.kind == "dialogue"]
    assert [t.line.parenthetical for t in timed] == [None, *(f"({m})" for m in MOODS)]
    clips = [t.clip for t in timed]
    assert all(c is not None for c in clips)
    (plain, sr), *moods = (read_wav(c) for c in clips if c)
    sad, excited, tired, urgent, cold, pleading = (x for x, _ in moods[:6])
    # Tempo, measured on the clips: sad, weary and cold are slower; excited and urgent faster.
    assert len(sad) > 1.04 * len(plain) and len(tired) > 1.05 * len(plain) and len(cold) > 1.04 * len(plain)
    assert len(excited) < 0.97 * len(plain) and len(urgent) < 0.96 * len(plain)
    # Level and tone: sad and weary lower and duller; excited brighter; cold darker; pleading thinner.
    assert _rms(sad) < 0.8 * _rms(plain) and _rms(tired) < 0.8 * _rms(plain)
    assert _band_share(tired, sr, 4000, 11025) < 0.7 * _band_share(plain, sr, 4000, 11025)
    assert _band_share(excited, sr, 2500, 8000) > _band_share(plain, sr, 2500, 8000)
    assert _band_share(cold, sr, 0, 300) > _band_share(plain, sr, 0, 300)
    assert _band_share(cold, sr, 4000, 11025) < _band_share(plain, sr, 4000, 11025)
    assert _band_share(pleading, sr, 0, 150) < 0.6 * _band_share(plain, sr, 0, 150)
    # (beat) and (to Mara) are not moods: the plain line's very clip, and one warning names them.
    assert clips[-2] == clips[0] and clips[-1] == clips[0]
    # ...but a beat is a moment of silence before its line, on the film's timeline.
    assert timed[-2].start - timed[-3].end >= timed[-1].start - timed[-2].end + 0.25
    plain_warnings = [w for w in plan.warnings if w.startswith("parentheticals spoken plain")]
    assert plain_warnings == ["parentheticals spoken plain (they do not change the delivery): (beat), (to Mara)"]
    for t in timed:  # still speech: every word timed
        assert t.clip is not None and len(t.words) == 11
