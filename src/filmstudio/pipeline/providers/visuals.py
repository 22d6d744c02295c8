"""The look of the film: one video-only MP4 segment per title card, scene and end card.

Static layers (backdrop larger than the frame, foreground silhouettes, a light layer, a frame
layer, text) are painted once with numpy/Pillow; a single ffmpeg process per segment animates
them with cheap filters (crop pan, overlay parallax/drift, timed text, fades). Per-frame Python
and zoompan/geq are avoided because they are several times slower than the encode itself.
"""

from __future__ import annotations

import functools
import logging
import math
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw

from filmstudio.pipeline.context import CancelToken, atomic_output, content_key
from filmstudio.pipeline.media.ffmpeg import h264_args, run_ffmpeg
from filmstudio.pipeline.media.text import render_text_image
from filmstudio.pipeline.providers.layers import (
    Scenery,
    letterbox_bar,
    paint_backdrop,
    paint_foreground,
    paint_frame,
    paint_light,
    user_backdrop,
)
from filmstudio.pipeline.providers.styles import Style, get_style, lighting_for, seed_for

log = logging.getLogger(__name__)

# Bump when the look changes so cached segments are re-rendered.
VISUALS_VERSION = 5  # 5: karaoke captions cut, never faded, on an opaque box
# All segments share this MP4 timescale so they join by stream copy (divisible by every fps we offer).
TIMESCALE = 90000
TEXT_FADE = 0.25
DISSOLVE_SECONDS = 0.8
# The camera crosses the backdrop's margin in at most this many seconds, then travels back: a
# long shot keeps moving at the pace of a short one (a 16 s shot drifted at 0.2/255 a frame).
CROSSING_SECONDS = 4.0

SegmentKind = Literal["title", "scene", "end"]
OverlayRole = Literal["scene_title", "onscreen", "caption", "karaoke"]


@dataclass(frozen=True)
class Overlay:
    """Text shown during [start, end) seconds of a segment, placed by its role."""

    text: str
    start: float
    end: float
    role: OverlayRole = "onscreen"
    lit: int | None = None  # karaoke: the index of the word being spoken (words split by spaces)


@dataclass(frozen=True)
class SegmentSpec:
    """Everything that decides how one segment looks; equal specs render identical segments."""

    kind: SegmentKind
    style: str
    size: tuple[int, int]
    fps: int
    duration: float
    seed: int = 0
    title: str = ""
    credit: str = ""  # author line on the title card, credits on the end card
    heading: str | None = None
    int_ext: str | None = None
    location: str = ""
    time_of_day: str | None = None
    overlays: tuple[Overlay, ...] = ()
    image: Path | None = None
    language: str = "en"
    shot: int = 0  # shots of one scene share its painting; each cut frames it differently
    camera: str = ""  # a still's framing from the storyboard: establishing, wide, medium, close
    fade_in: bool = True  # from black at the start (the first shot of a scene)
    fade_out: bool = True  # to black at the end (the last shot of a scene)
    # `DISSOLVE TO:`: the shot before, whose last frame this one cross-dissolves out of.
    dissolve_from: SegmentSpec | None = None

    @property
    def frames(self) -> int:
        return max(1, round(self.duration * self.fps))


def spec_key(spec: SegmentSpec) -> str:
    """A content hash of the spec (the user image by its bytes) and the renderer version."""
    fields = {k: v for k, v in spec.__dict__.items() if k != "image"}
    fields["overlays"] = [o.__dict__ for o in spec.overlays]
    fields["dissolve_from"] = spec_key(spec.dissolve_from) if spec.dissolve_from is not None else None
    return content_key("visuals", VISUALS_VERSION, fields, spec.image if spec.image is not None else None)


# -- layout: one place computes where everything is, for ffmpeg and for stills alike ---------------


@dataclass(frozen=True)
class _Placed:
    """A text image and where/when it shows."""

    image: Image.Image
    x: int
    y: int
    start: float
    end: float
    fade: bool = True  # fades in and out (a karaoke word group does not: its lit word changes in place)


@dataclass(frozen=True)
class _Layout:
    spec: SegmentSpec
    style: Style
    backdrop: Image.Image
    foreground: Image.Image | None
    light: Image.Image
    frame: Image.Image | None
    texts: tuple[_Placed, ...]
    pan: tuple[int, int, int, int]  # backdrop crop x0, y0 -> x1, y1
    fg_x: tuple[int, int]
    light_orbit: tuple[float, float, float, float, float]  # cx, cy, ax, ay, period
    dissolve: Image.Image | None = None  # the previous shot's last frame, faded out over DISSOLVE_SECONDS


def _scenery(spec: SegmentSpec) -> Scenery:
    style = get_style(spec.style)
    int_ext, tod, location = spec.int_ext, spec.time_of_day, spec.location
    if spec.kind == "title":
        int_ext, tod = int_ext or "EXT", tod or "DUSK"
    elif spec.kind == "end":
        int_ext, tod = int_ext or "EXT", tod or "NIGHT"
    seed = spec.seed or seed_for(spec.heading or "", spec.location, spec.kind)
    return Scenery(style=style, size=spec.size, int_ext=int_ext, location=location, time_of_day=tod, seed=seed)


# The shots of a scene share their painted layers: paint once per process, not once per shot.
_cached_backdrop = functools.lru_cache(maxsize=6)(paint_backdrop)
_cached_foreground = functools.lru_cache(maxsize=6)(paint_foreground)
_cached_light = functools.lru_cache(maxsize=6)(paint_light)
_cached_frame = functools.lru_cache(maxsize=4)(paint_frame)


def _layout(spec: SegmentSpec) -> _Layout:
    w, h = spec.size
    sc = _scenery(spec)
    style = sc.style
    bw, bh = _even(w * (1 + style.pan)), _even(h * (1 + style.pan))
    if spec.image is not None:
        backdrop = user_backdrop(spec.image, style, (bw, bh), lighting_for(spec.time_of_day))
        foreground = None
    else:
        backdrop = _cached_backdrop(sc, (bw, bh))
        fw, fh = _even(w * (1 + style.parallax)), _even(h * 0.3)
        foreground = _cached_foreground(sc, (fw, fh))
    if spec.kind != "scene":
        backdrop = Image.blend(backdrop, Image.new("RGB", backdrop.size, (0, 0, 0)), 0.35)  # text first
    # Travel direction and vertical drift come from the seed so neighbouring scenes differ.
    flip = (sc.seed + spec.shot) % 2 == 1
    x0, x1 = (bw - w, 0) if flip else (0, bw - w)
    y0 = (bh - h) // 2 + (((sc.seed >> 3) + spec.shot) % 3 - 1) * (bh - h) // 4
    y1 = (bh - h) - y0
    if spec.image is not None and spec.camera:
        x0, y0, x1, y1 = _still_motion(spec.camera, flip, bw - w, bh - h, spec.shot)
    fg_x = (0, w - foreground.width) if foreground is not None else (0, 0)
    if flip and foreground is not None:
        fg_x = (fg_x[1], fg_x[0])
    light = _cached_light(sc, spec.size)
    orbit = (w * 0.5 - light.width / 2, h * 0.3 - light.height / 2, w * 0.12, h * 0.06,
             max(6.0, spec.duration * 1.3))
    if spec.kind == "end":
        # The end card holds still (credits over a fade): it takes the film's spare seconds and
        # is re-made after most edits, and a still picture encodes in a fraction of the time.
        x1, y1 = x0, y0
        fg_x = (fg_x[0], fg_x[0])
        orbit = (orbit[0], orbit[1], 0.0, 0.0, orbit[4])
    return _Layout(
        spec=spec, style=style, backdrop=backdrop, foreground=foreground, light=light,
        frame=_cached_frame(style, spec.size), texts=tuple(_place_texts(spec, style)),
        pan=(x0, y0, x1, y1), fg_x=fg_x, light_orbit=orbit,
        dissolve=_compose(_layout(spec.dissolve_from), spec.dissolve_from.duration)
        if spec.dissolve_from is not None else None,
    )


def _dissolve_seconds(spec: SegmentSpec) -> float:
    other = spec.dissolve_from.duration if spec.dissolve_from is not None else spec.duration
    return min(DISSOLVE_SECONDS, spec.duration / 3, other / 3)


def _still_motion(camera: str, flip: bool, dx: int, dy: int, shot: int) -> tuple[int, int, int, int]:
    """Ken Burns travel over a still by its framing: establishing shots pan the whole width,
    wide ones most of it, medium shots drift on a diagonal, close-ups rise slowly on the face.
    (A crop that moves costs nothing over the floor; a zoom would rescale every frame.)"""
    cx, cy = dx // 2, dy // 2
    if camera == "establishing":
        x0, x1, y0, y1 = 0, dx, cy, cy
    elif camera == "wide":
        x0, x1, y0, y1 = dx // 8, dx - dx // 8, cy, dy // 3 if shot % 2 else dy - dy // 3
    elif camera == "medium":
        x0, x1, y0, y1 = dx // 4, dx - dx // 4, dy // 4, dy - dy // 4
    else:
        x0, x1, y0, y1 = cx, cx + (dx // 8 if shot % 2 else -dx // 8), dy - dy // 6, dy // 6
    return (x1, y0, x0, y1) if flip else (x0, y0, x1, y1)


def _even(v: float) -> int:
    return int(math.ceil(v / 2) * 2)


def _text(spec: SegmentSpec, style: Style, text: str, *, scale: float, width: int, title: bool = False,
          max_lines: int | None = None, align: Literal["left", "center", "right"] = "center",
          color: tuple[int, int, int] | None = None, trim: bool = True) -> Image.Image:
    unit = min(spec.size)
    img, missing = render_text_image(
        text.upper() if title and style.title_upper else text,
        width=width, font_size=max(8, int(unit * scale)), color=color or style.text_color, align=align,
        max_lines=max_lines, bold=style.title_bold or not title, shadow=True,
        serif=title and style.serif_titles, outline=max(1, unit // 240) if style.name == "retro" else 0,
        language=spec.language,
    )
    if missing:
        log.warning("no installed font can draw %s; they were left out", "".join(sorted(missing)))
    return trim_transparent_rows(img) if trim else img


KARAOKE_LIT = (255, 214, 10)  # the spoken word: a saturated yellow that reads over any backdrop


def _karaoke(spec: SegmentSpec, style: Style, text: str, lit: int | None, *, width: int) -> Image.Image:
    """A few big words in a row, the one being spoken lit, on an opaque box.

    Every word of the row sits on one baseline and the box spans the font's full height (not the
    ink), so the box is the same for every lit word of a group and does not jump with a "g".
    """
    unit = min(spec.size)
    words = text.split(" ")
    scale = 0.085
    for _ in range(4):  # shrink until the row fits the frame
        parts = [_text(spec, style, word, scale=scale, width=width, trim=False,
                       color=KARAOKE_LIT if n == lit else (255, 255, 255)) for n, word in enumerate(words)]
        parts = [_ink_columns(p) for p in parts]
        gap = max(3, int(unit * scale * 0.6))  # wide: the lit word reads as one word, never two
        total = sum(p.width for p in parts) + gap * (len(parts) - 1)
        if total <= width:
            break
        scale *= width / total * 0.95
    row = Image.new("RGBA", (max(1, total), max(p.height for p in parts)), (0, 0, 0, 0))
    x = 0
    for p in parts:
        row.alpha_composite(p, (x, 0))
        x += p.width + gap
    probe = _text(spec, style, "ÅHgjy", scale=scale, width=width, trim=False).getchannel("A").getbbox()
    top, bottom = (probe[1], probe[3]) if probe else (0, row.height)
    pad = max(4, unit // 40)
    box = Image.new("RGBA", (row.width + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 0))
    ImageDraw.Draw(box).rounded_rectangle((0, 0, box.width - 1, box.height - 1), radius=pad // 2,
                                          fill=(0, 0, 0, 255))  # opaque: the same box under every lit word
    box.alpha_composite(row.crop((0, top, row.width, bottom)), (pad, pad))
    return box


def _ink_columns(img: Image.Image) -> Image.Image:
    """`img` cropped to the columns with ink, keeping its full height (and so its baseline)."""
    box = img.getchannel("A").getbbox()
    return img.crop((box[0], 0, box[2], img.height)) if box else img


def trim_transparent_rows(img: Image.Image) -> Image.Image:
    """Crop fully transparent rows above and below (keep the width for alignment)."""
    box = img.getchannel("A").getbbox()
    if box is None:
        return img.crop((0, 0, img.width, 2))
    return img.crop((0, max(0, box[1] - 2), img.width, min(img.height, box[3] + 2)))


def _stack(parts: list[Image.Image], gap: int) -> Image.Image:
    w = max(p.width for p in parts)
    h = sum(p.height for p in parts) + gap * (len(parts) - 1)
    out = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    y = 0
    for p in parts:
        out.alpha_composite(p, ((w - p.width) // 2, y))
        y += p.height + gap
    return out


def _boxed(img: Image.Image, pad: int, alpha: int, accent: tuple[int, int, int] | None = None) -> Image.Image:
    """Put a translucent dark box behind the ink of `img` (captions, lower thirds)."""
    box = img.getchannel("A").getbbox() or (0, 0, img.width, img.height)
    x0, y0, x1, y1 = box
    out = Image.new("RGBA", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), (0, 0, 0, 0))
    draw = ImageDraw.Draw(out)
    draw.rounded_rectangle((0, 0, out.width - 1, out.height - 1), radius=pad // 2, fill=(0, 0, 0, alpha))
    if accent is not None:
        draw.rectangle((0, 0, max(3, pad // 3), out.height), fill=(*accent, 255))
    out.alpha_composite(img.crop(box), (pad, pad))
    return out


def _place_texts(spec: SegmentSpec, style: Style) -> list[_Placed]:
    w, h = spec.size
    unit = min(w, h)
    mx = int(w * 0.07)
    bar = letterbox_bar(style, spec.size)
    safe_bottom = h - max(int(h * 0.06), int(bar * 0.3))
    out: list[_Placed] = []
    end = spec.duration
    if spec.kind == "title":
        parts = [_text(spec, style, spec.title or "Untitled", scale=0.11, width=w - 2 * mx, title=True, max_lines=3)]
        if spec.credit:
            parts.append(_text(spec, style, spec.credit, scale=0.042, width=w - 2 * mx, max_lines=2))
        card = _stack(parts, int(unit * 0.04))
        out.append(_Placed(card, (w - card.width) // 2, (h - card.height) // 2, 0.0, end))
    elif spec.kind == "end":
        parts = [_text(spec, style, spec.title or "The End", scale=0.075, width=w - 2 * mx, title=True, max_lines=2)]
        if spec.credit:
            parts.append(_text(spec, style, spec.credit, scale=0.036, width=w - 2 * mx, max_lines=4))
        parts.append(_text(spec, style, "Made with FilmStudio", scale=0.028, width=w - 2 * mx,
                           color=style.accent))
        card = _stack(parts, int(unit * 0.035))
        out.append(_Placed(card, (w - card.width) // 2, (h - card.height) // 2, 0.0, end))
    for ov in spec.overlays:
        start, stop = max(0.0, ov.start), min(end, ov.end)
        if not ov.text.strip():
            continue
        if ov.role == "karaoke":  # cut on the frame grid, one lit word straight after the other
            if round(stop * spec.fps) > round(start * spec.fps):
                img = _karaoke(spec, style, ov.text, ov.lit, width=w - 2 * mx)
                out.append(_Placed(img, (w - img.width) // 2, int(h * 0.72) - img.height // 2, start, stop,
                                   fade=False))
            continue
        if stop - start <= 1.0 / spec.fps:
            continue
        if ov.role == "caption":
            img = _text(spec, style, ov.text, scale=0.052, width=w - 2 * mx, max_lines=2)
            img = _boxed(img, max(4, unit // 60), 150)
            out.append(_Placed(img, (w - img.width) // 2, safe_bottom - img.height, start, stop))
        elif ov.role == "scene_title" and style.lower_third:
            img = _text(spec, style, ov.text, scale=0.055, width=int(w * 0.6), align="left", max_lines=2)
            img = _boxed(img, max(4, unit // 50), 170, accent=style.accent)
            # Sits above the two caption lines' zone so both can show at once.
            out.append(_Placed(img, mx, safe_bottom - int(unit * 0.2) - img.height, start, stop))
        elif ov.role == "scene_title":
            img = _text(spec, style, ov.text, scale=0.08, width=w - 2 * mx, title=True, max_lines=3)
            out.append(_Placed(img, (w - img.width) // 2, int(h * 0.42) - img.height // 2, start, stop))
        else:
            img = _text(spec, style, ov.text, scale=0.075, width=w - 2 * mx, title=True, max_lines=3)
            out.append(_Placed(img, (w - img.width) // 2, (h - img.height) // 2, start, stop))
    return out


# -- rendering with ffmpeg -------------------------------------------------------------------------


def _filter_graph(lay: _Layout, paths: dict[str, _RawLayer]) -> tuple[list[str], str]:
    """ffmpeg inputs and the filter graph animating the layers; output pad [v]."""
    spec = lay.spec
    w, h = spec.size
    fps, n, dur = spec.fps, spec.frames, spec.duration
    inputs: list[str] = []
    chains: list[str] = []

    def still(name: str, fmt: str, frames: int, offset: int = 0) -> str:
        # Read the raw layer once, convert once, then repeat the frame in memory (no per-frame decode).
        idx = len(inputs) // 10
        path, (lw, lh), pix = paths[name]
        inputs.extend(["-f", "rawvideo", "-pix_fmt", pix, "-s", f"{lw}x{lh}", "-framerate", str(fps),
                       "-i", str(path)])
        label = f"s{idx}"
        chains.append(f"[{idx}:v]format={fmt},loop=loop={frames - 1}:size=1:start=0,"
                      f"settb=1/{fps},setpts=N+{offset}[{label}]")
        return label

    x0, y0, x1, y1 = lay.pan
    cross = _crossing(dur)
    bg = still("backdrop", "yuv420p", n)
    chains.append(f"[{bg}]crop={w}:{h}:exact=1:x='{_travel_expr(x0, x1, cross)}':y='{_travel_expr(y0, y1, cross)}'[b0]")
    cur = "b0"
    if lay.foreground is not None:
        fg = still("foreground", "yuva420p", n)
        a, b = lay.fg_x
        chains.append(f"[{cur}][{fg}]overlay=x='{_travel_expr(a, b, cross)}':y={h - lay.foreground.height}[b1]")
        cur = "b1"
    li = still("light", "yuva420p", n)
    cx, cy, ax, ay, period = lay.light_orbit
    chains.append(f"[{cur}][{li}]overlay=x='{cx:.1f}+{ax:.1f}*sin(2*PI*t/{period:.3f})'"
                  f":y='{cy:.1f}+{ay:.1f}*cos(2*PI*t/{period:.3f})'[b2]")
    cur = "b2"
    if lay.frame is not None:
        fr = still("frame", "yuva420p", n)
        chains.append(f"[{cur}][{fr}]overlay=0:0[b3]")
        cur = "b3"
    if lay.dissolve is not None:
        d = _dissolve_seconds(spec)
        dz = still("dissolve", "yuva420p", max(1, round(d * fps)))
        chains.append(f"[{dz}]fade=t=out:st=0:d={d:.3f}:alpha=1[dz]")
        chains.append(f"[{cur}][dz]overlay=0:0:eof_action=pass[bd]")
        cur = "bd"
    def overlay_text(i: int, placed: _Placed, cur: str) -> str:
        first = round(placed.start * fps)
        count = max(1, min(n, round(placed.end * fps)) - first)
        fade = min(TEXT_FADE, count / fps / 3)
        tx = still(f"text{i}", "yuva420p", count, first)
        fades = (f"fade=t=in:st={first / fps:.4f}:d={fade:.3f}:alpha=1,"
                 f"fade=t=out:st={(first + count) / fps - fade:.4f}:d={fade:.3f}:alpha=1") if placed.fade else "null"
        chains.append(f"[{tx}]{fades}[t{i}]")
        chains.append(f"[{cur}][t{i}]overlay=x={placed.x}:y={placed.y}:eof_action=pass[c{i}]")
        return f"c{i}"

    for i, placed in enumerate(lay.texts):
        if placed.fade:
            cur = overlay_text(i, placed, cur)
    post = []
    if lay.style.grain and spec.kind != "end":
        post.append(f"noise=c0s={lay.style.grain}:c0f=t")
    edge = min(lay.style.fade, dur / 4)
    if edge > 0 and spec.fade_in:
        post.append(f"fade=t=in:st=0:d={edge:.3f}")
    if edge > 0 and spec.fade_out:
        post.append(f"fade=t=out:st={dur - edge:.4f}:d={edge:.3f}")
    post.append("format=yuv420p")
    # Karaoke words go on after the scene's fades: a spoken word is never dimmed with the picture.
    cut = [(i, placed) for i, placed in enumerate(lay.texts) if not placed.fade]
    chains.append(f"[{cur}]" + ",".join(post) + ("[p]" if cut else "[v]"))
    cur = "p"
    for i, placed in cut:
        cur = overlay_text(i, placed, cur)
    if cut:
        chains.append(f"[{cur}]format=yuv420p[v]")
    return inputs, ";".join(chains)


def _crossing(duration: float) -> float:
    return min(duration, CROSSING_SECONDS)


def _travel_expr(a: float, b: float, cross: float) -> str:
    """ffmpeg expression: from a to b in `cross` seconds, then back and forth (a triangle wave)."""
    return f"{a}+({b - a})*(1-abs(mod(t/{cross:.4f},2)-1))"


def _travel(a: float, b: float, cross: float, t: float) -> float:
    """`_travel_expr` evaluated in Python (for stills)."""
    return a + (b - a) * (1 - abs((t / cross) % 2 - 1))


_RawLayer = tuple[Path, tuple[int, int], str]  # file, (width, height), ffmpeg pix_fmt


def _write_layers(lay: _Layout, folder: Path) -> dict[str, _RawLayer]:
    """The layers as raw pixel files: written and read at memory speed (PNG cost ~0.7 s a 1080p shot)."""
    paths: dict[str, _RawLayer] = {}

    def save(name: str, img: Image.Image) -> None:
        mode = "RGBA" if img.mode in ("RGBA", "LA", "P") else "RGB"
        data = img if img.mode == mode else img.convert(mode)
        path = folder / f"{name}.{mode.lower()}"
        path.write_bytes(data.tobytes())
        paths[name] = (path, data.size, "rgba" if mode == "RGBA" else "rgb24")

    save("backdrop", lay.backdrop)
    if lay.foreground is not None:
        save("foreground", lay.foreground)
    save("light", lay.light)
    if lay.frame is not None:
        save("frame", lay.frame)
    if lay.dissolve is not None:
        save("dissolve", lay.dissolve.convert("RGBA"))
    for i, placed in enumerate(lay.texts):
        save(f"text{i}", placed.image)
    return paths


def render_segment(
    spec: SegmentSpec,
    out: Path,
    *,
    encoder: str,
    cancel: CancelToken,
    on_frame: Callable[[int], None] | None = None,
) -> Path:
    """Render `spec` to a video-only H.264 MP4 at `out` with exactly `spec.frames` frames at spec.fps."""
    cancel.raise_if_cancelled()
    w, h = spec.size
    if w % 2 or h % 2:
        raise ValueError(f"frame size must be even for yuv420p, got {w}x{h}")
    out.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{out.stem}.layers-", dir=out.parent))
    try:
        lay = _layout(spec)
        cancel.raise_if_cancelled()
        inputs, graph = _filter_graph(lay, _write_layers(lay, folder))
        with atomic_output(out) as tmp:
            args = [*inputs, "-filter_complex", graph, "-map", "[v]", "-an",
                    *h264_args(encoder, spec.fps), "-r", str(spec.fps), "-frames:v", str(spec.frames),
                    "-video_track_timescale", str(TIMESCALE), "-f", "mp4", str(tmp)]
            run_ffmpeg(args, cancel=cancel, on_frame=on_frame)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return out


# -- stills: the same layout composed in Pillow -----------------------------------------------------


def scene_still(spec: SegmentSpec, t: float) -> Image.Image:
    """The frame at `t` seconds composed in Pillow (no grain), for previews."""
    return _compose(_layout(spec), t)


def _compose(lay: _Layout, t: float) -> Image.Image:
    spec = lay.spec
    w, h = spec.size
    dur = spec.duration
    t = min(max(0.0, t), dur)
    x0, y0, x1, y1 = lay.pan
    cross = _crossing(dur)
    px, py = int(_travel(x0, x1, cross, t)), int(_travel(y0, y1, cross, t))
    frame = lay.backdrop.crop((px, py, px + w, py + h)).convert("RGBA")
    if lay.foreground is not None:
        a, b = lay.fg_x
        _paste(frame, lay.foreground, int(_travel(a, b, cross, t)), h - lay.foreground.height)
    cx, cy, ax, ay, period = lay.light_orbit
    _paste(frame, lay.light, int(cx + ax * math.sin(2 * math.pi * t / period)),
           int(cy + ay * math.cos(2 * math.pi * t / period)))
    if lay.frame is not None:
        frame.alpha_composite(lay.frame)
    if lay.dissolve is not None and t < _dissolve_seconds(spec):
        frame = Image.blend(lay.dissolve.convert("RGBA"), frame, t / _dissolve_seconds(spec))
    for placed in lay.texts:
        if placed.start <= t < placed.end:
            _paste(frame, placed.image, placed.x, placed.y)
    edge = min(lay.style.fade, dur / 4)
    k = 1.0
    if edge > 0 and spec.fade_in:
        k = min(k, t / edge)
    if edge > 0 and spec.fade_out:
        k = min(k, (dur - t) / edge)
    rgb = frame.convert("RGB")
    return rgb if k >= 1.0 else Image.blend(Image.new("RGB", rgb.size, (0, 0, 0)), rgb, max(0.0, k))


def _paste(canvas: Image.Image, layer: Image.Image, x: int, y: int) -> None:
    """Alpha-composite `layer` at (x, y), clipping where it hangs off the canvas."""
    left, top = max(0, -x), max(0, -y)
    right, bottom = min(layer.width, canvas.width - x), min(layer.height, canvas.height - y)
    if right <= left or bottom <= top:
        return
    canvas.alpha_composite(layer.crop((left, top, right, bottom)), (x + left, y + top))


def style_preview(style: str, size: tuple[int, int] = (320, 180)) -> Image.Image:
    """A representative still of a style (dusk market, scene title showing) for the style picker."""
    spec = SegmentSpec(
        kind="scene", style=style, size=size, fps=12, duration=4.0, seed=7,
        heading="EXT. NIGHT MARKET - DUSK", int_ext="EXT", location="NIGHT MARKET", time_of_day="DUSK",
        overlays=(Overlay(get_style(style).label, 0.0, 4.0, "scene_title"),),
    )
    return scene_still(spec, 2.0)
