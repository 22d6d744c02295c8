"""The voice stage never makes a film faster than the fastest clear rate (230 real words a minute)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from filmstudio.domain.errors import ScriptError
from filmstudio.domain.settings import parse_settings
from filmstudio.pipeline.context import Cache, CancelToken, StageContext
from filmstudio.pipeline.engines import SpeechRequest
from filmstudio.pipeline.fit import MAX_WPM, Pacing, count_words, spoken_wpm
from filmstudio.pipeline.media.audio import read_wav
from filmstudio.pipeline.plan import NARRATOR, RenderPlan, Voice
from filmstudio.pipeline.providers.tts import FakeTts
from filmstudio.pipeline.script.analysis import analyse
from filmstudio.pipeline.stages.voice_synthesis import VoiceSynthesis
from studio_engines import real_engines

PROSE = "\n\n".join(
    " ".join(f"Word{n} number{n} says{n} something{n} quite{n} plain{n}." for n in range(k, k + 6)) for k in range(0, 30, 6)
)
VOICE = Voice(NARRATOR, "beep", engine="fake")


class FixedRateTts(FakeTts):
    """Speaks at `real_wpm` whatever it is asked (a voice the rate estimate misjudges)."""

    def __init__(self, real_wpm: float) -> None:
        super().__init__()
        self.real_wpm = real_wpm

    def duration_for(self, req: SpeechRequest) -> float:
        return count_words(req.text) * 60.0 / self.real_wpm


class FastTts(FakeTts):
    """Speaks 6 % faster than it is asked (as a neural voice near the top of its rate curve can)."""

    def duration_for(self, req: SpeechRequest) -> float:
        return count_words(req.text) * 60.0 / (1.06 * req.words_per_minute * req.voice.rate_factor)


def _run(tmp_path: Path, tts: FakeTts, duration: int, wpm: float) -> RenderPlan:
    settings = parse_settings({"duration": duration})
    plan = RenderPlan(settings=settings, script_text=PROSE, work_dir=tmp_path, output=tmp_path / "f.mp4",
                      script=analyse(PROSE, settings), casting={NARRATOR: VOICE}, words_per_minute=wpm)
    ctx = StageContext(cache=Cache(tmp_path / "cache"), progress=lambda s, f: None, cancel=CancelToken(),
                       engines=replace(real_engines(), voices=tts))
    return VoiceSynthesis().run(plan, ctx)


def _duration_needing(stretch: float) -> int:
    """The film length at which 200-wpm speech must be stretched by about `stretch` to fit."""
    script = analyse(PROSE, parse_settings({"duration": 60}))
    speech = count_words(PROSE) * 60.0 / 200.0
    for duration in range(10, 200):
        room = duration - Pacing.for_duration(duration).overhead(script)
        if room > 0 and speech / (room * 0.98) <= stretch:
            return duration
    raise AssertionError("no such duration")


def _real_wpm(plan: RenderPlan) -> float:
    clips = [t for t in plan.timed_lines if t.clip is not None]
    return spoken_wpm([t.line.text for t in clips], [len(read_wav(t.clip)[0]) / 22050 for t in clips if t.clip])


def test_stretch_stops_at_the_clear_rate_and_refuses(tmp_path: Path) -> None:
    """Needing 1.28x (within MAX_STRETCH 1.3) from a 200-wpm voice would make 256 wpm: refused instead."""
    duration = _duration_needing(1.28)
    with pytest.raises(ScriptError) as info:
        _run(tmp_path, FixedRateTts(200.0), duration, MAX_WPM)
    assert info.value.code == "SCRIPT_TOO_LONG" and int(info.value.details["required_seconds"]) > duration


def test_a_small_stretch_fits_and_stays_clear(tmp_path: Path) -> None:
    plan = _run(tmp_path, FixedRateTts(200.0), _duration_needing(1.1), MAX_WPM)
    assert 200 * 1.05 < _real_wpm(plan) <= MAX_WPM  # stretched, and no faster than allowed


def test_a_voice_faster_than_asked_is_slowed(tmp_path: Path) -> None:
    plan = _run(tmp_path, FastTts(), 120, MAX_WPM)
    assert plan.words_per_minute < MAX_WPM and _real_wpm(plan) <= MAX_WPM
