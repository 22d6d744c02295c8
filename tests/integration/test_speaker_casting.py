"""Casting on a multi-speaker voice with the shipped speaker table (LibriTTS-R's readers).

There is no copy of `en_US-libritts_r-medium` offline: the voice is built from the bundled voice's
files under that id, with a speaker_id_map keyed like the real one (LibriTTS reader ids): the
real PiperVoices reads it, the real shipped table names its speakers, the real casting casts.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from filmstudio.cli import _print_summary
from filmstudio.desktop.backend import Backend
from filmstudio.domain.settings import RenderSettings, parse_settings
from filmstudio.pipeline.plan import NARRATOR, RenderPlan
from filmstudio.pipeline.providers.piper import BUNDLED_VOICE, PiperVoices, bundled_voice
from filmstudio.pipeline.providers.speakers import speaker_table
from filmstudio.pipeline.runner import build_manifest
from filmstudio.pipeline.script.analysis import analyse
from filmstudio.pipeline.script.casting import cast_voices

LIBRITTS = "en_US-libritts_r-medium"
UNLISTED = ("3922", "8699", "4535", "6701", "3638", "6544", "2531", "1638")  # real keys the table does not list

SCRIPT = """Title: The Crossing

INT. FERRY DECK - NIGHT

The ferry leaves the harbour. ANNA and her sister JUNE watch the lights.

ANNA
We should have stayed.

JUNE
We had no choice.

CAPTAIN
Everyone below deck, please.

GRANDMOTHER
I have crossed this water forty times.

MARCO
Then you know it is safe.

THE BOSUN
Nobody knows that.

NARRATOR
They reached the other side at dawn.
"""
CHARACTERS = [{"name": "Anna", "gender": "female"}, {"name": "June", "gender": "female"},
              {"name": "Captain", "gender": "male"}, {"name": "Marco", "gender": "male"},
              {"name": "The Bosun", "gender": "male"}]


def _libritts_like(folder: Path, extra: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """The bundled voice's files as a multi-speaker voice keyed like LibriTTS-R's speaker_id_map."""
    found = bundled_voice()
    assert found is not None
    keys = [row.key for row in speaker_table(LIBRITTS)] + list(UNLISTED) + list(extra)
    # Speaker numbers in an order of their own (as in the real map), not the table's.
    keys.sort(key=lambda k: hashlib.sha256(k.encode()).hexdigest())
    cfg = json.loads(found[1].read_text(encoding="utf-8"))
    cfg.update(num_speakers=len(keys), speaker_id_map={k: n for n, k in enumerate(keys)}, dataset="libritts_r")
    folder.mkdir(parents=True, exist_ok=True)
    onnx, config = folder / f"{LIBRITTS}.onnx", folder / f"{LIBRITTS}.onnx.json"
    onnx.symlink_to(found[0])
    config.write_text(json.dumps(cfg), encoding="utf-8")
    return onnx, config


def _settings(**extra: object) -> RenderSettings:
    return parse_settings({"duration": 30, "characters": CHARACTERS, **extra})


def test_the_voice_lists_its_speakers_with_the_tables_genders(tmp_path: Path) -> None:
    listed = PiperVoices([_libritts_like(tmp_path)]).voices("en")
    cfg = json.loads((tmp_path / f"{LIBRITTS}.onnx.json").read_text(encoding="utf-8"))
    assert not set(UNLISTED) & {row.key for row in speaker_table(LIBRITTS)}
    assert len(listed) == cfg["num_speakers"] == 81 + len(UNLISTED)
    by_label = {v.speaker_label: v for v in listed}
    assert all(v.speaker == cfg["speaker_id_map"][label] for label, v in by_label.items())
    assert (by_label["14"].gender, by_label["17"].gender, by_label["3922"].gender) == ("female", "male", "neutral")
    assert by_label["14"].name.endswith("#14 (female, Kristin LeMoine)")
    assert by_label["14"].speaker_name == "14 (female, Kristin LeMoine)" and by_label["3922"].speaker_name == "3922"
    # The table's narrator first, then its readers, then the speakers it does not know.
    assert listed[0].speaker_label == "1259"
    assert [v.gender for v in listed].index("neutral") == 81


def test_a_table_row_the_installed_voice_lacks_is_ignored(tmp_path: Path) -> None:
    found = bundled_voice()
    assert found is not None
    cfg = json.loads(found[1].read_text(encoding="utf-8"))
    cfg.update(num_speakers=3, speaker_id_map={"14": 0, "9999": 1, "17": 2})
    onnx, config = tmp_path / f"{LIBRITTS}.onnx", tmp_path / f"{LIBRITTS}.onnx.json"
    onnx.symlink_to(found[0])
    config.write_text(json.dumps(cfg), encoding="utf-8")
    listed = PiperVoices([(onnx, config)]).voices("en")
    assert [(v.speaker_label, v.speaker, v.gender) for v in listed] == [
        ("14", 0, "female"), ("17", 2, "male"), ("9999", 1, "neutral")]


def test_characters_get_distinct_speakers_of_their_gender(tmp_path: Path) -> None:
    engine = PiperVoices([_libritts_like(tmp_path)])
    settings = _settings()
    script = analyse(SCRIPT, settings)
    cast = cast_voices(script, settings, engine.voices("en"))
    table = {row.key: row for row in speaker_table(LIBRITTS)}
    label = {v.speaker: v.speaker_label for v in engine.voices("en")}
    assert {v.voice_id for v in cast.values()} == {LIBRITTS}
    speakers = {name: label[v.speaker_id] for name, v in cast.items()}
    assert len(set(speakers.values())) == len(cast) == 7  # everyone their own reader
    assert speakers[NARRATOR] == "1259"  # the table's narrator
    for name in ("ANNA", "JUNE", "GRANDMOTHER"):  # GRANDMOTHER: female from her name
        assert table[speakers[name]].gender == "female", name
    for name in ("CAPTAIN", "MARCO", "THE BOSUN"):
        assert table[speakers[name]].gender == "male", name
    # A reader of the character's own gender needs no pitch treatment (age may still shift it).
    assert all(cast[n].pitch == 50 for n in ("ANNA", "JUNE", "CAPTAIN", "MARCO", "THE BOSUN"))
    assert cast["GRANDMOTHER"].pitch < 50  # elderly: a little lower
    assert cast["ANNA"].speaker_name == f"{speakers['ANNA']} (female, {table[speakers['ANNA']].name})"


def test_casting_is_the_same_on_every_render(tmp_path: Path) -> None:
    settings = _settings()
    script = analyse(SCRIPT, settings)
    first = cast_voices(script, settings, PiperVoices([_libritts_like(tmp_path / "a")]).voices("en"))
    again = cast_voices(script, settings, PiperVoices([_libritts_like(tmp_path / "b")]).voices("en"))
    assert first == again
    # A reader never depends on the speaker numbers' order in the map: keys decide, and a new key elsewhere
    # in the map (a different release of the voice) leaves the cast alone.
    moved = cast_voices(script, settings, PiperVoices([_libritts_like(tmp_path / "c", ("5555",))]).voices("en"))
    label_a = {v.speaker: v.speaker_label for v in PiperVoices([_libritts_like(tmp_path / "d")]).voices("en")}
    label_c = {v.speaker: v.speaker_label for v in PiperVoices([_libritts_like(tmp_path / "e", ("5555",))]).voices("en")}
    assert {n: label_a[v.speaker_id] for n, v in first.items()} == {n: label_c[v.speaker_id] for n, v in moved.items()}


def test_with_the_bundled_voice_too_the_narrator_keeps_it(tmp_path: Path) -> None:
    found = bundled_voice()
    assert found is not None
    engine = PiperVoices([found, _libritts_like(tmp_path)])
    settings = _settings()
    cast = cast_voices(analyse(SCRIPT, settings), settings, engine.voices("en"))
    assert (cast[NARRATOR].voice_id, cast[NARRATOR].pitch) == (BUNDLED_VOICE, 50)
    table = {row.key: row for row in speaker_table(LIBRITTS)}
    label = {v.speaker: v.speaker_label for v in engine.voices("en") if v.voice_id == LIBRITTS}
    for name, gender in (("ANNA", "female"), ("JUNE", "female"), ("MARCO", "male")):
        voice = cast[name]
        if voice.voice_id == LIBRITTS:
            assert table[label[voice.speaker_id]].gender == gender, name
        else:  # the bundled voice (male) for a male character: its own speaker, untreated
            assert gender == "male" and voice.voice_id == BUNDLED_VOICE
    assert len({(v.voice_id, v.speaker_id, v.pitch) for v in cast.values()}) == len(cast)


def test_the_manifest_and_the_cli_show_each_characters_speaker(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    settings = _settings()
    script = analyse(SCRIPT, settings)
    cast = cast_voices(script, settings, PiperVoices([_libritts_like(tmp_path)]).voices("en"))
    plan = RenderPlan(settings=settings, script_text=SCRIPT, work_dir=tmp_path, output=tmp_path / "f.mp4",
                      script=script, casting=cast)
    manifest = json.loads(json.dumps(build_manifest(plan, 1.0, None, {})))
    anna = manifest["casting"]["ANNA"]
    assert anna["voice"] == LIBRITTS and anna["speaker"] == cast["ANNA"].speaker_name
    assert "(female, " in anna["speaker"] and manifest["casting"][NARRATOR]["speaker"].startswith("1259 (female")
    _print_summary(manifest)
    out = capsys.readouterr().out
    assert f"cast:      ANNA: piper:{LIBRITTS} #{cast['ANNA'].speaker_name}\n" in out
    shift = (cast["GRANDMOTHER"].pitch - 50) / 4  # quarter semitones
    assert f"cast:      GRANDMOTHER: piper:{LIBRITTS} #{cast['GRANDMOTHER'].speaker_name} ({shift:+g} semitones)" in out


def test_the_desktops_cast_table_names_the_reader(tmp_path: Path) -> None:
    engine = PiperVoices([_libritts_like(tmp_path)])
    settings = _settings()
    cast = cast_voices(analyse(SCRIPT, settings), settings, engine.voices("en"))
    # Backend.voice_name only asks the engines what they offer: the cast table's column for each character.
    shown = Backend.voice_name(SimpleNamespace(engines=SimpleNamespace(voices=engine)), cast["JUNE"])  # type: ignore[arg-type]
    assert shown.endswith(f"#{cast['JUNE'].speaker_name}") and "(female, " in shown


TWO_WOMEN = """Title: The Crossing

INT. FERRY DECK - NIGHT

ANNA
We should have stayed.

JUNE
We had no choice.

MARCO
Then go back.
"""


def _two_speakers(folder: Path) -> tuple[Path, Path]:
    """The bundled voice's files as a two-speaker voice: reader 14 (a woman) and 17 (a man) of the table."""
    found = bundled_voice()
    assert found is not None
    table = {row.key: row.gender for row in speaker_table(LIBRITTS)}
    assert (table["14"], table["17"]) == ("female", "male")
    cfg = json.loads(found[1].read_text(encoding="utf-8"))
    cfg.update(num_speakers=2, speaker_id_map={"17": 0, "14": 1})
    folder.mkdir(parents=True, exist_ok=True)
    onnx, config = folder / f"{LIBRITTS}.onnx", folder / f"{LIBRITTS}.onnx.json"
    onnx.symlink_to(found[0])
    config.write_text(json.dumps(cfg), encoding="utf-8")
    return onnx, config


def test_with_two_readers_of_both_sexes_every_woman_gets_the_female_one(tmp_path: Path) -> None:
    from filmstudio.pipeline.script.casting import gender_mismatches

    found = bundled_voice()
    assert found is not None
    engine = PiperVoices([found, _two_speakers(tmp_path)])
    settings = parse_settings({"duration": 20, "characters": [
        {"name": "Anna", "gender": "female"}, {"name": "June", "gender": "female"},
        {"name": "Marco", "gender": "male"}]})
    available = engine.voices("en")
    cast = cast_voices(analyse(TWO_WOMEN, settings), settings, available)
    female = next(v.speaker for v in available if v.speaker_label == "14")
    for name in ("ANNA", "JUNE"):  # June too, though Anna already speaks with reader 14: a treatment, not a man
        assert (cast[name].voice_id, cast[name].speaker_id) == (LIBRITTS, female), name
    assert cast["ANNA"].pitch != cast["JUNE"].pitch
    assert gender_mismatches(cast, available) == {}


def test_with_only_the_bundled_voice_the_warning_names_the_pull_command(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from filmstudio.pipeline.stages.script_analysis import ScriptAnalysis

    found = bundled_voice()
    assert found is not None
    engine = PiperVoices([found])
    settings = parse_settings({"duration": 20, "characters": [{"name": "Anna", "gender": "female"},
                                                              {"name": "Marco", "gender": "male"}]})
    ctx = SimpleNamespace(engines=SimpleNamespace(voices=engine), report=lambda *a: None,
                          cache=SimpleNamespace(path=lambda *a: tmp_path / "rate.json"))
    plan = RenderPlan(settings=settings, script_text=TWO_WOMEN, work_dir=tmp_path, output=tmp_path / "f.mp4")
    plan = ScriptAnalysis().run(plan, ctx)  # type: ignore[arg-type]
    assert plan.casting["ANNA"].voice_id == BUNDLED_VOICE
    warning = next(w for w in plan.warnings if w.startswith("ANNA"))
    assert "read by a male voice" in warning and "filmstudio models pull --recommended" in warning
    assert not any(w.startswith("MARCO") for w in plan.warnings)  # a man read by the male voice: no warning
    manifest = json.loads(json.dumps(build_manifest(plan, 1.0, None, {})))
    assert warning in manifest["warnings"]
    _print_summary(manifest)
    assert f"warning:   {warning}\n" in capsys.readouterr().out
