"""Delivery from the screenplay: parentheticals and extensions to a treatment; names spoken as names."""

from __future__ import annotations

import pytest

from filmstudio.pipeline.fit import count_words, spoken_wpm
from filmstudio.pipeline.media.voicefx import filter_chain
from filmstudio.pipeline.plan import Line
from filmstudio.pipeline.script.delivery import (
    PLAIN,
    beat_before,
    changes_delivery,
    delivery_for,
    spoken_text,
)


def _line(parenthetical: str | None = None, extension: str | None = None, text: str = "Hello.") -> Line:
    return Line(0, "dialogue", text, "MARA", parenthetical, extension)


def test_parentheticals_change_level_tempo_and_tone() -> None:
    whisper, shout = delivery_for(_line("(whispering)")), delivery_for(_line("(shouting)"))
    quiet, angry = delivery_for(_line("(quietly)")), delivery_for(_line("(angrily)"))
    assert whisper.names == ("whisper",) and whisper.gain_db <= -6 and whisper.tempo < 1 and whisper.highpass_hz
    assert shout.names == ("shout",) and shout.compress and shout.tempo > 1 and shout.treble_db > 0
    assert shout.gain_db > quiet.gain_db > whisper.gain_db
    assert quiet.names == ("quiet",) and delivery_for(_line("(softly)")).names == ("quiet",)
    assert angry.names == ("angry",) and angry.compress
    assert delivery_for(_line("(under her breath)")).names == ("whisper",)
    assert delivery_for(_line("(yelling angrily)")).names == ("shout",)  # the first treatment wins
    assert delivery_for(_line("(beat)")) == PLAIN and delivery_for(_line()) == PLAIN and PLAIN.plain


# Word families the voice acts, with ways screenwriters write them.
FAMILIES: dict[str, tuple[str, ...]] = {
    "sad": ("(sadly)", "(tearful)", "(crying)", "(sobbing)", "(grief-stricken)", "(heartbroken)"),
    "excited": ("(excited)", "(eagerly)", "(thrilled)", "(delighted)"),
    "nervous": ("(nervous)", "(hesitant)", "(stammering)", "(shakily)", "(anxiously)"),
    "laughing": ("(laughing)", "(chuckles)", "(through a giggle)", "(nervous laugh)"),
    "dry": ("(sarcastic)", "(dryly)", "(deadpan)", "(wry)", "(sardonic)"),
    "tired": ("(tired)", "(wearily)", "(exhausted)", "(yawning)", "(sleepily)"),
    "urgent": ("(urgent)", "(urgently)", "(hurried)", "(quickly)", "(in a rush)", "(frantic)"),
    "calm": ("(calm)", "(flatly)", "(evenly)", "(matter-of-fact)", "(coolly)"),
    "menacing": ("(coldly)", "(menacing)", "(icy)", "(threatening)", "(grimly)"),
    "pleading": ("(pleading)", "(begging)", "(imploring)", "(desperate)"),
    "amused": ("(amused)", "(smiling)", "(teasing)", "(grinning)"),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_word_family_is_its_own_intelligible_delivery(family: str) -> None:
    deliveries = {delivery_for(_line(p)) for p in FAMILIES[family]}
    (d,) = deliveries  # every spelling of the family gives the one treatment
    assert d.names == (family,) and all(changes_delivery(p) for p in FAMILIES[family])
    assert d.key() != PLAIN.key()
    # Intelligible: no quieter than -10 dB, no band narrower than a telephone's, tempo within 15 %.
    assert -10 <= d.gain_db <= 0 and 0.85 <= d.tempo <= 1.15
    assert (d.highpass_hz or 0) <= 320 and (d.lowpass_hz or 8000) >= 3400


def test_word_families_differ_and_go_the_way_the_words_say() -> None:
    d = {family: delivery_for(_line(spellings[0])) for family, spellings in FAMILIES.items()}
    assert len({str(x.key()) for x in d.values()}) == len(d)  # eleven different treatments
    for slow in ("sad", "tired", "menacing", "nervous", "pleading", "calm"):
        assert d[slow].tempo < 1.0, slow
    for fast in ("excited", "urgent", "laughing", "amused"):
        assert d[fast].tempo > 1.0, fast
    assert d["tired"].tempo <= d["sad"].tempo < d["calm"].tempo  # weary slowest, calm only unhurried
    assert d["urgent"].tempo >= d["excited"].tempo > d["amused"].tempo
    assert d["sad"].lowpass_hz and d["tired"].lowpass_hz and d["sad"].gain_db < 0 and d["tired"].gain_db < 0
    assert d["menacing"].bass_db > 0 and d["menacing"].treble_db < 0 and d["menacing"].gain_db < 0
    assert d["pleading"].highpass_hz and d["nervous"].highpass_hz and d["nervous"].gain_db < 0
    assert d["excited"].treble_db > 0 and d["excited"].compress and not d["calm"].compress
    assert d["dry"].treble_db < 0 < d["amused"].treble_db


def test_actions_and_addressees_stay_plain() -> None:
    for said in ("(beat)", "(to Mara)", "(re: the phone)", "(shakes his head)", "(drying her hands)",
                 "(sober)", "(reading aloud)", "(into the radio)", "(pause)", "(tearing the letter)"):
        assert delivery_for(_line(said)) == PLAIN, said
        assert not changes_delivery(said), said
    assert delivery_for(_line("(loudly)")).names == ("shout",)  # a loud line still is one
    # The first family in the lexicon wins: a cry out is a shout, a quiet threat is quiet.
    assert delivery_for(_line("(crying out)")).names == ("shout",)
    assert delivery_for(_line("(quietly menacing)")).names == ("quiet",)
    assert delivery_for(_line("(sadly)", "O.S.")).names == ("sad", "off-screen")


def test_beats_and_pauses_are_told_apart_from_other_actions() -> None:
    for said in ("(beat)", "(a beat)", "(Beat.)", "(long pause)", "(pause)", "(beats)", "( short beat )"):
        assert beat_before(_line(said.replace(".", ""))), said
    for said in ("(to Mara)", "(beat, then)", "(upbeat)", "(pauses at the door)", None):
        assert not beat_before(_line(said)), said


def test_extensions_voice_over_and_off_screen() -> None:
    vo, os_ = delivery_for(_line(extension="V.O.")), delivery_for(_line(extension="O.S."))
    assert vo.names == ("voice-over",) and vo.room > 0 and vo.gain_db == 0 and vo.lowpass_hz is None
    assert os_.names == ("off-screen",) and os_.lowpass_hz and os_.lowpass_hz <= 4000 and os_.gain_db < 0
    assert delivery_for(_line(extension="V.O., CONT'D")).names == ("voice-over",)
    assert delivery_for(_line(extension="O.C.")).names == ("off-screen",)
    assert delivery_for(_line(extension="CONT'D")) == PLAIN
    both = delivery_for(_line("(whispering)", "O.S."))
    assert both.names == ("whisper", "off-screen") and -10 <= both.gain_db < -9
    assert both.highpass_hz == 320 and both.lowpass_hz == 3400  # the narrower band of the two


def test_filter_chain_per_delivery() -> None:
    assert filter_chain(PLAIN) == "anull"
    assert "highpass=f=320" in filter_chain(delivery_for(_line("(whispering)")))
    assert "acompressor" in filter_chain(delivery_for(_line("(shouting)")))
    off = filter_chain(delivery_for(_line(extension="O.S.")))
    assert "lowpass=f=3400" in off and "aecho" in off


def test_character_names_in_capitals_are_spoken_as_names() -> None:
    action = Line(3, "action", "MARA wipes the counter. OLD VENDOR watches MARA'S hands. NASA calls.", spoken=True)
    assert spoken_text(action, ("MARA", "OLD VENDOR")) == (
        "Mara wipes the counter. Old Vendor watches Mara's hands. NASA calls.")
    assert spoken_text(Line(4, "action", "JEAN-LUC nods."), ("JEAN-LUC",)) == "Jean-Luc nods."
    assert spoken_text(Line(5, "action", "MARAS is a place."), ("MARA",)) == "MARAS is a place."  # whole names only
    assert spoken_text(action, ()) == action.text


def test_real_rate_counts_words_over_speech_seconds() -> None:
    assert count_words("In 2010 a well-known probe didn't stop.") == 7
    assert spoken_wpm(["one two three", "four"], [1.0, 0.5]) == 160.0
    assert spoken_wpm([], []) == 0.0
