"""The score as note events, rendered chunk by chunk: the engine under providers.music.

A note is kept as (start, wave source, left/right gain) rather than written into a film-long
buffer; each chunk sums the events that overlap it (in the order they were added, so the sums
round exactly as one buffer would), then the reverb, swells and fades are applied per chunk.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


def hz(midi: float) -> float:
    """The frequency of a MIDI note number (A4 = 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((midi - 69) / 12.0)


@dataclass(frozen=True)
class Note:
    """A note to render on demand: waves are made when a chunk needs them (and cached, bounded)."""

    key: tuple[object, ...]
    hz: float
    frames: int
    make: Callable[[float, int, int], np.ndarray]


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class Loop:
    """A textured bed (lofi crackle): a noise grain repeated, with sparse clicks; made per chunk."""

    frames: int
    grain: np.ndarray
    level: float
    clicks_at: np.ndarray  # sorted, unique sample offsets within the bed
    clicks: np.ndarray  # float32 click values there

    def slice(self, a: int, b: int) -> np.ndarray:
        out: np.ndarray = self.grain[np.arange(a, b) % len(self.grain)] * self.level
        i, j = np.searchsorted(self.clicks_at, (a, b))
        out[self.clicks_at[i:j] - a] += self.clicks[i:j]
        return out


Source = np.ndarray | Note | Loop
LONG_NOTE = 1 << 20  # frames: longer notes (a scene-long drone) are made slice by slice, never whole
CACHE_BYTES = 48 << 20  # rendered notes kept between chunks


class Score:
    """The score as events (start, source, left/right gain) in the order parts added them."""

    def __init__(self, n: int, sr: int, rng: np.random.Generator) -> None:
        self.n = n
        self.sr = sr
        self.rng = rng
        self.drums: dict[tuple[object, ...], np.ndarray] = {}  # percussion one-shots (made with the rng, kept)
        self._waves: OrderedDict[tuple[object, ...], np.ndarray] = OrderedDict()  # least recently used first
        self._bytes = 0
        self._events: list[tuple[int, int, Source, np.float32, np.float32]] = []
        self._bounds: np.ndarray | None = None

    def add(self, t: float, wave: Source, gain: float, pan: float = 0.0) -> None:
        length = _frames(wave)
        s = round(t * self.sr)
        if s >= self.n or length == 0 or min(self.n, s + length) <= max(s, 0):
            return
        angle = (pan + 1.0) * math.pi / 4.0
        self._events.append((s, length, wave, np.float32(gain * math.cos(angle)), np.float32(gain * math.sin(angle))))
        self._bounds = None

    def add_bed(self, n0: int, loop: Loop) -> None:
        """Add a bed to both channels as is (no pan law), like a plain buffer addition."""
        self._events.append((n0, loop.frames, loop, np.float32(1), np.float32(1)))
        self._bounds = None

    def note(self, kind: str, midi: float, dur: float, make: Callable[[float, int, int], np.ndarray]) -> Note:
        """A note to render, keyed by (kind, pitch, length) because scores repeat themselves."""
        n = max(1, round(dur * self.sr))
        return Note((kind, round(midi, 2), n), hz(midi), n, make)

    def render(self, lo: int, hi: int) -> np.ndarray:
        """The dry sum of all events over frames [lo, hi): planar (2, hi - lo) float32."""
        if self._bounds is None:
            self._bounds = np.array([(s, min(self.n, s + n)) for s, n, *_ in self._events], np.int64).reshape(-1, 2)
        buf = np.zeros((2, hi - lo), np.float32)
        hit = np.flatnonzero((self._bounds[:, 0] < hi) & (self._bounds[:, 1] > lo))
        for i in hit.tolist():  # in the order the parts added them: sums round the same as one buffer
            s, _, src, g0, g1 = self._events[i]
            a, b = max(lo, s, 0), min(hi, int(self._bounds[i, 1]))
            if isinstance(src, Loop):
                buf[:, a - lo : b - lo] += src.slice(a - s, b - s)[None, :]
                continue
            seg = self._slice(src, a - s, b - s)
            buf[0, a - lo : b - lo] += seg * g0
            buf[1, a - lo : b - lo] += seg * g1
        return buf

    def _slice(self, src: np.ndarray | Note, a: int, b: int) -> np.ndarray:
        if isinstance(src, np.ndarray):
            return src[a:b]
        slicer = getattr(src.make, "slice", None)
        if src.frames > LONG_NOTE and slicer is not None:
            part: np.ndarray = slicer(src.hz, src.frames, self.sr, a, b).astype(np.float32)
            return part
        wave = self._waves.get(src.key)
        if wave is None:
            wave = src.make(src.hz, src.frames, self.sr).astype(np.float32)
            self._waves[src.key] = wave
            self._bytes += wave.nbytes
            while self._bytes > CACHE_BYTES and len(self._waves) > 1:
                self._bytes -= self._waves.popitem(last=False)[1].nbytes
        else:
            self._waves.move_to_end(src.key)
        return wave[a:b]


def _frames(src: Source) -> int:
    if isinstance(src, Note):
        return src.frames
    if isinstance(src, Loop):
        return src.frames
    return len(src)


def swells(x: np.ndarray, lo: int, sr: int, starts: Sequence[float], n: int) -> None:
    """A small level bump around each scene start (the music 'breathes in' for the cut); x holds [lo, ...)."""
    hi = lo + x.shape[1]
    for s in starts:
        a, b = max(lo, round((s - 1.5) * sr)), min(hi, n, round((s + 1.5) * sr))
        if b <= a:
            continue
        t = np.arange(a, b) / sr - s
        x[:, a - lo : b - lo] *= (1.0 + 0.3 * np.exp(-((t / 0.6) ** 2))).astype(np.float32)


def fades(x: np.ndarray, lo: int, sr: int, duration: float, n: int) -> None:
    """Raised-cosine fade in and out over the piece's ends; x holds frames [lo, ...)."""
    hi = lo + x.shape[1]
    fin = min(n, round(min(2.0, duration * 0.1) * sr))
    fout = min(n, round(min(3.0, duration * 0.15) * sr))
    if fin and lo < fin:
        b = min(hi, fin)
        x[:, : b - lo] *= (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, fin)[lo:b])).astype(np.float32)
    if fout and hi > n - fout:
        a = max(lo, n - fout)
        x[:, a - lo :] *= (0.5 + 0.5 * np.cos(np.linspace(0, np.pi, fout)[a - (n - fout) : hi - (n - fout)])).astype(
            np.float32)


TAPS = ((0.023, 0.029), (0.041, 0.047), (0.067, 0.073), (0.097, 0.103), (0.131, 0.139), (0.173, 0.181))


class Reverb:
    """A cheap diffuse tail: two stages of multi-tap echoes, different per channel, fed chunk by chunk.

    Echo tails carry little treble, so they are built at a quarter of the rate and linearly
    interpolated back. Every tap delays, so a chunk's tail needs only the past: the delay lines
    (at most ~0.75 s) are carried from chunk to chunk, and the result equals one whole-piece pass.
    """

    down = 4

    def __init__(self, n: int, sr: int, wet: float) -> None:
        self.m = m = n // self.down
        low_sr = sr / self.down
        self.k1 = [min(m, round(d * 3.1 * low_sr)) for d, _ in TAPS]
        self.g1 = [np.float32(0.7**i) for i in range(len(TAPS))]
        self.k2 = [[min(m, round(pair[c] * low_sr)) for pair in TAPS] for c in (0, 1)]
        self.g2 = [np.float32(wet * 0.35 * 0.8**i) for i in range(len(TAPS))]
        self.mono = np.zeros(max(self.k1, default=0), np.float32)  # the last low-rate input samples
        self.stage = np.zeros(max(max(k) for k in self.k2), np.float32)  # the last first-stage outputs

    def process(self, x: np.ndarray, lo: int) -> None:
        """Add the tail to planar chunk x (frames [lo, ...), lo a multiple of 4), in place."""
        if self.m < 2:
            return
        d = self.down
        j0, j1 = lo // d, min(self.m, (lo + x.shape[1]) // d)
        k = j1 - j0
        if k <= 0:
            return
        mono = x[0, : k * d].reshape(k, d).mean(axis=1, dtype=np.float32)
        mono += x[1, : k * d].reshape(k, d).mean(axis=1, dtype=np.float32)
        mono *= np.float32(0.5)
        h1, h2 = len(self.mono), len(self.stage)
        ext = np.concatenate((self.mono, mono))  # low-rate samples [j0 - h1, j1)
        stage = np.zeros(k, np.float32)
        for delay, g in zip(self.k1, self.g1, strict=True):
            stage += ext[h1 - delay : h1 - delay + k] * g
        ext_stage = np.concatenate((self.stage, stage))  # [j0 - h2, j1)
        width = min(j1 + 1, self.m) - j0  # one more tail sample for the last interpolation step
        ramp = (np.arange(d, dtype=np.float32) / d)[None, :]
        for c in (0, 1):
            tail = np.zeros(width, np.float32)
            for delay, g in zip(self.k2[c], self.g2, strict=True):
                tail += ext_stage[h2 - delay : h2 - delay + width] * g
            step = np.diff(tail, append=tail[-1:])[:k]
            x[c, : k * d] += (tail[:k, None] + step[:, None] * ramp).reshape(-1)
        self.mono = ext[len(ext) - h1 :]
        self.stage = ext_stage[len(ext_stage) - h2 :]
