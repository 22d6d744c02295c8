"""What each segment shows: scene titles, shown-only lines, burned-in captions, user images."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from filmstudio.domain.settings import parse_settings
from filmstudio.pipeline.plan import Cue, Line, RenderPlan, Scene, SceneTiming, Script, TimedLine
from filmstudio.pipeline.providers.backdrops import Painted
from filmstudio.pipeline.providers.visuals import CUT, FADE, Dissolve
from filmstudio.pipeline.stages.visual_generation import build_specs, pick_image


def _plan(tmp_path: Path, **settings: object) -> RenderPlan:
    fade = Line(index=0, kind="transition", text="FADE IN:", spoken=False)
    said = Line(index=1, kind="dialogue", text="Hello there.", speaker="ANNA")
    night = Line(index=2, kind="action", text="Stars.", speaker="NARRATOR")
    script = Script(
        title="T", title_page={"Author": "Me"}, characters=("ANNA",),
        scenes=(
            Scene(0, "EXT. HARBOUR - DAY", "EXT", "HARBOUR", "DAY", (fade, said)),
            Scene(1, "EXT. HILL - NIGHT", "EXT", "HILL", "NIGHT", (night,)),
        ),
    )
    timeline = (SceneTiming("title", -1, 0.0, 2.0), SceneTiming("scene", 0, 2.0, 8.0),
                SceneTiming("scene", 1, 8.0, 12.0), SceneTiming("end", 2, 12.0, 14.0))
    timed = (TimedLine(fade, 0, 2.5, 3.9, None), TimedLine(said, 0, 4.2, 5.5, tmp_path / "a.wav"),
             TimedLine(night, 1, 8.5, 9.5, tmp_path / "b.wav"))
    cues = (Cue(1, 4.2, 5.5, "Hello there.", 1), Cue(2, 8.5, 9.5, "Stars.", 2))
    return RenderPlan(settings=parse_settings({"resolution": "320x180", "fps": 12, **settings}), script_text="",
                      work_dir=tmp_path, output=tmp_path / "o.mp4", script=script, timeline=timeline,
                      timed_lines=timed, subtitles={"en": cues})


def test_segments_follow_the_timeline(tmp_path: Path) -> None:
    specs = build_specs(_plan(tmp_path))
    assert [s.kind for s in specs] == ["title", "scene", "scene", "end"]
    assert [s.duration for s in specs] == [2.0, 6.0, 4.0, 2.0]
    assert specs[0].credit == "written by Me"
    assert (specs[2].time_of_day, specs[2].int_ext, specs[2].location) == ("NIGHT", "EXT", "HILL")


def test_transitions_are_performed_not_printed(tmp_path: Path) -> None:
    scene = build_specs(_plan(tmp_path))[1]
    assert not [o for o in scene.overlays if o.role == "onscreen"]  # "FADE IN:" is a fade, not text
    title = [o for o in scene.overlays if o.role == "scene_title"]
    assert title and title[0].start == 0.0
    assert title[0].text == "Harbour — Day"
    assert scene.opening == FADE


def _two_scenes(tmp_path: Path, transition: str | None, second_time: str = "NIGHT") -> RenderPlan:
    plan = _plan(tmp_path)
    assert plan.script is not None
    first, second = plan.script.scenes
    extra = (Line(index=3, kind="transition", text=transition, spoken=False),) if transition else ()
    first = replace(first, lines=(*first.lines, *extra))
    second = replace(second, time_of_day=second_time, heading=f"INT. HALL - {second_time}", int_ext="INT")
    return replace(plan, script=replace(plan.script, scenes=(first, second)))


@pytest.mark.parametrize(("transition", "joins"), [
    (None, (True, True, None)),  # no transition: a fade through black, as before
    ("FADE OUT.", (True, True, None)),
    ("CUT TO:", (False, False, None)),
    ("SMASH CUT TO:", (False, False, None)),
    ("DISSOLVE TO:", (False, False, "dissolve")),
])
def test_scene_joins_follow_the_transition(tmp_path: Path, transition: str | None,
                                           joins: tuple[bool, bool, str | None]) -> None:
    specs = build_specs(_two_scenes(tmp_path, transition))
    a, b = specs[1], specs[2]
    assert (a.closing == FADE, b.opening == FADE, "dissolve" if isinstance(b.opening, Dissolve) else None) == joins
    if isinstance(b.opening, Dissolve):
        assert b.opening.before == a  # the shot before, as it is (it did not itself open on a dissolve)
    assert not [o for s in specs for o in s.overlays if o.text == transition]


def test_continuous_keeps_the_light_of_the_scene_before(tmp_path: Path) -> None:
    plan = _two_scenes(tmp_path, None, second_time="CONTINUOUS")
    assert plan.script is not None
    night_first = replace(plan.script.scenes[0], time_of_day="NIGHT")
    plan = replace(plan, script=replace(plan.script, scenes=(night_first, plan.script.scenes[1])))
    assert build_specs(plan)[2].time_of_day == "NIGHT"


def test_burned_captions_are_relative_to_their_segment(tmp_path: Path) -> None:
    assert not [o for s in build_specs(_plan(tmp_path)) for o in s.overlays if o.role == "caption"]
    specs = build_specs(_plan(tmp_path, burn_subtitles=True))
    caps = [(i, o.start, o.end) for i, s in enumerate(specs) for o in s.overlays if o.role == "caption"]
    assert caps == [(1, 4.2 - 2.0, 5.5 - 2.0), (2, 0.5, 1.5)]


def test_user_images_match_by_name_then_order(tmp_path: Path) -> None:
    images = [tmp_path / "a.jpg", tmp_path / "harbour.png", tmp_path / "scene-3.jpg"]
    assert pick_image(images, 0, "HARBOUR") == images[1]
    assert pick_image(images, 2, "CELLAR") == images[2]
    assert pick_image(images, 1, "HILL") == images[1]  # by order
    assert pick_image([], 0, "X") is None


def _two_line_plan(tmp_path: Path, first_len: float) -> RenderPlan:
    a = Line(index=0, kind="dialogue", text="A long first line.", speaker="ANNA")
    b = Line(index=1, kind="dialogue", text="A long second line.", speaker="BEN")
    script = Script(title="T", characters=("ANNA", "BEN"),
                    scenes=(Scene(0, "INT. ROOM - DAY", "INT", "ROOM", "DAY", (a, b)),))
    gap = 0.5
    b_start = 2.5 + first_len + gap
    end = b_start + 3.0 + 0.5
    timeline = (SceneTiming("title", -1, 0.0, 2.0), SceneTiming("scene", 0, 2.0, end),
                SceneTiming("end", 1, end, end + 2.0))
    timed = (TimedLine(a, 0, 2.5, 2.5 + first_len, tmp_path / "a.wav"),
             TimedLine(b, 0, b_start, b_start + 3.0, tmp_path / "b.wav"))
    cues = (Cue(1, 2.5, 2.5 + first_len, "A long first line.", 0), Cue(2, b_start, b_start + 3.0, "second", 1))
    return RenderPlan(settings=parse_settings({"resolution": "320x180", "fps": 12, "burn_subtitles": True}),
                      script_text="", work_dir=tmp_path, output=tmp_path / "o.mp4", script=script,
                      timeline=timeline, timed_lines=timed, subtitles={"en": cues})


def test_scenes_cut_into_shots_at_long_lines(tmp_path: Path) -> None:
    specs = build_specs(_two_line_plan(tmp_path, 2.0))
    shots = [s for s in specs if s.kind == "scene"]
    assert [s.shot for s in shots] == [0, 1]
    assert [(s.opening, s.closing) for s in shots] == [(FADE, CUT), (CUT, FADE)]
    assert shots[0].duration + shots[1].duration == 2.5 + 2.0 + 0.5 + 3.0 + 0.5 - 2.0
    # Each shot carries only its own caption, in its own time.
    assert [[o.text for o in s.overlays if o.role == "caption"] for s in shots] == [["A long first line."], ["second"]]
    assert [o.start for o in shots[1].overlays if o.role == "caption"] == [0.0]


def test_editing_one_line_changes_only_its_own_shot(tmp_path: Path) -> None:
    before = [s for s in build_specs(_two_line_plan(tmp_path, 2.0)) if s.kind == "scene"]
    after = [s for s in build_specs(_two_line_plan(tmp_path, 2.75)) if s.kind == "scene"]
    assert before[0] != after[0]
    assert before[1] == after[1]  # same spec: the cached segment is reused


def test_thumbnail_moments_avoid_burned_subtitles_and_prefer_located_scenes(tmp_path: Path) -> None:
    from filmstudio.pipeline.stages.thumbnail import thumbnail_candidates

    plan = _plan(tmp_path, burn_subtitles=True)
    plan = replace(plan, timeline=(SceneTiming("title", -1, 0.0, 2.0), SceneTiming("scene", 0, 2.0, 12.0),
                                   SceneTiming("scene", 1, 12.0, 20.0), SceneTiming("end", 2, 20.0, 22.0)),
                   subtitles={"en": (Cue(1, 6.0, 8.0, "Hello there.", 1),)})
    assert plan.script is not None
    room = replace(plan.script.scenes[1], heading="INT. ROOM - NIGHT", int_ext="INT", location="ROOM")
    plan = replace(plan, script=replace(plan.script, scenes=(plan.script.scenes[0], room)))
    cands = thumbnail_candidates(plan)
    assert cands and all(2.0 <= c.time < 20.0 for c in cands)  # never the title or end card
    best = max(cands, key=lambda c: c.weight)
    assert 2.0 <= best.time < 12.0  # the harbour, not the generic room
    for c in cands:
        if 6.0 - 0.3 <= c.time <= 8.0 + 0.3:
            assert c.weight < 0.5  # on a burned-in subtitle: all but ruled out
        if 2.0 <= c.time < 2.0 + 2.8:
            assert c.weight < best.weight  # the scene title is showing


def test_different_films_are_painted_differently(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    assert plan.script is not None
    other = replace(plan.script.scenes[0], heading="EXT. DESERT - DAY", location="DESERT")
    plan2 = replace(plan, script=replace(plan.script, scenes=(other, plan.script.scenes[1])))
    seeds = [s.seed for s in build_specs(plan)]
    seeds2 = [s.seed for s in build_specs(plan2)]
    assert seeds[1] != seeds2[1] and seeds[2] != seeds2[2]  # same title, other film


def test_cards_show_the_first_scenes_set_and_shots_their_actions_props(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    assert plan.script is not None
    boats = Line(index=3, kind="action", text="Two old boats and a lighthouse.", speaker="NARRATOR")
    first = plan.script.scenes[0]
    plan = replace(plan, script=replace(plan.script, scenes=(replace(first, lines=(*first.lines, boats)),
                                                             plan.script.scenes[1])))
    specs = build_specs(plan)
    title, end = specs[0], specs[-1]
    for card in (title, end):
        assert (card.location, card.int_ext) == ("HARBOUR", "EXT")  # never an unrelated default skyline
        assert card.source == Painted(("boat", "lighthouse"))
    assert (title.time_of_day, end.time_of_day) == ("DAY", "NIGHT")  # the first scene's and the last scene's light
    assert specs[1].source == Painted(("boat", "lighthouse"))  # "HARBOUR" is the setting; the nouns add props
    assert specs[2].source == Painted(("star",))  # "Stars." on the hill
