"""A line's delivery applied to its finished clip: tone through ffmpeg's filters, level in numpy.

The clip keeps its start (word timings stay true); reflections may add a few tens of milliseconds
at the end. The level is relative to the clip's own peak, so it works for every engine's clips.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.media.ffmpeg import run_ffmpeg
from filmstudio.pipeline.media.wavstream import read_wav, write_wav
from filmstudio.pipeline.script.delivery import Delivery

MAX_TAIL_S = 0.08  # reflections kept after the speech ends


def filter_chain(delivery: Delivery) -> str:
    """The ffmpeg audio filters for a delivery's tone ("anull" when it has none)."""
    parts: list[str] = []
    if delivery.highpass_hz:
        parts.append(f"highpass=f={delivery.highpass_hz:g}:poles=2")
    if delivery.lowpass_hz:
        parts.append(f"lowpass=f={delivery.lowpass_hz:g}:poles=2")
    if delivery.bass_db:
        parts.append(f"bass=g={delivery.bass_db:g}:f=200")
    if delivery.treble_db:
        parts.append(f"treble=g={delivery.treble_db:g}:f=3500")
    if delivery.compress:
        # -20 dB threshold, 4:1, fast: a shout's quieter syllables come up to its loud ones.
        parts.append("acompressor=threshold=0.1:ratio=4:attack=4:release=60:makeup=3")
    if delivery.room > 0:
        r = min(1.0, delivery.room)
        decays = "|".join(f"{d * r:.3f}" for d in (0.32, 0.22, 0.14))
        parts.append(f"aecho=in_gain=1:out_gain=1:delays=19|37|61:decays={decays}")
    return ",".join(parts) or "anull"


def treat_clip(src: Path, delivery: Delivery, out: Path, *, cancel: CancelToken | None = None) -> Path:
    """Write `src` spoken with `delivery` to `out` (mono 16-bit WAV at the clip's rate); returns `out`."""
    original, sr = read_wav(src)
    out.parent.mkdir(parents=True, exist_ok=True)
    filtered = out.with_name(f".{out.stem}.{os.getpid()}.{threading.get_ident()}.f32.wav")
    try:
        run_ffmpeg(["-i", str(src), "-af", filter_chain(delivery), "-ac", "1", "-ar", str(sr),
                    "-c:a", "pcm_f32le", "-f", "wav", str(filtered)], cancel=cancel)
        y, _ = read_wav(filtered)
    finally:
        filtered.unlink(missing_ok=True)
    y = np.asarray(y, np.float64).reshape(-1)[: len(original) + round(MAX_TAIL_S * sr)]
    if len(y) < len(original):  # never shorter than the speech: its word timings stay inside the clip
        y = np.concatenate([y, np.zeros(len(original) - len(y))])
    x = np.asarray(original, np.float64).reshape(-1)
    peak_in = float(np.max(np.abs(x))) if len(x) else 0.0
    peak_out = float(np.max(np.abs(y))) if len(y) else 0.0
    if peak_out > 1e-9:
        y = y * (peak_in * 10 ** (min(0.0, delivery.gain_db) / 20) / peak_out)
    write_wav(out, y.astype(np.float32), sr)  # atomic: a present clip is a finished clip
    return out
