"""Checks on real media for tests: ffprobe, loudness, decoded frames (import as `media_checks`)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any


def ffprobe(path: Path) -> dict[str, Any]:
    exe = shutil.which("ffprobe")
    assert exe, "ffprobe is needed by the tests (apt-get install ffmpeg)"
    out = subprocess.run(
        [exe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", "-show_chapters", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout
    data: dict[str, Any] = json.loads(out)
    return data


def ebur128(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) as ffmpeg's ebur128 filter measures them."""
    proc = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a:0", "-af", "ebur128=peak=true",
         "-f", "null", "-"], capture_output=True, text=True, check=True,
    )
    text = proc.stderr[proc.stderr.rfind("Summary:"):]
    integrated = float(text.split("I:")[1].split("LUFS")[0])
    peak = float(text.split("Peak:")[1].split("dBFS")[0])
    return integrated, peak


def decode_frame(path: Path, t: float, size: tuple[int, int]) -> Any:
    """The RGB frame at `t` seconds as a numpy array (h, w, 3)."""
    import numpy as np

    w, h = size
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", f"{t:.3f}", "-i", str(path), "-frames:v", "1", "-f", "rawvideo",
         "-pix_fmt", "rgb24", "-"], capture_output=True, check=True,
    ).stdout
    return np.frombuffer(raw, dtype=np.uint8)[: w * h * 3].reshape(h, w, 3)


def median_f0(x: Any, sr: int, *, floor: float = 0.03) -> float:
    """Median pitch (Hz) of the voiced 40 ms frames, by autocorrelation (60-500 Hz); frames quieter than `floor` RMS skip."""
    import numpy as np

    n = round(0.04 * sr)
    f0s = []
    for i in range(0, len(x) - n, n // 2):
        frame = x[i : i + n] - x[i : i + n].mean()
        if np.sqrt(np.mean(frame**2)) < floor:
            continue
        ac = np.correlate(frame, frame, "full")[n - 1 :]
        lo, hi = sr // 500, sr // 60
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.3 * ac[0]:
            f0s.append(sr / lag)
    assert len(f0s) > 5, "no voiced frames found"
    return float(np.median(f0s))
