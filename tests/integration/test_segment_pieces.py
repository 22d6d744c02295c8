"""A segment encoded as a cached head and a tail: real ffmpeg, decoded frames and probed keyframes."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.media.ffmpeg import GOP_SECONDS, ffmpeg_exe, probe
from filmstudio.pipeline.providers.pieces import head_frames, head_key, render_pieces
from filmstudio.pipeline.providers.visuals import CUT, Overlay, SegmentSpec, render_segment

pytestmark = pytest.mark.slow

W, H, FPS = 320, 180, 12
GOP = FPS * GOP_SECONDS

TITLE = SegmentSpec(kind="title", style="cinematic", size=(W, H), fps=FPS, duration=5.5, title="The Last Lighthouse",
                    credit="by Mara", heading="EXT. LIGHTHOUSE - DUSK", int_ext="EXT", location="LIGHTHOUSE",
                    time_of_day="DUSK")
SHOT = SegmentSpec(kind="scene", style="cinematic", size=(W, H), fps=FPS, duration=6.0, heading="INT. KITCHEN - NIGHT",
                   int_ext="INT", location="KITCHEN", time_of_day="NIGHT", closing=CUT,
                   overlays=(Overlay("The kettle sings.", 0.5, 2.5, "caption"),
                             Overlay("She waits.", 3.0, 6.0, "caption")))


def decode(path: Path) -> np.ndarray:
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3)


def keyframes(path: Path) -> list[int]:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "frame=key_frame",
                          "-of", "json", str(path)], capture_output=True, check=True, text=True).stdout
    return [i for i, f in enumerate(json.loads(out)["frames"]) if f["key_frame"] == 1]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def test_the_head_leaves_out_the_length_and_nothing_else() -> None:
    n = head_frames(TITLE)
    assert n == 2 * GOP  # 4 s: the closing fade (0.6 s) and the title's fade-out stay in the tail
    longer = replace(TITLE, duration=5.9)  # the card took spare seconds, inside the same light period
    assert head_frames(longer) == n and head_key(longer, n) == head_key(TITLE, n)
    for other in (replace(TITLE, title="The First Lighthouse"), replace(TITLE, seed=3),
                  replace(TITLE, duration=6.5), replace(TITLE, style="retro")):
        assert head_key(other, head_frames(other) or n) != head_key(TITLE, n), other
    # A caption ending inside the head is in its key; one lasting to the cut is not, by its end.
    assert head_key(replace(SHOT, duration=5.7), head_frames(SHOT)) == head_key(SHOT, head_frames(SHOT))
    moved = replace(SHOT, overlays=(Overlay("The kettle sings.", 0.5, 2.7, "caption"), SHOT.overlays[1]))
    assert head_key(moved, head_frames(SHOT)) != head_key(SHOT, head_frames(SHOT))


def test_short_shots_stay_whole() -> None:
    assert head_frames(replace(SHOT, duration=3.5)) == 0  # the camera's crossing follows the length
    assert head_frames(replace(TITLE, duration=4.0)) == GOP  # one whole GOP before the closing fade (3.4 s)
    late = replace(SHOT, overlays=(Overlay("Late.", 5.6, 6.0, "caption"),))  # fades in fast at the end
    assert head_frames(late) <= 5 * GOP


def test_pieces_make_the_segment_and_a_longer_one_reuses_the_head(tmp_path: Path) -> None:
    whole = render_segment(TITLE, tmp_path / "whole.mp4", encoder="libx264", cancel=CancelToken())
    head = tmp_path / "cache" / "head.mp4"
    joined = render_pieces(TITLE, tmp_path / "joined.mp4", head, encoder="libx264", cancel=CancelToken())
    n = head_frames(TITLE)
    stream = probe(joined)["streams"][0]
    assert stream["r_frame_rate"] == f"{FPS}/1" and len(decode(joined)) == TITLE.frames
    assert keyframes(joined)[: 1 + TITLE.frames // GOP] == list(range(0, TITLE.frames, GOP))
    a, b = decode(whole), decode(joined)
    assert psnr(a, b) > 30, "the pieces show the whole segment's picture"
    assert abs(float(a[-1].mean()) - float(b[-1].mean())) < 2  # faded out to black at the end alike

    stamp = head.stat().st_mtime_ns
    longer = replace(TITLE, duration=5.9)
    again = render_pieces(longer, tmp_path / "longer.mp4", head, encoder="libx264", cancel=CancelToken())
    assert head.stat().st_mtime_ns == stamp, "the head was encoded again"
    c = decode(again)
    assert len(c) == longer.frames
    assert np.array_equal(c[:n], b[:n]), "the head is the same stream, copied"
    fresh = decode(render_segment(longer, tmp_path / "fresh.mp4", encoder="libx264", cancel=CancelToken()))
    assert psnr(c[n:], fresh[n:]) > 30, "the new tail is the longer card's ending"
    assert c[-1].mean() < 8 < c[n].mean()  # the tail still fades the card out


def test_a_set_painted_once_is_read_back_not_painted_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rendering stage keeps each painted set in the cache (`plates`): a segment re-made after an
    edit, in a fresh process (empty memory caches), reads its set back, losslessly. Painting is made
    to fail the second time: the segment still renders, identical to one painted afresh, and the
    manifest's record of what it shows (props and their boxes) is the same."""
    from filmstudio.pipeline.providers import visuals

    plates = tmp_path / "plates"
    plates.mkdir()
    shot = replace(SHOT, location="HARBOUR", int_ext="EXT", heading="EXT. HARBOUR - NIGHT",
                   overlays=(Overlay("A boat knocks against the pier.", 0.5, 2.5, "caption"),))
    render_segment(shot, tmp_path / "first.mp4", encoder="libx264", cancel=CancelToken(), plates=plates)
    stored = list(plates.glob("*.png"))
    assert len(stored) == 1
    record = visuals.set_records((shot,), plates)
    assert any(name.startswith("prop:") for name, _ in record[0]["frame_layers"])

    longer = replace(shot, duration=shot.duration + 1.0)  # the edit: a new segment over the same set
    fresh = tmp_path / "fresh.mp4"
    visuals._cached_set.cache_clear()
    render_segment(longer, fresh, encoder="libx264", cancel=CancelToken())  # painted, no plates
    visuals._cached_set.cache_clear()
    visuals._stored_set.cache_clear()

    def no_painting(*_: object) -> None:
        raise AssertionError("the set was painted again")

    monkeypatch.setattr(visuals, "_cached_set", no_painting)
    again = tmp_path / "again.mp4"
    render_segment(longer, again, encoder="libx264", cancel=CancelToken(), plates=plates)
    assert np.array_equal(decode(again), decode(fresh))
    assert visuals.set_records((shot,), plates) == record


def test_a_damaged_plate_is_painted_again(tmp_path: Path) -> None:
    from filmstudio.pipeline.providers import visuals

    plates = tmp_path / "plates"
    plates.mkdir()
    render_segment(SHOT, tmp_path / "a.mp4", encoder="libx264", cancel=CancelToken(), plates=plates)
    (stored,) = plates.glob("*.png")
    good = stored.read_bytes()
    stored.write_bytes(good[: len(good) // 3])  # cut short (a full disk, a crash mid-copy)
    visuals._stored_set.cache_clear()
    visuals._cached_set.cache_clear()
    render_segment(SHOT, tmp_path / "b.mp4", encoder="libx264", cancel=CancelToken(), plates=plates)
    assert np.array_equal(decode(tmp_path / "a.mp4"), decode(tmp_path / "b.mp4"))
    assert stored.read_bytes() == good  # painted again and stored whole
