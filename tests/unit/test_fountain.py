"""Fountain parser: every element type, and the shared night-market sample end to end."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filmstudio.domain.errors import ScriptError
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.script.analysis import analyse
from filmstudio.pipeline.script.fountain import Element, parse
from filmstudio.pipeline.script.markup import one_line, plain_text

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def types(text: str) -> list[tuple[str, str]]:
    return [(e.type, e.text) for e in parse(text).elements]


def only(text: str, kind: str) -> list[Element]:
    return [e for e in parse(text).elements if e.type == kind]


# -- title page -------------------------------------------------------------------------------


def test_title_page_fields_and_indented_multiline_values() -> None:
    doc = parse(
        "Title:\n    _**BRICK & STEEL**_\n    _**FULL RETIRED**_\nCredit: Written by\n"
        "Author: Stu Maschwitz\nDraft date: 1/20/2012\nContact:\n    Next Level Productions\n"
        "    1588 Mission Dr.\n\nEXT. BRICK'S PATIO - DAY\n\nA gorgeous day.\n"
    )
    assert doc.title_page["Title"] == "_**BRICK & STEEL**_\n_**FULL RETIRED**_"
    assert doc.field("draft date") == "1/20/2012"
    assert doc.field("contact") == "Next Level Productions\n1588 Mission Dr."
    assert doc.title_page["Author"] == "Stu Maschwitz"
    assert [e.type for e in doc.elements] == ["scene_heading", "action"]


def test_text_without_title_page_keeps_first_line_as_body() -> None:
    doc = parse("Warning: this is prose.\n\nMore prose.")
    assert doc.title_page == {}
    assert [e.type for e in doc.elements] == ["action", "action"]


# -- scene headings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    ["INT. HOUSE - DAY", "EXT. STREET - NIGHT", "EST. CITY - DAWN", "INT./EXT. CAR - DAY", "I/E CAR - DAY",
     "int. kitchen - morning", "INT HOUSE - DAY"],
)
def test_scene_headings(line: str) -> None:
    assert types(f"{line}\n\nSomething happens.") == [("scene_heading", line), ("action", "Something happens.")]


def test_forced_heading_and_scene_numbers() -> None:
    elements = parse("\n.SNIPER SCOPE POV\n\nINT. HOUSE - DAY #1A#\n\nQuiet.").elements
    assert (elements[0].type, elements[0].text, elements[0].forced) == ("scene_heading", "SNIPER SCOPE POV", True)
    assert (elements[1].text, elements[1].scene_number) == ("INT. HOUSE - DAY", "1A")
    assert types("...and then nothing.") == [("action", "...and then nothing.")]


def test_heading_needs_blank_line_before() -> None:
    assert types("He walks in.\nINT. HOUSE - DAY") == [("action", "He walks in.\nINT. HOUSE - DAY")]


def test_mixed_case_heading_needs_blank_line_after() -> None:
    assert types("Est. 1990, the shop\nnever closed.") == [("action", "Est. 1990, the shop\nnever closed.")]
    assert types("INT. HOUSE - DAY\nQuiet.") == [("scene_heading", "INT. HOUSE - DAY"), ("action", "Quiet.")]


# -- characters and dialogue ------------------------------------------------------------------


def test_character_dialogue_parenthetical_and_extensions() -> None:
    doc = parse("\nSTEEL (O.S.)\n(quietly)\nHello there.\nHow are you?\n(beat)\nGood.\n")
    got = [(e.type, e.text, e.extension, e.character) for e in doc.elements]
    assert got == [
        ("character", "STEEL", "O.S.", None),
        ("parenthetical", "(quietly)", "O.S.", "STEEL"),
        ("dialogue", "Hello there.\nHow are you?", "O.S.", "STEEL"),
        ("parenthetical", "(beat)", "O.S.", "STEEL"),
        ("dialogue", "Good.", "O.S.", "STEEL"),
    ]


def test_forced_character_and_lowercase_extension() -> None:
    forced = parse("\n@McCLANE\nYippee ki-yay.").elements[0]
    assert (forced.type, forced.text, forced.forced) == ("character", "McCLANE", True)
    cue = parse("\nHANS (cont'd)\nNow I have a machine gun.").elements[0]
    assert (cue.type, cue.text, cue.extension) == ("character", "HANS", "cont'd")
    several = parse("\nKAI (V.O.) (CONT'D)\nAgain.").elements[0]
    assert several.extension == "V.O., CONT'D"


def test_all_caps_line_without_dialogue_is_action() -> None:
    assert types("\nBOOM!\n\nThe wall falls.") == [("action", "BOOM!"), ("action", "The wall falls.")]


def test_dual_dialogue() -> None:
    elements = parse("\nBRICK\nScrew retirement.\n\nSTEEL ^\nScrew retirement.\n").elements
    assert [(e.type, e.dual) for e in elements] == [
        ("character", False), ("dialogue", False), ("character", True), ("dialogue", True)
    ]
    assert elements[2].text == "STEEL"


def test_two_space_line_keeps_dialogue_together() -> None:
    elements = parse("\nDEALER\nTen.\n  \nFour.\n").elements
    assert [(e.type, e.text) for e in elements] == [("character", "DEALER"), ("dialogue", "Ten.\n\nFour.")]


def test_cjk_line_is_never_a_character() -> None:
    assert [e.type for e in parse("\n東京\n夜は静かだった。").elements] == ["action"]


# -- transitions, centered, action ------------------------------------------------------------


def test_transitions() -> None:
    assert only("\nCUT TO:\n\nINT. HOUSE - DAY\n", "transition")[0].text == "CUT TO:"
    assert only("FADE IN:\n\nINT. HOUSE - DAY\n", "transition")[0].text == "FADE IN:"
    forced = only("\n> Burn to white.\n", "transition")[0]
    assert (forced.text, forced.forced) == ("Burn to white.", True)
    assert types("\nCUT TO:\nnot a transition") == [("action", "CUT TO:\nnot a transition")]


def test_centered() -> None:
    assert types("> THE END <") == [("centered", "THE END")]
    assert types(">  INTERMISSION  <") == [("centered", "INTERMISSION")]


def test_forced_action_and_indentation() -> None:
    forced = parse("!SCANNING THE AISLES...\nWhere is he?").elements
    assert len(forced) == 1 and forced[0].type == "action" and forced[0].forced
    assert forced[0].text == "SCANNING THE AISLES...\nWhere is he?"
    assert parse("\tIndented text.\n  Two spaces.").elements[0].text == "    Indented text.\n  Two spaces."


# -- structure: sections, synopses, lyrics, page breaks ---------------------------------------


def test_sections_synopses_lyrics_page_breaks() -> None:
    elements = parse("# Act One\n\n## Sequence\n\n= A synopsis.\n\n~Willy Wonka! Willy Wonka!\n\n===\n\nAfter.").elements
    got = [(e.type, e.text, e.depth) for e in elements]
    assert got == [
        ("section", "Act One", 1),
        ("section", "Sequence", 2),
        ("synopsis", "A synopsis.", 0),
        ("lyric", "Willy Wonka! Willy Wonka!", 0),
        ("page_break", "", 0),
        ("action", "After.", 0),
    ]


def test_lyric_inside_dialogue_belongs_to_the_character() -> None:
    elements = parse("\nWONKA\n~Come with me\n~And you'll be\n").elements
    assert [(e.type, e.character) for e in elements] == [("character", None), ("lyric", "WONKA"), ("lyric", "WONKA")]


# -- notes and boneyard ---------------------------------------------------------------------


def test_notes_inline_standalone_and_multiline() -> None:
    elements = parse("His hand is an inch from the gun.[[Is this needed?]]\n\n[[A note\nover two lines.]]\n\nEnd.").elements
    assert [(e.type, e.text) for e in elements] == [
        ("action", "His hand is an inch from the gun.[[Is this needed?]]"),
        ("note", "A note\nover two lines."),
        ("action", "End."),
    ]
    assert plain_text(elements[0].text) == "His hand is an inch from the gun."


def test_boneyard_is_removed_even_across_lines() -> None:
    text = "Kept.\n\n/*\nLENA\nHe never listens.\n*/\n\nAlso /* cut */kept."
    assert types(text) == [("action", "Kept."), ("action", "Also kept.")]


# -- markup ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("*italic* and **bold** and ***both***", "italic and bold and both"),
        ("_underlined_ text", "underlined text"),
        ("_**BRICK & STEEL**_", "BRICK & STEEL"),
        (r"Steel enters the code \*9765\*.", "Steel enters the code *9765*."),
        (r"a \_literal\_ underscore", "a _literal_ underscore"),
        ("snake_case_name stays", "snake_case_name stays"),
        ("He waits [[check timing]] and  leaves.", "He waits and leaves."),
        ("2 * 3 * 4", "2 * 3 * 4"),
    ],
)
def test_plain_text(raw: str, plain: str) -> None:
    assert plain_text(raw) == plain


def test_one_line_joins_lines() -> None:
    assert one_line("Where *are*\nyou?") == "Where are you?"


# -- the shared sample ------------------------------------------------------------------------


def test_night_market_sample_parses_every_element() -> None:
    doc = parse((SAMPLES / "night-market.fountain").read_text(encoding="utf-8"))
    assert doc.title_page == {
        "Title": "Night Market", "Credit": "written by", "Author": "Sample Writer", "Draft date": "1 March 2026"
    }
    e = doc.elements
    kinds = [x.type for x in e]
    assert kinds[:4] == ["section", "synopsis", "transition", "scene_heading"]
    assert (e[0].text, e[0].depth) == ("ACT ONE", 1)
    assert e[1].text == "Lena looks for her brother among the stalls."
    transitions = [(x.text, x.forced) for x in e if x.type == "transition"]
    assert transitions == [("FADE IN:", False), ("CUT TO:", False), ("FADE OUT.", True)]
    assert [x.text for x in e if x.type == "centered"] == ["THE END"]
    assert [x.text for x in e if x.type == "scene_heading"] == ["EXT. NIGHT MARKET - NIGHT", "INT. ARCADE - CONTINUOUS"]
    assert [x.text for x in e if x.type == "note"] == ["Consider a wide shot here."]
    assert [x.text for x in e if x.type == "parenthetical"] == ["(into phone)"]
    cues = [(x.text, x.extension, x.dual) for x in e if x.type == "character"]
    assert cues == [
        ("LENA", None, False), ("OLD VENDOR", None, False), ("LENA", None, False), ("OLD VENDOR", None, False),
        ("KAI", "V.O.", False), ("LENA", None, False), ("KAI", None, True), ("KAI", "CONT'D", False),
    ]
    # The boneyard's cut line never appears anywhere.
    assert all("never listens" not in x.text for x in e)
    assert kinds[-2:] == ["transition", "centered"]
    assert kinds.count("dialogue") == 8 and kinds.count("action") == 5


# -- robustness -------------------------------------------------------------------------------

_PIECES = st.sampled_from(
    ["\n", "\n\n", "  \n", "INT. ", "EXT. ", "I/E ", ".", "!", "@", "^", "~", ">", "<", "#", "=", "===", "[[",
     "]]", "/*", "*/", "*", "**", "_", "\\*", "(", ")", "CUT TO:", "FADE OUT.", "KAI", "(V.O.)", "Title: ",
     "   ", "\t", "hello", "World.", "東京", "مرحبا", "🚀", " - NIGHT", "#1A#", ":", "\r\n"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=60).map("".join))
def test_parser_never_raises_and_analysis_only_refuses_empty(text: str) -> None:
    doc = parse(text)
    assert all(e.type in {"scene_heading", "action", "character", "parenthetical", "dialogue", "transition",
                          "centered", "section", "synopsis", "lyric", "page_break", "note"} for e in doc.elements)
    assert all("\ue010" not in e.text for e in doc.elements)  # note placeholders never leak
    try:
        script = analyse(text, RenderSettings())
    except ScriptError as exc:
        assert exc.code == "SCRIPT_EMPTY"
    else:
        assert [ln.index for ln in script.lines] == list(range(len(script.lines)))
        assert all(ln.text and ln.text == ln.text.strip() for ln in script.lines)
        assert not any(re.search(r"\[\[.*?\]\]", ln.text) for ln in script.lines)  # notes never spoken
