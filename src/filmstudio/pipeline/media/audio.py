"""Audio math: WAV I/O, resampling, clip placement, ducking, and the loudness-normalised master."""

from __future__ import annotations

import math
import re
import struct
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from filmstudio.domain.errors import Cancelled, RenderFailed
from filmstudio.pipeline.context import CancelToken, atomic_output
from filmstudio.pipeline.media.ffmpeg import ffmpeg_exe

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


@dataclass(frozen=True)
class LoudnessReport:
    """What ffmpeg's ebur128 meter (true-peak mode) says about a file."""

    integrated_lufs: float
    true_peak_dbtp: float
    lra: float
    gain_db: float = 0.0  # the overall gain the master applied (0 for a plain measurement)


# --------------------------------------------------------------------------------------- WAV I/O


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Read a PCM (8/16/24/32-bit) or float WAV: float32 samples, shape (n,) mono or (n, ch), and the rate."""
    data = Path(path).read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise RenderFailed(f"{path} is not a WAV file", code="AUDIO_INVALID")
    pos, fmt, body = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        chunk = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            fmt = chunk
        elif cid == b"data":
            body = chunk
            # Streamed writers leave 0 or 0xFFFFFFFF as the size: the data runs to the end.
            if size in (0, 0xFFFFFFFF):
                body = data[pos + 8 :]
            break
        pos += 8 + size + (size & 1)
    if fmt is None or body is None:
        raise RenderFailed(f"{path} has no fmt/data chunk", code="AUDIO_INVALID")
    tag, channels, rate = struct.unpack("<HHI", fmt[:8])
    bits = struct.unpack("<H", fmt[14:16])[0]
    if tag == _EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack("<H", fmt[24:26])[0]
    width = bits // 8
    body = body[: len(body) - len(body) % (width * channels)]
    if tag == _FLOAT and bits == 32:
        x = np.frombuffer(body, "<f4").astype(np.float32)
    elif tag == _FLOAT and bits == 64:
        x = np.frombuffer(body, "<f8").astype(np.float32)
    elif tag == _PCM and bits == 8:
        x = (np.frombuffer(body, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif tag == _PCM and bits == 16:
        x = np.frombuffer(body, "<i2").astype(np.float32) / 32768.0
    elif tag == _PCM and bits == 24:
        raw = np.frombuffer(body, np.uint8).reshape(-1, 3).astype(np.int32)
        ints = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        x = ints.astype(np.float32) / float(1 << 23)
    elif tag == _PCM and bits == 32:
        x = (np.frombuffer(body, "<i4").astype(np.float64) / 2147483648.0).astype(np.float32)
    else:
        raise RenderFailed(f"{path}: unsupported WAV format {tag}/{bits}-bit", code="AUDIO_INVALID")
    if channels > 1:
        x = x.reshape(-1, channels)
    return x, int(rate)


def write_wav(path: Path, samples: np.ndarray, sr: int, *, float32: bool = False) -> None:
    """Write mono (n,) or multichannel (n, ch) samples as 16-bit PCM (or 32-bit float), atomically.

    Converted and written in blocks, so a long film's audio needs no film-long temporaries.
    """
    x = np.asarray(samples)
    channels = 1 if x.ndim == 1 else int(x.shape[1])
    tag, bits = (_FLOAT, 32) if float32 else (_PCM, 16)
    block = channels * bits // 8
    data_bytes = len(x) * block
    fmt = struct.pack("<HHIIHH", tag, channels, sr, sr * block, block, bits)
    if tag == _FLOAT:
        fmt += struct.pack("<H", 0)  # float WAVs carry a cbSize field
    header = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if tag == _FLOAT:
        header += b"fact" + struct.pack("<II", 4, len(x))
    header += b"data" + struct.pack("<I", data_bytes)
    with atomic_output(Path(path)) as tmp, tmp.open("wb") as fh:
        fh.write(b"RIFF" + struct.pack("<I", len(header) + data_bytes) + header)
        step = 1 << 18
        for lo in range(0, len(x), step):
            part = np.asarray(x[lo : lo + step], np.float32)
            if float32:
                fh.write(np.ascontiguousarray(part, dtype="<f4").tobytes())
            else:
                scaled = part * np.float32(32768.0)
                np.round(scaled, out=scaled)
                np.clip(scaled, -32768, 32767, out=scaled)
                fh.write(scaled.astype("<i2").tobytes())


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


def place_clips(clips: Sequence[tuple[Path, float]], duration: float, sr: int) -> np.ndarray:
    """A mono track of `duration` seconds with each clip added at its start second (sample-exact)."""
    n = round(duration * sr)
    track = np.zeros(n, np.float32)
    for path, start in clips:
        clip, clip_sr = read_wav(path)
        clip = to_mono(clip)
        if clip_sr != sr:
            clip = resample(clip, clip_sr, sr)
        s = round(start * sr)
        if s >= n or s + len(clip) <= 0:
            continue
        lo = max(0, -s)
        hi = min(len(clip), n - s)
        track[s + lo : s + hi] += clip[lo:hi]
    return track


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


def duck_gain(
    voice: np.ndarray, sr: int, *, depth_db: float = -14.0, attack: float = 0.08, release: float = 0.4,
    hold: float = 0.25,
) -> np.ndarray:
    """Per-sample music gain (linear): `depth_db` under speech, 1 elsewhere, with smooth ramps.

    The voice is known ahead of time, so the gain starts falling `attack` seconds before a line
    and reaches full depth as it begins; short pauses (< `hold`) between words keep the music down
    so it does not pump.
    """
    hop = 0.01
    h = max(1, round(hop * sr))
    active = voice_activity(voice, sr, hop=hop)
    if not active.any():
        return np.ones(len(voice), np.float32)
    # Bridge gaps shorter than `hold` (a dilation then an erosion, done with cumulative sums).
    k = max(1, round(hold / hop))
    dil = _window_any(active, k, k)
    closed = ~_window_any(~dil, k, k)
    # Lookahead: the target is "down" from `attack` before speech starts.
    lead = max(1, round(attack / hop))
    target = _window_any(closed, 0, lead)
    depth = 10.0 ** (depth_db / 20.0)
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
    out = np.empty(len(voice), np.float32)
    # Per-sample gain in blocks: whole-film float64 temporaries cost ~8 bytes x samples x 3.
    block = 1 << 19
    for lo in range(0, len(voice), block):
        hi = min(len(voice), lo + block)
        per_sample = np.interp(np.arange(lo, hi, dtype=np.float64), centers, gain_db)
        out[lo:hi] = np.power(10.0, per_sample / 20.0)
    np.clip(out, depth, 1.0, out=out)
    return out


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
    n_blocks = -(-n // block)
    peaks = np.zeros(n_blocks, np.float32)
    pad = 64
    # Power-of-two transforms; the padded edges (where the FFT wraps around) are discarded.
    core = max(block, (segment - 2 * pad) // block * block)
    segment = max(segment, core + 2 * pad)
    for start in range(0, n, core):
        stop = min(n, start + core)
        seg = np.zeros((planar.shape[0], segment), np.float32)  # single-precision FFTs are plenty here
        lo, hi = max(0, start - pad), min(n, stop + pad)
        seg[:, lo - start + pad : hi - start + pad] = planar[:, lo:hi]
        over = np.abs(np.fft.irfft(np.fft.rfft(seg), n=segment * factor)[:, pad * factor : (pad + stop - start) * factor])
        nb = -(-(stop - start) // block)
        body = np.zeros(nb * block * factor, np.float32)
        body[: over.shape[1]] = over[0]
        for row in over[1:]:  # channel-wise maximum: elementwise, far faster than a reduce over axis 0
            np.maximum(body[: len(row)], row, out=body[: len(row)])
        peaks[start // block : start // block + nb] = body.reshape(nb, -1).max(axis=1) * factor
    # The raw samples are peaks too (the oversampled curve passes through them only approximately).
    raw_peaks = np.zeros(n_blocks, np.float32)
    step = block * 4096
    for start in range(0, n, step):  # in blocks: no film-long temporaries
        stop = min(n, start + step)
        nb = -(-(stop - start) // block)
        raw = np.zeros(nb * block, np.float32)
        for row in planar:
            np.maximum(raw[: stop - start], np.abs(row[start:stop]), out=raw[: stop - start])
        raw_peaks[start // block : start // block + nb] = raw.reshape(nb, block).max(axis=1)
    result: np.ndarray = np.maximum(peaks, raw_peaks)
    return result


def limiter_gain(x: np.ndarray, sr: int, ceiling: float, *, hold: float = 0.01) -> np.ndarray:
    """Per-sample gain (<= 1) keeping oversampled peaks under `ceiling`, changing over ~`hold` seconds.

    Works on 1 ms blocks: the required gain is min-filtered over +/- (hold + 1 block) and then
    box-averaged over +/- hold, which keeps it at or under the requirement everywhere while
    avoiding clicks.
    """
    block = max(1, sr // 1000)
    peaks = true_peak_blocks(x, block)
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    if need.min() >= 1.0:
        return np.ones(len(x), np.float32)
    w = max(1, round(hold * sr / block))
    reach = w + 1
    m = need.copy()
    for s in range(1, reach + 1):  # a sliding minimum as a few whole-array passes
        m[s:] = np.minimum(m[s:], need[:-s])
        m[:-s] = np.minimum(m[:-s], need[s:])
    c = np.concatenate(([0.0], np.cumsum(m, dtype=np.float64)))
    idx = np.arange(len(m))
    lo, hi = np.maximum(0, idx - w), np.minimum(len(m), idx + w + 1)
    smooth = (c[hi] - c[lo]) / (hi - lo)
    centers = (idx + 0.5) * block
    out = np.empty(len(x), np.float32)
    step = 1 << 19  # in blocks: no film-long float64 temporaries
    for start in range(0, len(x), step):
        stop = min(len(x), start + step)
        out[start:stop] = np.interp(np.arange(start, stop, dtype=np.float64), centers, smooth)
    return out


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
    """Mix voice (mono) over music (stereo, already ducked) and write a stereo WAV at the target loudness.

    Music sits `music_db` under the speech's loudness before ducking. Loudness and true peak are
    measured by ffmpeg's ebur128 meter; the gain and an oversampled look-ahead limiter are
    applied here, then measured again (up to a few passes) until both targets hold.
    """
    n = len(voice) if music is None else max(len(voice), len(music))
    mix = np.zeros((n, 2), np.float32)
    v = to_mono(np.asarray(voice, np.float32))
    mix[: len(v)] += v[:, None]
    if music is not None and len(music):
        m = music if music.ndim == 2 else music[:, None]
        gain = np.float32(_music_balance(v, m, sr, music_db))
        for lo in range(0, len(m), 1 << 19):  # in blocks: no film-long temporary
            mix[lo : lo + (1 << 19)] += m[lo : lo + (1 << 19)] * gain
    _check(cancel)
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="fs-master-") as tmpdir:
        probe_path = Path(tmpdir) / "pass.wav"
        write_wav(probe_path, mix, sr, float32=True)
        report = measure_loudness(probe_path, cancel=cancel, true_peak=False)
        if not math.isfinite(report.integrated_lufs) or report.integrated_lufs < -65.0:
            write_wav(out, mix, sr)  # silence stays silence: no gain can make it -14 LUFS
            return measure_loudness(out, cancel=cancel)
        total_db = 0.0
        ceiling = 10.0 ** ((true_peak - 0.3) / 20.0)
        for _attempt in range(5):
            gain_db = target_lufs - report.integrated_lufs
            # Limiting peaks costs loudness; win it back before measuring (energy ratio as the guide).
            for _ in range(3):
                total_db += gain_db
                mix *= np.float32(10.0 ** (gain_db / 20.0))
                before = _energy(mix)
                _check(cancel)
                mix *= limiter_gain(mix, sr, ceiling)[:, None]
                gain_db = 10.0 * math.log10(before / max(_energy(mix), 1e-20))
                if gain_db < 0.1:
                    break
            _check(cancel)
            write_wav(out, mix, sr)
            report = measure_loudness(out, cancel=cancel)
            if report.true_peak_dbtp > true_peak:
                ceiling *= 10.0 ** ((true_peak - report.true_peak_dbtp - 0.2) / 20.0)
            elif abs(report.integrated_lufs - target_lufs) <= 0.4:
                break
        return LoudnessReport(report.integrated_lufs, report.true_peak_dbtp, report.lra, round(total_db, 2))


def _energy(x: np.ndarray) -> float:
    flat = x.reshape(-1)
    return float(np.dot(flat, flat)) / max(1, len(flat))


def _music_balance(voice: np.ndarray, music: np.ndarray, sr: int, music_db: float) -> float:
    """Linear gain putting the music's RMS `music_db` under the speech's active-part RMS."""
    active = voice_activity(voice, sr)
    music_rms = _rms(music)
    if music_rms <= 1e-9 or not active.any():
        return 1.0
    h = max(1, round(0.01 * sr))
    mask = np.repeat(active, h)[: len(voice)]
    voice_rms = _rms(voice[mask])
    return voice_rms * 10.0 ** (music_db / 20.0) / music_rms


def _rms(x: np.ndarray) -> float:
    """RMS over all samples, summed in blocks (no film-long float64 temporary)."""
    total, count = 0.0, 0
    for lo in range(0, len(x), 1 << 18):
        part = np.asarray(x[lo : lo + (1 << 18)], np.float32).reshape(-1)
        total += float(np.dot(part, part))
        count += part.size
    return math.sqrt(total / count) if count else 0.0


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.raise_if_cancelled()
