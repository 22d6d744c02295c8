"""The score generator: exact lengths, no clipping, genres that sound different, scenes that are heard."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from filmstudio.domain.errors import InvalidSettings
from filmstudio.pipeline.providers import music, music_score
from filmstudio.pipeline.providers.music import GENRES, PEAK, MusicStream, compose

SR = 24000  # half rate keeps the unit tests quick; the maths does not depend on it


def _centroid(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x.mean(axis=1)))
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    return float((spec * freqs).sum() / spec.sum())


def _onset_rate(x: np.ndarray) -> float:
    """Onsets per second: rises of the 10 ms energy envelope (in dB) above a 6 dB jump."""
    hop = SR // 100
    mono = x.mean(axis=1)
    frames = mono[: len(mono) // hop * hop].reshape(-1, hop)
    env = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)
    rises = (env[3:] - env[:-3]) > 6.0
    starts = np.flatnonzero(rises[1:] & ~rises[:-1])
    return len(starts) / (len(mono) / SR)


def _chroma(x: np.ndarray) -> np.ndarray:
    """Energy per pitch class (40-2000 Hz), normalised: tells keys and modes apart."""
    spec = np.abs(np.fft.rfft(x.mean(axis=1))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    band = (freqs > 40) & (freqs < 2000)
    pc = np.round(12 * np.log2(freqs[band] / 440.0)).astype(int) % 12
    chroma = np.bincount(pc, weights=spec[band], minlength=12)
    result: np.ndarray = chroma / chroma.sum()
    return result


@pytest.fixture(scope="module")
def pieces() -> dict[str, np.ndarray]:
    return {g: compose(g, 20.0, [0.0, 10.0], sample_rate=SR, seed=3) for g in GENRES}


@pytest.mark.parametrize("genre", GENRES)
def test_length_exact_no_clipping_not_silent(genre: str, pieces: dict[str, np.ndarray]) -> None:
    x = pieces[genre]
    assert x.shape == (20 * SR, 2) and x.dtype == np.float32
    assert np.isfinite(x).all()
    assert 0.5 < np.abs(x).max() <= 0.9
    odd = compose(genre, 7.33, [0.0, 3.0], sample_rate=SR)
    assert odd.shape == (round(7.33 * SR), 2)


@pytest.mark.parametrize("genre", GENRES)
def test_fades_in_and_out(genre: str, pieces: dict[str, np.ndarray]) -> None:
    x = pieces[genre]
    body = np.sqrt(np.mean(x[5 * SR : 15 * SR] ** 2))
    assert np.abs(x[: SR // 100]).max() < 0.05 * body
    assert np.abs(x[-SR // 100 :]).max() < 0.05 * body


def test_none_is_silence_and_unknown_is_refused() -> None:
    x = compose("none", 5.0, [0.0], sample_rate=SR)
    assert x.shape == (5 * SR, 2) and not x.any()
    with pytest.raises(InvalidSettings) as info:
        compose("polka", 5.0, [0.0], sample_rate=SR)
    assert info.value.code == "UNKNOWN_MUSIC_GENRE"


def test_deterministic_per_seed() -> None:
    a = compose("lofi", 6.0, [0.0], sample_rate=SR, seed=5)
    b = compose("lofi", 6.0, [0.0], sample_rate=SR, seed=5)
    c = compose("lofi", 6.0, [0.0], sample_rate=SR, seed=6)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c, atol=1e-3)


def test_genres_differ_measurably(pieces: dict[str, np.ndarray]) -> None:
    feats = {g: (_centroid(x), _onset_rate(x), _chroma(x)) for g, x in pieces.items()}
    for g1, g2 in itertools.combinations(GENRES, 2):
        (c1, o1, h1), (c2, o2, h2) = feats[g1], feats[g2]
        centroid_ratio = max(c1, c2) / min(c1, c2)
        onset_gap = abs(o1 - o2)
        chroma_gap = float(np.abs(h1 - h2).sum())
        assert centroid_ratio > 1.15 or onset_gap > 0.5 or chroma_gap > 0.3, (g1, g2, feats[g1][:2], feats[g2][:2])
    # The broad strokes a listener expects.
    assert feats["upbeat"][1] > feats["ambient"][1] + 1.0
    assert feats["upbeat"][1] > feats["calm"][1]
    assert feats["lofi"][1] > feats["calm"][1]  # lofi adds drums to calm's piano and pad


@pytest.mark.parametrize("genre", GENRES)
def test_scene_change_is_heard(genre: str) -> None:
    plain = compose(genre, 16.0, [0.0], sample_rate=SR, seed=1)
    cut = compose(genre, 16.0, [0.0, 8.0], sample_rate=SR, seed=1)
    # Long before the cut both are the same music (up to the overall level).
    a, b = plain[2 * SR : 5 * SR], cut[2 * SR : 5 * SR]
    scale = float(np.sqrt(np.mean(a**2) / np.mean(b**2)))
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.99
    # After the cut the music changes (new progression, a transition and a swell).
    after_a, after_b = plain[8 * SR : 12 * SR], cut[8 * SR : 12 * SR] * scale
    assert np.corrcoef(after_a.ravel(), after_b.ravel())[0, 1] < 0.8
    # And the moment of the cut is louder than the same moment without one.
    def level(x: np.ndarray) -> float:
        return float(np.sqrt(np.mean(x[round(7.6 * SR) : round(8.6 * SR)] ** 2)))
    assert level(cut) * scale > 1.1 * level(plain)


def _streamed(genre: str, duration: float, starts: list[float], step: int, seed: int = 3) -> np.ndarray:
    parts = list(MusicStream(genre, duration, starts, sample_rate=SR, seed=seed).chunks(step))
    assert len(parts) >= 5  # several seams inside the piece
    x = np.concatenate(parts, axis=1).T
    result: np.ndarray = x * np.float32(PEAK / np.abs(x).max())
    return result


@pytest.mark.parametrize("genre", GENRES)
def test_streamed_chunks_equal_the_whole_piece(genre: str, pieces: dict[str, np.ndarray]) -> None:
    """Notes, crackle, reverb tails, swells and fades cross chunk seams exactly (up to float rounding)."""
    whole = pieces[genre]
    streamed = _streamed(genre, 20.0, [0.0, 10.0], step=SR * 7 // 10 + 2)  # 0.7 s chunks, seams off the beat
    assert streamed.shape == whole.shape
    assert np.abs(streamed - whole).max() <= 1e-6


def test_long_notes_are_made_slice_by_slice(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scene-long drone is never made whole; its slices are the whole note's samples."""
    whole = compose("ambient", 12.0, [0.0], sample_rate=SR, seed=2)
    monkeypatch.setattr(music_score, "LONG_NOTE", SR)  # every note over 1 s takes the slice path
    made: list[int] = []
    pad_call = music._Pad.__call__

    def counting(self: music._Pad, f: float, n: int, sr: int) -> np.ndarray:
        made.append(n)
        return pad_call(self, f, n, sr)

    monkeypatch.setattr(music._Pad, "__call__", counting)
    streamed = _streamed("ambient", 12.0, [0.0], step=SR * 2, seed=2)
    assert not [n for n in made if n > SR], "long pads went through the whole-note path"
    assert np.abs(streamed - whole).max() <= 1e-6
    pad = music._pad("soft", 3.0)
    n = 5 * SR
    assert np.array_equal(pad.slice(220.0, n, SR, 12_345, 67_890), pad(220.0, n, SR)[12_345:67_890])  # type: ignore[attr-defined]
