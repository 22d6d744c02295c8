"""Delivery from the screenplay: parentheticals and extensions to a treatment; names spoken as names."""

from __future__ import annotations

from filmstudio.pipeline.fit import count_words, spoken_wpm
from filmstudio.pipeline.media.voicefx import filter_chain
from filmstudio.pipeline.plan import Line
from filmstudio.pipeline.script.delivery import PLAIN, delivery_for, spoken_text


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
