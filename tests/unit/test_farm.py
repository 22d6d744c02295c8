"""The segment farm's pure parts: specs over the wire, the order board, the coordinator's re-dispatch rule."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from filmstudio.domain.errors import FilmStudioError
from filmstudio.pipeline.context import Cache, CancelToken, StageContext
from filmstudio.pipeline.plan import RenderPlan
from filmstudio.pipeline.providers.backdrops import Clip, MediaRef, Still
from filmstudio.pipeline.providers.visuals import CUT, Dissolve, Overlay, SegmentSpec, spec_key
from filmstudio.services.farm import (
    FarmedRendering,
    SegmentBoard,
    SegmentOrder,
    segment_key,
    spec_from_json,
    spec_to_json,
)
from studio_engines import real_engines

SPEC = SegmentSpec(kind="scene", style="minimal", size=(320, 180), fps=12, duration=1.5, seed=7, heading="INT. LAB",
                   location="LAB", time_of_day="NIGHT", overlays=(Overlay("Hello", 0.1, 1.0, "onscreen"),), shot=1)


def test_spec_round_trips_through_json_with_the_same_content_key() -> None:
    wire = json.loads(json.dumps(spec_to_json(SPEC)))
    back = spec_from_json(wire)
    assert back == SPEC and spec_key(back) == spec_key(SPEC)
    assert segment_key(back, "libx264") != segment_key(back, "h264_nvenc")
    dissolving = replace(SPEC, opening=Dissolve(replace(SPEC, location="HALL", closing=CUT)))
    back = spec_from_json(json.loads(json.dumps(spec_to_json(dissolving))))
    assert back == dissolving and spec_key(back) == spec_key(dissolving) != spec_key(SPEC)


def test_a_user_image_travels_by_content_and_keeps_the_content_key(tmp_path: Path) -> None:
    from PIL import Image

    photo = tmp_path / "here" / "Harbour Photo.PNG"
    photo.parent.mkdir()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(photo, format="PNG")
    mine = replace(SPEC, source=Still.of(photo))
    wire = json.loads(json.dumps(spec_to_json(mine)))
    name = wire["source"]["media"]
    assert str(photo) not in json.dumps(wire) and name == hashlib.sha256(photo.read_bytes()).hexdigest() + ".png"
    board = SegmentBoard(tmp_path / "cache")
    assert board.publish_image(photo) == name and board.image(name).read_bytes() == photo.read_bytes()
    with pytest.raises(FilmStudioError):
        board.image("../../etc/passwd")
    elsewhere = tmp_path / "worker"
    elsewhere.mkdir()

    def fetch(m: MediaRef) -> Path:  # what a remote worker does: bring the bytes to its own folder
        (elsewhere / m.name).write_bytes(board.image(m.name).read_bytes())
        return elsewhere / m.name

    back = spec_from_json(wire, fetch)
    assert isinstance(back.source, Still) and back.source.path == elsewhere / name
    assert spec_key(back) == spec_key(mine) != spec_key(SPEC)
    assert segment_key(back, "libx264") == segment_key(mine, "libx264")
    with pytest.raises(FilmStudioError):
        spec_from_json({**wire, "source": {"kind": "still", "media": "../x.png"}}, fetch)
    with pytest.raises(FilmStudioError):
        spec_from_json({**wire, "source": {"kind": "hologram"}}, fetch)


def test_a_moving_shots_clip_travels_by_content_like_a_still(tmp_path: Path) -> None:
    clip = tmp_path / "here" / "clip-0123.mp4"
    clip.parent.mkdir()
    clip.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(200)))  # the bytes travel, never the path
    moving = replace(SPEC, source=Clip.of(clip))
    assert [m.name for m, _ in moving.media()] == [hashlib.sha256(clip.read_bytes()).hexdigest() + ".mp4"]
    wire = json.loads(json.dumps(spec_to_json(moving)))
    assert wire["source"]["kind"] == "clip" and str(clip) not in json.dumps(wire)
    board = SegmentBoard(tmp_path / "cache")
    for media, path in moving.media():  # what FarmedRendering does before it opens the order
        board.publish_media(media, path)
    elsewhere = tmp_path / "worker"
    elsewhere.mkdir()

    def fetch(m: MediaRef) -> Path:
        (elsewhere / m.name).write_bytes(board.image(m.name).read_bytes())
        return elsewhere / m.name

    back = spec_from_json(wire, fetch)
    assert isinstance(back.source, Clip) and back.source.path.read_bytes() == clip.read_bytes()
    assert spec_key(back) == spec_key(moving) != spec_key(replace(SPEC, source=Still.of(clip)))
    assert segment_key(back, "libx264") == segment_key(moving, "libx264")


def test_a_dissolve_out_of_a_picture_publishes_both_files(tmp_path: Path) -> None:
    from PIL import Image

    files = []
    for n, colour in enumerate(((10, 120, 200), (200, 120, 10))):
        files.append(tmp_path / f"p{n}.png")
        Image.new("RGB", (40, 30), colour).save(files[-1])
    spec = replace(SPEC, source=Still.of(files[1]), opening=Dissolve(replace(SPEC, source=Still.of(files[0]))))
    assert [m.name for m, _ in spec.media()] == [MediaRef.of(files[1]).name, MediaRef.of(files[0]).name]


def _order(key: str = "a" * 64, chunk: int = 4) -> SegmentOrder:
    return SegmentOrder("job-1", key, spec_to_json(SPEC), "libx264", chunk)


def test_board_takes_uploads_only_for_open_orders_and_checks_them(tmp_path: Path) -> None:
    board = SegmentBoard(tmp_path)
    with pytest.raises(FilmStudioError) as refused:
        board.put_part("a" * 64, 0, b"data", "w1")
    assert refused.value.code == "SEGMENT_NOT_ORDERED" and refused.value.http_status == 404
    with pytest.raises(FilmStudioError):
        board.beat("../../etc/passwd", "w", 0)
    assert not board.beat("a" * 64, "w", 0)  # no order: the worker is told to stop
    board.open(_order())
    assert board.beat("a" * 64, "w1", 5)
    beat = board.last_beat("a" * 64)
    assert beat is not None and beat[1] == {"worker": "w1", "frames": 5}
    board.put_part("a" * 64, 0, b"not ", "w1")
    board.put_part("a" * 64, 1, b"a video", "w1")
    board.put_part("a" * 64, 1, b"other bytes", "w2")  # another worker's parts stay apart
    with pytest.raises(FilmStudioError) as wrong_sum:
        board.complete("a" * 64, 2, "0" * 64, "w1")
    assert wrong_sum.value.code == "SEGMENT_CORRUPT"
    good = hashlib.sha256(b"not a video").hexdigest()
    with pytest.raises(FilmStudioError) as not_video:
        board.complete("a" * 64, 2, good, "w1")
    assert not_video.value.code == "SEGMENT_INVALID"
    with pytest.raises(FilmStudioError) as missing:
        board.complete("a" * 64, 3, good, "w1")
    assert missing.value.code == "SEGMENT_INCOMPLETE"
    assert not board.done("a" * 64) and not list(board.root.glob("*.mp4"))
    board.close("a" * 64)
    assert not board.is_open("a" * 64) and not list(board.root.glob(".*upload"))


@dataclass
class FakeDispatch:
    sent: list[str] = field(default_factory=list)

    def dispatch(self, order: SegmentOrder) -> None:
        self.sent.append(order.key)


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Inner:
    """Stands in for the rendering stage: records which segments it found already made."""

    name = "rendering"
    weight = 0.64

    def run(self, plan: RenderPlan, ctx: StageContext) -> RenderPlan:
        return plan


def _beat_at(board: SegmentBoard, key: str, worker: str, when: float) -> None:
    board.beat(key, worker, 3)
    os.utime(board.root / f"{key}.beat", (when, when))


def test_a_segment_whose_worker_went_quiet_is_dispatched_again_and_queued_ones_wait(tmp_path: Path) -> None:
    dispatch, clock = FakeDispatch(), Clock()
    stage = FarmedRendering(Inner(), dispatch, "job-1", lease_seconds=2.0, claim_seconds=60.0, poll_seconds=0.0,
                            clock=clock)
    board = SegmentBoard(tmp_path)
    specs = {segment_key(SPEC, "libx264"): SPEC, segment_key(replace(SPEC, shot=2), "libx264"): replace(SPEC, shot=2)}
    first, second = sorted(specs)
    ctx = StageContext(engines=real_engines(), cache=Cache(tmp_path), progress=lambda step, f: None, cancel=CancelToken(), encoder="libx264")
    ticks: list[Any] = []

    def world(step: str, fraction: float) -> None:
        """Runs once per coordinator pass: the test's workers act between passes."""
        ticks.append(fraction)
        n = len(ticks)
        if n == 1:
            _beat_at(board, first, "w1", clock.now)  # w1 starts the first; the second waits in the queue
        elif n == 2:
            clock.now += 10  # w1 dies: no beat for 10 s (> lease); the queued one is not stale
        elif n == 4:
            assert dispatch.sent.count(first) == 2 and dispatch.sent.count(second) == 1
            (board.root / f"{first}.mp4").write_bytes(b"made by w2")
            (board.root / f"{second}.mp4").write_bytes(b"made by w2")

    ctx = replace(ctx, progress=world)
    stage._farm(specs, "libx264", board, ctx)
    assert dispatch.sent.count(first) == 2 and dispatch.sent.count(second) == 1
    assert ticks == sorted(ticks)  # progress never goes backwards


def test_orders_nobody_takes_are_rendered_on_the_main_machine(tmp_path: Path) -> None:
    dispatch, clock = FakeDispatch(), Clock()
    stage = FarmedRendering(Inner(), dispatch, "job-1", lease_seconds=2.0, claim_seconds=30.0, poll_seconds=0.0,
                            clock=clock)
    board = SegmentBoard(tmp_path)
    key = segment_key(SPEC, "libx264")

    def later(step: str, fraction: float) -> None:
        clock.now += 31

    ctx = StageContext(engines=real_engines(), cache=Cache(tmp_path), progress=later, cancel=CancelToken(), encoder="libx264")
    stage._farm({key: SPEC}, "libx264", board, ctx)  # returns: the stage's inner rendering makes it here
    assert dispatch.sent == [key] and not board.is_open(key)
