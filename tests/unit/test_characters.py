"""The shared reading of characters: the table of screenplay snippets, and prompts with no markup in them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.script.analysis import analyse
from filmstudio.pipeline.script.casting import cast_voices
from filmstudio.pipeline.script.characters import read_characters
from filmstudio.pipeline.storyboard import build_storyboard

DATA = Path(__file__).resolve().parents[1] / "data"
ROWS: list[dict[str, Any]] = json.loads((DATA / "characters" / "readings.json").read_text(encoding="utf-8"))
SAMPLES = [DATA / "samples" / n for n in ("night-market.fountain", "solar-sails.txt", "unicode-mix.txt")]
DEMO = Path(__file__).resolve().parents[2] / "src" / "filmstudio" / "assets" / "examples" / "lighthouse.fountain"
ARTICLES = re.compile(r"\b(a|an|the)\s+(a|an|the)\b", re.IGNORECASE)


def test_the_table_is_big_and_covers_every_kind() -> None:
    assert len(ROWS) >= 40
    assert {r["kind"] for r in ROWS} == {"introduction", "pronoun", "title", "two", "prose"}


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['id']}-{r['name']}" for r in ROWS])
def test_reading(row: dict[str, Any]) -> None:
    s = RenderSettings(characters=row.get("characters") or [])
    script = analyse(row["script"], s)
    edits = {row["name"]: row["edits"]} if row.get("edits") else None
    c = read_characters(script, s, edits)[row["name"]]
    assert (c.sex, c.age, c.description) == (row["sex"], row["age"], row["description"])
    # Casting hears the same person: a known sex is the voice's gender.
    if c.sex and not row.get("characters"):
        assert cast_voices(script, s, edits=edits)[row["name"]].gender == c.sex


def test_edits_win_in_casting_too() -> None:
    text = "EXT. PIER - DAY\n\nNOOR reads.\n\nNOOR\n(to herself)\nOf course.\n"
    s = RenderSettings()
    script = analyse(text, s)
    assert cast_voices(script, s)["NOOR"].gender == "female"
    assert cast_voices(script, s, edits={"NOOR": {"sex": "male"}})["NOOR"].gender == "male"


def _prompts(text: str) -> tuple[list[str], list[str]]:
    s = RenderSettings()
    script = analyse(text, s)
    board = build_storyboard(script, s, text=text)
    names = [c.called for c in read_characters(script, s).values() if c.called and not c.called.startswith("the ")]
    return [shot.prompt for shot in board.shots], names


def _clean(prompts: list[str], names: list[str]) -> None:
    for prompt in prompts:
        assert "(" not in prompt and ")" not in prompt, prompt
        assert not ARTICLES.search(prompt), prompt
        for name in names:
            assert not re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", prompt, re.IGNORECASE), (name, prompt)
        for markup in ("cut to", "fade in", "fade out", "v.o.", "cont'd", "the end"):
            assert markup not in prompt.lower(), prompt


@pytest.mark.parametrize("path", [*SAMPLES, DEMO], ids=lambda p: p.name)
def test_no_markup_names_or_double_articles_in_sample_prompts(path: Path) -> None:
    _clean(*_prompts(path.read_text(encoding="utf-8")))


NAMES = st.sampled_from(["MARA", "THEO", "OLD TOM", "BIG MIKE", "THE STRANGER", "YOUNG MARA", "MRS. PATEL", "KAI"])
AGES = st.sampled_from(["", " (60s)", " (20s)", " (12)", " (45)"])
INTROS = st.sampled_from(["", ", the keeper,", ", a fisherman with a white beard,", ", wiry,", ", in a yellow raincoat,"])
ACTS = st.sampled_from(["climbs the path with a lantern.", "reads the letter.", "holds a bottle.", "waits.",
                        "hugs him hard.", "looks at her hands."])
PARENS = st.sampled_from(["", "(to herself)", "(into phone)", "(V.O.)", "(under his breath)"])
PLACES = st.sampled_from(["EXT. ROCKY COAST - DUSK", "INT. KITCHEN - MORNING", "INT. ARCADE - CONTINUOUS"])


@st.composite
def screenplays(draw: st.DrawFn) -> str:
    out = []
    for _ in range(draw(st.integers(1, 3))):
        out.append(draw(PLACES) + "\n")
        for _ in range(draw(st.integers(1, 3))):
            name = draw(NAMES)
            out.append(f"{name}{draw(AGES)}{draw(INTROS)} {draw(ACTS)}\n")
            paren = draw(PARENS)
            cue = f"{name} (V.O.)" if paren == "(V.O.)" else name
            out.append(f"{cue}\n" + (f"{paren}\n" if paren and paren != "(V.O.)" else "") + "A kettle whistles.\n")
            if draw(st.booleans()):
                out.append("A kettle whistles. She sighs.\n\nCUT TO:\n")
    return "\n".join(out)


@settings(max_examples=60, deadline=None)
@given(screenplays())
def test_no_prompt_of_a_generated_screenplay_has_markup_names_or_double_articles(text: str) -> None:
    _clean(*_prompts(text))


def test_demo_storyboard_reads_as_english() -> None:
    prompts, _ = _prompts(DEMO.read_text(encoding="utf-8"))
    s = RenderSettings()
    board = build_storyboard(analyse(DEMO.read_text(encoding="utf-8"), s), s)
    looks = {c.name: c.description for c in board.characters}
    assert looks == {"MARA": "a keeper in her sixties with a lantern", "THEO": "a young engineer in their twenties"}
    for shot in board.shots:
        assert shot.location.lower() in shot.prompt  # every shot names its place
        assert "kettle" not in shot.prompt and "herself" not in shot.prompt
        for name in shot.characters:
            assert shot.prompt.count(looks[name]) == 1  # the description once, no name beside it
    # Shots of one scene differ by what they show, not only by the camera.
    for scene in {s.scene_index for s in board.shots}:
        shown = [s.prompt.split(", ", 1)[1] for s in board.shots if s.scene_index == scene]
        assert len(set(shown)) == len(shown)
    # Every prop named in the action is drawn in some shot of its scene.
    for prop in ("lantern", "lighthouse", "lens", "control box", "fishing boat"):
        assert any(prop in p for p in prompts), prop


def test_sounds_are_left_out_and_props_spread_over_a_scenes_shots() -> None:
    text = ("INT. KITCHEN - MORNING\n\nANNA (30s), in a green apron, pours coffee. A kettle whistles. "
            "A letter lies on the table. A bottle of milk stands by the sink.\n\nANNA\nYou're up early.\n\n"
            "BEN\nI couldn't sleep.\n\nANNA\nIs that the letter?\n\nBEN\nIt came yesterday.\n")
    prompts, _ = _prompts(text)
    assert not any("kettle" in p or "whistles" in p for p in prompts)
    for prop in ("letter", "bottle of milk", "coffee"):
        assert any(prop in p for p in prompts), prop
    assert len(set(prompts)) == len(prompts)
