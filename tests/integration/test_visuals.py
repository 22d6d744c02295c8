"""Segments rendered by real ffmpeg, checked by decoding their pixels and probing their streams."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from filmstudio.domain.errors import Cancelled
from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.media.ffmpeg import ffmpeg_exe, probe
from filmstudio.pipeline.providers.backdrops import Clip, Still
from filmstudio.pipeline.providers.thumbnails import make_thumbnail
from filmstudio.pipeline.providers.visuals import (
    CUT,
    Dissolve,
    Overlay,
    SegmentSpec,
    render_segment,
    scene_still,
)

pytestmark = pytest.mark.slow

W, H, FPS, DUR = 320, 180, 15, 2.0

DAY = SegmentSpec(
    kind="scene", style="documentary", size=(W, H), fps=FPS, duration=DUR,
    heading="EXT. CITY STREET - DAY", int_ext="EXT", location="CITY STREET", time_of_day="DAY",
)


def decode(path: Path, size: tuple[int, int] = (W, H)) -> np.ndarray:
    """All frames as a (n, h, w, 3) uint8 array."""
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout
    w, h = size
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def luma(frames: np.ndarray) -> np.ndarray:
    f = frames.astype(np.float32)
    out: np.ndarray = 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]
    return out


def middle(frames: np.ndarray) -> np.ndarray:
    """Frames clear of the segment's edge fades."""
    n = len(frames)
    return frames[n // 3: 2 * n // 3]


@pytest.fixture(scope="module")
def render(tmp_path_factory: pytest.TempPathFactory) -> Callable[[SegmentSpec, str], Path]:
    folder = tmp_path_factory.mktemp("segments")
    cache: dict[SegmentSpec, Path] = {}

    def _render(spec: SegmentSpec, name: str) -> Path:
        if spec not in cache:
            cache[spec] = render_segment(spec, folder / f"{name}.mp4", encoder="libx264", cancel=CancelToken())
        return cache[spec]

    return _render


def test_frame_count_fps_and_video_only(render: Callable[[SegmentSpec, str], Path]) -> None:
    path = render(DAY, "day")
    info = probe(path)
    streams = info["streams"]
    assert [s["codec_type"] for s in streams] == ["video"]
    video = streams[0]
    assert video["codec_name"] == "h264" and video["pix_fmt"] == "yuv420p"
    assert (video["width"], video["height"]) == (W, H)
    assert video["r_frame_rate"] == f"{FPS}/1" and video["avg_frame_rate"] == f"{FPS}/1"
    assert int(video["nb_frames"]) == round(DUR * FPS)
    assert len(decode(path)) == round(DUR * FPS)
    odd = replace(DAY, duration=1.7)  # 25.5 frames -> 26
    assert int(probe(render(odd, "odd"))["streams"][0]["nb_frames"]) == round(1.7 * FPS)
    assert not list(path.parent.glob(".*layers*")), "temporary layer folders must be removed"


def test_same_spec_renders_the_same_and_styles_differ_clearly(render: Callable[[SegmentSpec, str], Path]) -> None:
    base = middle(decode(render(DAY, "day"))).astype(np.int16)
    again = middle(decode(render_segment(DAY, render(DAY, "day").parent / "day-again.mp4",
                                         encoder="libx264", cancel=CancelToken()))).astype(np.int16)
    noise = float(np.abs(base - again).mean())
    # Threshold: a re-render of the same spec differs by encoder noise only (~0-1 levels); a
    # different style must move pixels on average by 12 levels of 255 (~5%) or more — far beyond noise.
    assert noise < 1.5
    for style in ("cinematic", "minimal", "retro"):
        other = middle(decode(render(replace(DAY, style=style), style))).astype(np.int16)
        assert float(np.abs(base - other).mean()) > 12, style


def test_night_is_clearly_darker_than_day(render: Callable[[SegmentSpec, str], Path]) -> None:
    for style in ("documentary", "cinematic"):
        day = render(replace(DAY, style=style), f"{style}-day")
        night = render(replace(DAY, style=style, time_of_day="NIGHT", heading="EXT. CITY STREET - NIGHT"),
                       f"{style}-night")
        day_l = float(luma(middle(decode(day))).mean())
        night_l = float(luma(middle(decode(night))).mean())
        assert night_l < day_l - 40, (style, day_l, night_l)
    inside_day = render(replace(DAY, int_ext="INT", location="KITCHEN"), "int-day")
    inside_night = render(replace(DAY, int_ext="INT", location="KITCHEN", time_of_day="NIGHT"), "int-night")
    assert float(luma(middle(decode(inside_night))).mean()) < float(luma(middle(decode(inside_day))).mean()) - 25


def test_frames_move_smoothly(render: Callable[[SegmentSpec, str], Path]) -> None:
    # Documentary has no grain, so any change between frames is motion (pan, parallax, light).
    frames = middle(decode(render(DAY, "day"))).astype(np.int16)
    diffs = [float(np.abs(frames[i + 1] - frames[i]).mean()) for i in range(len(frames) - 1)]
    assert min(diffs) > 0.05, diffs  # every frame moves
    assert max(diffs) < 12, diffs  # none jumps like a cut
    assert float(np.abs(frames[-1] - frames[0]).mean()) > 1.0  # and it travels over time


def test_segment_edges_fade_from_and_to_black(render: Callable[[SegmentSpec, str], Path]) -> None:
    frames = decode(render(DAY, "day"))
    mid = float(luma(middle(frames)).mean())
    assert float(luma(frames[0]).mean()) < 0.25 * mid
    assert float(luma(frames[-1]).mean()) < 0.35 * mid


def test_title_card_has_ink_where_the_title_is(render: Callable[[SegmentSpec, str], Path]) -> None:
    plain = SegmentSpec(kind="title", style="cinematic", size=(W, H), fps=FPS, duration=DUR, title=" ", seed=5)
    titled = replace(plain, title="NIGHT MARKET", credit="by Ada")
    a = luma(middle(decode(render(titled, "title"))))
    b = luma(middle(decode(render(plain, "title-blank"))))
    band = slice(int(H * 0.3), int(H * 0.7))
    bright_with = float((a[:, band] > 180).mean())
    bright_without = float((b[:, band] > 180).mean())
    assert bright_with > 0.02, bright_with
    assert bright_with > bright_without + 0.015


def test_caption_overlay_shows_only_in_its_window(render: Callable[[SegmentSpec, str], Path]) -> None:
    spec = replace(DAY, overlays=(Overlay("Hello there — مرحبا", 1.0, 2.0, "caption"),))
    with_cap = decode(render(spec, "caption")).astype(np.int16)
    without = decode(render(DAY, "day")).astype(np.int16)
    bottom = slice(int(H * 0.7), H)
    early = float(np.abs(with_cap[5:12, bottom] - without[5:12, bottom]).mean())  # t < 1 s
    late = float(np.abs(with_cap[19:26, bottom] - without[19:26, bottom]).mean())  # caption fully shown
    assert early < 1.0
    assert late > 5.0


def test_segments_concat_by_stream_copy(render: Callable[[SegmentSpec, str], Path], tmp_path: Path) -> None:
    parts = [
        render(SegmentSpec(kind="title", style="retro", size=(W, H), fps=FPS, duration=DUR, title="T"), "retro-title"),
        render(replace(DAY, style="retro", duration=1.4), "retro-scene"),
    ]
    listing = tmp_path / "list.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in parts))
    joined = tmp_path / "joined.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "concat", "-safe", "0", "-i", str(listing),
                    "-c", "copy", str(joined)], check=True)
    expected_frames = round(DUR * FPS) + round(1.4 * FPS)
    assert len(decode(joined)) == expected_frames
    check = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(joined), "-f", "null", "-"],
                           capture_output=True, text=True, check=True)
    assert check.stderr.strip() == ""  # decodes without a single error
    duration = float(probe(joined)["format"]["duration"])
    assert abs(duration - (DUR + 1.4)) <= 1.0 / FPS + 1e-3


def test_cancel_leaves_no_file(tmp_path: Path) -> None:
    token = CancelToken()
    out = tmp_path / "cancelled.mp4"
    long = replace(DAY, duration=60.0, size=(640, 360))

    def on_frame(n: int) -> None:
        if n > 0:
            token.cancel()

    with pytest.raises(Cancelled):
        render_segment(long, out, encoder="libx264", cancel=token, on_frame=on_frame)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [], "no partial file and no layer folder may remain"


def test_user_image_becomes_the_background(render: Callable[[SegmentSpec, str], Path], tmp_path: Path) -> None:
    photo = tmp_path / "green.png"
    Image.new("RGB", (96, 64), (30, 200, 60)).save(photo)
    frames = middle(decode(render(replace(DAY, source=Still.of(photo)), "photo"))).astype(np.float32)
    top = frames[:, : int(H * 0.5)]  # above any caption
    r, g, b = (float(top[..., c].mean()) for c in range(3))
    assert g > r + 60 and g > b + 60, (r, g, b)
    painted = middle(decode(render(DAY, "day"))).astype(np.float32)[:, : int(H * 0.5)]
    pr, pg, pb = (float(painted[..., c].mean()) for c in range(3))
    assert pg - max(pr, pb) < 20, (pr, pg, pb)  # the painted day scene is not green-dominated


def test_vertical_and_square_frames_render(render: Callable[[SegmentSpec, str], Path]) -> None:
    for size in ((180, 320), (240, 240)):
        spec = replace(DAY, size=size, overlays=(Overlay("A long caption that must wrap", 0.0, 2.0, "caption"),))
        info = probe(render(spec, f"size{size[0]}"))["streams"][0]
        assert (info["width"], info["height"]) == size


def test_thumbnail_picks_a_strong_frame_and_is_16_9(render: Callable[[SegmentSpec, str], Path],
                                                     tmp_path: Path) -> None:
    film = render(replace(DAY, style="cinematic", size=(180, 320)), "vertical-cine")
    out = tmp_path / "thumb.jpg"
    made = make_thumbnail(film, title="Night Market", style="cinematic", out=out, sample_times=[0.0, 1.0],
                          film_size=(180, 320))
    assert made == out
    with Image.open(out) as img:
        assert img.format == "JPEG" and img.size == (1280, 720)
        arr = np.asarray(img.convert("RGB"), dtype=np.float32)
    # Frame 0 is black (fade-in), so the mid frame must have been chosen: the picture is not black.
    assert float(luma(arr[None, : 360]).mean()) > 15
    lower = luma(arr[None, 520:700])
    assert float((lower > 200).mean()) > 0.01  # the title's light ink
    assert not list(tmp_path.glob(".*partial*"))


def test_parallel_renders_match_sequential_ones(render: Callable[[SegmentSpec, str], Path], tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    specs = [replace(DAY, style=s, overlays=(Overlay("東京 — مرحبا", 0.0, 2.0, "caption"),))
             for s in ("documentary", "minimal")]

    def one(i: int) -> Path:
        return render_segment(specs[i], tmp_path / f"p{i}.mp4", encoder="libx264", cancel=CancelToken())

    with ThreadPoolExecutor(max_workers=2) as pool:
        parallel = list(pool.map(one, range(2)))
    for i, spec in enumerate(specs):
        alone = render(spec, f"seq{i}")
        assert float(np.abs(decode(parallel[i]).astype(np.int16) - decode(alone).astype(np.int16)).mean()) < 1.5


def test_dissolve_crosses_from_the_shot_before_not_through_black(render: Callable[[SegmentSpec, str], Path]) -> None:
    """DISSOLVE TO: the next shot opens on the last frame of the one before and blends into itself."""
    a = replace(DAY, closing=CUT)
    b = replace(DAY, style="documentary", heading="EXT. HARBOUR - DUSK", location="HARBOUR", time_of_day="DUSK",
                opening=Dissolve(a), seed=99)
    a_frames = decode(render(a, "dissolve-a")).astype(np.int16)
    b_frames = decode(render(b, "dissolve-b")).astype(np.int16)
    plain_b = decode(render(replace(b, opening=CUT), "dissolve-b-plain")).astype(np.int16)
    last_a, mid_b = a_frames[-1], middle(plain_b).mean(axis=0)
    # The first frame of b is (nearly) a's last frame, not black and not b's own picture.
    assert float(np.abs(b_frames[0] - last_a).mean()) < 6
    assert float(luma(b_frames[:1]).mean()) > 0.6 * float(luma(a_frames[-1:]).mean())
    assert float(np.abs(plain_b[0] - last_a).mean()) > 12  # the two shots do differ
    # Halfway through the dissolve, the frame lies between the two pictures.
    k = round(0.4 * FPS)
    half = b_frames[k]
    assert float(np.abs(half - last_a).mean()) > 4 and float(np.abs(half - plain_b[k]).mean()) > 4
    # Afterwards b is itself.
    assert float(np.abs(b_frames[-1] - plain_b[-1]).mean()) < 1.5
    assert float(np.abs(middle(b_frames).mean(axis=0) - mid_b).mean()) < 1.5


def _bar_rows(arr: np.ndarray) -> list[int]:
    """Rows that are a letterbox bar: black and flat across the width (title ink aside)."""
    lum = luma(arr[None])[0]
    return [y for y in range(lum.shape[0]) if float(np.median(lum[y])) < 6 and float(lum[y].std()) < 30]


def test_thumbnail_title_never_straddles_a_letterbox_bar(render: Callable[[SegmentSpec, str], Path],
                                                         tmp_path: Path) -> None:
    film = render(replace(DAY, style="cinematic", size=(W, H)), "scope")
    out = make_thumbnail(film, title="Night Market", style="cinematic", out=tmp_path / "t.jpg",
                         sample_times=[1.0], film_size=(W, H))
    with Image.open(out) as img:
        arr = np.asarray(img.convert("RGB"), dtype=np.float32)
    # Before: 2.39:1 bars were cover-fitted in (~90 black rows top and bottom, the title across one).
    assert _bar_rows(arr) == []


def test_vertical_film_gets_a_vertical_thumbnail_and_a_youtube_one(render: Callable[[SegmentSpec, str], Path],
                                                                   tmp_path: Path) -> None:
    from filmstudio.pipeline.providers.thumbnails import THUMB_SIZE, thumbnail_size

    size = (180, 320)
    film = render(replace(DAY, size=size), "vertical-doc")
    assert thumbnail_size((1080, 1920)) == (720, 1280) and thumbnail_size((1920, 1080)) == THUMB_SIZE
    tall = make_thumbnail(film, title="Night Market", style="documentary", out=tmp_path / "t.jpg",
                          sample_times=[1.0], size=thumbnail_size(size), film_size=size)
    wide = make_thumbnail(film, title="Night Market", style="documentary", out=tmp_path / "t.youtube.jpg",
                          sample_times=[1.0], size=THUMB_SIZE, film_size=size)
    with Image.open(tall) as a, Image.open(wide) as b:
        assert a.size == (720, 1280) and b.size == (1280, 720)
        wide_arr = np.asarray(b.convert("RGB"), dtype=np.float32)
    # The YouTube one shows the whole vertical frame over a blurred fill: the centre column is sharp
    # picture, the sides soft (low local contrast) but not black.
    sides = luma(wide_arr[None, 100:500, :200])[0]
    assert float(sides.mean()) > 10
    centre = luma(wide_arr[None, 100:500, 560:720])[0]
    assert float(np.abs(np.diff(centre, axis=1)).mean()) > float(np.abs(np.diff(sides, axis=1)).mean())


def test_thumbnail_title_moves_off_a_burned_subtitle(render: Callable[[SegmentSpec, str], Path],
                                                     tmp_path: Path) -> None:
    from filmstudio.pipeline.providers.thumbnails import ThumbnailCandidate

    captioned = replace(DAY, overlays=(Overlay("Then we are home.", 0.0, DUR, "caption"),))
    film = render(captioned, "captioned")
    out = make_thumbnail(film, title="Night Market", style="documentary", out=tmp_path / "t.jpg",
                         sample_times=[ThumbnailCandidate(1.0, caption=True)], film_size=(W, H))
    plain = make_thumbnail(film, title=" ", style="documentary", out=tmp_path / "p.jpg",
                           sample_times=[ThumbnailCandidate(1.0, caption=True)], film_size=(W, H))
    with Image.open(out) as a, Image.open(plain) as b:
        ink = np.abs(luma(np.asarray(a.convert("RGB"), np.float32)[None]) -
                     luma(np.asarray(b.convert("RGB"), np.float32)[None]))[0]
    rows = np.nonzero((ink > 60).mean(axis=1) > 0.02)[0]
    assert rows.size and rows.max() < 720 * 0.4, rows  # the title is in the top part, the subtitle below


@pytest.mark.parametrize(("style", "floor"), [("documentary", 1.0), ("cinematic", 1.2), ("retro", 0.9),
                                               ("minimal", 0.2)])
def test_long_shots_keep_moving(render: Callable[[SegmentSpec, str], Path], style: str, floor: float) -> None:
    """A 12 s shot crossed its margin once, so it drifted at a third of a short shot's pace.

    Median mean-absolute change between consecutive frames, /255, at 320x180 12 fps: before
    documentary 0.38, cinematic 0.92, retro 0.61, minimal 0.03 (flat art changes only at edges).
    """
    spec = replace(DAY, style=style, fps=12, duration=12.0, opening=CUT, closing=CUT)
    frames = luma(decode(render(spec, f"long-{style}"))[12:-12])
    diffs = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2))
    assert float(np.median(diffs)) > floor, float(np.median(diffs))
    assert float(diffs.max()) < 12  # no jumps


def _test_clip(path: Path, seconds: float) -> Path:
    """A small clip made by ffmpeg: a red box sliding left to right over blue (what an
    image-to-video engine would hand over: a file of frames)."""
    graph = (f"color=c=0x1040c0:s=160x90:r=10:d={seconds}[bg];color=c=red:s=30x50:r=10:d={seconds}[box];"
             "[bg][box]overlay=x='t*100':y=20,format=yuv420p")
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", graph, "-c:v", "libx264",
                    str(path)], check=True)
    return path


def test_a_clip_source_renders_its_moving_frames(render: Callable[[SegmentSpec, str], Path],
                                                 tmp_path: Path) -> None:
    """A Clip backdrop plays the file's frames (its last frame held when the shot is longer: never a
    visible loop), cover-fitted and graded."""
    clip = _test_clip(tmp_path / "shot.mp4", 1.0)
    spec = replace(DAY, source=Clip.of(clip), duration=2.0, opening=CUT, closing=CUT)
    out = render(spec, "clip")
    info = probe(out)["streams"][0]
    assert (info["width"], info["height"]) == (W, H) and int(info["nb_frames"]) == spec.frames
    frames = decode(out).astype(np.float32)
    blue = frames[:, : int(H * 0.15)]  # above the box: the clip's blue, graded, not the painted sky
    assert float(blue[..., 2].mean()) > float(blue[..., 0].mean()) + 40
    # The red box moves: its centre travels right over the clip's second, then stays where it ended.
    def box_x(i: int) -> float:
        red = (frames[i, int(H * 0.3):int(H * 0.6), :, 0] - frames[i, int(H * 0.3):int(H * 0.6), :, 2]) > 100
        cols = np.nonzero(red.any(axis=0))[0]
        assert cols.size, f"no red box in frame {i}"
        return float(cols.mean())

    xs = [box_x(i) for i in (1, 7, 13)]
    assert xs[0] + 40 < xs[1] < xs[2] - 40, xs
    held = [box_x(i) for i in (FPS + 1, FPS + 6, 2 * FPS - 2)]
    assert all(x > xs[1] for x in held), (held, xs)  # never back at the start (no loop)
    # Held still: the box only shifts by the camera's crop travel (a few pixels a frame, never a jump).
    assert max(held) - min(held) < 30, held
    # The Pillow frame is made by the same chain: it matches the encoded frame closely.
    still = np.asarray(scene_still(spec, 7 / FPS), dtype=np.float32)
    assert float(np.abs(still - frames[7]).mean()) < 8
