"""Contract tests every engine of a kind runs (the Protocols in pipeline/engines.py), and the composition root."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from filmstudio.app.compose import build_engines
from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.engines import (
    Encoder,
    EngineInfo,
    Engines,
    Music,
    SpeechRequest,
    SpokenClip,
    Translator,
    VoiceInfo,
    VoiceLibrary,
    Voices,
)
from filmstudio.pipeline.media.ffmpeg import FfmpegEncoder
from filmstudio.pipeline.plan import Voice
from filmstudio.pipeline.providers.music import SynthMusic
from filmstudio.pipeline.providers.translate import DictTranslator, InstalledTranslator
from filmstudio.pipeline.providers.tts import EspeakTts, FakeTts

SRC = Path(__file__).resolve().parents[2] / "src" / "filmstudio"


def _info_is_sound(info: EngineInfo, kind: str) -> None:
    assert isinstance(info, EngineInfo) and info.kind == kind and info.name
    assert isinstance(info.missing, tuple) and all(isinstance(m, str) and m for m in info.missing)
    assert info.as_dict()["kind"] == kind


@pytest.fixture(params=["synth"])
def music(request: pytest.FixtureRequest) -> Music:
    return {"synth": SynthMusic()}[request.param]


class TestMusicContract:
    def test_info_and_genres(self, music: Music) -> None:
        assert isinstance(music, Music)
        _info_is_sound(music.info(), "music")
        assert music.genres() and all(isinstance(g, str) for g in music.genres())

    def test_score_streams_the_whole_length_and_is_reproducible(self, music: Music) -> None:
        genre = music.genres()[0]
        a = music.score(genre, 3.0, [0.0, 1.5], sample_rate=8000, seed=3)
        chunks = list(a.chunks())
        assert a.frames == 3 * 8000 and sum(c.shape[1] for c in chunks) == a.frames
        assert all(c.shape[0] == 2 for c in chunks) and float(np.abs(np.concatenate(chunks, 1)).max()) > 0.01
        again = np.concatenate(list(music.score(genre, 3.0, [0.0, 1.5], sample_rate=8000, seed=3).chunks()), 1)
        assert np.array_equal(np.concatenate(chunks, 1), again)


@pytest.fixture(params=["dict", "installed"])
def translator(request: pytest.FixtureRequest) -> Translator:
    if request.param == "dict":
        return DictTranslator({"es": {"Hello.": "Hola."}})
    return InstalledTranslator()


class TestTranslatorContract:
    def test_info_pairs_and_identity(self, translator: Translator) -> None:
        assert isinstance(translator, Translator)
        _info_is_sound(translator.info(), "translator")
        assert all(len(p) == 2 for p in translator.pairs())
        for source, target in translator.pairs():
            assert len(translator.translate(["Hello."], source, target)) == 1
        if not translator.pairs():  # nothing installed: info says what to install
            assert not translator.info().ok and translator.info().missing


@pytest.fixture(params=["ffmpeg"])
def encoder(request: pytest.FixtureRequest) -> Encoder:
    return FfmpegEncoder()


class TestEncoderContract:
    def test_info_and_choice(self, encoder: Encoder) -> None:
        assert isinstance(encoder, Encoder)
        _info_is_sound(encoder.info(), "encoder")
        assert encoder.video_encoder() in ("libx264", "h264_nvenc", "h264_qsv", "h264_vaapi", "h264_videotoolbox")
        assert encoder.video_encoder("libx264") == "libx264"  # a forced encoder wins


@pytest.fixture(params=["espeak", "fake"])
def voices(request: pytest.FixtureRequest) -> Voices:
    return EspeakTts(jobs=2) if request.param == "espeak" else FakeTts()


class TestVoicesListing:
    """The listing half of the Voices contract (synthesis: TestTtsContract in test_tts.py)."""

    def test_info_and_voices_per_language(self, voices: Voices) -> None:
        assert isinstance(voices, Voices)
        _info_is_sound(voices.info(), "voices")
        found = voices.voices("en")
        assert found and all(isinstance(v, VoiceInfo) and v.language == "en" and v.sample_rate > 0 for v in found)
        assert len({(v.engine, v.voice_id, v.speaker) for v in found}) == len(found)


def test_espeak_lists_gendered_voices_for_every_language() -> None:
    voices = EspeakTts().voices()
    by_lang = {v.language for v in voices}
    assert {"en", "es", "fr", "de", "ja", "ar"} <= by_lang
    en = EspeakTts().voices("en")
    assert {v.gender for v in en} == {"male", "female"} and all(v.voice_id.startswith("gmw/en-US+") for v in en)


def test_voice_library_sends_each_line_to_its_engine_in_order(tmp_path: Path) -> None:
    a, b = FakeTts(seconds_per_char=0.01), FakeTts(seconds_per_char=0.02)
    library = VoiceLibrary({"espeak": a, "other": b})
    reqs = [SpeechRequest(f"line {n}", Voice("X", "v", engine="other" if n % 2 else "espeak"), 175, tmp_path / f"{n}.wav")
            for n in range(5)]
    seen: list[float] = []
    out = [c.path for c in library.synthesize_many(reqs, cancel=CancelToken(), progress=seen.append)]
    assert out == [r.out for r in reqs] and all(p.exists() for p in out)
    assert [r.text for r in a.synthesized] == ["line 0", "line 2", "line 4"]
    assert [r.text for r in b.synthesized] == ["line 1", "line 3"]
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    # An engine nobody installed: its lines go to the fallback, not nowhere.
    lost = SpeechRequest("lost", Voice("Y", "v", engine="piper"), 175, tmp_path / "lost.wav")
    assert library.synthesize_many([lost], cancel=CancelToken()) == [SpokenClip(lost.out)] and a.synthesized[-1] is lost
    with pytest.raises(ValueError):
        VoiceLibrary({"other": b})


def test_the_composition_root_builds_every_kind_and_doctor_lists_them() -> None:
    from filmstudio.app.doctor import _engines

    engines = build_engines(jobs=1)
    assert isinstance(engines, Engines)
    kinds = [i.kind for i in engines.infos()]
    assert kinds == ["voices", "pictures", "motion", "music", "translator", "encoder"]
    report = _engines(engines)
    assert [e["kind"] for e in report["engines"]] == kinds
    assert any("models pull" in m for m in report["install"])  # no picture model: says how to get one


def test_no_module_below_the_composition_root_constructs_an_engine() -> None:
    """Engines are built in filmstudio/app only (tests build them through it too)."""
    engine_classes = {"EspeakTts", "PiperVoices", "SynthMusic", "InstalledTranslator", "FfmpegEncoder",
                      "VoiceLibrary", "DiffusersPictures", "DiffusersMotion"}
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.is_relative_to(SRC / "app"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in engine_classes:
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno} {name}()")
    assert offenders == []
