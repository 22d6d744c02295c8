"""What each segment shows: scene titles, shown-only lines, burned-in captions, user images."""

from __future__ import annotations

from pathlib import Path

from filmstudio.domain.settings import parse_settings
from filmstudio.pipeline.plan import Cue, Line, RenderPlan, Scene, SceneTiming, Script, TimedLine
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


def test_opening_transition_shows_before_the_scene_title(tmp_path: Path) -> None:
    scene = build_specs(_plan(tmp_path))[1]
    shown = [o for o in scene.overlays if o.role == "onscreen"]
    title = [o for o in scene.overlays if o.role == "scene_title"]
    assert [o.text for o in shown] == ["FADE IN:"]
    assert shown[0].start == 0.5
    assert title and title[0].start >= shown[0].end  # never on top of each other
    assert title[0].text == "Harbour — Day"


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
