"""The master: real speech over real music, measured by ffmpeg's own EBU R128 meter (true peak)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from filmstudio.domain.errors import Cancelled
from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.engines import SpeechRequest
from filmstudio.pipeline.media.audio import duck, measure_loudness, place_clips, read_wav
from filmstudio.pipeline.media.ffmpeg import ffmpeg_exe, probe
from filmstudio.pipeline.media.master import master_wavs, mix_and_master
from filmstudio.pipeline.plan import Voice
from filmstudio.pipeline.providers.music import compose
from filmstudio.pipeline.providers.tts import EspeakTts
from studio_engines import real_engines

pytestmark = pytest.mark.slow
SR = 48000


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("clips")
    voices = [Voice("A", "gmw/en-US", "m3", 35, 1.0), Voice("B", "gmw/en-US", "f2", 70, 1.1)]
    lines = ["Where were you last night?", "Out by the harbour, watching the ships.",
             "You never watch the ships.", "Tonight I did."]
    reqs = [SpeechRequest(t, voices[i % 2], 175, folder / f"{i}.wav") for i, t in enumerate(lines)]
    return [c.path for c in EspeakTts(jobs=2).synthesize_many(reqs, cancel=CancelToken())]


def _ebur128(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) straight from ffmpeg, parsed independently of the code under test."""
    err = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr
    summary = err[err.rindex("Summary:") :]
    i = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))  # type: ignore[union-attr]
    tp = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))  # type: ignore[union-attr]
    return i, tp


def _voice_track(clips: list[Path], duration: float) -> np.ndarray:
    step = duration / len(clips)
    return place_clips([(c, 0.3 + i * step) for i, c in enumerate(clips)], duration, SR)


@pytest.mark.parametrize("duration", [5.0, 30.0])
@pytest.mark.parametrize("with_music", [True, False], ids=["speech+music", "speech-only"])
def test_master_hits_minus_14_lufs_and_true_peak(
    clips: list[Path], tmp_path: Path, duration: float, with_music: bool
) -> None:
    use = clips[:1] if duration < 10 else clips
    voice = _voice_track(use, duration)
    music = None
    if with_music:
        music = duck(compose("upbeat", duration, [0.0, duration / 2], sample_rate=SR), voice, SR)
    out = tmp_path / "mix.wav"
    report = mix_and_master(voice, music, SR, out, cancel=CancelToken())
    integrated, true_peak = _ebur128(out)
    assert integrated == pytest.approx(-14.0, abs=1.0)
    assert true_peak <= -1.0
    assert report.integrated_lufs == pytest.approx(integrated, abs=0.05)
    assert report.true_peak_dbtp == pytest.approx(true_peak, abs=0.05)
    stream = probe(out)["streams"][0]
    assert stream["channels"] == 2 and int(stream["sample_rate"]) == SR
    assert float(probe(out)["format"]["duration"]) == pytest.approx(duration, abs=0.001)
    # The speech is still there and still on top of the music.
    x, _ = read_wav(out)
    speech_at = round((0.3 + 0.5) * SR)
    assert np.sqrt(np.mean(x[speech_at : speech_at + SR // 2] ** 2)) > 0.05


def test_music_alone_is_mastered_too(tmp_path: Path) -> None:
    music = compose("epic", 8.0, [0.0, 4.0], sample_rate=SR)
    report = mix_and_master(np.zeros(8 * SR, np.float32), music, SR, tmp_path / "m.wav")
    integrated, true_peak = _ebur128(tmp_path / "m.wav")
    assert integrated == pytest.approx(-14.0, abs=1.0) and true_peak <= -1.0
    assert report.gain_db != 0.0


def test_silence_stays_silent(tmp_path: Path) -> None:
    report = mix_and_master(np.zeros(5 * SR, np.float32), None, SR, tmp_path / "s.wav")
    x, _ = read_wav(tmp_path / "s.wav")
    assert x.shape == (5 * SR, 2) and not x.any()
    assert report.integrated_lufs < -60


def test_measure_loudness_of_a_known_tone(tmp_path: Path) -> None:
    """A 1 kHz sine peaking at -20 dBFS in both channels reads about -20 LUFS, true peak -20 dBTP."""
    from filmstudio.pipeline.media.audio import write_wav

    t = np.arange(5 * SR) / SR
    tone = (0.1 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    write_wav(tmp_path / "t.wav", np.stack([tone, tone], axis=1), SR)
    rep = measure_loudness(tmp_path / "t.wav")
    assert rep.integrated_lufs == pytest.approx(-20.0, abs=0.5)
    assert rep.true_peak_dbtp == pytest.approx(-20.0, abs=0.2)


def test_master_in_small_chunks_equals_one_chunk(clips: list[Path], tmp_path: Path) -> None:
    """The streamed master (mix, limiter, 16-bit write) does not depend on where the chunks fall."""
    from filmstudio.pipeline.media.audio import write_voice_track
    from filmstudio.pipeline.media.wavstream import write_wav

    write_voice_track(tmp_path / "v.wav", [(c, 0.3 + 7.0 * i) for i, c in enumerate(clips)], 30.0, SR)
    voice, _ = read_wav(tmp_path / "v.wav")
    write_wav(tmp_path / "m.wav", duck(compose("upbeat", 30.0, [0.0, 15.0], sample_rate=SR), voice, SR), SR,
              float32=True)
    # 0.1 s asks for the smallest chunk (~6.8 s at 48 kHz): four seams in 30 s.
    small = master_wavs(tmp_path / "v.wav", tmp_path / "m.wav", tmp_path / "small.wav", chunk_seconds=0.1)
    whole = master_wavs(tmp_path / "v.wav", tmp_path / "m.wav", tmp_path / "whole.wav", chunk_seconds=60.0)
    a, _ = read_wav(tmp_path / "small.wav")
    b, _ = read_wav(tmp_path / "whole.wav")
    assert a.shape == b.shape == (30 * SR, 2)
    assert small.gain_db == pytest.approx(whole.gain_db, abs=0.01)
    assert np.abs(a - b).max() <= 2 / 32768  # a rounding step at most
    assert np.sqrt(np.mean(a**2)) > 0.05


def test_music_stage_masters_a_streamed_film(clips: list[Path], tmp_path: Path) -> None:
    """The stage itself: streamed voice track, streamed ducked music, streamed master, measured by ffmpeg."""
    from filmstudio.domain.settings import RenderSettings
    from filmstudio.pipeline.context import Cache, StageContext
    from filmstudio.pipeline.media.audio import write_voice_track
    from filmstudio.pipeline.plan import RenderPlan, SceneTiming, Script
    from filmstudio.pipeline.stages.music_generation import MusicGeneration

    duration = 40.0
    write_voice_track(tmp_path / "voice.wav", [(c, 1.0 + 9.0 * i) for i, c in enumerate(clips)], duration, SR,
                      chunk=SR * 3)
    timeline = (SceneTiming("scene", 0, 0.0, 20.0), SceneTiming("scene", 1, 20.0, duration))
    plan = RenderPlan(settings=RenderSettings(duration=40, music_genre="lofi"), script_text="", work_dir=tmp_path,
                      output=tmp_path / "film.mp4", script=Script("Harbour", (), ()), timeline=timeline,
                      voice_track=tmp_path / "voice.wav")
    ctx = StageContext(engines=real_engines(), cache=Cache(tmp_path / "cache"), progress=lambda s, f: None, cancel=CancelToken())
    out = MusicGeneration().run(plan, ctx).mix_track
    assert out is not None and out.exists()
    integrated, true_peak = _ebur128(out)
    assert integrated == pytest.approx(-14.0, abs=1.0) and true_peak <= -1.95  # the stage leaves headroom for AAC
    x, sr = read_wav(out)
    assert sr == SR and x.shape == (round(duration * SR), 2)
    # Music plays between the lines (ducked under them), speech sits on top.
    gap, line = x[round(5.0 * SR) : round(8.0 * SR)], x[round(1.2 * SR) : round(1.7 * SR)]
    assert 0.005 < np.sqrt(np.mean(gap**2)) < np.sqrt(np.mean(line**2))
    assert not list(tmp_path.rglob(".fs-*")), "temp files are cleaned up"
    cancelled = CancelToken()
    cancelled.cancel()
    ctx2 = StageContext(engines=real_engines(), cache=Cache(tmp_path / "cache2"), progress=lambda s, f: None, cancel=cancelled)
    with pytest.raises(Cancelled):
        MusicGeneration().run(plan, ctx2)


def test_no_master_sits_at_the_final_path_until_the_last_attempt(
    clips: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The master is a cache entry (a present file is a finished file): attempts never write to `out`."""
    from filmstudio.pipeline.media import master

    out = tmp_path / "mix.wav"
    seen: list[bool] = []
    real = master.measure_loudness

    def spy(path: Path, **kwargs: object) -> object:
        seen.append(out.exists())
        return real(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(master, "measure_loudness", spy)
    voice = _voice_track(clips, 12.0)
    music = duck(compose("epic", 12.0, [0.0, 6.0], sample_rate=SR), voice, SR)
    mix_and_master(voice, music, SR, out, cancel=CancelToken())
    assert len(seen) >= 2 and not any(seen), seen  # measured twice or more, never with a file at `out`
    assert out.exists() and not list(tmp_path.glob(".*partial*"))

    # Cancelled while mastering: nothing at `out`, no temp files left.
    out.unlink()
    calls = {"n": 0}
    token = CancelToken()

    def cancel_after_first(path: Path, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:  # the first loudness reading: the attempts that follow stop at their first chunk
            token.cancel()
        return real(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(master, "measure_loudness", cancel_after_first)
    with pytest.raises(Cancelled):
        mix_and_master(voice, music, SR, out, cancel=token)
    assert not out.exists() and not list(tmp_path.glob(".*partial*"))
