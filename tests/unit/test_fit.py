"""Duration fit: the rate choice, the refusal up front, and a frame-exact layout of the film."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filmstudio.domain.errors import ScriptError
from filmstudio.domain.settings import parse_settings
from filmstudio.pipeline.engines import FALLBACK_PACE, Pace
from filmstudio.pipeline.fit import MAX_WPM, MIN_WPM, choose_rate, lay_out, tolerance
from filmstudio.pipeline.plan import Line, Scene, Script, Voice


def words_estimate(text: str, wpm: float, pace: Pace = FALLBACK_PACE) -> float:
    return len(text.split()) / wpm * 60.0


def make_script(words_per_line: list[list[int]]) -> Script:
    scenes = []
    idx = 0
    for s, counts in enumerate(words_per_line):
        lines = []
        for n in counts:
            lines.append(Line(index=idx, kind="dialogue", text=" ".join(["word"] * n), speaker="A"))
            idx += 1
        scenes.append(Scene(index=s, heading=f"INT. ROOM {s} - DAY", int_ext="INT", location=f"ROOM {s}",
                            time_of_day="DAY", lines=tuple(lines)))
    return Script(title="T", scenes=tuple(scenes), characters=("A",))


CAST = {"A": Voice("A", "gmw/en-US", None, 50, 1.0)}


def test_short_script_speaks_at_a_natural_rate() -> None:
    wpm, seconds = choose_rate(make_script([[10, 10]]), CAST, parse_settings({"duration": 60}), words_estimate)
    assert MIN_WPM <= wpm <= 170
    assert seconds < 60


def test_dense_script_speeds_up_within_bounds() -> None:
    script = make_script([[40, 40], [40, 40]])  # 160 words in 60 s
    wpm, seconds = choose_rate(script, CAST, parse_settings({"duration": 60}), words_estimate)
    assert 165 < wpm <= MAX_WPM
    assert seconds <= 60


def test_too_long_is_refused_with_the_seconds_needed() -> None:
    script = make_script([[100, 100], [100, 100]])  # 400 words: > 100 s even at the fastest rate
    with pytest.raises(ScriptError) as info:
        choose_rate(script, CAST, parse_settings({"duration": 30}), words_estimate)
    assert info.value.code == "SCRIPT_TOO_LONG"
    assert info.value.details["required_seconds"] > 400 / MAX_WPM * 60
    assert info.value.details["requested_seconds"] == 30


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.lists(st.integers(1, 25), min_size=1, max_size=5), min_size=1, max_size=6),
    duration=st.integers(5, 600),
    fps=st.sampled_from([12, 24, 30]),
)
def test_layout_hits_the_duration_and_is_frame_exact(counts: list[list[int]], duration: int, fps: int) -> None:
    script = make_script(counts)
    settings_ = parse_settings({"duration": duration, "fps": fps, "resolution": "320x180"})
    try:
        wpm, _ = choose_rate(script, CAST, settings_, words_estimate)
    except ScriptError:
        return  # refused up front: nothing to lay out
    clips = {ln.index: words_estimate(ln.text, wpm) for ln in script.lines}
    layout = lay_out(script, clips, settings_)
    end = layout.timeline[-1].end
    assert abs(end - duration) <= tolerance(duration)
    for seg in layout.timeline:
        assert abs(seg.start * fps - round(seg.start * fps)) < 1e-6
        assert seg.end > seg.start
    for a, b in zip(layout.timeline, layout.timeline[1:], strict=False):
        assert a.end == b.start
    # Lines are in order, inside their scene, and never overlap.
    previous_end = 0.0
    for scene, seg in zip(script.scenes, layout.timeline[1:-1], strict=False):
        for ln in scene.lines:
            assert seg.start <= layout.line_starts[ln.index] < layout.line_ends[ln.index] <= seg.end + 1e-6
            assert layout.line_starts[ln.index] >= previous_end - 1e-9
            previous_end = layout.line_ends[ln.index]


def test_a_beat_is_a_short_silence_before_its_line() -> None:
    from dataclasses import replace

    from filmstudio.pipeline.fit import Pacing

    plain = make_script([[6, 6, 6]])
    first, second, third = plain.scenes[0].lines
    beat = replace(plain, scenes=(replace(plain.scenes[0], lines=(
        first, replace(second, parenthetical="(beat)"), replace(third, parenthetical="(to A)"))),))
    settings_ = parse_settings({"duration": 12, "fps": 24, "resolution": "320x180"})
    pacing = Pacing.for_duration(12)
    assert pacing.overhead(beat) == pytest.approx(pacing.overhead(plain) + pacing.beat) and pacing.beat > 0.2
    clips = {ln.index: 2.0 for ln in plain.lines}
    a, b = lay_out(plain, clips, settings_), lay_out(beat, clips, settings_)
    gap = lambda layout, n: layout.line_starts[n] - layout.line_ends[n - 1]  # noqa: E731
    assert gap(b, 1) == pytest.approx(gap(a, 1) + pacing.beat, abs=1.5 / 24)  # the beat, to a frame
    assert gap(b, 2) == pytest.approx(gap(a, 2), abs=1.5 / 24)  # "(to A)" is no pause
    assert b.timeline[-1].end == a.timeline[-1].end  # the film still lasts what was asked
