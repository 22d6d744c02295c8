"""Script analysis: Fountain and prose to scenes and lines; headings; titles; empty scripts."""

from __future__ import annotations

from pathlib import Path

import pytest

from filmstudio.domain.errors import ScriptError
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.plan import NARRATOR
from filmstudio.pipeline.script.analysis import analyse, parse_heading

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
SETTINGS = RenderSettings()


@pytest.mark.parametrize(
    ("heading", "facts"),
    [
        ("EXT. NIGHT MARKET - NIGHT", ("EXT", "NIGHT MARKET", "NIGHT")),
        ("INT. ARCADE - CONTINUOUS", ("INT", "ARCADE", "CONTINUOUS")),
        ("INT./EXT. CAR - MOVING - DAY", ("INT/EXT", "CAR - MOVING", "DAY")),
        ("I/E SUBMARINE - LATER", ("INT/EXT", "SUBMARINE", "LATER")),
        ("EST. CITY - EARLY MORNING", ("EXT", "CITY", "EARLY MORNING")),
        ("int. kitchen - dusk", ("INT", "KITCHEN", "DUSK")),
        ("INT. HOUSE - KITCHEN", ("INT", "HOUSE - KITCHEN", None)),
        ("SNIPER SCOPE POV", (None, "SNIPER SCOPE POV", None)),
        ("EXT. ROOF -- SUNSET", ("EXT", "ROOF", "SUNSET")),
    ],
)
def test_parse_heading(heading: str, facts: tuple[str | None, str, str | None]) -> None:
    h = parse_heading(heading)
    assert (h.int_ext, h.location, h.time_of_day) == facts


def test_night_market_sample() -> None:
    script = analyse((SAMPLES / "night-market.fountain").read_text(encoding="utf-8"), SETTINGS)
    assert script.is_fountain and script.title == "Night Market"
    assert script.title_page["Author"] == "Sample Writer"
    assert script.characters == ("LENA", "OLD VENDOR", "KAI")
    assert [(s.int_ext, s.location, s.time_of_day) for s in script.scenes] == [
        ("EXT", "NIGHT MARKET", "NIGHT"), ("INT", "ARCADE", "CONTINUOUS")
    ]
    assert [s.section for s in script.scenes] == ["ACT ONE", "ACT ONE"]
    lines = script.lines
    assert [ln.index for ln in lines] == list(range(len(lines)))
    # FADE IN: opens the first scene, shown and not spoken.
    assert (lines[0].kind, lines[0].text, lines[0].spoken) == ("transition", "FADE IN:", False)
    shown = [(ln.kind, ln.text) for ln in lines if not ln.spoken]
    assert shown == [("transition", "FADE IN:"), ("transition", "CUT TO:"), ("transition", "FADE OUT."),
                     ("centered", "THE END")]
    phone = next(ln for ln in lines if ln.parenthetical)
    assert (phone.speaker, phone.parenthetical, phone.text) == (
        "LENA", "(into phone)", "Where are you? I'm by the noodle stall.")
    kai = [(ln.text, ln.extension, ln.dual) for ln in lines if ln.speaker == "KAI"]
    assert kai == [("I only needed one more try.", "V.O.", False), ("Lena!", None, True),
                   ("I won it for you.", "CONT'D", False)]
    assert all(ln.speaker == NARRATOR for ln in lines if ln.kind == "action")
    spoken = " ".join(ln.text for ln in script.spoken_lines)
    assert "wide shot" not in spoken and "never listens" not in spoken and "Lena looks for" not in spoken
    assert "ACT ONE" not in spoken


def test_action_before_first_heading_is_a_scene_without_heading() -> None:
    script = analyse("A dark screen.\n\nINT. HOUSE - DAY\n\nBOB\nHi.\n", SETTINGS)
    first, second = script.scenes
    assert (first.heading, first.int_ext, first.location) == (None, None, "")
    assert [ln.text for ln in first.lines] == ["A dark screen."]
    assert second.lines[0].speaker == "BOB" and second.lines[0].index == 1


def test_lyrics_markup_numbers_and_title() -> None:
    text = (
        "Title: **The _Big_ Show**\n\n.STAGE #7#\n\n~La la la\n\nSINGER (O.S.)\n~Do re *mi*\n\n"
        "Some \\*literal\\* stars [[a note]].\n"
    )
    script = analyse(text, SETTINGS)
    assert script.title == "The Big Show"
    scene = script.scenes[0]
    assert (scene.heading, scene.number, scene.location, scene.int_ext) == ("STAGE", "7", "STAGE", None)
    got = [(ln.kind, ln.speaker, ln.text, ln.extension) for ln in script.lines]
    assert got == [
        ("lyric", NARRATOR, "La la la", None),
        ("lyric", "SINGER", "Do re mi", "O.S."),
        ("action", NARRATOR, "Some *literal* stars.", None),
    ]
    assert script.characters == ("SINGER",)


def test_forced_character_speaker_is_upper_case() -> None:
    script = analyse("\n@McCLANE\nYippee.", SETTINGS)
    assert script.lines[0].speaker == "MCCLANE" and script.characters == ("MCCLANE",)


def test_title_fallbacks() -> None:
    assert analyse("Solar Sails\n\nLight pushes the sail.", SETTINGS).title == "Solar Sails"
    assert analyse("Light pushes the sail.", RenderSettings(title="Given")).title == "Given"
    assert analyse("Light pushes the sail.", SETTINGS).title == "Untitled"
    assert analyse("INT. HOUSE - DAY\n\nQuiet.", RenderSettings(title="Given")).title == "Given"


def test_title_page_over_prose_is_narrated_by_paragraph() -> None:
    script = analyse("Title: *Solar* Sails\nAuthor: Me\n\nFirst paragraph of sunlight here.\n\nSecond paragraph of sunlight here.",
                     SETTINGS)
    assert script.title == "Solar Sails" and script.title_page["Author"] == "Me"
    assert [(s.heading, [ln.text for ln in s.lines]) for s in script.scenes] == [
        (None, ["First paragraph of sunlight here."]), (None, ["Second paragraph of sunlight here."])
    ]
    assert {ln.kind for ln in script.lines} == {"narration"}


def test_markdown_title_line_in_prose() -> None:
    assert analyse("# Solar Sails\n\nLight pushes the sail.", SETTINGS).title == "Solar Sails"


@pytest.mark.parametrize("text", ["", "   \n\t\n", "[[only a note]]", "/* all cut */", "Title: Nothing\n\n= synopsis"])
def test_empty_scripts_are_refused(text: str) -> None:
    with pytest.raises(ScriptError) as info:
        analyse(text, SETTINGS)
    assert info.value.code == "SCRIPT_EMPTY"


def test_action_asides_are_not_text() -> None:
    """`MARA (60s)` is the writer's note: the line speaks and subtitles without it, the aside is kept apart."""
    script = analyse("EXT. CLIFF - NIGHT\n\nMARA (60s), the keeper, climbs (slowly) the path.\n\n"
                     "OLD VENDOR (70s) waves.\n\n(beat)\n\nMARA\nHello (quietly) there.\n", SETTINGS)
    action = [ln for ln in script.lines if ln.kind == "action"]
    assert [ln.text for ln in action] == ["MARA, the keeper, climbs the path.", "OLD VENDOR waves."]
    assert action[0].asides == ("(60s)", "(slowly)")
    assert action[0].written == "MARA (60s), the keeper, climbs (slowly) the path."
    assert not any("(" in ln.text for ln in script.lines if ln.kind == "action")


def test_intro_ages_read_the_written_action() -> None:
    from filmstudio.pipeline.script.casting import intro_ages

    script = analyse("EXT. CLIFF - NIGHT\n\nMARA (60s) climbs.\n\nMARA\nHello.\n", SETTINGS)
    assert intro_ages(script) == {"MARA": 60}
