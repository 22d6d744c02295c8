"""Procedural still layers painted once per segment with numpy/Pillow: backdrop, foreground, light, frame.

ffmpeg animates these (pan, parallax, drift); nothing here runs per frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from filmstudio.pipeline.providers.sets import Box, Kit, Setting, draw_set, setting_for
from filmstudio.pipeline.providers.styles import Lighting, Style, grade, lighting_for, motif_for

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Scenery:
    """What to paint: the facts from a scene heading plus the style."""

    style: Style
    size: tuple[int, int]  # frame size
    int_ext: str | None
    location: str
    time_of_day: str | None
    seed: int
    props: tuple[str, ...] = ()  # props the shot's action names (sets.PROPS), drawn on the set

    @property
    def setting(self) -> Setting | None:
        """The set the heading's location names (sets.SETTINGS), None: the painted motif alone."""
        return setting_for(self.location, self.int_ext)

    @property
    def set_props(self) -> tuple[str, ...]:
        """What is drawn on the set: the props the action names (the first in the middle), then the setting's own."""
        own = self.setting.props if self.setting is not None else ()
        return tuple(dict.fromkeys((*self.props, *own)))[:6]

    @property
    def interior(self) -> bool:
        ie = (self.int_ext or "").upper()
        return ie.startswith("INT") and "EXT" not in ie

    @property
    def lighting(self) -> Lighting:
        return lighting_for(self.time_of_day)

    @property
    def motif(self) -> str:
        setting = self.setting
        if setting is not None and (setting.motif == "space" or not self.interior):
            return setting.motif
        return motif_for(self.location, self.int_ext)


def _mix(a: RGB | np.ndarray, b: RGB | np.ndarray, t: np.ndarray | float) -> np.ndarray:
    a_ = np.asarray(a, dtype=np.float32)
    b_ = np.asarray(b, dtype=np.float32)
    t_ = np.asarray(t, dtype=np.float32)
    if t_.ndim:
        t_ = t_[..., None]
    out: np.ndarray = a_ + (b_ - a_) * t_
    return out


def _vgradient(w: int, h: int, top: RGB, bottom: RGB, flat: bool) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)
    if flat:
        t = (np.round(t * 3) / 3).astype(np.float32)  # a few flat bands instead of a smooth ramp
    col = _mix(top, bottom, t)
    return np.repeat(col[:, None, :], w, axis=1)


def _glow(canvas: np.ndarray, cx: float, cy: float, radius: float, color: RGB, strength: float) -> None:
    """Add a soft radial light (screen-like) to a float canvas in place."""
    h, w, _ = canvas.shape
    x0, x1 = max(0, int(cx - 3 * radius)), min(w, int(cx + 3 * radius) + 1)
    y0, y1 = max(0, int(cy - 3 * radius)), min(h, int(cy + 3 * radius) + 1)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d2 = ((xx - cx) ** 2 + (yy - cy) ** 2) / (radius * radius)
    a = (strength * np.exp(-d2))[..., None]
    region = canvas[y0:y1, x0:x1]
    canvas[y0:y1, x0:x1] = region + (np.asarray(color, np.float32) - region) * np.clip(a, 0, 1)


def _disc(canvas: np.ndarray, cx: float, cy: float, r: float, color: RGB, stripes: bool = False) -> None:
    h, w, _ = canvas.shape
    x0, x1 = max(0, int(cx - r) - 1), min(w, int(cx + r) + 2)
    y0, y1 = max(0, int(cy - r) - 1), min(h, int(cy + r) + 2)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    inside = np.clip(r + 0.5 - np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2), 0, 1)
    if stripes:
        # The 80s sun: horizontal cuts that widen towards its lower edge.
        rel = (yy - cy) / r
        period = max(4.0, r / 5)
        gap = np.clip(rel, 0, 1) * period * 0.6
        inside = inside * (((yy - cy) % period) >= gap)
    top = np.asarray(color, np.float32)
    if stripes:
        bottom = np.array([255, 70, 140], np.float32)
        col = top + (bottom - top) * np.clip((yy - (cy - r)) / (2 * r), 0, 1)[..., None]
    else:
        col = top
    region = canvas[y0:y1, x0:x1]
    canvas[y0:y1, x0:x1] = region + (col - region) * inside[..., None]


def _stars(canvas: np.ndarray, rng: np.random.Generator, horizon: int, count: int) -> None:
    _h, w, _ = canvas.shape
    ys = rng.integers(0, max(1, horizon), count)
    xs = rng.integers(0, w, count)
    lum = rng.uniform(140, 255, count).astype(np.float32)
    canvas[ys, xs] = np.maximum(canvas[ys, xs], lum[:, None])


def _silhouette_row(w: int, h: int, rng: np.random.Generator, kind: str, base: float, scale: float) -> np.ndarray:
    """Heights (in px from the top) of a skyline/treeline/ridge profile across `w` columns."""
    x = np.arange(w, dtype=np.float32)
    if kind == "city" or kind == "market":
        tops = np.empty(w, np.float32)
        i = 0
        while i < w:
            bw = int(rng.integers(max(6, w // 40), max(8, w // 12)))
            tops[i:i + bw] = base - rng.uniform(0.1, 1.0) * scale * h
            i += bw
        return tops
    if kind == "forest":
        tops = np.full(w, base - 0.25 * scale * h, np.float32)
        for cx in rng.uniform(0, w, max(8, w // 18)):
            th = rng.uniform(0.4, 1.0) * scale * h
            half = th * 0.35
            cone = base - th + np.abs(x - cx) * (th / half)
            tops = np.minimum(tops, cone)
        return tops
    if kind == "desert":
        return base - scale * h * (0.25 + 0.15 * np.sin(x / w * 2 * math.pi * 1.3 + rng.uniform(0, 6))
                                   + 0.08 * np.sin(x / w * 2 * math.pi * 3.1))
    # mountains (also the default ridge)
    prof = np.zeros(w, np.float32)
    for octave in range(1, 6):
        prof += np.sin(x / w * math.pi * 2 * octave * 1.7 + rng.uniform(0, 6)) / octave
    prof = (prof - prof.min()) / max(1e-6, float(np.ptp(prof)))
    return base - scale * h * (0.3 + 0.7 * prof)


def _fill_below(canvas: np.ndarray, tops: np.ndarray, color: RGB, alpha: float = 1.0) -> np.ndarray:
    """Fill each column from its top to the bottom; returns the coverage mask."""
    h = canvas.shape[0]
    rows = np.arange(h, dtype=np.float32)[:, None]
    mask = np.clip(rows - tops[None, :] + 0.5, 0, 1) * alpha
    canvas[:] = canvas + (np.asarray(color, np.float32) - canvas) * mask[..., None]
    return mask


def _windows(canvas: np.ndarray, rng: np.random.Generator, tops: np.ndarray, bottom: int, lit: RGB,
             chance: float) -> None:
    _h, w, _ = canvas.shape
    step = max(4, w // 120)
    for x in range(step, w - step, step * 2):
        top = int(tops[x])
        for y in range(top + step, bottom - step, step * 2):
            if rng.random() < chance:
                canvas[y:y + step, x:x + step] = lit


def paint_backdrop(sc: Scenery, size: tuple[int, int]) -> Image.Image:
    """The background plate at `size` (larger than the frame so it can pan), graded in the style."""
    return paint_set(sc, size)[0]


def paint_set(sc: Scenery, size: tuple[int, int]) -> tuple[Image.Image, dict[str, Box]]:
    """The background plate with its set drawn on it, and each prop's box on the plate."""
    w, h = size
    rng = np.random.default_rng(sc.seed)
    lt = sc.lighting
    style = sc.style
    canvas = _paint_room(sc, w, h, rng) if sc.interior else _paint_exterior(sc, w, h, rng)
    boxes: dict[str, Box] = {}
    if sc.set_props:
        kit = Kit(night=lt.night, dusk=lt.night or lt.sun_height < 0.15, light=lt.light, interior=sc.interior)
        horizon = h * (0.64 if sc.motif != "space" else 0.85)
        drawn, boxes = draw_set(Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8)), sc.set_props,
                                horizon=horizon, floor=h * 0.74, kit=kit)
        canvas = np.asarray(drawn, dtype=np.float32)
    if not style.flat and not style.posterize:
        canvas += rng.normal(0, 2.0, canvas.shape).astype(np.float32)  # breaks gradient banding
    img = Image.fromarray(grade(canvas, style, lt.brightness))
    if style.flat:
        img = img.filter(ImageFilter.SMOOTH)
    return img, boxes


def _paint_exterior(sc: Scenery, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    lt = sc.lighting
    style = sc.style
    motif = sc.motif
    horizon = int(h * (0.64 if motif != "space" else 0.85))
    if motif == "space":
        canvas = _vgradient(w, h, (4, 4, 14), (18, 16, 40), style.flat)
    else:
        canvas = _vgradient(w, h, lt.sky_top, lt.sky_horizon, style.flat)
    if lt.night or motif == "space":
        _stars(canvas, rng, horizon, int(w * h / 900))
    # Sun or moon.
    cx = w * rng.uniform(0.25, 0.75)
    if style.sun_stripes and not lt.night:
        r = h * 0.2
        _glow(canvas, cx, horizon - r * 0.3, r * 2.2, (255, 160, 90), 0.5)
        _disc(canvas, cx, horizon - r * 0.3, r, (255, 220, 90), stripes=True)
    elif lt.night:
        r = h * 0.045
        cy = h * 0.3  # clear of letterbox bars and the pan margin
        _glow(canvas, cx, cy, r * 4, lt.light, 0.18)
        _disc(canvas, cx, cy, r, (235, 238, 245))
    else:
        r = h * (0.05 if not style.flat else 0.09)
        cy = horizon - (horizon - h * 0.12) * max(0.05, lt.sun_height)
        if not style.flat:
            _glow(canvas, cx, cy, r * 6, lt.light, 0.45)
        _disc(canvas, cx, cy, r, lt.light if not style.flat else style.accent)
    if motif == "space":
        pr = h * 0.35
        _disc(canvas, w * rng.uniform(0.2, 0.8), h * 0.95, pr, (70, 90, 150))
        _glow(canvas, w * 0.5, h * 0.8, pr, (90, 120, 220), 0.25)
        return canvas
    ground = lt.ground
    if motif == "sea":
        water = _vgradient(w, h - horizon, _shade(lt.sky_horizon, 0.7), _shade(lt.sky_top, 0.5), style.flat)
        canvas[horizon:] = water
        for y in range(horizon + 2, h, max(3, h // 60)):
            if rng.random() < 0.5:
                x0 = int(rng.uniform(0, w * 0.9))
                canvas[y, x0:x0 + int(w * rng.uniform(0.03, 0.15))] = _shade(lt.light, 0.8 if not lt.night else 0.35)
        return canvas
    canvas[horizon:] = _vgradient(w, h - horizon, _shade(ground, 1.1), _shade(ground, 0.6), style.flat)
    far = _shade(_mix_rgb(lt.sky_horizon, ground, 0.5), 0.85)
    kind = {"market": "city", "room": "city"}.get(motif, motif)
    tops = _silhouette_row(w, h, rng, kind, horizon, 0.28 if kind == "city" else 0.22)
    _fill_below(canvas[:horizon + 1], tops, far)
    if kind == "city" and not style.flat:
        lit = (255, 210, 120) if lt.night or lt.brightness < 0.8 else _shade(far, 1.25)
        _windows(canvas, rng, tops, horizon, lit, 0.35 if lt.night else 0.12)
    if motif == "market" and not style.flat:
        _lantern_strings(canvas, rng, horizon, lt, style)
    return canvas


def _lantern_strings(canvas: np.ndarray, rng: np.random.Generator, horizon: int, lt: Lighting, style: Style) -> None:
    h, w, _ = canvas.shape
    for row in range(2):
        y0 = horizon * (0.45 + 0.2 * row)
        sag = h * 0.05
        for i in range(14):
            x = w * (i + 0.5) / 14
            y = y0 + sag * math.sin(math.pi * ((x / w * 3) % 1.0))
            color = ((255, 120, 60), (255, 190, 80), (240, 80, 80))[int(rng.integers(0, 3))]
            if lt.night and not style.flat:
                _glow(canvas, x, y, h * 0.03, color, 0.7)
            _disc(canvas, x, y, h * 0.012, color)


def _paint_room(sc: Scenery, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    lt = sc.lighting
    style = sc.style
    wall = (150, 120, 95) if not style.flat else (205, 190, 170)
    if sc.setting is not None and sc.setting.wall is not None:
        wall = sc.setting.wall if not style.flat else _mix_rgb(sc.setting.wall, (235, 230, 220), 0.4)
    wall_top = _shade(wall, 0.7 if not lt.night else 0.35)
    wall_bottom = _shade(wall, 1.0 if not lt.night else 0.5)
    canvas = _vgradient(w, h, wall_top, wall_bottom, style.flat)
    floor_y = int(h * 0.74)
    canvas[floor_y:] = _vgradient(w, h - floor_y, _shade(wall, 0.55), _shade(wall, 0.3), style.flat)
    # A window showing the time of day outside.
    ww, wh = int(w * 0.22), int(h * 0.34)
    wx, wy = int(w * rng.uniform(0.15, 0.6)), int(h * 0.18)
    sky = _vgradient(ww, wh, lt.sky_top, lt.sky_horizon, style.flat)
    if lt.night:
        _stars(sky, rng, wh, max(4, ww * wh // 500))
    frame = max(3, h // 120)
    canvas[wy - frame:wy + wh + frame, wx - frame:wx + ww + frame] = _shade(wall, 0.35)
    canvas[wy:wy + wh, wx:wx + ww] = sky
    canvas[wy:wy + wh, wx + ww // 2 - frame // 2:wx + ww // 2 + frame // 2 + 1] = _shade(wall, 0.35)
    if not lt.night:
        _glow(canvas, wx + ww / 2, wy + wh, ww * 0.9, lt.light, 0.25)  # daylight spilling in
    # Shelves / a door as simple shapes.
    dx = int(w * rng.uniform(0.7, 0.85))
    canvas[int(h * 0.3):floor_y, dx:dx + int(w * 0.09)] = _shade(wall, 0.55)
    for k in range(3):
        sy = int(h * (0.3 + 0.1 * k))
        canvas[sy:sy + max(2, h // 150), int(w * 0.05):int(w * 0.13)] = _shade(wall, 0.45)
    # Warm lamps: the light that matters indoors at night.
    lamp = (255, 190, 110)
    for lx in (w * rng.uniform(0.05, 0.3), w * rng.uniform(0.55, 0.95)):
        ly = h * rng.uniform(0.25, 0.45)
        if not style.flat:
            _glow(canvas, lx, ly, h * 0.22, lamp, 0.55 if lt.night else 0.3)
        _disc(canvas, lx, ly, h * 0.025, (255, 235, 190))
    return canvas


def _shade(c: RGB | tuple[float, ...], k: float) -> RGB:
    return (int(min(255, c[0] * k)), int(min(255, c[1] * k)), int(min(255, c[2] * k)))


def _mix_rgb(a: RGB, b: RGB, t: float) -> RGB:
    return (int(a[0] + (b[0] - a[0]) * t), int(a[1] + (b[1] - a[1]) * t), int(a[2] + (b[2] - a[2]) * t))


def paint_foreground(sc: Scenery, size: tuple[int, int]) -> Image.Image:
    """The near layer (RGBA, transparent above): silhouettes that slide faster than the backdrop."""
    w, h = size
    rng = np.random.default_rng(sc.seed ^ 0x5EED)
    lt = sc.lighting
    style = sc.style
    canvas = np.zeros((h, w, 3), np.float32)
    color = _shade(lt.ground, 0.35) if not style.flat else _shade(style.accent, 0.45)
    if style.flat:
        x = np.arange(w, dtype=np.float32)
        tops = h * (0.55 - 0.3 * np.sin(x / w * 2 * math.pi * 1.5 + sc.seed % 7))  # one soft hill line
    elif sc.interior:
        tops = np.full(w, float(h), np.float32)
        col = 0
        while col < w:
            piece = int(rng.integers(w // 10, w // 5))
            kind = rng.integers(0, 3)
            height = h * (0.45 if kind == 0 else 0.7 if kind == 1 else 0.3)
            tops[col:col + piece] = h - height
            col += piece + int(rng.integers(w // 12, w // 5))
    elif sc.motif in ("city", "market"):
        tops = _silhouette_row(w, h, rng, "city", float(h), 0.85)
    elif sc.motif == "sea":
        tops = _silhouette_row(w, h, rng, "desert", float(h), 0.5)
    elif sc.motif == "space":
        tops = np.full(w, h * 0.7, np.float32) + 0.1 * h * np.sin(np.arange(w) / w * 9)
    else:
        tops = _silhouette_row(w, h, rng, "forest", float(h), 0.95)
    mask = _fill_below(canvas, tops, color)
    rgb = grade(canvas, style, 1.0 if not lt.night else 0.6)
    alpha = (np.clip(mask, 0, 1) * 255).astype(np.uint8)
    img = Image.fromarray(np.dstack([rgb, alpha]))
    return img if style.flat else img.filter(ImageFilter.GaussianBlur(max(1, h // 200)))


def paint_light(sc: Scenery, frame: tuple[int, int]) -> Image.Image:
    """A drifting light layer (RGBA): bokeh discs at night, a soft flare by day."""
    fw, fh = frame
    rng = np.random.default_rng(sc.seed ^ 0xB0CE)
    lt = sc.lighting
    w, h = int(fw * 0.7), int(fh * 0.6)
    img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    if sc.style.flat:
        # Flat shapes only: a translucent disc drifting here read as a ghost of the painted sun.
        return img
    if lt.night or sc.interior:
        palette = ((255, 190, 110), (255, 140, 90), (150, 190, 255), (255, 230, 160))
        for _ in range(14):
            r = int(min(fw, fh) * rng.uniform(0.015, 0.05))
            cx, cy = int(rng.uniform(r, w - r)), int(rng.uniform(r, h - r))
            color = palette[int(rng.integers(0, len(palette)))]
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(*color, int(rng.uniform(50, 110))))
        return img.filter(ImageFilter.GaussianBlur(max(1, min(fw, fh) // 160)))
    r = int(min(fw, fh) * 0.25)
    draw.ellipse((w // 2 - r, h // 2 - r, w // 2 + r, h // 2 + r), fill=(*lt.light, 60))
    return img.filter(ImageFilter.GaussianBlur(r // 2))


def paint_frame(style: Style, frame: tuple[int, int]) -> Image.Image | None:
    """Static on-top layer (RGBA): vignette, scanlines and letterbox bars; None when the style has none."""
    w, h = frame
    if not (style.vignette or style.scanlines or letterbox_bar(style, frame)):
        return None
    alpha = np.zeros((h, w), np.float32)
    if style.vignette:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        d = np.sqrt(((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2) / math.sqrt(2)
        alpha = np.maximum(alpha, style.vignette * np.clip((d - 0.45) / 0.55, 0, 1) ** 1.6)
    if style.scanlines:
        # One thin dark line per `period` rows, the period set by the frame's short side: a
        # vertical 1080x1920 frame gets the same fine lines as a 1920x1080 one, not 10 px bands
        # that read as venetian blinds.
        period = scanline_period(frame)
        rows = np.arange(h) % period == period - 1
        alpha[rows] = np.maximum(alpha[rows], style.scanlines)
    bar = letterbox_bar(style, frame)
    if bar:
        alpha[:bar] = 1.0
        alpha[h - bar:] = 1.0
    a = (np.clip(alpha, 0, 1) * 255).astype(np.uint8)
    return Image.fromarray(np.dstack([np.zeros((h, w, 3), np.uint8), a]))


def scanline_period(frame: tuple[int, int]) -> int:
    """Rows per scanline (one dark row each): ~360 lines across the frame's short side."""
    return max(2, round(min(frame) / 360))


def letterbox_bar(style: Style, frame: tuple[int, int]) -> int:
    """Height in px of each letterbox bar for this frame (0 when the picture is already that wide)."""
    w, h = frame
    # Scope bars only suit landscape frames: on square and vertical ones they would leave a sliver.
    if not style.letterbox or w / h < 1.4:
        return 0
    picture_h = w / style.letterbox
    return max(0, int((h - picture_h) / 2)) if picture_h < h else 0


def cover_fit(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Scale and centre-crop `img` so it fills `size` exactly."""
    return ImageOps.fit(img.convert("RGB"), size, method=Image.Resampling.LANCZOS)


def user_backdrop(path: Path, style: Style, size: tuple[int, int], lighting: Lighting) -> Image.Image:
    """The user's image as the background plate: cover-fit to `size` and graded like the style."""
    with Image.open(path) as src:
        img = cover_fit(ImageOps.exif_transpose(src), size)
    arr = np.asarray(img, dtype=np.float32)
    # Night dims user images less than painted scenes: the photo's own light is kept.
    return Image.fromarray(grade(arr, style, 0.75 + 0.25 * lighting.brightness))
