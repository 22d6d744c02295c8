"""Audio math: resampling, clip placement, ducking, loudness measurement and the limiter (the master: media.master)."""

from __future__ import annotations

import math
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from filmstudio.domain.errors import Cancelled, RenderFailed
from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.media.ffmpeg import ffmpeg_exe
from filmstudio.pipeline.media.wavstream import WavReader, read_wav, wav_writer, write_wav

__all__ = ["read_wav", "write_wav"]  # re-exported: WAV I/O lives in wavstream


@dataclass(frozen=True)
class LoudnessReport:
    """What ffmpeg's ebur128 meter (true-peak mode) says about a file."""

    integrated_lufs: float
    true_peak_dbtp: float
    lra: float
    gain_db: float = 0.0  # the overall gain the master applied (0 for a plain measurement)


# ---------------------------------------------------------------------------------- resampling


def resample(x: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    """Band-limited resampling by FFT (exact rate ratio); shape (n,) or (n, ch) is kept, float32 out.

    The signal is zero-padded before the transform so its ends do not wrap into each other;
    fine for speech clips and test tones, which start and end near silence.
    """
    x = np.asarray(x, np.float32)
    if sr_from == sr_to or len(x) == 0:
        return x.copy()
    g = math.gcd(sr_from, sr_to)
    up, down = sr_to // g, sr_from // g
    n = len(x)
    n_out = round(n * up / down)
    pad = -(-64 // down) * down  # a multiple of `down`, so the output starts on an exact sample
    n_pad = -(-(n + 2 * pad) // down) * down  # a multiple of `down`, so the output length is exact
    m_pad = n_pad * up // down
    padded = np.zeros((n_pad, *x.shape[1:]), np.float64)
    padded[pad : pad + n] = x
    spec = np.fft.rfft(padded, axis=0)
    keep = min(len(spec), m_pad // 2 + 1)
    out_spec = np.zeros((m_pad // 2 + 1, *x.shape[1:]), np.complex128)
    out_spec[:keep] = spec[:keep]
    if m_pad < n_pad and m_pad % 2 == 0:
        out_spec[-1] = out_spec[-1].real  # the new Nyquist bin of a real signal is real
    y = np.fft.irfft(out_spec, n=m_pad, axis=0) * (m_pad / n_pad)
    start = pad * up // down
    return y[start : start + n_out].astype(np.float32)


def to_mono(x: np.ndarray) -> np.ndarray:
    """Average the channels of (n, ch) audio; mono passes through."""
    return x if x.ndim == 1 else x.mean(axis=1, dtype=np.float32)


def _load_clip(path: Path, sr: int) -> np.ndarray:
    clip, clip_sr = read_wav(path)
    clip = to_mono(clip)
    return resample(clip, clip_sr, sr) if clip_sr != sr else clip


def place_clips(clips: Sequence[tuple[Path, float]], duration: float, sr: int) -> np.ndarray:
    """A mono track of `duration` seconds with each clip added at its start second (sample-exact)."""
    n = round(duration * sr)
    track = np.zeros(n, np.float32)
    for path, start in clips:
        clip = _load_clip(path, sr)
        s = round(start * sr)
        if s >= n or s + len(clip) <= 0:
            continue
        lo = max(0, -s)
        hi = min(len(clip), n - s)
        track[s + lo : s + hi] += clip[lo:hi]
    return track


def write_voice_track(
    path: Path, clips: Sequence[tuple[Path, float]], duration: float, sr: int, *, chunk: int = 1 << 19,
    float32: bool = False, cancel: CancelToken | None = None,
) -> None:
    """Write place_clips()'s track to a WAV chunk by chunk (atomically): memory holds a chunk and the clips in it.

    Clips are loaded when the chunk reaches their start and dropped once it has passed their end;
    within a chunk they are summed in the order given, so the samples equal place_clips()'s.
    """
    n = round(duration * sr)
    order = sorted(range(len(clips)), key=lambda i: round(clips[i][1] * sr))
    nxt = 0
    live: dict[int, np.ndarray] = {}  # clip index -> samples, for clips that reach into this chunk
    with wav_writer(Path(path), sr, 1, float32=float32, frames=n) as out:
        for lo in range(0, n, chunk):
            _check(cancel)
            hi = min(n, lo + chunk)
            while nxt < len(order) and round(clips[order[nxt]][1] * sr) < hi:
                live[order[nxt]] = _load_clip(clips[order[nxt]][0], sr)
                nxt += 1
            buf = np.zeros(hi - lo, np.float32)
            for i in sorted(live):
                s, clip = round(clips[i][1] * sr), live[i]
                a, b = max(lo, s), min(hi, s + len(clip))
                if a < b:
                    buf[a - lo : b - lo] += clip[a - s : b - s]
                if s + len(clip) <= hi:
                    del live[i]
            out.write(buf)


# ------------------------------------------------------------------------------------- ducking


def voice_activity(voice: np.ndarray, sr: int, *, hop: float = 0.01, threshold_db: float = -45.0) -> np.ndarray:
    """Per-hop booleans: where the voice track is louder than `threshold_db` dBFS RMS."""
    v = to_mono(np.asarray(voice, np.float32))
    h = max(1, round(hop * sr))
    n_hops = -(-len(v) // h)
    padded = np.zeros(n_hops * h, np.float32)
    padded[: len(v)] = v
    rms = np.sqrt(np.mean(np.square(padded.reshape(n_hops, h), dtype=np.float64), axis=1))
    result: np.ndarray = rms > 10.0 ** (threshold_db / 20.0)
    return result


def voice_activity_wav(path: Path, *, hop: float = 0.01, threshold_db: float = -45.0, chunk_hops: int = 1000) -> np.ndarray:
    """voice_activity() of a WAV's (mono-mixed) samples, read a chunk at a time."""
    with WavReader(path) as wav:
        h = max(1, round(hop * wav.rate))
        parts = [voice_activity(to_mono(x), wav.rate, hop=hop, threshold_db=threshold_db)
                 for _, x in wav.chunks(h * chunk_hops)]  # whole hops per chunk: the same hops as one pass
    return np.concatenate(parts) if parts else np.zeros(0, bool)


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class DuckCurve:
    """A music gain in dB per 10 ms hop (small even for a long film), sampled per chunk as needed."""

    centers: np.ndarray  # sample position of each hop's centre
    gain_db: np.ndarray
    depth: float  # the linear gain under speech (the floor)

    def gain(self, lo: int, hi: int) -> np.ndarray:
        """Linear per-sample gain for samples [lo, hi), float32."""
        out = np.empty(max(0, hi - lo), np.float32)
        block = 1 << 19  # no float64 temporaries longer than a block
        for a in range(lo, hi, block):
            b = min(hi, a + block)
            out[a - lo : b - lo] = np.power(10.0, np.interp(np.arange(a, b, dtype=np.float64), self.centers, self.gain_db) / 20.0)
        np.clip(out, self.depth, 1.0, out=out)
        return out


def duck_curve(
    active: np.ndarray, sr: int, *, depth_db: float = -14.0, attack: float = 0.08, release: float = 0.4,
    hold: float = 0.25, hop: float = 0.01,
) -> DuckCurve | None:
    """The ducking gain for per-hop voice activity, or None where no one speaks (gain 1 throughout).

    The voice is known ahead of time, so the gain starts falling `attack` seconds before a line
    and reaches full depth as it begins; short pauses (< `hold`) between words keep the music down
    so it does not pump.
    """
    if not active.any():
        return None
    h = max(1, round(hop * sr))
    # Bridge gaps shorter than `hold` (a dilation then an erosion, done with cumulative sums).
    k = max(1, round(hold / hop))
    dil = _window_any(active, k, k)
    closed = ~_window_any(~dil, k, k)
    # Lookahead: the target is "down" from `attack` before speech starts.
    lead = max(1, round(attack / hop))
    target = _window_any(closed, 0, lead)
    target_db = np.where(target, depth_db, 0.0)
    # Linear-in-dB ramps: down over `attack`, up over `release`; a short loop over hops (100/s).
    down_step = -depth_db / max(1, lead)
    up_step = -depth_db / max(1.0, release / hop)
    gain_db = np.empty(len(target_db))
    g = 0.0
    for i, t in enumerate(target_db.tolist()):
        g = max(t, g - down_step) if t < g else min(t, g + up_step)
        gain_db[i] = g
    centers = ((np.arange(len(gain_db)) + 0.5) * h).astype(np.float64)
    return DuckCurve(centers, gain_db, 10.0 ** (depth_db / 20.0))


def duck_gain(
    voice: np.ndarray, sr: int, *, depth_db: float = -14.0, attack: float = 0.08, release: float = 0.4,
    hold: float = 0.25,
) -> np.ndarray:
    """Per-sample music gain (linear): `depth_db` under speech, 1 elsewhere, with smooth ramps (see duck_curve)."""
    curve = duck_curve(voice_activity(voice, sr), sr, depth_db=depth_db, attack=attack, release=release, hold=hold)
    return np.ones(len(voice), np.float32) if curve is None else curve.gain(0, len(voice))


def _window_any(mask: np.ndarray, before: int, after: int) -> np.ndarray:
    """out[i] = any(mask[i - before : i + after + 1]) (window clipped at the ends)."""
    c = np.concatenate(([0], np.cumsum(mask, dtype=np.int64)))
    idx = np.arange(len(mask))
    hi = np.minimum(len(mask), idx + after + 1)
    lo = np.maximum(0, idx - before)
    result: np.ndarray = (c[hi] - c[lo]) > 0
    return result


def duck(
    music: np.ndarray, voice: np.ndarray, sr: int, *, depth_db: float = -14.0, attack: float = 0.08,
    release: float = 0.4, inplace: bool = False,
) -> np.ndarray:
    """Music with a smooth sidechain gain from the voice: `depth_db` under speech, unchanged elsewhere."""
    n = min(len(music), len(voice))
    gain = duck_gain(voice[:n], sr, depth_db=depth_db, attack=attack, release=release)
    out: np.ndarray = music.astype(np.float32, copy=not inplace)
    out[:n] *= gain[:, None] if out.ndim == 2 else gain
    return out


# ------------------------------------------------------------------------------------ loudness


_INTEGRATED = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf|nan)\s*LUFS")
_RANGE = re.compile(r"Loudness range:\s*LRA:\s*(-?[\d.]+|nan)\s*LU")
_TRUE_PEAK = re.compile(r"True peak:\s*Peak:\s*(-?[\d.]+|-inf|nan)\s*dBFS")


def measure_loudness(path: Path, *, cancel: CancelToken | None = None, true_peak: bool = True) -> LoudnessReport:
    """Integrated loudness, true peak and LRA of a file, from ffmpeg's `ebur128=peak=true` summary.

    With `true_peak=False` the (slower) 4x-oversampled peak scan is skipped and the peak reads -inf.
    """
    mode = "true" if true_peak else "none"
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info", "-i", str(path),
           "-af", f"ebur128=peak={mode}:framelog=verbose", "-f", "null", "-"]
    with tempfile.TemporaryFile() as errfile:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errfile, stdin=subprocess.DEVNULL)
        try:
            while proc.poll() is None:
                if cancel is not None and cancel.cancelled:
                    raise Cancelled("the render was cancelled")
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        errfile.seek(0)
        text = errfile.read().decode(errors="replace")
    summary = text[text.rfind("Summary:") :] if "Summary:" in text else ""
    i, lra, tp = (rx.search(summary) for rx in (_INTEGRATED, _RANGE, _TRUE_PEAK))
    if proc.returncode != 0 or i is None or lra is None or (true_peak and tp is None):
        raise RenderFailed(f"loudness measurement failed: {text[-800:]}", code="LOUDNESS_FAILED")
    return LoudnessReport(_num(i[1]), _num(tp[1]) if tp else float("-inf"), _num(lra[1]))


def _num(s: str) -> float:
    return float("-inf") if s == "-inf" else float(s)


def true_peak_blocks(x: np.ndarray, block: int, *, factor: int = 4, segment: int = 1 << 16) -> np.ndarray:
    """Peak |sample| per `block` input samples after `factor`x band-limited oversampling (all channels)."""
    planar = np.asarray(x, np.float32).reshape(len(x), -1).T  # (channels, n): FFTs along contiguous rows
    n = planar.shape[1]

    def read(a: int, b: int) -> np.ndarray:
        seg = np.zeros((planar.shape[0], b - a), np.float32)
        seg[:, max(0, a) - a : min(n, b) - a] = planar[:, max(0, a) : min(n, b)]
        return seg

    return true_peaks_span(read, n, 0, n, block, factor, segment)


def true_peak_core(block: int, segment: int = 1 << 16, pad: int = 64) -> int:
    """Samples per true-peak transform (a whole number of blocks); streamed chunks are multiples of it."""
    return max(block, (segment - 2 * pad) // block * block)


def true_peaks_span(
    read: Callable[[int, int], np.ndarray], n: int, lo: int, hi: int, block: int, factor: int = 4,
    segment: int = 1 << 16,
) -> np.ndarray:
    """true_peak_blocks() for the blocks of samples [lo, hi) of an n-sample signal (lo a multiple of true_peak_core).

    `read(a, b)` gives planar (channels, b - a) float32 samples, zeros outside [0, n).
    """
    pad = 64
    # Power-of-two transforms; the padded edges (where the FFT wraps around) are discarded.
    core = true_peak_core(block, segment, pad)
    segment = max(segment, core + 2 * pad)
    peaks = np.zeros(-(-(hi - lo) // block), np.float32)
    for start in range(lo, hi, core):
        stop = min(n, start + core)
        data = read(start - pad, stop + pad)
        seg = np.zeros((data.shape[0], segment), np.float32)  # single-precision FFTs are plenty here
        seg[:, : data.shape[1]] = data
        over = np.abs(np.fft.irfft(np.fft.rfft(seg), n=segment * factor)[:, pad * factor : (pad + stop - start) * factor])
        nb = -(-(stop - start) // block)
        body = np.zeros(nb * block * factor, np.float32)
        body[: over.shape[1]] = over[0]
        for row in over[1:]:  # channel-wise maximum: elementwise, far faster than a reduce over axis 0
            np.maximum(body[: len(row)], row, out=body[: len(row)])
        # The raw samples are peaks too (the oversampled curve passes through them only approximately).
        raw = np.zeros(nb * block, np.float32)
        np.max(np.abs(data[:, pad : pad + stop - start]), axis=0, out=raw[: stop - start])
        b0 = (start - lo) // block
        peaks[b0 : b0 + nb] = np.maximum(body.reshape(nb, -1).max(axis=1) * factor, raw.reshape(nb, block).max(axis=1))
    return peaks


def limiter_gain(x: np.ndarray, sr: int, ceiling: float, *, hold: float = 0.01, chunk: int = 1 << 19) -> np.ndarray:
    """Per-sample gain (<= 1) keeping oversampled peaks under `ceiling`, changing over ~`hold` seconds.

    Works on 1 ms blocks: the required gain is min-filtered over +/- (hold + 1 block) and then
    box-averaged over +/- hold, which keeps it at or under the requirement everywhere while
    avoiding clicks. Made `chunk` samples at a time (as the streamed master does).
    """
    block = max(1, sr // 1000)
    need = np.minimum(1.0, ceiling / np.maximum(true_peak_blocks(x, block), 1e-12))
    out = np.empty(len(x), np.float32)
    for lo in range(0, len(x), chunk):
        hi = min(len(x), lo + chunk)
        out[lo:hi] = limiter_span(need, lo, hi, block, max(1, round(hold * sr / block)))
    return out


def limiter_span(need: np.ndarray, lo: int, hi: int, block: int, w: int) -> np.ndarray:
    """limiter_gain() for samples [lo, hi) from the per-block requirement `need` of the whole signal.

    Each sample's gain depends on blocks within +/- (2w + 3) of its own, so only that excerpt is filtered.
    """
    reach = w + 1
    margin = reach + w + 2
    b0, b1 = max(0, lo // block - margin), min(len(need), (hi - 1) // block + 1 + margin)
    seg = need[b0:b1]
    if seg.min() >= 1.0:
        return np.ones(hi - lo, np.float32)
    m = seg.copy()
    for s in range(1, reach + 1):  # a sliding minimum as a few passes
        m[s:] = np.minimum(m[s:], seg[:-s])
        m[:-s] = np.minimum(m[:-s], seg[s:])
    c = np.concatenate(([0.0], np.cumsum(m, dtype=np.float64)))
    idx = np.arange(b0, b1)
    lo_i, hi_i = np.maximum(0, idx - w), np.minimum(len(need), idx + w + 1)  # the film's window (for the count)
    smooth = (c[np.clip(hi_i - b0, 0, len(m))] - c[np.clip(lo_i - b0, 0, len(m))]) / (hi_i - lo_i)
    result: np.ndarray = np.interp(np.arange(lo, hi, dtype=np.float64), (idx + 0.5) * block, smooth).astype(np.float32)
    return result


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()
