"""Audio math: WAV round trips, resampling, sample-exact clip placement, ducking and the limiter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from filmstudio.pipeline.media.audio import (
    duck,
    duck_gain,
    limiter_gain,
    place_clips,
    read_wav,
    resample,
    true_peak_blocks,
    write_wav,
)

SR = 48000


def _db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12))


def test_wav_round_trip_pcm16_and_float(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    stereo = (rng.uniform(-0.9, 0.9, (1000, 2))).astype(np.float32)
    write_wav(tmp_path / "a.wav", stereo, 44100)
    back, sr = read_wav(tmp_path / "a.wav")
    assert sr == 44100 and back.shape == (1000, 2)
    assert np.abs(back - stereo).max() < 1 / 32767 + 1e-6
    write_wav(tmp_path / "f.wav", stereo[:, 0], 22050, float32=True)
    mono, sr = read_wav(tmp_path / "f.wav")
    assert sr == 22050 and mono.shape == (1000,)
    assert np.array_equal(mono, stereo[:, 0])
    assert not list(tmp_path.glob(".*partial*")), "atomic writes leave no temp files"


def test_resample_keeps_pitch_and_exact_length() -> None:
    t = np.arange(22050) / 22050
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    up = resample(tone, 22050, SR)
    assert len(up) == SR
    expected = np.sin(2 * np.pi * 440 * np.arange(SR) / SR)
    assert np.abs(up - expected)[1000:-1000].max() < 1e-3
    down = resample(up, SR, 16000)
    assert len(down) == 16000
    spec = np.abs(np.fft.rfft(down))
    assert abs(np.argmax(spec) * 16000 / len(down) - 440) < 2


def test_place_clips_is_sample_exact(tmp_path: Path) -> None:
    clip = np.zeros(100, np.float32)
    clip[0] = 0.5
    clip[99] = -0.25
    write_wav(tmp_path / "c.wav", clip, SR, float32=True)
    track = place_clips([(tmp_path / "c.wav", 0.5), (tmp_path / "c.wav", 1.25), (tmp_path / "c.wav", 2.999)],
                        3.0, SR)
    assert len(track) == 3 * SR
    nz = np.flatnonzero(track)
    # The third clip starts 48 samples before the end and is cut there.
    assert nz.tolist() == [24000, 24099, 60000, 60099, 143952]
    assert track[24000] == pytest.approx(0.5) and track[60099] == pytest.approx(-0.25)


def test_place_clips_resamples_other_rates(tmp_path: Path) -> None:
    clip = np.sin(2 * np.pi * 300 * np.arange(22050) / 22050).astype(np.float32)
    write_wav(tmp_path / "s.wav", clip, 22050, float32=True)
    track = place_clips([(tmp_path / "s.wav", 1.0)], 3.0, SR)
    loud = np.flatnonzero(np.abs(track) > 0.05)
    assert abs(loud[0] - SR) < 10 and abs(loud[-1] - 2 * SR) < 10


def _speech_like(duration: float, spans: list[tuple[float, float]]) -> np.ndarray:
    rng = np.random.default_rng(2)
    v = np.zeros(round(duration * SR), np.float32)
    for a, b in spans:
        v[round(a * SR) : round(b * SR)] = 0.3 * rng.standard_normal(round(b * SR) - round(a * SR))
    return v


def test_duck_lowers_music_under_speech_only() -> None:
    voice = _speech_like(10.0, [(2.0, 4.0), (7.0, 8.0)])
    music = np.full((len(voice), 2), 0.2, np.float32)
    ducked = duck(music, voice, SR, depth_db=-14.0)
    assert ducked.shape == music.shape
    ref = _db(music[:SR])
    for a, b in [(2.2, 3.8), (7.1, 7.9)]:
        assert _db(ducked[round(a * SR) : round(b * SR)]) - ref == pytest.approx(-14.0, abs=0.5)
    for a, b in [(0.0, 1.5), (5.5, 6.5), (9.2, 10.0)]:
        assert _db(ducked[round(a * SR) : round(b * SR)]) - ref == pytest.approx(0.0, abs=0.1)


def test_duck_gain_is_smooth_and_leads_the_speech() -> None:
    voice = _speech_like(6.0, [(2.0, 3.0)])
    gain = duck_gain(voice, SR, depth_db=-14.0, attack=0.08, release=0.4)
    assert np.abs(np.diff(gain)).max() < 0.001  # no clicks: tiny steps per sample
    depth = 10 ** (-14 / 20)
    assert gain[2 * SR] == pytest.approx(depth, abs=0.01)  # already down when the line starts
    assert gain[round(1.8 * SR)] == pytest.approx(1.0, abs=1e-3)
    assert gain[round(3.0 * SR)] < 0.5 and gain[round(4.0 * SR)] == pytest.approx(1.0, abs=1e-3)


def test_duck_without_speech_is_identity() -> None:
    music = np.random.default_rng(3).uniform(-0.5, 0.5, (SR, 2)).astype(np.float32)
    assert np.array_equal(duck(music, np.zeros(SR, np.float32), SR), music)


def test_limiter_keeps_oversampled_peaks_under_the_ceiling() -> None:
    rng = np.random.default_rng(4)
    x = (0.1 * rng.standard_normal((2 * SR, 2))).astype(np.float32)
    x[SR : SR + 200] *= 15.0  # a burst far over the ceiling
    ceiling = 10 ** (-1.5 / 20)
    y = x * limiter_gain(x, SR, ceiling)[:, None]
    assert true_peak_blocks(y, 48).max() <= ceiling * 1.01
    assert true_peak_blocks(x, 48).max() > 1.5
    # Away from the burst the signal is untouched.
    assert np.array_equal(y[: SR // 2], x[: SR // 2])


def test_true_peak_sees_intersample_overs() -> None:
    n = np.arange(SR)
    # A quarter-rate sine sampled at 45 degrees: samples peak at 0.707, the wave at 1.0.
    x = np.sin(2 * np.pi * (SR / 4) * n / SR + np.pi / 4).astype(np.float32)
    assert np.abs(x).max() == pytest.approx(0.7071, abs=1e-3)
    assert true_peak_blocks(x, 480)[10:-10].min() == pytest.approx(1.0, abs=0.02)


# ------------------------------------------------------------------ streaming = whole-array


def test_wav_writer_streams_and_reader_reads_any_range(tmp_path: Path) -> None:
    from filmstudio.pipeline.media.wavstream import WavReader, wav_writer

    x = np.random.default_rng(5).uniform(-0.9, 0.9, (10_000, 2)).astype(np.float32)
    for float32 in (True, False):
        path = tmp_path / f"s{float32}.wav"
        with wav_writer(path, SR, 2, float32=float32) as w:  # length not declared: patched at the end
            for lo in range(0, len(x), 3333):
                w.write(x[lo : lo + 3333])
        whole, sr = read_wav(path)
        assert sr == SR and whole.shape == x.shape
        assert np.abs(whole - x).max() <= (0 if float32 else 1 / 32767 + 1e-6)
        with WavReader(path) as r:
            assert r.frames == len(x) and r.channels == 2
            part = r.read(-5, 20)
            assert not part[:5].any() and np.array_equal(part[5:], whole[:20])
            assert np.array_equal(r.read(9_990, 10_010)[:10], whole[9_990:]) and not r.read(9_990, 10_010)[10:].any()
            assert np.array_equal(np.concatenate([c for _, c in r.chunks(777)]), whole)


def test_streamed_voice_track_equals_place_clips(tmp_path: Path) -> None:
    from filmstudio.pipeline.media.audio import write_voice_track

    rng = np.random.default_rng(6)
    a = rng.uniform(-0.5, 0.5, 30_000).astype(np.float32)
    b = np.sin(2 * np.pi * 300 * np.arange(22050) / 22050).astype(np.float32) * 0.4
    write_wav(tmp_path / "a.wav", a, SR, float32=True)
    write_wav(tmp_path / "b.wav", b, 22050, float32=True)  # resampled on the way in
    # Unsorted, overlapping, crossing the 10 000-sample chunk seams, starting before 0 and after the end.
    clips = [(tmp_path / "a.wav", 1.3), (tmp_path / "b.wav", 0.1), (tmp_path / "a.wav", -0.2),
             (tmp_path / "a.wav", 1.5), (tmp_path / "b.wav", 2.7), (tmp_path / "a.wav", 3.5)]
    track = place_clips(clips, 3.0, SR)
    write_voice_track(tmp_path / "v.wav", clips, 3.0, SR, chunk=10_000, float32=True)
    streamed, sr = read_wav(tmp_path / "v.wav")
    assert sr == SR and np.array_equal(streamed, track)
    assert np.abs(track).max() > 0.3  # not a vacuous comparison of silences


def test_ducking_from_a_wav_equals_whole_array_ducking(tmp_path: Path) -> None:
    from filmstudio.pipeline.media.audio import duck_curve, voice_activity, voice_activity_wav

    voice = _speech_like(12.0, [(2.0, 4.0), (7.0, 8.0), (11.5, 12.0)])
    write_wav(tmp_path / "v.wav", voice, SR)
    pcm, _ = read_wav(tmp_path / "v.wav")
    active = voice_activity_wav(tmp_path / "v.wav", chunk_hops=70)  # several chunk seams
    assert np.array_equal(active, voice_activity(pcm, SR)) and active.any()
    curve = duck_curve(active, SR)
    assert curve is not None
    pieces = np.concatenate([curve.gain(lo, min(len(pcm), lo + 50_000)) for lo in range(0, len(pcm), 50_000)])
    assert np.array_equal(pieces, duck_gain(pcm, SR))
    assert duck_curve(np.zeros(10, bool), SR) is None


def test_true_peaks_and_limiter_across_chunk_seams() -> None:
    from filmstudio.pipeline.media.audio import limiter_span, true_peak_core, true_peaks_span

    rng = np.random.default_rng(8)
    x = (0.1 * rng.standard_normal((3 * SR, 2))).astype(np.float32)
    for at in (20_000, 47_230, 95_000, 118_070):  # bursts on and near the seams
        x[at - 150 : at + 150] *= 15.0
    block, segment = 48, 1 << 12
    step = 3 * true_peak_core(block, segment)
    planar = np.ascontiguousarray(x.T)
    n = len(x)

    def read(a: int, b: int) -> np.ndarray:
        out = np.zeros((2, b - a), np.float32)
        out[:, max(0, a) - a : min(n, b) - a] = planar[:, max(0, a) : min(n, b)]
        return out

    streamed = np.concatenate([true_peaks_span(read, n, lo, min(n, lo + step), block, segment=segment)
                               for lo in range(0, n, step)])
    assert np.array_equal(streamed, true_peak_blocks(x, block, segment=segment))
    ceiling = 10 ** (-1.5 / 20)
    whole = limiter_gain(x, SR, ceiling, chunk=len(x))
    chunked = limiter_gain(x, SR, ceiling, chunk=4_000)
    assert whole.min() < 0.2  # the limiter works hard here
    assert np.allclose(chunked, whole, rtol=0, atol=1e-6)
    need = np.minimum(1.0, ceiling / np.maximum(true_peak_blocks(x, block), 1e-12))
    assert np.allclose(limiter_span(need, 46_000, 49_000, block, 10), whole[46_000:49_000], rtol=0, atol=1e-6)
