"""Voice casting and speech-length estimates, checked against the real espeak-ng data and engine."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import wave
from pathlib import Path

import espeakng_loader
import pytest

from filmstudio.domain.settings import AGES, GENDERS, LANGUAGES, VOICE_QUALITIES, RenderSettings
from filmstudio.pipeline.engines import VoiceInfo
from filmstudio.pipeline.plan import NARRATOR, Line, Scene, Script, Voice
from filmstudio.pipeline.script.analysis import analyse
from filmstudio.pipeline.script.casting import (
    ALL_VARIANTS,
    FEMALE_VARIANTS,
    MALE_VARIANTS,
    NEUTRAL_VARIANTS,
    RATE_MAX,
    RATE_MIN,
    age_group,
    cast_voices,
    estimate_speech_seconds,
)

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
NIGHT_MARKET = (SAMPLES / "night-market.fountain").read_text(encoding="utf-8")


def script_with(speakers: list[str]) -> Script:
    lines = tuple(Line(index=n, kind="dialogue", text=f"Line {n}.", speaker=s) for n, s in enumerate(speakers))
    scene = Scene(index=0, heading=None, int_ext=None, location="", time_of_day=None, lines=lines)
    return Script(title="T", scenes=(scene,), characters=tuple(s for s in dict.fromkeys(speakers) if s != NARRATOR))


def settings(*characters: dict[str, str], language: str = "en") -> RenderSettings:
    return RenderSettings.model_validate({"characters": list(characters), "language": language})


def combos(voices: dict[str, Voice]) -> set[tuple[str, int]]:
    return {(v.espeak_name, v.pitch) for v in voices.values()}


def test_every_speaker_gets_a_distinct_voice_even_with_many_characters() -> None:
    names = [NARRATOR] + [f"PERSON {n}" for n in range(40)]
    voices = cast_voices(script_with(names), settings())
    assert set(voices) == set(names)
    assert len(combos(voices)) == len(names)
    assert all(RATE_MIN <= v.rate_factor <= RATE_MAX and 0 <= v.pitch <= 99 for v in voices.values())


def test_night_market_cast() -> None:
    script = analyse(NIGHT_MARKET, settings())
    voices = cast_voices(script, settings())
    assert list(voices) == [NARRATOR, "LENA", "OLD VENDOR", "KAI"]
    assert len(combos(voices)) == 4
    # Ages from the action's introductions: OLD VENDOR (70s), KAI (12), LENA (30s).
    assert voices["OLD VENDOR"].pitch < voices["LENA"].pitch < voices["KAI"].pitch
    assert voices["OLD VENDOR"].rate_factor < 1.0 < voices["KAI"].rate_factor
    # Unlisted characters of unknown gender alternate.
    assert voices["LENA"].gender != voices["OLD VENDOR"].gender
    assert {v.voice_id for v in voices.values()} == {"gmw/en-US"}


def test_casting_is_deterministic() -> None:
    script = analyse(NIGHT_MARKET, settings())
    assert cast_voices(script, settings()) == cast_voices(analyse(NIGHT_MARKET, settings()), settings())


def test_narrator_only_when_it_speaks() -> None:
    voices = cast_voices(script_with(["ANN", "BOB"]), settings())
    assert NARRATOR not in voices


def test_gender_steers_the_variant() -> None:
    s = settings({"name": "Ann", "gender": "female"}, {"name": "bob", "gender": "male"},
                 {"name": "Cy", "gender": "neutral"})
    voices = cast_voices(script_with(["ANN", "BOB", "CY"]), s)
    assert voices["ANN"].variant in FEMALE_VARIANTS and voices["ANN"].gender == "female"
    assert voices["BOB"].variant in MALE_VARIANTS and voices["BOB"].gender == "male"
    assert voices["CY"].variant in NEUTRAL_VARIANTS


def test_age_and_quality_steer_pitch_rate_and_variant() -> None:
    s = settings(
        {"name": "KID", "age": "child"}, {"name": "GRAN", "age": "elderly"}, {"name": "MID"},
        {"name": "DEEP", "voice": "deep"}, {"name": "HIGH", "voice": "high"},
        {"name": "HUSH", "voice": "whisper", "gender": "male"}, {"name": "RASP", "voice": "raspy"},
        {"name": "SOFT", "voice": "soft"},
    )
    names = ["KID", "GRAN", "MID", "DEEP", "HIGH", "HUSH", "RASP", "SOFT"]
    v = cast_voices(script_with(names), s)
    assert v["KID"].pitch > v["MID"].pitch > v["GRAN"].pitch
    assert v["GRAN"].rate_factor < v["MID"].rate_factor < v["KID"].rate_factor
    assert v["DEEP"].pitch < v["MID"].pitch < v["HIGH"].pitch
    assert v["HUSH"].variant == "whisper"
    assert v["RASP"].variant == "croak"
    assert v["SOFT"].volume < 1.0 == v["MID"].volume
    assert len(combos(v)) == len(names)


def test_listed_names_match_case_insensitively_and_narrator_is_steerable() -> None:
    s = settings({"name": "narrator", "gender": "female", "voice": "deep"}, {"name": "Old  Vendor", "gender": "male"})
    voices = cast_voices(analyse(NIGHT_MARKET, settings()), s)
    assert voices[NARRATOR].variant in FEMALE_VARIANTS
    assert voices[NARRATOR].pitch < 50
    assert voices["OLD VENDOR"].variant in MALE_VARIANTS


def test_unlisted_never_take_a_listed_voice() -> None:
    listed = [{"name": f"F{n}", "gender": "female"} for n in range(5)]
    names = [f"F{n}" for n in range(5)] + [f"X{n}" for n in range(12)]
    voices = cast_voices(script_with(names), settings(*listed))
    assert len(combos(voices)) == len(names)
    assert sorted(voices[f"F{n}"].variant or "" for n in range(5)) == sorted(FEMALE_VARIANTS)


@pytest.mark.parametrize(("age", "gender", "quality"), list(itertools.product(AGES, GENDERS, VOICE_QUALITIES)))
def test_every_listed_combination_stays_in_bounds(age: str, gender: str, quality: str) -> None:
    s = settings({"name": "A", "age": age, "gender": gender, "voice": quality})
    voice = cast_voices(script_with(["A", NARRATOR]), s)["A"]
    assert RATE_MIN <= voice.rate_factor <= RATE_MAX and 0 <= voice.pitch <= 99 and 0 < voice.volume <= 1


def test_language_sets_the_voice_id() -> None:
    voices = cast_voices(script_with(["ANN"]), settings(language="fr"))
    assert voices["ANN"].voice_id == "roa/fr" and voices["ANN"].espeak_name.startswith("roa/fr+")


def test_age_groups() -> None:
    assert [age_group(y) for y in (5, 15, 25, 35, 50, 65, 80)] == [
        "child", "teen", "young", "adult", "middle-aged", "senior", "elderly"
    ]


def system_espeak_data() -> Path:
    """The data folder the installed espeak-ng reports (pyttsx3 speaks through it on Linux)."""
    espeak = shutil.which("espeak-ng")
    assert espeak is not None, "espeak-ng is a system requirement"
    out = subprocess.run([espeak, "--version"], check=True, capture_output=True, text=True).stdout
    return Path(out.split("Data at:")[1].strip())


def test_every_variant_and_language_voice_exists_in_espeak_data() -> None:
    for data in (Path(espeakng_loader.get_data_path()), system_espeak_data()):
        for variant in ALL_VARIANTS:
            assert (data / "voices" / "!v" / variant).is_file(), (data, variant)
        for lang in LANGUAGES.values():
            assert (data / "lang" / lang.espeak).is_file(), (data, lang.espeak)


# -- speech estimates ---------------------------------------------------------------------------


def test_estimate_counts_words_pauses_and_cjk() -> None:
    assert estimate_speech_seconds("", 175) == 0
    one = estimate_speech_seconds("word " * 10, 175)
    assert estimate_speech_seconds("word " * 20, 175) == pytest.approx(2 * one)
    assert estimate_speech_seconds("word " * 10, 350) == pytest.approx(one / 2)
    assert estimate_speech_seconds("a, b. c! d", 175) > estimate_speech_seconds("a b c d", 175)
    assert estimate_speech_seconds("東京の夜は静かだった", 175) > 5 * estimate_speech_seconds("東京", 175) / 2
    with pytest.raises(ValueError):
        estimate_speech_seconds("x", 0)


@pytest.mark.slow
def test_estimate_tracks_real_espeak_and_voices_sound_different(tmp_path: Path) -> None:
    espeak = shutil.which("espeak-ng")
    assert espeak is not None, "espeak-ng is a system requirement"
    text = (SAMPLES / "solar-sails.txt").read_text(encoding="utf-8").split("\n\n")[1]
    voices = cast_voices(analyse(NIGHT_MARKET, settings()), settings())
    outputs = []
    for n, speaker in enumerate(("LENA", "OLD VENDOR")):
        v = voices[speaker]
        wav = tmp_path / f"{n}.wav"
        wpm = round(175 * v.rate_factor)
        subprocess.run([espeak, "-v", v.espeak_name, "-p", str(v.pitch), "-s", str(wpm), "-w", str(wav), text],
                       check=True, capture_output=True)
        with wave.open(str(wav)) as w:
            seconds = w.getnframes() / w.getframerate()
        outputs.append(wav.read_bytes())
        assert 0.8 < estimate_speech_seconds(text, wpm) / seconds < 1.25
    assert outputs[0] != outputs[1]


@pytest.mark.slow
def test_every_variant_changes_the_real_espeak_voice(tmp_path: Path) -> None:
    espeak = shutil.which("espeak-ng")
    assert espeak is not None, "espeak-ng is a system requirement"
    sounds = {}
    for variant in (None, *ALL_VARIANTS):
        name = "gmw/en-US" + (f"+{variant}" if variant else "")
        wav = tmp_path / f"{variant}.wav"
        subprocess.run([espeak, "-v", name, "-w", str(wav), "Hello there."], check=True, capture_output=True)
        sounds[variant] = wav.read_bytes()
    # espeak falls back silently to the plain voice for an unknown variant: each must differ.
    assert len(set(sounds.values())) == len(sounds)


# ------------------------------------------------------------------------------- neural voices


def _neural(voice_id: str, gender: str, speaker: int | None = None, language: str = "en") -> VoiceInfo:
    return VoiceInfo(engine="piper", voice_id=voice_id, name=voice_id, language=language, gender=gender,
                     speaker=speaker, neural=True)


MULTI = [_neural("en_US-many-medium", g, n) for n, g in enumerate(["male", "female", "female", "male", "neutral"])]


def test_multi_speaker_voice_gives_each_character_a_speaker_of_their_gender() -> None:
    speakers = [NARRATOR, "LENA", "BOB", "OLD WOMAN", "MR GRAY"]
    cast = cast_voices(script_with(speakers), settings({"name": "LENA", "gender": "female"},
                                                       {"name": "BOB", "gender": "male"}), MULTI)
    assert cast[NARRATOR].speaker_id == 0 and cast[NARRATOR].pitch == 50
    ids = [v.speaker_id for v in cast.values()]
    assert len(set(ids)) == len(ids)  # enough speakers: nobody shares one
    for name in ("LENA", "OLD WOMAN"):
        assert MULTI[cast[name].speaker_id or 0].gender == "female"
    assert MULTI[cast["BOB"].speaker_id or 0].gender == "male"
    assert all(v.pitch - 50 in range(-8, 9) for v in cast.values())  # own speakers need little treatment


def test_neural_casting_is_deterministic_and_ignores_other_languages() -> None:
    speakers = [NARRATOR, "ANNA", "BEN", "KAI"]
    available = [_neural("de_DE-x-medium", "female", language="de"), _neural("en_US-joe-medium", "male")]
    first = cast_voices(script_with(speakers), settings(), available)
    assert first == cast_voices(script_with(speakers), settings(), available)
    assert {v.voice_id for v in first.values()} == {"en_US-joe-medium"}
    assert len({v.pitch for v in first.values()}) == 4


def test_many_characters_on_one_neural_voice_stay_distinct_and_bounded() -> None:
    speakers = [NARRATOR, *(f"PERSON {n}" for n in range(30))]
    cast = cast_voices(script_with(speakers), settings(), [_neural("en_US-joe-medium", "male")])
    assert len({(v.pitch, v.voice_id) for v in cast.values()}) == len(cast)
    assert all(abs(v.pitch - 50) <= 24 for v in cast.values())


def test_how_a_pitch_is_shown_is_the_engines_declared_scale(capsys: pytest.CaptureFixture[str]) -> None:
    """Semitones are shown where the engine declares its pitch a shift (`PitchScale`), never by engine name."""
    from filmstudio.cli import _print_summary
    from filmstudio.pipeline.engines import OWN_PITCH_SCALE, SHIFTED_PITCH

    speakers = [NARRATOR, "ANNA", "BEN", "KAI"]
    shifted = cast_voices(script_with(speakers), settings(), [_neural("en_US-joe-medium", "male")])
    own = cast_voices(script_with(speakers), settings(), [
        VoiceInfo(engine="kokoro", voice_id="af_x", name="X", language="en", gender="male",
                  neural=True, pitch_scale=OWN_PITCH_SCALE)])  # a new engine whose pitch is its own scale
    espeak = cast_voices(script_with([NARRATOR, *(f"P{n}" for n in range(20))]), settings(), [])  # pitches too
    treated = [name for name, v in shifted.items() if v.pitch != 50]
    assert treated and all(shifted[n].pitch_scale == SHIFTED_PITCH for n in speakers)
    for name in treated:
        assert shifted[name].semitones == (shifted[name].pitch - 50) / 4
    assert {v.engine for v in own.values()} == {"kokoro"} and any(v.pitch != 50 for v in own.values())
    assert all(v.semitones is None for v in own.values())
    assert any(v.pitch != 50 for v in espeak.values()) and all(v.semitones is None for v in espeak.values())

    def shown(cast: dict[str, Voice]) -> str:
        casting = {n: {"voice": v.engine_voice, "engine": v.engine, "speaker": None, "pitch": v.pitch,
                       "semitones": v.semitones} for n, v in cast.items()}
        _print_summary({"outputs": {"video": "f.mp4", "thumbnail": "t.jpg", "subtitles": {},
                                    "manifest": "f.json"}, "duration": 1.0, "encoder": "libx264",
                        "casting": casting, "warnings": [], "stage_seconds": {}, "total_seconds": 1.0})
        return capsys.readouterr().out

    assert f"cast:      {treated[0]}: piper:en_US-joe-medium ({shifted[treated[0]].semitones:+g} semitones)" in \
        shown(shifted)
    assert "semitones" not in shown(own) and "semitones" not in shown(espeak)
