"""The look of the film: one video-only MP4 segment per title card, scene and end card.

Static layers (backdrop larger than the frame, foreground silhouettes, a light layer, a frame
layer, text) are painted once with numpy/Pillow; a single ffmpeg process per segment animates
them with cheap filters (crop pan, overlay parallax/drift, timed text, fades). Per-frame Python
and zoompan/geq are avoided because they are several times slower than the encode itself.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw
from PIL.PngImagePlugin import PngInfo

from filmstudio.pipeline.context import CancelToken, atomic_output, content_key
from filmstudio.pipeline.media.ffmpeg import GOP_SECONDS, h264_args, run_ffmpeg
from filmstudio.pipeline.media.text import render_text_image
from filmstudio.pipeline.providers.backdrops import (
    Clip,
    ClipPlate,
    MediaRef,
    Painted,
    Plate,
    Source,
    Still,
    StillPlate,
    source_media,
)
from filmstudio.pipeline.providers.layers import (
    Scenery,
    letterbox_bar,
    paint_foreground,
    paint_frame,
    paint_light,
    paint_set,
    user_backdrop,
)
from filmstudio.pipeline.providers.sets import Box
from filmstudio.pipeline.providers.styles import Style, get_style, lighting_for, seed_for

log = logging.getLogger(__name__)

# Bump when the look changes so cached segments are re-rendered.
VISUALS_VERSION = 7  # 7: the light's period by whole GOPs of length (segment pieces); 6: procedural sets (settings and props); 5: karaoke captions cut, never faded, on an opaque box
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
class FadeBlack:
    """A shot's edge fades from (or to) black over the style's fade: a scene's first and last shot."""


@dataclass(frozen=True)
class Cut:
    """A hard cut: the edge shows the picture at full strength."""


@dataclass(frozen=True)
class Dissolve:
    """`DISSOLVE TO:`: the shot opens cross-dissolving out of the last frame of `before`."""

    before: SegmentSpec


Opening = FadeBlack | Cut | Dissolve
Closing = FadeBlack | Cut

CameraMove = Literal["", "establishing", "wide", "medium", "close"]


@dataclass(frozen=True)
class Camera:
    """How the frame travels over the backdrop. `framing` empty: the painted set's drift, its
    direction from the seed; a storyboard framing: that framing's Ken Burns move over a still."""

    framing: CameraMove = ""

    def pan(self, seed: int, shot: int, dx: int, dy: int) -> tuple[int, int, int, int]:
        """The crop's travel (x0, y0 -> x1, y1) over a backdrop `dx`, `dy` larger than the frame."""
        flip = (seed + shot) % 2 == 1
        if self.framing:
            return _still_motion(self.framing, flip, dx, dy, shot)
        x0, x1 = (dx, 0) if flip else (0, dx)
        y0 = dy // 2 + (((seed >> 3) + shot) % 3 - 1) * dy // 4
        return x0, y0, x1, dy - y0


DRIFT = Camera()
PAINTED = Painted()
FADE = FadeBlack()
CUT = Cut()


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
    source: Source = PAINTED  # what the backdrop is made of
    language: str = "en"
    shot: int = 0  # shots of one scene share its painting; each cut frames it differently
    camera: Camera = DRIFT
    opening: Opening = FADE  # into the shot: from black (a scene's first shot), a cut or a dissolve
    closing: Closing = FADE  # out of it: to black (a scene's last shot) or a cut

    @property
    def frames(self) -> int:
        return max(1, round(self.duration * self.fps))

    @property
    def dissolve_from(self) -> SegmentSpec | None:
        return self.opening.before if isinstance(self.opening, Dissolve) else None

    def media(self) -> tuple[tuple[MediaRef, Path], ...]:
        """The files this segment reads (its source's, and the dissolved-from shot's)."""
        own = source_media(self.source)
        before = self.dissolve_from.media() if self.dissolve_from is not None else ()
        return (*((own,) if own is not None else ()), *before)


# Bump when the fields below or their meaning change (a new field must join the key explicitly).
SPEC_KEY_VERSION = 1


def spec_key(spec: SegmentSpec) -> str:
    """The segment's content key: the fields that decide its pixels, named one by one (media by
    their content, never their path), plus the renderer's and this function's versions."""
    return content_key("visuals", VISUALS_VERSION, SPEC_KEY_VERSION, _key_fields(spec))


def _key_fields(spec: SegmentSpec) -> dict[str, object]:
    return {
        "kind": spec.kind, "style": spec.style, "size": list(spec.size), "fps": spec.fps,
        "duration": spec.duration, "seed": spec.seed, "title": spec.title, "credit": spec.credit,
        "heading": spec.heading, "int_ext": spec.int_ext, "location": spec.location,
        "time_of_day": spec.time_of_day, "language": spec.language, "shot": spec.shot,
        "overlays": [[o.text, o.start, o.end, o.role, o.lit] for o in spec.overlays],
        "source": spec.source.key(), "camera": spec.camera.framing,
        "opening": (spec_key(spec.opening.before) if isinstance(spec.opening, Dissolve)
                    else type(spec.opening).__name__),
        "closing": type(spec.closing).__name__,
    }


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
    plate: Plate  # the backdrop, larger than the frame
    foreground: Image.Image | None
    light: Image.Image
    frame: Image.Image | None
    texts: tuple[_Placed, ...]
    pan: tuple[int, int, int, int]  # backdrop crop x0, y0 -> x1, y1
    fg_x: tuple[int, int]
    light_orbit: tuple[float, float, float, float, float]  # cx, cy, ax, ay, period
    dissolve: Image.Image | None = None  # the previous shot's last frame, faded out over DISSOLVE_SECONDS

    @property
    def backdrop(self) -> Image.Image:
        """The backdrop's first frame (all of it, for a painted set or a still)."""
        return self.plate.still or self.plate.frame(0.0)


def _scenery(spec: SegmentSpec) -> Scenery:
    style = get_style(spec.style)
    int_ext, tod, location = spec.int_ext, spec.time_of_day, spec.location
    if spec.kind == "title":
        int_ext, tod = int_ext or "EXT", tod or "DUSK"
    elif spec.kind == "end":
        int_ext, tod = int_ext or "EXT", tod or "NIGHT"
    seed = spec.seed or seed_for(spec.heading or "", spec.location, spec.kind)
    props = spec.source.props if isinstance(spec.source, Painted) else ()
    return Scenery(style=style, size=spec.size, int_ext=int_ext, location=location, time_of_day=tod, seed=seed,
                   props=props)


# The shots of a scene share their painted layers: paint once per process, not once per shot.
_cached_set = functools.lru_cache(maxsize=6)(paint_set)
PLATES_VERSION = 1  # bump when what a stored plate holds changes (painting changes bump VISUALS_VERSION)


def _painting(sc: Scenery, size: tuple[int, int], plates: Path | None) -> tuple[Image.Image, dict[str, Box]]:
    """The set painted for `sc` at `size` and its props' boxes (`layers.paint_set`): from this
    process's memory, else from the `plates` folder (a render's cache), else painted.

    Painting and grading a 1080p set costs ~0.85 CPU-s; a segment re-made after an edit (the shot
    whose line changed, the end card) shows a set painted before, so a fresh process reads it back
    (a lossless PNG, ~3 MB, 0.04 s) instead of painting it again.
    """
    return _cached_set(sc, size) if plates is None else _stored_set(sc, size, plates)


@functools.lru_cache(maxsize=6)
def _stored_set(sc: Scenery, size: tuple[int, int], plates: Path) -> tuple[Image.Image, dict[str, Box]]:
    path = plates / f"{content_key('plate', PLATES_VERSION, VISUALS_VERSION, repr(sc), list(size))}.png"
    try:
        with Image.open(path) as stored:
            stored.load()
            boxes = json.loads(stored.info["boxes"])
            if stored.size == tuple(size) and stored.mode == "RGB":
                return stored.copy(), {name: (a, b, c, d) for name, (a, b, c, d) in boxes.items()}
    except (OSError, KeyError, ValueError):
        pass  # not there yet, or unreadable: painted again (and stored over it)
    img, found = _cached_set(sc, size)
    info = PngInfo()
    info.add_text("boxes", json.dumps(found))
    with atomic_output(path) as tmp:
        img.save(tmp, "PNG", compress_level=1, pnginfo=info)
    return img, found
_cached_foreground = functools.lru_cache(maxsize=6)(paint_foreground)
_cached_light = functools.lru_cache(maxsize=6)(paint_light)
_cached_frame = functools.lru_cache(maxsize=4)(paint_frame)

CARD_DARKEN = 0.35  # title and end cards dim their backdrop so the text reads first


def _plate(spec: SegmentSpec, sc: Scenery, size: tuple[int, int], plates: Path | None = None) -> Plate:
    """The spec's backdrop source at `size`, graded in the style (and dimmed under a card's text)."""
    darken = CARD_DARKEN if spec.kind != "scene" else 0.0
    source = spec.source
    if isinstance(source, Clip):
        return ClipPlate(source.path, size, spec.fps, sc.style,
                         0.75 + 0.25 * lighting_for(spec.time_of_day).brightness, darken)
    if isinstance(source, Still):
        image = user_backdrop(source.path, sc.style, size, lighting_for(spec.time_of_day))
    else:
        image = _painting(sc, size, plates)[0]
    if darken:
        image = Image.blend(image, Image.new("RGB", image.size, (0, 0, 0)), darken)
    return StillPlate(image)


def _layout(spec: SegmentSpec, plates: Path | None = None) -> _Layout:
    """Where everything of `spec` is, its layers painted (the sets read from `plates` when stored there)."""
    w, h = spec.size
    sc = _scenery(spec)
    style = sc.style
    bw, bh = _even(w * (1 + style.pan)), _even(h * (1 + style.pan))
    plate = _plate(spec, sc, (bw, bh), plates)
    foreground = None
    if isinstance(spec.source, Painted):
        foreground = _cached_foreground(sc, (_even(w * (1 + style.parallax)), _even(h * 0.3)))
    # Travel direction and vertical drift come from the seed so neighbouring scenes differ.
    x0, y0, x1, y1 = spec.camera.pan(sc.seed, spec.shot, bw - w, bh - h)
    fg_x = (0, w - foreground.width) if foreground is not None else (0, 0)
    if (sc.seed + spec.shot) % 2 == 1 and foreground is not None:
        fg_x = (fg_x[1], fg_x[0])
    light = _cached_light(sc, spec.size)
    orbit = (w * 0.5 - light.width / 2, h * 0.3 - light.height / 2, w * 0.12, h * 0.06, light_period(spec.duration))
    if spec.kind == "end":
        # The end card holds still (credits over a fade): it takes the film's spare seconds and
        # is re-made after most edits, and a still picture encodes in a fraction of the time.
        x1, y1 = x0, y0
        fg_x = (fg_x[0], fg_x[0])
        orbit = (orbit[0], orbit[1], 0.0, 0.0, orbit[4])
    before = spec.dissolve_from
    return _Layout(
        spec=spec, style=style, plate=plate, foreground=foreground, light=light,
        frame=_cached_frame(style, spec.size), texts=tuple(_place_texts(spec, style)),
        pan=(x0, y0, x1, y1), fg_x=fg_x, light_orbit=orbit,
        dissolve=_compose(_layout(before, plates), before.duration) if before is not None else None,
    )


def light_period(duration: float) -> float:
    """The light's orbit: a little longer than the shot, so it never comes full circle. The length
    counts in whole GOPs, so a shot or card that grows or shrinks by less keeps its opening frames
    (`pieces.head_frames`): the card that takes the film's spare seconds is re-made only at its end."""
    return max(6.0, 1.3 * GOP_SECONDS * math.ceil(duration / GOP_SECONDS - 1e-6))


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


class _Graph:
    """An ffmpeg filter graph being built: its inputs, its chains and the pad the picture is on."""

    def __init__(self, spec: SegmentSpec, paths: dict[str, _RawLayer], folder: Path | None) -> None:
        self.spec, self.paths, self.folder = spec, paths, folder
        self.inputs: list[str] = []
        self.chains: list[str] = []
        self.count = 0
        self.cur = ""

    def add(self, args: list[str]) -> int:
        self.inputs.extend(args)
        self.count += 1
        return self.count - 1

    def still(self, name: str, fmt: str, frames: int, offset: int = 0) -> str:
        # Read the raw layer once, convert once, then repeat the frame in memory (no per-frame decode).
        fps = self.spec.fps
        path, (lw, lh), pix = self.paths[name]
        idx = self.add(["-f", "rawvideo", "-pix_fmt", pix, "-s", f"{lw}x{lh}", "-framerate", str(fps),
                        "-i", str(path)])
        self.chains.append(f"[{idx}:v]format={fmt},loop=loop={frames - 1}:size=1:start=0,"
                           f"settb=1/{fps},setpts=N+{offset}[s{idx}]")
        return f"s{idx}"

    def stream(self, plate: Plate, frames: int) -> str:
        assert self.folder is not None, "a moving plate needs the segment's layer folder"
        chain = plate.stream(self, self.folder, frames)
        self.chains.append(f"{chain}[s{self.count - 1}]")
        return f"s{self.count - 1}"

    def then(self, chain: str, label: str) -> None:
        """Append `chain` reading the current pad; its output becomes the current pad."""
        self.chains.append(f"[{self.cur}]{chain}[{label}]" if self.cur else f"{chain}[{label}]")
        self.cur = label


# -- the layers: each one value, applied by ffmpeg (`graph`) and by Pillow (`draw`) alike ----------


@dataclass(frozen=True)
class _BackdropLayer:
    plate: Plate
    pan: tuple[int, int, int, int]
    cross: float

    def raws(self) -> tuple[tuple[str, Image.Image], ...]:
        return (("backdrop", self.plate.still),) if self.plate.still is not None else ()

    def graph(self, g: _Graph) -> None:
        w, h = g.spec.size
        x0, y0, x1, y1 = self.pan
        src = (g.still("backdrop", "yuv420p", g.spec.frames) if self.plate.still is not None
               else g.stream(self.plate, g.spec.frames))
        g.cur = src
        g.then(f"crop={w}:{h}:exact=1:x='{_travel_expr(x0, x1, self.cross)}':y='{_travel_expr(y0, y1, self.cross)}'",
               "b0")

    def draw(self, frame: Image.Image, t: float) -> Image.Image:
        w, h = frame.size
        x0, y0, x1, y1 = self.pan
        px, py = int(_travel(x0, x1, self.cross, t)), int(_travel(y0, y1, self.cross, t))
        return self.plate.frame(t).crop((px, py, px + w, py + h)).convert("RGBA")


@dataclass(frozen=True)
class _SlideLayer:
    """The foreground silhouettes: slide across faster than the backdrop (parallax)."""

    image: Image.Image
    xs: tuple[int, int]
    cross: float

    def raws(self) -> tuple[tuple[str, Image.Image], ...]:
        return (("foreground", self.image),)

    def graph(self, g: _Graph) -> None:
        fg = g.still("foreground", "yuva420p", g.spec.frames)
        a, b = self.xs
        g.chains.append(f"[{g.cur}][{fg}]overlay=x='{_travel_expr(a, b, self.cross)}'"
                        f":y={g.spec.size[1] - self.image.height}[b1]")
        g.cur = "b1"

    def draw(self, frame: Image.Image, t: float) -> Image.Image:
        a, b = self.xs
        _paste(frame, self.image, int(_travel(a, b, self.cross, t)), frame.height - self.image.height)
        return frame


@dataclass(frozen=True)
class _OrbitLayer:
    """The light layer, drifting on an ellipse."""

    image: Image.Image
    orbit: tuple[float, float, float, float, float]

    def raws(self) -> tuple[tuple[str, Image.Image], ...]:
        return (("light", self.image),)

    def graph(self, g: _Graph) -> None:
        li = g.still("light", "yuva420p", g.spec.frames)
        cx, cy, ax, ay, period = self.orbit
        g.chains.append(f"[{g.cur}][{li}]overlay=x='{cx:.1f}+{ax:.1f}*sin(2*PI*t/{period:.3f})'"
                        f":y='{cy:.1f}+{ay:.1f}*cos(2*PI*t/{period:.3f})'[b2]")
        g.cur = "b2"

    def draw(self, frame: Image.Image, t: float) -> Image.Image:
        cx, cy, ax, ay, period = self.orbit
        _paste(frame, self.image, int(cx + ax * math.sin(2 * math.pi * t / period)),
               int(cy + ay * math.cos(2 * math.pi * t / period)))
        return frame


@dataclass(frozen=True)
class _FrameLayer:
    """Vignette, scanlines, letterbox: fixed over the frame."""

    image: Image.Image

    def raws(self) -> tuple[tuple[str, Image.Image], ...]:
        return (("frame", self.image),)

    def graph(self, g: _Graph) -> None:
        fr = g.still("frame", "yuva420p", g.spec.frames)
        g.chains.append(f"[{g.cur}][{fr}]overlay=0:0[b3]")
        g.cur = "b3"

    def draw(self, frame: Image.Image, t: float) -> Image.Image:
        frame.alpha_composite(self.image)
        return frame


@dataclass(frozen=True)
class _DissolveLayer:
    """The shot before's last frame on top, fading out over `seconds`."""

    image: Image.Image
    seconds: float

    def raws(self) -> tuple[tuple[str, Image.Image], ...]:
        return (("dissolve", self.image.convert("RGBA")),)

    def graph(self, g: _Graph) -> None:
        d = self.seconds
        dz = g.still("dissolve", "yuva420p", max(1, round(d * g.spec.fps)))
        g.chains.append(f"[{dz}]fade=t=out:st=0:d={d:.3f}:alpha=1[dz]")
        g.chains.append(f"[{g.cur}][dz]overlay=0:0:eof_action=pass[bd]")
        g.cur = "bd"

    def draw(self, frame: Image.Image, t: float) -> Image.Image:
        if t < self.seconds:
            return Image.blend(self.image.convert("RGBA"), frame, t / self.seconds)
        return frame


@dataclass(frozen=True)
class _TextLayer:
    placed: _Placed
    index: int

    def raws(self) -> tuple[tuple[str, Image.Image], ...]:
        return ((f"text{self.index}", self.placed.image),)

    def graph(self, g: _Graph) -> None:
        fps, n, i, placed = g.spec.fps, g.spec.frames, self.index, self.placed
        first = round(placed.start * fps)
        count = max(1, min(n, round(placed.end * fps)) - first)
        fade = min(TEXT_FADE, count / fps / 3)
        tx = g.still(f"text{i}", "yuva420p", count, first)
        fades = (f"fade=t=in:st={first / fps:.4f}:d={fade:.3f}:alpha=1,"
                 f"fade=t=out:st={(first + count) / fps - fade:.4f}:d={fade:.3f}:alpha=1") if placed.fade else "null"
        g.chains.append(f"[{tx}]{fades}[t{i}]")
        g.chains.append(f"[{g.cur}][t{i}]overlay=x={placed.x}:y={placed.y}:eof_action=pass[c{i}]")
        g.cur = f"c{i}"

    def draw(self, frame: Image.Image, t: float) -> Image.Image:
        if self.placed.start <= t < self.placed.end:
            _paste(frame, self.placed.image, self.placed.x, self.placed.y)
        return frame


_LayerValue = _BackdropLayer | _SlideLayer | _OrbitLayer | _FrameLayer | _DissolveLayer | _TextLayer


def _layers(lay: _Layout) -> list[_LayerValue]:
    """The segment's layers, bottom first: the one list both renderers apply."""
    cross = _crossing(lay.spec.duration)
    out: list[_LayerValue] = [_BackdropLayer(lay.plate, lay.pan, cross)]
    if lay.foreground is not None:
        out.append(_SlideLayer(lay.foreground, lay.fg_x, cross))
    out.append(_OrbitLayer(lay.light, lay.light_orbit))
    if lay.frame is not None:
        out.append(_FrameLayer(lay.frame))
    if lay.dissolve is not None:
        out.append(_DissolveLayer(lay.dissolve, _dissolve_seconds(lay.spec)))
    out.extend(_TextLayer(placed, i) for i, placed in enumerate(lay.texts))
    return out


@dataclass(frozen=True)
class _Edges:
    """The shot's fades from and to black (its opening and closing transitions)."""

    edge: float
    fade_in: bool
    fade_out: bool
    duration: float

    @classmethod
    def of(cls, lay: _Layout) -> _Edges:
        spec = lay.spec
        return cls(min(lay.style.fade, spec.duration / 4), isinstance(spec.opening, FadeBlack),
                   isinstance(spec.closing, FadeBlack), spec.duration)

    def filters(self) -> list[str]:
        out = []
        if self.edge > 0 and self.fade_in:
            out.append(f"fade=t=in:st=0:d={self.edge:.3f}")
        if self.edge > 0 and self.fade_out:
            out.append(f"fade=t=out:st={self.duration - self.edge:.4f}:d={self.edge:.3f}")
        return out

    def gain(self, t: float) -> float:
        k = 1.0
        if self.edge > 0 and self.fade_in:
            k = min(k, t / self.edge)
        if self.edge > 0 and self.fade_out:
            k = min(k, (self.duration - t) / self.edge)
        return k


def _filter_graph(lay: _Layout, paths: dict[str, _RawLayer], folder: Path | None = None) -> tuple[list[str], str]:
    """ffmpeg inputs and the filter graph animating the layers; output pad [v]."""
    spec = lay.spec
    g = _Graph(spec, paths, folder)
    under, over = _split(_layers(lay))
    for layer in under:
        layer.graph(g)
    post = []
    if lay.style.grain and spec.kind != "end":
        post.append(f"noise=c0s={lay.style.grain}:c0f=t")
    post.extend(_Edges.of(lay).filters())
    post.append("format=yuv420p")
    # Karaoke words go on after the scene's fades: a spoken word is never dimmed with the picture.
    g.chains.append(f"[{g.cur}]" + ",".join(post) + ("[p]" if over else "[v]"))
    g.cur = "p"
    for layer in over:
        layer.graph(g)
    if over:
        g.chains.append(f"[{g.cur}]format=yuv420p[v]")
    return g.inputs, ";".join(g.chains)


def _split(layers: list[_LayerValue]) -> tuple[list[_LayerValue], list[_LayerValue]]:
    """The layers under the shot's fades, and those over them (text that does not fade: karaoke)."""
    def cut(la: _LayerValue) -> bool:
        return isinstance(la, _TextLayer) and not la.placed.fade

    return [la for la in layers if not cut(la)], [la for la in layers if cut(la)]


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
    for layer in _layers(lay):
        for name, img in layer.raws():
            mode = "RGBA" if img.mode in ("RGBA", "LA", "P") else "RGB"
            data = img if img.mode == mode else img.convert(mode)
            path = folder / f"{name}.{mode.lower()}"
            path.write_bytes(data.tobytes())
            paths[name] = (path, data.size, "rgba" if mode == "RGBA" else "rgb24")
    return paths


def render_segment(
    spec: SegmentSpec,
    out: Path,
    *,
    encoder: str,
    cancel: CancelToken,
    on_frame: Callable[[int], None] | None = None,
    plates: Path | None = None,
) -> Path:
    """Render `spec` to a video-only H.264 MP4 at `out` with exactly `spec.frames` frames at spec.fps
    (its sets read from, or kept in, the `plates` folder)."""
    cancel.raise_if_cancelled()
    w, h = spec.size
    if w % 2 or h % 2:
        raise ValueError(f"frame size must be even for yuv420p, got {w}x{h}")
    out.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{out.stem}.layers-", dir=out.parent))
    try:
        lay = _layout(spec, plates)
        cancel.raise_if_cancelled()
        inputs, graph = _filter_graph(lay, _write_layers(lay, folder), folder)
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


def set_record(spec: SegmentSpec) -> dict[str, object]:
    """What the painted set of a segment shows (for the manifest): the setting its location names
    (or the motif painted when none does) and the props drawn, by table name."""
    if not isinstance(spec.source, Painted):
        return {"kind": spec.kind, "source": spec.source.key()["kind"], "setting": None, "props": []}
    sc = _scenery(spec)
    return {"kind": spec.kind, "source": "painted",
            "setting": sc.setting.name if sc.setting is not None else None, "motif": sc.motif,
            "props": list(sc.set_props)}


def set_records(specs: tuple[SegmentSpec, ...], plates: Path | None = None) -> list[dict[str, object]]:
    """`set_record` of each segment, with its start in the film and the layers drawn (and their
    boxes) in its middle frame: what the manifest records so a frame can be checked against it."""
    out, start = [], 0.0
    for spec in specs:
        mid = round(spec.frames // 2 / spec.fps, 4)
        out.append({**set_record(spec), "start": round(start, 4), "frame_at": mid,
                    "frame_layers": [[name, list(box)] for name, box in layers_at(spec, mid, plates)]})
        start += spec.frames / spec.fps
    return out


def layers_at(spec: SegmentSpec, t: float, plates: Path | None = None) -> list[tuple[str, tuple[int, int, int, int]]]:
    """The layers drawn in the frame at `t` seconds, bottom first, each with its box in the frame:
    `backdrop`, `set:<setting>`, `prop:<name>` (where the camera has the prop at `t`),
    `foreground`, `light`, `frame`, `dissolve`, `text<i>`. What a test checks a frame against."""
    lay = _layout(spec, plates)
    w, h = spec.size
    t = min(max(0.0, t), spec.duration)
    x0, y0, x1, y1 = lay.pan
    cross = _crossing(spec.duration)
    px, py = int(_travel(x0, x1, cross, t)), int(_travel(y0, y1, cross, t))
    full = (0, 0, w, h)
    out: list[tuple[str, tuple[int, int, int, int]]] = [("backdrop", full)]
    if isinstance(spec.source, Painted):
        sc = _scenery(spec)
        if sc.setting is not None:
            out.append((f"set:{sc.setting.name}", full))
        bw, bh = lay.plate.size
        for name, (a, b, c, d) in _painting(sc, (bw, bh), plates)[1].items():
            box = (max(0, a - px), max(0, b - py), min(w, c - px), min(h, d - py))
            if box[0] < box[2] and box[1] < box[3]:
                out.append((f"prop:{name}", box))
    if lay.foreground is not None:
        out.append(("foreground", (0, h - lay.foreground.height, w, h)))
    out.append(("light", full))
    if lay.frame is not None:
        out.append(("frame", full))
    if lay.dissolve is not None and t < _dissolve_seconds(spec):
        out.append(("dissolve", full))
    out.extend((f"text{i}", (p.x, p.y, p.x + p.image.width, p.y + p.image.height))
               for i, p in enumerate(lay.texts) if p.start <= t < p.end)
    return out


def _compose(lay: _Layout, t: float) -> Image.Image:
    spec = lay.spec
    t = min(max(0.0, t), spec.duration)
    frame = Image.new("RGBA", spec.size)
    under, over = _split(_layers(lay))
    for layer in under:
        frame = layer.draw(frame, t)
    k = _Edges.of(lay).gain(t)
    rgb = frame.convert("RGB")
    if k < 1.0:
        rgb = Image.blend(Image.new("RGB", rgb.size, (0, 0, 0)), rgb, max(0.0, k))
    if not over:
        return rgb
    frame = rgb.convert("RGBA")
    for layer in over:
        frame = layer.draw(frame, t)
    return frame.convert("RGB")


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
