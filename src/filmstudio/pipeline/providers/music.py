"""Original film music synthesised with numpy: a small arranger per genre that follows the scenes.

Each genre has its own tempo, key, chord progressions and instruments (wavetable pads and strings,
additive piano and plucks, FM bells and bass, filtered-noise drums, timpani). The harmony restarts
with a new progression at every scene start, announced by a riser and a hit or swell. The score is
a list of note events; notes are rendered once per (instrument, pitch, length) and added as array
slices chunk by chunk (MusicStream, on music_score), so a 10-minute score takes seconds in bounded
memory.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from filmstudio.domain.errors import InvalidSettings
from filmstudio.pipeline.engines import EngineInfo
from filmstudio.pipeline.providers.music_score import Loop, Reverb, Score, fades, swells

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
    stream = MusicStream(genre, duration, scene_starts, sample_rate=sample_rate, seed=seed)
    planar = np.zeros((2, stream.frames), np.float32)  # (2, n): channel rows keep slice writes contiguous
    pos, peak = 0, 0.0
    for part in stream.chunks():
        planar[:, pos : pos + part.shape[1]] = part
        pos += part.shape[1]
        peak = max(peak, float(part.max()), -float(part.min()))
    if peak > 0:
        planar *= np.float32(PEAK / peak)
    # A (n, 2) view of the planar buffer: a contiguous copy would double the peak memory.
    out: np.ndarray = planar.T
    return out


class MusicStream:
    """compose()'s music rendered chunk by chunk, in bounded memory, before its peak normalisation.

    The score is a list of note events (start, cached note wave, gains); each chunk sums the events
    that overlap it, then adds the reverb (which carries its delay lines across chunks) and applies
    the swells and fades. Multiply the result by `PEAK / max |sample|` to get compose()'s output.
    """

    def __init__(
        self, genre: str, duration: float, scene_starts: Sequence[float], *, sample_rate: int = 48000, seed: int = 0
    ) -> None:
        n = max(0, round(duration * sample_rate))
        genre = genre.strip().lower()
        if genre != "none" and genre not in STYLES:
            raise InvalidSettings(f"unknown music genre '{genre}'", code="UNKNOWN_MUSIC_GENRE",
                                  details={"allowed": [*GENRES, "none"]})
        self.frames, self.sr, self.duration = n, sample_rate, float(duration)
        self.silent = genre == "none" or n == 0
        self.score = Score(n, sample_rate, np.random.default_rng([seed, GENRES.index(genre) if genre in GENRES else 0]))
        self.starts = sorted({0.0, *(float(s) for s in scene_starts if 0.0 < float(s) < duration - 0.5)})
        self.reverb = 0.0
        if self.silent:
            return
        style = STYLES[genre]
        self.reverb = style.reverb
        bounds = [*self.starts, float(duration)]
        for k, (s0, s1) in enumerate(itertools.pairwise(bounds)):
            prog = style.progressions[(k + seed) % len(style.progressions)]
            chords = _chords(style, prog, s0, s1)
            for part in style.parts:
                _PARTS[part](self.score, style, chords, s0, s1)
            if k > 0:
                _transition(self.score, style, s0)

    def chunks(self, step: int = 1 << 19) -> Iterator[np.ndarray]:
        """Consecutive planar (2, k) float32 chunks of `step` frames (rounded up to 4) covering the piece."""
        step = max(4, -(-step // 4) * 4)  # the reverb works on groups of 4 samples
        reverb = Reverb(self.frames, self.sr, self.reverb) if self.reverb > 0 else None
        for lo in range(0, self.frames, step):
            hi = min(self.frames, lo + step)
            if self.silent:
                yield np.zeros((2, hi - lo), np.float32)
                continue
            x = self.score.render(lo, hi)
            if reverb is not None:
                reverb.process(x, lo)
            swells(x, lo, self.sr, self.starts[1:], self.frames)
            fades(x, lo, self.sr, self.duration, self.frames)
            yield x


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


def _osc(kind: str, freq: float, n: int, sr: int, first: int = 0) -> np.ndarray:
    """A wavetable oscillator with a 16.16 fixed-point phase: integer maths only, exact over minutes.

    Samples [first, first + n) of the note: any slice of a long note comes out exactly as in the whole.
    """
    step = round(freq / sr * _TABLE * 65536)
    idx = ((np.arange(first, first + n, dtype=np.int64) * step) >> 16) & (_TABLE - 1)
    result: np.ndarray = _table(kind)[idx]
    return result


def _env(
    n: int, sr: int, attack: float, release: float, decay: float = 0.0, span: tuple[int, int] | None = None
) -> np.ndarray:
    """Linear attack, optional exponential decay (per second), linear release at the end.

    With `span` = (a, b), only samples [a, b) of the n-sample envelope (the same values).
    """
    a, b = span if span is not None else (0, n)
    t = np.arange(a, b) / sr
    env = np.minimum(1.0, t / max(attack, 1e-4))
    if decay:
        env = env * np.exp(-decay * t)
    tail = max(1, min(n, round(release * sr)))
    lo = max(a, n - tail)
    if lo < b:
        env[lo - a :] *= np.linspace(1.0, 0.0, tail)[lo - (n - tail) : b - (n - tail)]
    return env


class _Pad:
    """Detuned wavetable voices under a slow envelope; a slice of a long pad can be made on its own."""

    def __init__(self, kind: str, attack: float, detune: float = 0.004) -> None:
        self.kind, self.attack, self.detune = kind, attack, detune

    def __call__(self, f: float, n: int, sr: int) -> np.ndarray:
        return self.slice(f, n, sr, 0, n)

    def slice(self, f: float, n: int, sr: int, a: int, b: int) -> np.ndarray:
        voices = sum(_osc(self.kind, f * (1 + d), b - a, sr, a) for d in (-self.detune, 0.0, self.detune))
        env = _env(n, sr, min(self.attack, n / sr / 3), min(1.2, n / sr / 3), span=(a, b))
        result: np.ndarray = voices / 3.0 * env
        return result


def _pad(kind: str, attack: float, detune: float = 0.004) -> Callable[[float, int, int], np.ndarray]:
    return _Pad(kind, attack, detune)


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


def _drum(score: Score, kind: str, variant: int) -> np.ndarray:
    """Percussion one-shots, three variants each so repeats do not sound machine-made."""
    key = ("drum", kind, variant % 3)
    if key in score.drums:
        return score.drums[key]
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
    score.drums[key] = w
    return w


# -------------------------------------------------------------------------------------- parts


Part = Callable[[Score, GenreStyle, list[_Chord], float, float], None]


def _chord_part(kind: str, make: Callable[[float, int, int], np.ndarray], gain: float, octave: int = 0,
                spread: float = 0.5) -> Part:
    def part(score: Score, style: GenreStyle, chords: list[_Chord], s0: float, s1: float) -> None:
        for ch in chords:
            dur = ch.end - ch.start + 0.8  # overlap into the next chord so pads do not gap
            for j, note in enumerate(ch.notes):
                pan = spread * (2 * j / max(1, len(ch.notes) - 1) - 1)
                score.add(ch.start, score.note(kind, note + 12 * octave, dur, make), gain, pan)
    return part


def _rhythm_part(kind: str, make: Callable[[float, int, int], np.ndarray], gain: float, per_beat: int,
                 pick: Callable[[_Chord, int], float], length: float, swing: bool = False,
                 accent: Callable[[int], float] = lambda i: 1.0, pan: float = 0.0) -> Part:
    def part(score: Score, style: GenreStyle, chords: list[_Chord], s0: float, s1: float) -> None:
        beat = 60.0 / style.tempo
        for ch in chords:
            for i, t in enumerate(_beats(style, ch.start, ch.end, per_beat, swing)):
                midi = pick(ch, i)
                wave = score.note(kind, midi, length * beat, make)
                score.add(t, wave, gain * accent(i), pan * (1 if i % 2 else -1))
    return part


def _drum_part(kind: str, gain: float, per_beat: int, hits: Callable[[int], float], swing: bool = False,
               pan: float = 0.0) -> Part:
    def part(score: Score, style: GenreStyle, chords: list[_Chord], s0: float, s1: float) -> None:
        for i, t in enumerate(_beats(style, s0, s1, per_beat, swing)):
            v = hits(i)
            if v > 0:
                score.add(t, _drum(score, kind, i), gain * v * (0.9 + 0.2 * score.rng.random()), pan)
    return part


def _bells(score: Score, style: GenreStyle, chords: list[_Chord], s0: float, s1: float) -> None:
    make = _fm(3.5, 2.0, 1.2)
    beat = 60.0 / style.tempo
    for ch in chords:
        t = ch.start + beat * score.rng.integers(0, 2)
        while t < ch.end - 0.2:
            note = ch.notes[score.rng.integers(len(ch.notes))] + 12 * int(score.rng.integers(1, 3))
            score.add(t, score.note("bell", note, 3.0, make), 0.16, float(score.rng.uniform(-0.7, 0.7)))
            t += beat * float(score.rng.choice([1.0, 1.5, 2.0, 3.0]))


def _crackle(score: Score, style: GenreStyle, chords: list[_Chord], s0: float, s1: float) -> None:
    sr = score.sr
    n0, n1 = round(s0 * sr), min(score.n, round(s1 * sr))
    if n1 <= n0:
        return
    hiss = _drum(score, "dull_hat", 0)  # reuse a filtered-noise grain as the hiss texture
    count = int((s1 - s0) * 6)
    pos = score.rng.integers(0, n1 - n0, count)
    vals = score.rng.uniform(-0.12, 0.12, count).astype(np.float32)
    # Made chunk by chunk at render time; a click landing twice counts once (the last one), as a
    # buffered `loop[pos] += vals` would.
    at, last = np.unique(pos[::-1], return_index=True)
    score.add_bed(n0, Loop(n1 - n0, hiss, 0.012, at, vals[::-1][last]))


def _layers(*parts: Part) -> Part:
    def part(score: Score, style: GenreStyle, chords: list[_Chord], s0: float, s1: float) -> None:
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


def _transition(score: Score, style: GenreStyle, t: float) -> None:
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




class SynthMusic:
    """The `Music` engine: the built-in synthesiser (six genres that follow the scenes)."""

    name = "synth"

    def info(self) -> EngineInfo:
        return EngineInfo(kind="music", name="built-in synthesiser", version="2", details={"genres": list(GENRES)})

    def genres(self) -> tuple[str, ...]:
        return GENRES

    def score(self, genre: str, duration: float, scene_starts: Sequence[float], *, sample_rate: int,
              seed: int) -> MusicStream:
        return MusicStream(genre, duration, scene_starts, sample_rate=sample_rate, seed=seed)
