"""The storyboard of the night-market sample: shots, prompts and the character bible."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.script.analysis import analyse
from filmstudio.pipeline.storyboard import ShotEdit, StoryboardEdits, build_storyboard, lock

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "night-market.fountain"


@pytest.fixture(scope="module")
def board():  # type: ignore[no-untyped-def]
    text = SAMPLE.read_text(encoding="utf-8")
    settings = RenderSettings()
    return build_storyboard(analyse(text, settings), settings, text=text)


def test_descriptions_come_from_the_screenplay(board) -> None:  # type: ignore[no-untyped-def]
    looks = {c.name: c.description for c in board.characters}
    assert looks["LENA"] == "a woman in her thirties holding a phone with a cracked screen"
    assert looks["OLD VENDOR"] == "a wiry old vendor in their seventies"
    assert looks["KAI"] == "a twelve-year-old boy"  # issue 22: "He holds up", "him"


def test_every_prompt_names_place_time_and_characters(board) -> None:  # type: ignore[no-untyped-def]
    looks = {c.name: c for c in board.characters}
    assert len(board.shots) >= 6
    for shot in board.shots:
        assert shot.location.lower() in shot.prompt
        assert "night" in shot.prompt  # the arcade is CONTINUOUS: still night
        for name in shot.characters:
            assert looks[name].description in shot.prompt  # word for word
        assert shot.negative_prompt
    assert {s.location for s in board.shots} == {"NIGHT MARKET", "ARCADE"}
    assert any("LENA" in s.characters for s in board.shots if s.location == "ARCADE")


def test_camera_and_seeds(board) -> None:  # type: ignore[no-untyped-def]
    firsts = [s for s in board.shots if s.shot == 0]
    assert [s.camera for s in firsts] == ["establishing", "establishing"]
    assert any(s.camera == "medium" for s in board.shots)
    assert any(s.camera == "close" for s in board.shots)  # "Kai!"
    seeds = {c.name: c.seed for c in board.characters}
    for shot in board.shots:
        if shot.characters:
            assert shot.seed == seeds[shot.characters[0]]
    lena = [s.seed for s in board.shots if s.characters[:1] == ("LENA",)]
    assert len(lena) >= 2 and len(set(lena)) == 1
    assert [s.number for s in board.shots] == list(range(1, len(board.shots) + 1))


def test_edits_and_settings_descriptions() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    settings = RenderSettings.model_validate(
        {"characters": [{"name": "Kai", "description": "a boy in a red jacket"}]})
    script = analyse(text, settings)
    edits = StoryboardEdits(shots={2: ShotEdit(seed=7, prompt="a lantern")})
    board = build_storyboard(script, settings, text=text, edits=edits)
    assert {c.name: c.description for c in board.characters}["KAI"] == "a boy in a red jacket"
    assert board.shots[1].seed == 7 and board.shots[1].prompt == "a lantern"
    locked = lock(board, edits, 3)
    assert locked.shots[3].locked and locked.shots[3].prompt == board.shots[2].prompt
    assert StoryboardEdits.load(None).shots == {}


def test_prose_becomes_shots() -> None:
    settings = RenderSettings()
    text = "The sail unfolds in silence.\n\nLight pushes it past the moon.\n\nWe wait for word from it."
    board = build_storyboard(analyse(text, settings), settings, text=text)
    assert len(board.shots) == 3
    assert "sail unfolds" in board.shots[0].prompt


def test_cli_prints_json() -> None:
    out = subprocess.run([sys.executable, "-m", "filmstudio", "storyboard", str(SAMPLE), "--json",
                          "--style", "documentary"], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    assert data["style"] == "documentary" and data["shots"][0]["camera"] == "establishing"
    assert "documentary photograph" in data["shots"][0]["prompt"]
    assert "name" in data["pictures"]


TWO_LINES = "INT. KITCHEN - NIGHT\n\nMara puts the kettle on.\n\nMARA\nYou came back.\n\nTHEO\nI never left.\n"


def test_a_film_far_longer_than_its_script_spreads_its_shots() -> None:
    """Asked for 60 s, two short lines: no shot is held for half a minute; cuts fall in the silences."""
    from filmstudio.pipeline.storyboard import MAX_SHOT, MIN_SHOT, estimated_timing, shot_cuts

    natural = build_storyboard(analyse(TWO_LINES, RenderSettings()), RenderSettings())
    settings = RenderSettings(duration=60)
    script = analyse(TWO_LINES, settings)
    timeline, timed = estimated_timing(script, settings=settings)
    (scene,) = [s for s in timeline if s.kind == "scene"]
    assert scene.end - scene.start > 40  # the spare time went to the scene's gaps, as the render lays it out
    cuts = shot_cuts(scene, [t for t in timed if t.scene_index == 0], settings.fps)
    assert len(cuts) >= 6 and cuts[0][0] == scene.start and cuts[-1][1] == scene.end
    assert all(b - a <= MAX_SHOT + 1e-6 and b - a >= MIN_SHOT for a, b in cuts)
    assert all(a2 == b1 for (_, b1), (a2, _) in itertools.pairwise(cuts))
    for a, _ in cuts[1:]:  # never while someone speaks
        assert not any(t.start < a < t.end for t in timed if t.line.spoken), a
    # The storyboard at 60 s has the render's shots (the same layout, the same cuts).
    board = build_storyboard(script, settings)
    assert len(board.shots) == len(cuts) > len(natural.shots)
    # The shots of silence show the scene's place and who is there, and differ (each its own extra).
    quiet = [s for s in board.shots if not s.line_indices]
    assert quiet and all("kitchen" in s.prompt for s in quiet)


def test_a_shot_that_fits_is_never_cut() -> None:
    from filmstudio.pipeline.plan import SceneTiming
    from filmstudio.pipeline.storyboard import shot_cuts

    assert shot_cuts(SceneTiming("scene", 0, 2.0, 9.5), [], 30) == [(2.0, 9.5)]
    # 17 s of silence: three shots of about equal length, on frames.
    cuts = shot_cuts(SceneTiming("scene", 0, 0.0, 17.0), [], 10)
    assert [round(b - a, 1) for a, b in cuts] == [5.7, 5.6, 5.7]
