"""Chapters for YouTube from a film's scenes: first at 0:00, at least three, each at least 10 s."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from filmstudio.services.youtube.chapters import MIN_SECONDS, chapters, description, stamp


def _scenes(starts: list[float]) -> list[dict[str, Any]]:
    return [{"kind": "scene", "start": s, "location": f"PLACE {i}"} for i, s in enumerate(starts)]


def test_lines_start_at_zero_and_short_scenes_join_the_one_before() -> None:
    scenes = [{"kind": "title", "start": 0.0}, *_scenes([3.0, 14.0, 30.0, 36.0])]
    marks = chapters(scenes, 60.0)
    assert [(m.start, m.title) for m in marks] == [(0.0, "Place 0"), (14.0, "Place 1"), (36.0, "Place 3")]
    assert description("Hi.", marks) == "Hi.\n\n0:00 Place 0\n0:14 Place 1\n0:36 Place 3"


def test_fewer_than_three_chapters_means_none() -> None:
    assert chapters(_scenes([0.0, 20.0]), 40.0) == []
    assert chapters(_scenes([0.0, 2.0, 4.0, 6.0]), 12.0) == []
    assert description("Only text", []) == "Only text"


def test_timestamps() -> None:
    assert [stamp(s) for s in (0, 9.9, 65, 3723)] == ["0:00", "0:09", "1:05", "1:02:03"]


@given(st.lists(st.floats(min_value=0, max_value=600, allow_nan=False), max_size=30),
       st.floats(min_value=1, max_value=700))
def test_whatever_the_scenes_youtube_accepts_the_list(starts: list[float], extra: float) -> None:
    starts = sorted(starts)
    duration = (starts[-1] if starts else 0) + extra
    marks = chapters(_scenes(starts), duration)
    if not marks:
        return
    assert marks[0].start == 0 and len(marks) >= 3
    ends = [m.start for m in marks[1:]] + [duration]
    assert all(end - m.start >= MIN_SECONDS for m, end in zip(marks, ends, strict=True))


def test_chapter_names_keep_apostrophes_small() -> None:
    from filmstudio.services.youtube.chapters import scene_title

    scene = {"location": "HARBOUR MASTER'S OFFICE", "time_of_day": "DAY"}
    assert scene_title(scene, 1) == "Harbour Master's Office (Day)"  # str.title() gave "Master'S"
