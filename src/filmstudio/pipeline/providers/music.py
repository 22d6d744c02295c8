"""Original film music synthesised with numpy: a small arranger per genre that follows the scenes.

Each genre has its own tempo, key, chord progressions and instruments (wavetable pads and strings,
additive piano and plucks, FM bells and bass, filtered-noise drums, timpani). The harmony restarts
with a new progression at every scene start, announced by a riser and a hit or swell. Notes are
rendered once per (instrument, pitch, length) and added as array slices, so a 10-minute score
takes seconds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from filmstudio.domain.errors import InvalidSettings

GENRES: tuple[str, ...] = ("epic", "ambient", "upbeat", "dramatic", "calm", "lofi")
PEAK = 0.89

_MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
}


@dataclass(frozen=True)
class GenreStyle:
    """How one genre sounds: tempo, key, harmony and which parts play."""

    tempo: float  # beats per minute
    root: int  # MIDI note of the tonic (around octave 3)
    mode: str
    progressions: tuple[tuple[int, ...], ...]  # scale degrees, one chord per `bars_per_chord`; one per scene, cycling
    bars_per_chord: int
    parts: tuple[str, ...]
    seventh: bool = False
    swing: float = 0.5  # where the off-beat eighth falls within the beat (0.5 = straight)
    reverb: float = 0.2
    transition: str = "hit"  # "hit" (riser + crash/timpani) or "swell" (pad crescendo + bell)


STYLES: dict[str, GenreStyle] = {
    "epic": GenreStyle(84, 50, "minor", ((0, 5, 2, 6), (5, 3, 0, 4), (0, 3, 5, 4)), 1,
                       ("brass_pad", "low_strings", "timpani", "taiko", "choir"), reverb=0.3),
    "ambient": GenreStyle(56, 52, "lydian", ((0, 4), (5, 3), (1, 4)), 2,
                          ("soft_pad", "drone", "bells"), seventh=True, reverb=0.55, transition="swell"),
    "upbeat": GenreStyle(120, 55, "major", ((0, 4, 5, 3), (3, 4, 0, 5), (5, 3, 0, 4)), 1,
                         ("stabs", "fm_bass", "arp", "kick4", "snare", "hats16"), reverb=0.12),
    "dramatic": GenreStyle(68, 48, "minor", ((0, 5, 3, 4), (0, 1, 4, 0), (5, 6, 4, 4)), 1,
                           ("dark_pad", "ostinato", "timpani", "boom"), reverb=0.3),
    "calm": GenreStyle(72, 53, "major", ((0, 3, 4, 0), (5, 3, 0, 4), (3, 0, 4, 5)), 2,
                       ("warm_pad", "piano_arp"), reverb=0.4, transition="swell"),
    "lofi": GenreStyle(78, 53, "dorian", ((1, 4, 0, 0), (3, 4, 1, 5), (5, 1, 4, 0)), 1,
                       ("warm_pad", "piano_chords", "soft_bass", "boombap", "hats_swing", "crackle"),
                       seventh=True, swing=0.64, reverb=0.25),
}


def compose(
    genre: str, duration: float, scene_starts: Sequence[float], *, sample_rate: int = 48000, seed: int = 0
) -> np.ndarray:
    """Stereo float32 music, shape (round(duration * sample_rate), 2), peak <= 0.89, following the scenes."""
    n = max(0, round(duration * sample_rate))
    genre = genre.strip().lower()
    if genre == "none" or n == 0:
        return np.zeros((n, 2), np.float32)
    if genre not in STYLES:
        raise InvalidSettings(f"unknown music genre '{genre}'", code="UNKNOWN_MUSIC_GENRE",
                              details={"allowed": [*GENRES, "none"]})
    style = STYLES[genre]
    rng = np.random.default_rng([seed, GENRES.index(genre)])
    score = _Score(n, sample_rate, rng)
    starts = sorted({0.0, *(float(s) for s in scene_starts if 0.0 < float(s) < duration - 0.5)})
    bounds = [*starts, float(duration)]
    for k, (s0, s1) in enumerate(itertools.pairwise(bounds)):
        prog = style.progressions[(k + seed) % len(style.progressions)]
        chords = _chords(style, prog, s0, s1)
        for part in style.parts:
            _PARTS[part](score, style, chords, s0, s1)
        if k > 0:
            _transition(score, style, s0)
    planar = score.buf  # (2, n): channel rows keep every slice write contiguous
    if style.reverb > 0:
        _reverb(planar, sample_rate, style.reverb)
    _swells(planar, sample_rate, starts[1:])
    _fades(planar, sample_rate, duration)
    peak = float(max(planar[0].max(), -planar[0].min(), planar[1].max(), -planar[1].min()))
    if peak > 0:
        planar *= np.float32(PEAK / peak)
    # A (n, 2) view of the planar buffer: a contiguous copy would double the peak memory of a
    # long film's music, and every consumer (ducking, mixing, WAV writing) takes strided arrays.
    out: np.ndarray = planar.T
    return out


# ------------------------------------------------------------------------------------ harmony


@dataclass(frozen=True)
class _Chord:
    start: float
    end: float
    notes: tuple[int, ...]  # MIDI notes, root position around the style's root
    bass: int


def _chords(style: GenreStyle, prog: tuple[int, ...], s0: float, s1: float) -> list[_Chord]:
    """The chords of one scene: the progression cycles from the scene's start."""
    scale = _MODES[style.mode]
    span = 4 * 60.0 / style.tempo * style.bars_per_chord
    out: list[_Chord] = []
    t, i = s0, 0
    while t < s1 - 1e-6:
        degree = prog[i % len(prog)]
        steps = (0, 2, 4, 6) if style.seventh else (0, 2, 4)
        notes = tuple(style.root + _degree(scale, degree + s) for s in steps)
        out.append(_Chord(t, min(s1, t + span), notes, style.root - 12 + _degree(scale, degree)))
        t += span
        i += 1
    return out


def _degree(scale: tuple[int, ...], d: int) -> int:
    return 12 * (d // 7) + scale[d % 7]


def _hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69) / 12.0)


def _beats(style: GenreStyle, s0: float, s1: float, per_beat: int = 1, swing: bool = False) -> list[float]:
    """Grid times from s0 (to s1): `per_beat` subdivisions per beat, with the style's swing on eighths."""
    beat = 60.0 / style.tempo
    out: list[float] = []
    i = 0
    while True:
        b, sub = divmod(i, per_beat)
        frac = sub / per_beat
        if swing and per_beat == 2 and sub == 1:
            frac = style.swing
        t = s0 + (b + frac) * beat
        if t >= s1 - 0.05:
            return out
        out.append(t)
        i += 1


# ------------------------------------------------------------------------------------ the score


class _Score:
    """A stereo buffer plus a cache of rendered notes; parts add notes by time and pan."""

    def __init__(self, n: int, sr: int, rng: np.random.Generator) -> None:
        self.buf = np.zeros((2, n), np.float32)
        self.sr = sr
        self.rng = rng
        self._cache: dict[tuple[object, ...], np.ndarray] = {}

    def add(self, t: float, wave: np.ndarray, gain: float, pan: float = 0.0) -> None:
        s = round(t * self.sr)
        n = self.buf.shape[1]
        if s >= n or len(wave) == 0:
            return
        lo = max(0, -s)
        e = min(n, s + len(wave))
        if e <= max(s, 0):
            return
        seg = wave[lo : lo + e - max(s, 0)]
        angle = (pan + 1.0) * math.pi / 4.0
        self.buf[0, max(s, 0) : e] += seg * np.float32(gain * math.cos(angle))
        self.buf[1, max(s, 0) : e] += seg * np.float32(gain * math.sin(angle))

    def note(self, kind: str, midi: float, dur: float, make: Callable[[float, int, int], np.ndarray]) -> np.ndarray:
        """A rendered note, cached by (kind, pitch, length) because scores repeat themselves."""
        n = max(1, round(dur * self.sr))
        key = (kind, round(midi, 2), n)
        wave = self._cache.get(key)
        if wave is None:
            wave = make(_hz(midi), n, self.sr).astype(np.float32)
            self._cache[key] = wave
        return wave


# ---------------------------------------------------------------------------------- instruments

_TABLE = 4096
_tables: dict[str, np.ndarray] = {}


def _table(kind: str) -> np.ndarray:
    if kind not in _tables:
        ph = np.arange(_TABLE) / _TABLE
        amps = {"saw": [1 / k for k in range(1, 13)], "soft": [1, 0.35, 0.12, 0.05, 0.02],
                "brass": [1, 0.8, 0.6, 0.45, 0.3, 0.2, 0.12, 0.08], "organ": [1, 0.5, 0, 0.25, 0, 0.12]}[kind]
        wave = sum(a * np.sin(2 * np.pi * (k + 1) * ph) for k, a in enumerate(amps))
        _tables[kind] = (wave / np.abs(wave).max()).astype(np.float32)
    return _tables[kind]


def _osc(kind: str, freq: float, n: int, sr: int) -> np.ndarray:
    """A wavetable oscillator with a 16.16 fixed-point phase: integer maths only, exact over minutes."""
    step = round(freq / sr * _TABLE * 65536)
    idx = ((np.arange(n, dtype=np.int64) * step) >> 16) & (_TABLE - 1)
    result: np.ndarray = _table(kind)[idx]
    return result


def _env(n: int, sr: int, attack: float, release: float, decay: float = 0.0) -> np.ndarray:
    """Linear attack, optional exponential decay (per second), linear release at the end."""
    t = np.arange(n) / sr
    env = np.minimum(1.0, t / max(attack, 1e-4))
    if decay:
        env = env * np.exp(-decay * t)
    tail = max(1, min(n, round(release * sr)))
    env[-tail:] *= np.linspace(1.0, 0.0, tail)
    return env


def _pad(kind: str, attack: float, detune: float = 0.004) -> Callable[[float, int, int], np.ndarray]:
    def make(f: float, n: int, sr: int) -> np.ndarray:
        voices = sum(_osc(kind, f * (1 + d), n, sr) for d in (-detune, 0.0, detune))
        return voices / 3.0 * _env(n, sr, min(attack, n / sr / 3), min(1.2, n / sr / 3))
    return make


def _pluck(partials: int, decay: float, bright: float) -> Callable[[float, int, int], np.ndarray]:
    def make(f: float, n: int, sr: int) -> np.ndarray:
        t = np.arange(n) / sr
        out = np.zeros(n)
        for k in range(1, partials + 1):
            if k * f > sr / 2.2:
                break
            out += (bright ** (k - 1)) / k * np.sin(2 * np.pi * k * f * t) * np.exp(-t * decay * (1 + 0.6 * k))
        return out * _env(n, sr, 0.004, 0.03)
    return make


def _fm(ratio: float, index: float, decay: float) -> Callable[[float, int, int], np.ndarray]:
    def make(f: float, n: int, sr: int) -> np.ndarray:
        t = np.arange(n) / sr
        mod = index * np.exp(-t * decay * 1.5) * np.sin(2 * np.pi * ratio * f * t)
        return np.sin(2 * np.pi * f * t + mod) * _env(n, sr, 0.005, 0.05, decay)
    return make


def _noise(n: int, sr: int, rng: np.random.Generator, lo: float, hi: float) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / sr)
    spec[(freqs < lo) | (freqs > hi)] = 0
    x = np.fft.irfft(spec, n)
    return x / (np.abs(x).max() + 1e-9)


def _drum(score: _Score, kind: str, variant: int) -> np.ndarray:
    """Percussion one-shots, three variants each so repeats do not sound machine-made."""
    key = ("drum", kind, variant % 3)
    if key in score._cache:
        return score._cache[key]
    sr, rng = score.sr, score.rng
    def t_of(sec: float) -> np.ndarray:
        return np.arange(round(sec * sr)) / sr
    if kind == "kick":
        t = t_of(0.45)
        w = np.sin(2 * np.pi * np.cumsum(45 + 95 * np.exp(-t * 28)) / sr) * np.exp(-t * 7)
    elif kind == "snare":
        t = t_of(0.25)
        w = 0.8 * _noise(len(t), sr, rng, 900, 7000) * np.exp(-t * 18) + 0.5 * np.sin(2 * np.pi * 185 * t) * np.exp(-t * 25)
    elif kind == "soft_snare":
        t = t_of(0.3)
        w = 0.7 * _noise(len(t), sr, rng, 400, 3500) * np.exp(-t * 14) + 0.4 * np.sin(2 * np.pi * 160 * t) * np.exp(-t * 20)
    elif kind == "hat":
        t = t_of(0.07)
        w = _noise(len(t), sr, rng, 7000, 16000) * np.exp(-t * 70)
    elif kind == "dull_hat":
        t = t_of(0.06)
        w = _noise(len(t), sr, rng, 3500, 8000) * np.exp(-t * 80)
    elif kind == "timpani":
        t = t_of(1.8)
        f = 73.4 * (1 + 0.04 * np.exp(-t * 6))
        w = (np.sin(2 * np.pi * np.cumsum(f) / sr) + 0.35 * np.sin(2 * np.pi * np.cumsum(f * 1.5) / sr)) * np.exp(-t * 2.2)
        w += 0.3 * _noise(len(t), sr, rng, 60, 900) * np.exp(-t * 30)
    elif kind == "taiko":
        t = t_of(0.7)
        w = np.sin(2 * np.pi * np.cumsum(58 + 40 * np.exp(-t * 20)) / sr) * np.exp(-t * 6)
        w += 0.5 * _noise(len(t), sr, rng, 100, 1500) * np.exp(-t * 25)
    elif kind == "boom":
        t = t_of(2.5)
        w = np.sin(2 * np.pi * np.cumsum(40 + 25 * np.exp(-t * 4)) / sr) * np.exp(-t * 1.6)
    elif kind == "crash":
        t = t_of(2.2)
        w = _noise(len(t), sr, rng, 3000, 15000) * np.exp(-t * 2.4) * np.minimum(1, t / 0.003)
    elif kind == "riser":
        t = t_of(1.6)
        ramp = (t / t[-1]) ** 2
        w = (_noise(len(t), sr, rng, 300, 2000) * (1 - ramp) + _noise(len(t), sr, rng, 2000, 10000) * ramp) * ramp
    else:  # pragma: no cover - a typo in a part table
        raise KeyError(kind)
    w = (w / (np.abs(w).max() + 1e-9)).astype(np.float32)
    score._cache[key] = w
    return w


# -------------------------------------------------------------------------------------- parts


Part = Callable[[_Score, GenreStyle, list[_Chord], float, float], None]


def _chord_part(kind: str, make: Callable[[float, int, int], np.ndarray], gain: float, octave: int = 0,
                spread: float = 0.5) -> Part:
    def part(score: _Score, style: GenreStyle, chords: list[_Chord], s0: float, s1: float) -> None:
        for ch in chords:
            dur = ch.end - ch.start + 0.8  # overlap into the next chord so pads do not gap
            for j, note in enumerate(ch.notes):
                pan = spread * (2 * j / max(1, len(ch.notes) - 1) - 1)
                score.add(ch.start, score.note(kind, note + 12 * octave, dur, make), gain, pan)
    return part


def _rhythm_part(kind: str, make: Callable[[float, int, int], np.ndarray], gain: float, per_beat: int,
                 pick: Callable[[_Chord, int], float], length: float, swing: bool = False,
                 accent: Callable[[int], float] = lambda i: 1.0, pan: float = 0.0) -> Part:
    def part(score: _Score, style: GenreStyle, chords: list[_Chord], s0: float, s1: float) -> None:
        beat = 60.0 / style.tempo
        for ch in chords:
            for i, t in enumerate(_beats(style, ch.start, ch.end, per_beat, swing)):
                midi = pick(ch, i)
                wave = score.note(kind, midi, length * beat, make)
                score.add(t, wave, gain * accent(i), pan * (1 if i % 2 else -1))
    return part


def _drum_part(kind: str, gain: float, per_beat: int, hits: Callable[[int], float], swing: bool = False,
               pan: float = 0.0) -> Part:
    def part(score: _Score, style: GenreStyle, chords: list[_Chord], s0: float, s1: float) -> None:
        for i, t in enumerate(_beats(style, s0, s1, per_beat, swing)):
            v = hits(i)
            if v > 0:
                score.add(t, _drum(score, kind, i), gain * v * (0.9 + 0.2 * score.rng.random()), pan)
    return part


def _bells(score: _Score, style: GenreStyle, chords: list[_Chord], s0: float, s1: float) -> None:
    make = _fm(3.5, 2.0, 1.2)
    beat = 60.0 / style.tempo
    for ch in chords:
        t = ch.start + beat * score.rng.integers(0, 2)
        while t < ch.end - 0.2:
            note = ch.notes[score.rng.integers(len(ch.notes))] + 12 * int(score.rng.integers(1, 3))
            score.add(t, score.note("bell", note, 3.0, make), 0.16, float(score.rng.uniform(-0.7, 0.7)))
            t += beat * float(score.rng.choice([1.0, 1.5, 2.0, 3.0]))


def _crackle(score: _Score, style: GenreStyle, chords: list[_Chord], s0: float, s1: float) -> None:
    sr = score.sr
    n0, n1 = round(s0 * sr), min(score.buf.shape[1], round(s1 * sr))
    if n1 <= n0:
        return
    hiss = _drum(score, "dull_hat", 0)  # reuse a filtered-noise grain as the hiss texture
    loop = np.tile(hiss, -(-(n1 - n0) // len(hiss)) + 1)[: n1 - n0] * 0.012
    count = int((s1 - s0) * 6)
    pos = score.rng.integers(0, n1 - n0, count)
    loop[pos] += score.rng.uniform(-0.12, 0.12, count).astype(np.float32)
    score.buf[:, n0:n1] += loop[None, :]


def _layers(*parts: Part) -> Part:
    def part(score: _Score, style: GenreStyle, chords: list[_Chord], s0: float, s1: float) -> None:
        for p in parts:
            p(score, style, chords, s0, s1)
    return part


_piano = _pluck(6, 1.6, 0.5)
_warm_piano = _pluck(4, 1.2, 0.35)  # lofi's darker, softer piano
_arp_pluck = _pluck(8, 4.0, 0.7)

_PARTS: dict[str, Part] = {
    "brass_pad": _chord_part("brass", _pad("brass", 0.6), 0.22),
    "soft_pad": _chord_part("soft", _pad("soft", 2.5, 0.006), 0.26, spread=0.8),
    "dark_pad": _chord_part("dark", _pad("saw", 1.2), 0.16, octave=-1),
    "warm_pad": _chord_part("warm", _pad("organ", 1.0), 0.15),
    "choir": _chord_part("choir", _pad("soft", 1.5, 0.008), 0.12, octave=1, spread=0.9),
    "drone": lambda sc, st, chords, s0, s1: sc.add(
        s0, sc.note("drone", st.root - 12, s1 - s0 + 1.0, _pad("soft", 3.0)), 0.2),
    "low_strings": _rhythm_part("lstr", _pad("saw", 0.02), 0.2, 2, lambda ch, i: ch.bass, 0.45,
                                accent=lambda i: 1.0 if i % 2 == 0 else 0.7),
    "ostinato": _rhythm_part("ost", _pad("saw", 0.015), 0.2, 2,
                             lambda ch, i: ch.bass + (0, 12, 7, 12)[i % 4], 0.4,
                             accent=lambda i: 1.0 if i % 4 == 0 else 0.65),
    "stabs": _rhythm_part("stab", _pluck(8, 6.0, 0.7), 0.22, 2,
                          lambda ch, i: ch.notes[i % len(ch.notes)] + 12, 0.4,
                          accent=lambda i: 1.0 if i % 2 else 0.0, pan=0.35),
    "arp": _rhythm_part("arp", _arp_pluck, 0.12, 4,
                        lambda ch, i: ch.notes[(0, 1, 2, 1)[i % 4]] + 24, 0.3, pan=0.5),
    "fm_bass": _rhythm_part("fmb", _fm(1.0, 1.6, 3.0), 0.32, 2, lambda ch, i: ch.bass - 12 + (0, 12)[i % 2], 0.45),
    "piano_arp": _rhythm_part("pa", _piano, 0.3, 1,
                              lambda ch, i: ch.notes[(0, 1, 2, 1)[i % 4]] + 12, 2.5, pan=0.3),
    "piano_chords": _rhythm_part("pc", _warm_piano, 0.22, 2,
                                 lambda ch, i: ch.notes[(0, 2, 1, 3)[i % 4] % len(ch.notes)] + 12, 1.5,
                                 swing=True, accent=lambda i: (1.0, 0.0, 0.6, 0.7, 0.0, 0.8, 0.5, 0.0)[i % 8]),
    "soft_bass": _rhythm_part("sb", _fm(1.0, 0.5, 1.5), 0.35, 1, lambda ch, i: ch.bass - 12, 0.9,
                              accent=lambda i: (1.0, 0.0, 0.7, 0.5)[i % 4]),
    "kick4": _drum_part("kick", 0.5, 1, lambda i: 1.0),
    "snare": _drum_part("snare", 0.32, 1, lambda i: 1.0 if i % 2 else 0.0),
    "hats16": _drum_part("hat", 0.12, 4, lambda i: (1.0, 0.4, 0.7, 0.4)[i % 4], pan=0.3),
    "boombap": _layers(
        _drum_part("kick", 0.45, 2, lambda i: (1.0, 0, 0, 0.6, 0.9, 0, 0, 0)[i % 8], swing=True),
        _drum_part("soft_snare", 0.3, 1, lambda i: 1.0 if i % 2 else 0.0),
    ),
    "hats_swing": _drum_part("dull_hat", 0.1, 2, lambda i: 1.0 if i % 2 == 0 else 0.6, swing=True, pan=-0.3),
    "timpani": _drum_part("timpani", 0.42, 1, lambda i: (1.0, 0, 0, 0, 0.6, 0, 0.5, 0)[i % 8]),
    "taiko": _drum_part("taiko", 0.3, 2, lambda i: (1.0, 0, 0.5, 0.5, 0.8, 0, 0.6, 0)[i % 8]),
    "boom": _drum_part("boom", 0.5, 1, lambda i: 1.0 if i % 16 == 0 else 0.0),
    "bells": _bells,
    "crackle": _crackle,
}


def _transition(score: _Score, style: GenreStyle, t: float) -> None:
    """Announce a new scene: a riser into a crash and a low hit, or a softer swelling chord and bell."""
    if style.transition == "hit":
        riser = _drum(score, "riser", 0)
        score.add(t - len(riser) / score.sr, riser, 0.1)
        score.add(t, _drum(score, "crash", 0), 0.12, 0.2)
        score.add(t, _drum(score, "timpani" if style.tempo < 100 else "kick", 1), 0.3)
    else:
        swell = _pad("soft", 1.6)
        score.add(t - 1.8, score.note("swell", style.root + 12, 3.0, swell), 0.18, -0.3)
        score.add(t, score.note("bell", style.root + 24, 3.0, _fm(3.5, 2.0, 1.2)), 0.2, 0.3)


def _swells(out: np.ndarray, sr: int, starts: Sequence[float]) -> None:
    """A small level bump around each scene start (the music 'breathes in' for the cut)."""
    for s in starts:
        lo, hi = max(0, round((s - 1.5) * sr)), min(out.shape[1], round((s + 1.5) * sr))
        if hi <= lo:
            continue
        t = np.arange(lo, hi) / sr - s
        out[:, lo:hi] *= (1.0 + 0.3 * np.exp(-((t / 0.6) ** 2))).astype(np.float32)


def _fades(out: np.ndarray, sr: int, duration: float) -> None:
    n = out.shape[1]
    fin = min(n, round(min(2.0, duration * 0.1) * sr))
    fout = min(n, round(min(3.0, duration * 0.15) * sr))
    if fin:
        out[:, :fin] *= (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, fin))).astype(np.float32)
    if fout:
        out[:, n - fout :] *= (0.5 + 0.5 * np.cos(np.linspace(0, np.pi, fout))).astype(np.float32)


def _reverb(x: np.ndarray, sr: int, wet: float) -> None:
    """Add a cheap diffuse tail in place: two stages of multi-tap echoes, different per channel.

    Echo tails carry little treble, so they are built at a quarter of the rate and linearly
    interpolated back: a quarter of the memory traffic for the most expensive step.
    """
    down = 4
    n = x.shape[1]
    m = n // down
    if m < 2:
        return
    low_sr = sr / down
    mono = x[0, : m * down].reshape(m, down).mean(axis=1, dtype=np.float32)
    mono += x[1, : m * down].reshape(m, down).mean(axis=1, dtype=np.float32)
    mono *= np.float32(0.5)
    taps = ((0.023, 0.029), (0.041, 0.047), (0.067, 0.073), (0.097, 0.103), (0.131, 0.139), (0.173, 0.181))
    stage = np.zeros_like(mono)
    for i, (d, _) in enumerate(taps):
        k = min(m, round(d * 3.1 * low_sr))
        stage[k:] += mono[: m - k] * np.float32(0.7**i)
    ramp = (np.arange(down, dtype=np.float32) / down)[None, :]
    for c in (0, 1):
        tail = np.zeros_like(mono)
        for i, pair in enumerate(taps):
            k = min(m, round(pair[c] * low_sr))
            tail[k:] += stage[: m - k] * np.float32(wet * 0.35 * 0.8**i)
        step = np.diff(tail, append=tail[-1:])
        block = 1 << 16  # interpolate back up in blocks: no film-long temporaries
        for lo in range(0, m, block):
            hi = min(m, lo + block)
            x[c, lo * down : hi * down] += (tail[lo:hi, None] + step[lo:hi, None] * ramp).reshape(-1)
