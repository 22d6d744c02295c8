"""Which shots move: key shots by default, all, none, and the user's choice per shot."""

from __future__ import annotations

from pathlib import Path

from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.script.analysis import analyse
from filmstudio.pipeline.storyboard import StoryboardEdits, build_storyboard, set_motion

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "night-market.fountain"


def _board(motion: str, edits: StoryboardEdits | None = None):  # type: ignore[no-untyped-def]
    text = SAMPLE.read_text(encoding="utf-8")
    settings = RenderSettings(motion=motion)
    return build_storyboard(analyse(text, settings), settings, text=text, edits=edits)


def test_key_shots_move_and_say_why() -> None:
    board = _board("key")
    moving = [s for s in board.shots if s.motion]
    still = [s for s in board.shots if not s.motion]
    assert moving and still  # some, not all
    for s in board.shots:
        if s.shot == 0:
            assert s.motion, s
        assert s.motion_reason
    assert all(s.motion_reason == "not a key shot" for s in still)


def test_all_and_none() -> None:
    assert all(s.motion for s in _board("all").shots)
    none = _board("none").shots
    assert not any(s.motion for s in none)
    assert {s.motion_reason for s in none} == {"motion is off"}


def test_the_users_choice_wins_over_the_budget() -> None:
    board = _board("key")
    still = next(s for s in board.shots if not s.motion)
    moving = next(s for s in board.shots if s.motion)
    edits = set_motion(set_motion(StoryboardEdits(), still.number, True), moving.number, False)
    again = _board("none", edits)
    assert again.shots[still.number - 1].motion
    assert again.shots[still.number - 1].motion_reason == "your choice: moving"
    assert not _board("all", edits).shots[moving.number - 1].motion
    back = set_motion(edits, still.number, None)
    assert not _board("none", back).shots[still.number - 1].motion


def test_an_unknown_budget_is_refused_with_its_code() -> None:
    import pydantic
    import pytest

    with pytest.raises(pydantic.ValidationError) as err:
        RenderSettings(motion="some")
    assert err.value.errors()[0]["type"] == "UNKNOWN_MOTION"
