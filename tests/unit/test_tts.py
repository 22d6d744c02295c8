"""The TTS seam without espeak: the fake engine and the silence trimmer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from filmstudio.domain.errors import Cancelled
from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.engines import SpeechRequest, Voices
from filmstudio.pipeline.media.audio import read_wav
from filmstudio.pipeline.plan import Voice
from filmstudio.pipeline.providers.tts import FakeTts, trim_silence

VOICE = Voice("NARRATOR", "gmw/en-US", None, pitch=50, rate_factor=1.0)


def test_fake_tts_writes_beeps_proportional_to_text(tmp_path: Path) -> None:
    tts: Voices = FakeTts()
    short = SpeechRequest("Hi there.", VOICE, 175, tmp_path / "s.wav")
    long = SpeechRequest("A much longer line of dialogue for the fake.", VOICE, 175, tmp_path / "l.wav")
    out = tts.synthesize_many([short, long], cancel=CancelToken())
    (a, _), (b, _) = read_wav(out[0].path), read_wav(out[1].path)
    assert len(b) / len(a) == pytest.approx(len(long.text) / len(short.text), rel=0.05)
    assert np.abs(a).max() > 0.3


def test_fake_tts_skips_existing_and_cancels(tmp_path: Path) -> None:
    fake = FakeTts()
    req = SpeechRequest("Cached.", VOICE, 175, tmp_path / "c.wav")
    req.out.write_bytes(b"x")
    fake.synthesize_many([req], cancel=CancelToken())
    assert req.out.read_bytes() == b"x" and fake.synthesized == []
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        fake.synthesize_many([SpeechRequest("New.", VOICE, 175, tmp_path / "n.wav")], cancel=token)


def test_trim_silence_keeps_a_small_margin() -> None:
    sr = 1000
    x = np.zeros(1000, np.float32)
    x[300:600] = 0.5
    y = trim_silence(x, sr)
    assert len(y) == 300 + 2 * 10
    assert len(trim_silence(np.zeros(100, np.float32), sr)) == 50
