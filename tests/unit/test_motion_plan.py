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


SAMPLES = SAMPLE.parent


def _sample(name: str, motion: str = "key"):  # type: ignore[no-untyped-def]
    text = (SAMPLES / name).read_text(encoding="utf-8")
    settings = RenderSettings(motion=motion)
    return build_storyboard(analyse(text, settings), settings, text=text)


def test_the_night_markets_key_shots_are_an_editors() -> None:
    board = _sample("night-market.fountain")
    moving = {s.number: s.motion_reason for s in board.shots if s.motion}
    # The market's establishing shot, the lanterns swaying, Lena pushing through the crowd, the
    # arcade's establishing shot, the hug; the talk between them stays still.
    assert moving == {1: "establishing shot", 2: "action moves: sway", 3: "action moves: pushes",
                      9: "establishing shot", 11: "action moves: hugs"}
    close = board.shots[9]
    assert close.camera == "close" and not close.motion  # "Kai!" / "Lena!": a dialogue close-up


def test_a_paragraph_of_prose_is_no_new_scene() -> None:
    # Narration: the opening moves, then only the passages whose pictures move (IKAROS unfurls its
    # sail, the sail moves, the ship drifts); before, every paragraph moved as "first shot of the scene".
    board = _sample("solar-sails.txt")
    assert [s.motion for s in board.shots] == [True, False, True, True, True]
    assert board.shots[1].motion_reason == "not a key shot"
    assert sum(s.motion for s in _sample("too-long.txt").shots) == 1


def test_a_dialogue_close_up_opening_a_scene_stays_still() -> None:
    from filmstudio.pipeline.motion_plan import key_reason
    from filmstudio.pipeline.plan import Line

    talk = [Line(index=0, kind="dialogue", text="Don't.", speaker="MARA", parenthetical="(whispering)")]
    assert key_reason(talk, 0, "close") is None
    assert key_reason(talk, 0, "medium") == "first shot of the scene"
    assert key_reason(talk, 0, "medium", new_scene=False) is None
    moving = [*talk, Line(index=1, kind="action", text="She runs to the door.")]
    assert key_reason(moving, 0, "close") == "action moves: runs"


def test_verbs_of_movement_not_nouns() -> None:
    from filmstudio.pipeline.motion_plan import moving_verb

    assert moving_verb("The sail moves slower than a walking pace.") == "moves"
    assert moving_verb("at a walking pace") is None
    assert moving_verb("A solar sail needs no fuel. Sunlight carries a tiny push.") is None
    assert moving_verb("The storm is over.") is None
    assert moving_verb("The storm rolls in.") == "rolls"
    assert moving_verb("MARA climbs the path.") == "climbs"
    assert moving_verb("THEO checks a new control box.") is None


class _Clips:
    """A Motion engine as the estimate sees one: what it declares (it never makes a clip here)."""

    def info(self):  # type: ignore[no-untyped-def]
        from filmstudio.pipeline.engines import EngineInfo

        return EngineInfo(kind="motion", name="test clips", version="1", ok=True, device="cuda")

    def identity(self):  # type: ignore[no-untyped-def]
        from filmstudio.pipeline.engines import MotionIdentity

        return MotionIdentity(model="wan", revision="r1", steps=30)

    def capabilities(self):  # type: ignore[no-untyped-def]
        from filmstudio.pipeline.engines import MotionCapabilities

        return MotionCapabilities(max_frames=81, fps=16, native_side=632, frames_step=4)

    def animate(self, request, *, cancel, progress=None):  # type: ignore[no-untyped-def]
        raise AssertionError("the estimate never animates")


def test_the_estimate_says_what_motion_adds(tmp_path: Path) -> None:
    from filmstudio.pipeline.clip_timings import clip_timings
    from filmstudio.pipeline.motion_estimate import clip_kind_for, estimate_motion
    from filmstudio.pipeline.motion_plan import MotionEstimate

    board = _board("key")
    none = estimate_motion(board, "key", None, 16 / 9, tmp_path)
    assert none.model is None and none.seconds == 0 and none.moving == 5
    assert none.summary() == ("no video model: shots stay stills with camera moves — `filmstudio models pull "
                              f"{none.pull}` (`filmstudio models list` says which fit this machine)")
    assert none.pull is not None and none.pull.startswith("wan")

    engine = _Clips()
    kind = clip_kind_for(engine, 16 / 9)  # type: ignore[arg-type]
    assert (kind.width, kind.height, kind.frames, kind.device) == (848, 480, 81, "cuda")
    guess = estimate_motion(board, "key", engine, 16 / 9, tmp_path)  # type: ignore[arg-type]
    assert (guess.model, guess.measured, guess.seconds_per_clip) == ("wan", False, kind.first_guess())
    clip_timings(tmp_path).record(kind, 96.0, 2)  # a render made 2 such clips in 96 s
    measured = estimate_motion(board, "key", engine, 16 / 9, tmp_path)  # type: ignore[arg-type]
    assert (measured.measured, measured.seconds_per_clip, measured.seconds) == (True, 48.0, 240.0)
    assert measured.summary() == "5 of 12 shots move: about 4 min on this GPU (wan)"

    assert MotionEstimate("key", 30, 12, "wan", "cuda", 40.0, True).summary() == \
        "12 of 30 shots move: about 8 min on this GPU (wan)"
    assert MotionEstimate("none", 30, 0, "wan", "cuda", 40.0, True).summary().startswith("motion is off")


def test_a_clip_is_asked_for_the_stills_picture_with_a_steady_camera() -> None:
    from filmstudio.pipeline.motion_plan import CLIP_CAMERA, CLIP_NEGATIVE, motion_prompt

    board = _board("key")
    for shot in board.shots:
        prompt, negative = motion_prompt(shot.prompt, shot.negative_prompt)
        # The still's prompt whole, then the camera: the segment moves its camera over the clip.
        assert prompt == f"{shot.prompt}, {CLIP_CAMERA}"
        assert negative.startswith(shot.negative_prompt) and negative.endswith(CLIP_NEGATIVE)
    assert motion_prompt("", "") == (CLIP_CAMERA, CLIP_NEGATIVE)
