"""The loudness-normalised master, streamed: voice + ducked music -> a 16-bit stereo WAV at -14 LUFS.

The mix lives in temp float32 WAVs and passes through memory a chunk at a time (mix, measure with
ffmpeg, gain + look-ahead limiter, write, measure again), so a long film needs no more memory than
a short one.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from filmstudio.pipeline.context import CancelToken, atomic_output
from filmstudio.pipeline.media.audio import (
    LoudnessReport,
    limiter_span,
    measure_loudness,
    to_mono,
    true_peak_core,
    true_peaks_span,
    voice_activity_wav,
)
from filmstudio.pipeline.media.wavstream import WavReader, wav_writer, write_wav


def mix_and_master(
    voice: np.ndarray,
    music: np.ndarray | None,
    sr: int,
    out: Path,
    *,
    target_lufs: float = -14.0,
    true_peak: float = -1.0,
    music_db: float = -12.0,
    cancel: CancelToken | None = None,
) -> LoudnessReport:
    """master_wavs() for in-memory voice (mono) and music (stereo, already ducked) arrays."""
    with tempfile.TemporaryDirectory(prefix="fs-mix-") as tmp:
        write_wav(Path(tmp) / "voice.wav", to_mono(np.asarray(voice, np.float32)), sr, float32=True)
        music_path = None
        if music is not None and len(music):
            music_path = Path(tmp) / "music.wav"
            m = music if music.ndim == 2 else np.repeat(np.asarray(music)[:, None], 2, axis=1)
            write_wav(music_path, m, sr, float32=True)
        return master_wavs(Path(tmp) / "voice.wav", music_path, Path(out), target_lufs=target_lufs,
                           true_peak=true_peak, music_db=music_db, cancel=cancel)


@dataclass(frozen=True)
class _State:
    """The mix as it is being mastered: a float32 WAV times a gain not yet applied to it."""

    path: Path
    gain: float = 1.0

    def read(self, wav: WavReader, a: int, b: int) -> np.ndarray:
        x = wav.read(a, b)
        return x if self.gain == 1.0 else x * np.float32(self.gain)


def master_wavs(
    voice: Path, music: Path | None, out: Path, *, music_gain: float = 1.0, target_lufs: float = -14.0,
    true_peak: float = -1.0, music_db: float = -12.0, cancel: CancelToken | None = None, chunk_seconds: float = 10.0,
    tmp_dir: Path | None = None,
) -> LoudnessReport:
    """Mix a voice WAV (mono) over a music WAV (stereo, ducked; times `music_gain`) into a stereo WAV at the target loudness.

    Music sits `music_db` under the speech's loudness before ducking. Loudness and true peak are
    measured by ffmpeg's ebur128 meter; the gain and an oversampled look-ahead limiter are
    applied here, then measured again (up to a few passes) until both targets hold. Everything
    streams through temp WAVs (in `tmp_dir`, else the system's) in chunks of about `chunk_seconds`:
    memory does not grow with the film's length (only per-millisecond peaks, 4 KB a second, are whole).
    """
    out = Path(out)
    with WavReader(voice) as vr:
        sr, nv = vr.rate, vr.frames
    nm = 0
    if music is not None:
        with WavReader(music) as mr:
            nm = mr.frames
    n = max(nv, nm)
    block, h = max(1, sr // 1000), max(1, round(0.01 * sr))
    unit = math.lcm(true_peak_core(block), h)  # whole true-peak transforms and whole 10 ms hops per chunk
    step = unit * max(1, round(chunk_seconds * sr / unit))
    # Attempts write beside `out` and only the last lands there: a present file is a finished master
    # (it is a cache entry), never one cut short by a cancel between attempts.
    with tempfile.TemporaryDirectory(prefix="fs-master-", dir=tmp_dir) as tmpdir, atomic_output(out) as dest:
        state = _State(Path(tmpdir) / "mix0.wav")
        _mix(voice, music, music_gain, music_db, n, step, state.path, cancel)
        report = measure_loudness(state.path, cancel=cancel, true_peak=False)
        if not math.isfinite(report.integrated_lufs) or report.integrated_lufs < -65.0:
            _write_pcm(state, dest, step, cancel)  # silence stays silence: no gain can make it -14 LUFS
            return measure_loudness(dest, cancel=cancel)
        total_db = 0.0
        ceiling = 10.0 ** ((true_peak - 0.3) / 20.0)
        for _attempt in range(5):
            gain_db = target_lufs - report.integrated_lufs
            # Limiting peaks costs loudness; win it back before measuring (energy ratio as the guide).
            for _ in range(3):
                total_db += gain_db
                state = _State(state.path, state.gain * 10.0 ** (gain_db / 20.0))
                state, before, after = _limit(state, sr, ceiling, step, cancel)
                gain_db = 10.0 * math.log10(before / max(after, 1e-20))
                if gain_db < 0.1:
                    break
            _write_pcm(state, dest, step, cancel)
            report = measure_loudness(dest, cancel=cancel)
            if report.true_peak_dbtp > true_peak:
                ceiling *= 10.0 ** ((true_peak - report.true_peak_dbtp - 0.2) / 20.0)
            elif abs(report.integrated_lufs - target_lufs) <= 0.4:
                break
        return LoudnessReport(report.integrated_lufs, report.true_peak_dbtp, report.lra, round(total_db, 2))


def _mix(
    voice: Path, music: Path | None, music_gain: float, music_db: float, n: int, step: int, dest: Path,
    cancel: CancelToken | None,
) -> None:
    """Write voice + music * balance (float32 stereo, n frames) to `dest`: one pass to measure, one to mix."""
    with WavReader(voice) as vr:
        active = voice_activity_wav(voice)
        h = max(1, round(0.01 * vr.rate))
        v_sum = v_count = m_sum = m_count = 0.0
        mr = WavReader(music) if music is not None else None
        try:
            balance = 1.0
            if mr is not None:
                for lo in range(0, n, step):  # the balance needs the RMS of both over the whole film
                    _check(cancel)
                    hi = min(n, lo + step)
                    if lo < vr.frames:
                        v = to_mono(vr.read(lo, min(hi, vr.frames)))
                        v = v[np.repeat(active[lo // h : -(-(lo + len(v)) // h)], h)[: len(v)]]
                        v_sum, v_count = v_sum + float(np.dot(v, v)), v_count + len(v)
                    if lo < mr.frames:
                        m = (mr.read(lo, min(hi, mr.frames)) * np.float32(music_gain)).reshape(-1)
                        m_sum, m_count = m_sum + float(np.dot(m, m)), m_count + len(m)
                music_rms = math.sqrt(m_sum / m_count) if m_count else 0.0
                if music_rms > 1e-9 and active.any():
                    balance = math.sqrt(v_sum / max(1.0, v_count)) * 10.0 ** (music_db / 20.0) / music_rms
            gain = np.float32(music_gain * balance)
            with wav_writer(dest, vr.rate, 2, float32=True, atomic=False, frames=n) as w:
                for lo in range(0, n, step):
                    _check(cancel)
                    hi = min(n, lo + step)
                    mix = np.zeros((hi - lo, 2), np.float32)
                    mix += to_mono(vr.read(lo, hi))[:, None]
                    if mr is not None:
                        mix += mr.read(lo, hi) * gain
                    w.write(mix)
        finally:
            if mr is not None:
                mr.close()


def _limit(state: _State, sr: int, ceiling: float, step: int, cancel: CancelToken | None) -> tuple[_State, float, float]:
    """Apply the look-ahead limiter to the (gained) mix: the new state and the energy before and after."""
    block, pad = max(1, sr // 1000), 64
    with WavReader(state.path) as wav:
        n, energy = wav.frames, 0.0
        peaks = np.zeros(-(-n // block), np.float32)
        for lo in range(0, n, step):  # pass 1: per-millisecond true peaks (small) and the energy
            _check(cancel)
            hi = min(n, lo + step)
            x = state.read(wav, lo - pad, hi + pad)
            flat = x[pad : pad + hi - lo].reshape(-1)
            energy += float(np.dot(flat, flat))
            planar = np.ascontiguousarray(x.T)

            def read(a: int, b: int, planar: np.ndarray = planar, base: int = lo - pad) -> np.ndarray:
                return planar[:, a - base : b - base]

            peaks[lo // block : lo // block + -(-(hi - lo) // block)] = true_peaks_span(read, n, lo, hi, block)
        need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
        if need.min() >= 1.0:
            return state, energy, energy
        w = max(1, round(0.01 * sr / block))
        dest = state.path.with_name("mix1.wav" if state.path.name == "mix0.wav" else "mix0.wav")
        after = 0.0
        with wav_writer(dest, sr, 2, float32=True, atomic=False, frames=n) as out:
            for lo in range(0, n, step):  # pass 2: the limited mix
                _check(cancel)
                hi = min(n, lo + step)
                y = state.read(wav, lo, hi) * limiter_span(need, lo, hi, block, w)[:, None]
                flat = y.reshape(-1)
                after += float(np.dot(flat, flat))
                out.write(y)
    return _State(dest), energy, after


def _write_pcm(state: _State, out: Path, step: int, cancel: CancelToken | None) -> None:
    """The mix (times its pending gain) as the final 16-bit stereo WAV, written atomically."""
    with WavReader(state.path) as wav, wav_writer(out, wav.rate, 2, frames=wav.frames) as w:
        for lo in range(0, wav.frames, step):
            _check(cancel)
            w.write(state.read(wav, lo, min(wav.frames, lo + step)))


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()
