"""Procedural sets: the settings and props a screenplay names, drawn as vector art with Pillow.

Without a picture model the backdrop is painted (layers.py). This module adds what the script
says is there: the scene heading's location picks a `Setting` (a harbour, a kitchen, a desert
road…), the nouns of the shot's action pick `Prop`s (a lighthouse, a boat, a kettle…). Both are
tables: adding one is one entry (a name, the words that name it, a drawing function or a list
of props). Drawings are plain shapes and gradients in natural colours, painted once per shot
onto the backdrop before the style's grade, so they pan with the camera and take the style's look.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter

RGB = tuple[int, int, int]
RGBA = tuple[int, int, int, int]


@dataclass(frozen=True)
class Kit:
    """What a drawing may look at: the light of the scene (night: lamps lit, beams on)."""

    night: bool
    dusk: bool  # low sun or night: a lighthouse's beam shows
    light: RGB
    interior: bool


Draw = Callable[[ImageDraw.ImageDraw, float, float, float, Kit], None]
"""draw(d, x, y, s, kit): a prop centred on x, standing on y (its bottom), s pixels tall."""


# -- the drawing vocabulary ------------------------------------------------------------------


def _poly(d: ImageDraw.ImageDraw, pts: list[tuple[float, float]], fill: RGB | RGBA) -> None:
    d.polygon([(round(x), round(y)) for x, y in pts], fill=fill)


def _rect(d: ImageDraw.ImageDraw, x0: float, y0: float, x1: float, y1: float, fill: RGB | RGBA,
          radius: float = 0) -> None:
    box = (round(min(x0, x1)), round(min(y0, y1)), round(max(x0, x1)), round(max(y0, y1)))
    if radius:
        d.rounded_rectangle(box, radius=max(1, round(radius)), fill=fill)
    else:
        d.rectangle(box, fill=fill)


def _ellipse(d: ImageDraw.ImageDraw, cx: float, cy: float, rx: float, ry: float, fill: RGB | RGBA) -> None:
    d.ellipse((round(cx - rx), round(cy - ry), round(cx + rx), round(cy + ry)), fill=fill)


def _lit(k: Kit, on: RGB = (255, 215, 120), off: RGB = (70, 80, 100)) -> RGB:
    return on if k.night or k.interior else off


# -- props --------------------------------------------------------------------------------------


def lighthouse(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    base, top = s * 0.16, s * 0.09
    _ellipse(d, x, y, s * 0.3, s * 0.07, (58, 56, 60))  # the rock it stands on
    tower_top = y - s * 0.78
    bands = 5
    for i in range(bands):
        t0, t1 = i / bands, (i + 1) / bands
        y0, y1 = y - s * 0.03 - (y - s * 0.03 - tower_top) * t0, y - s * 0.03 - (y - s * 0.03 - tower_top) * t1
        w0, w1 = base + (top - base) * t0, base + (top - base) * t1
        _poly(d, [(x - w0, y0), (x + w0, y0), (x + w1, y1), (x - w1, y1)],
              (236, 234, 226) if i % 2 == 0 else (196, 42, 40))
    _rect(d, x - top * 1.5, tower_top - s * 0.02, x + top * 1.5, tower_top, (40, 40, 46))  # gallery
    lamp = (255, 236, 150) if k.dusk or k.interior else (230, 230, 200)
    _rect(d, x - top * 0.9, tower_top - s * 0.12, x + top * 0.9, tower_top - s * 0.02, lamp)
    _poly(d, [(x - top * 1.1, tower_top - s * 0.12), (x + top * 1.1, tower_top - s * 0.12), (x, tower_top - s * 0.2)],
          (150, 30, 30))


def lighthouse_beam(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    """The lit lamp's beam at dusk and night: a long pale wedge either side (on the glow layer)."""
    ly = y - s * 0.78 - s * 0.07
    _ellipse(d, x, ly, s * 0.14, s * 0.12, (255, 245, 190, 160))
    for side in (-1, 1):
        _poly(d, [(x, ly - s * 0.03), (x + side * s * 2.6, ly - s * 0.2), (x + side * s * 2.6, ly + s * 0.12),
                  (x, ly + s * 0.03)], (255, 240, 170, 80))


def boat(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    hw = s * 0.9
    _poly(d, [(x - hw, y - s * 0.35), (x + hw, y - s * 0.35), (x + hw * 0.7, y), (x - hw * 0.75, y)], (150, 50, 40))
    _rect(d, x - hw, y - s * 0.4, x + hw, y - s * 0.33, (235, 230, 215))
    _rect(d, x - s * 0.25, y - s * 0.7, x + s * 0.2, y - s * 0.4, (225, 220, 205))  # wheelhouse
    _rect(d, x - s * 0.15, y - s * 0.62, x + s * 0.1, y - s * 0.5, _lit(k, off=(90, 120, 150)))
    _rect(d, x + s * 0.35, y - s * 1.0, x + s * 0.39, y - s * 0.4, (70, 60, 50))  # mast


def ship(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    hw = s * 1.6
    _poly(d, [(x - hw, y - s * 0.35), (x + hw * 1.1, y - s * 0.35), (x + hw * 0.9, y), (x - hw * 0.9, y)], (40, 50, 70))
    _rect(d, x - hw * 0.5, y - s * 0.7, x + hw * 0.3, y - s * 0.35, (220, 220, 215))
    for i in range(5):
        _rect(d, x - hw * 0.45 + i * hw * 0.15, y - s * 0.6, x - hw * 0.38 + i * hw * 0.15, y - s * 0.5, _lit(k))
    _rect(d, x, y - s * 1.0, x + s * 0.25, y - s * 0.7, (180, 50, 40))  # funnel


def sailboat(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _poly(d, [(x - s * 0.5, y - s * 0.15), (x + s * 0.5, y - s * 0.15), (x + s * 0.35, y), (x - s * 0.35, y)],
          (120, 70, 45))
    _rect(d, x - s * 0.02, y - s, x + s * 0.02, y - s * 0.15, (80, 60, 45))
    _poly(d, [(x + s * 0.04, y - s * 0.95), (x + s * 0.45, y - s * 0.2), (x + s * 0.04, y - s * 0.2)], (240, 236, 225))
    _poly(d, [(x - s * 0.04, y - s * 0.8), (x - s * 0.35, y - s * 0.2), (x - s * 0.04, y - s * 0.2)], (225, 220, 210))


def table(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 1.1, y - s, x + s * 1.1, y - s * 0.88, (120, 78, 48))
    for lx in (-1.0, 0.9):
        _rect(d, x + lx * s, y - s * 0.88, x + lx * s + s * 0.1, y, (95, 60, 38))


def bottle(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 0.16, y - s * 0.62, x + s * 0.16, y, (40, 110, 60), radius=s * 0.06)
    _poly(d, [(x - s * 0.16, y - s * 0.6), (x + s * 0.16, y - s * 0.6), (x + s * 0.06, y - s * 0.78),
              (x - s * 0.06, y - s * 0.78)], (40, 110, 60))
    _rect(d, x - s * 0.06, y - s, x + s * 0.06, y - s * 0.76, (40, 110, 60))
    _rect(d, x - s * 0.12, y - s * 0.42, x + s * 0.12, y - s * 0.24, (235, 225, 190))  # label


def kettle(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _ellipse(d, x, y - s * 0.38, s * 0.45, s * 0.38, (190, 195, 200))
    _poly(d, [(x + s * 0.35, y - s * 0.4), (x + s * 0.85, y - s * 0.75), (x + s * 0.8, y - s * 0.62),
              (x + s * 0.38, y - s * 0.22)], (170, 175, 180))  # spout
    d.arc((round(x - s * 0.35), round(y - s * 1.0), round(x + s * 0.35), round(y - s * 0.45)), 180, 360,
          fill=(40, 40, 45), width=max(2, round(s * 0.07)))
    _rect(d, x - s * 0.45, y - s * 0.06, x + s * 0.45, y, (120, 120, 125))


def letter(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    w, h = s * 1.4, s * 0.9
    _rect(d, x - w / 2, y - h, x + w / 2, y, (245, 238, 220))
    _poly(d, [(x - w / 2, y - h), (x + w / 2, y - h), (x, y - h * 0.45)], (225, 215, 190))
    d.line([(round(x - w / 2), round(y - h)), (round(x), round(y - h * 0.45)), (round(x + w / 2), round(y - h))],
           fill=(150, 130, 100), width=max(1, round(s * 0.04)))
    _ellipse(d, x, y - h * 0.45, s * 0.1, s * 0.1, (170, 30, 40))  # the seal


def car(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    hw = s * 1.1
    _rect(d, x - hw, y - s * 0.6, x + hw, y - s * 0.18, (170, 40, 45), radius=s * 0.12)
    _poly(d, [(x - hw * 0.55, y - s * 0.6), (x - hw * 0.35, y - s), (x + hw * 0.35, y - s), (x + hw * 0.6, y - s * 0.6)],
          (160, 36, 40))
    _poly(d, [(x - hw * 0.45, y - s * 0.62), (x - hw * 0.3, y - s * 0.92), (x + hw * 0.3, y - s * 0.92),
              (x + hw * 0.48, y - s * 0.62)], (150, 190, 215))
    for wx in (-hw * 0.6, hw * 0.6):
        _ellipse(d, x + wx, y - s * 0.2, s * 0.2, s * 0.2, (25, 25, 28))
        _ellipse(d, x + wx, y - s * 0.2, s * 0.08, s * 0.08, (150, 150, 155))
    _ellipse(d, x + hw * 0.95, y - s * 0.45, s * 0.06, s * 0.05, (255, 240, 180) if k.night else (235, 235, 220))


def bus(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    hw = s * 1.6
    _rect(d, x - hw, y - s, x + hw, y - s * 0.15, (230, 180, 40), radius=s * 0.1)
    for i in range(6):
        wx = x - hw * 0.9 + i * hw * 0.3
        _rect(d, wx, y - s * 0.85, wx + hw * 0.22, y - s * 0.55, _lit(k, off=(130, 170, 200)))
    for wx in (-hw * 0.65, hw * 0.65):
        _ellipse(d, x + wx, y - s * 0.15, s * 0.16, s * 0.16, (25, 25, 28))


def bicycle(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    r, width = s * 0.32, max(2, round(s * 0.05))
    for wx in (-s * 0.5, s * 0.5):
        d.ellipse((round(x + wx - r), round(y - 2 * r), round(x + wx + r), round(y)), outline=(30, 30, 35), width=width)
    pts = [(x - s * 0.5, y - r), (x - s * 0.05, y - r), (x + s * 0.2, y - s * 0.75), (x - s * 0.25, y - s * 0.75),
           (x - s * 0.5, y - r), (x + s * 0.2, y - s * 0.75), (x + s * 0.5, y - r)]
    d.line([(round(a), round(b)) for a, b in pts], fill=(40, 90, 160), width=width)


def truck(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 1.5, y - s, x + s * 0.5, y - s * 0.2, (200, 200, 195))
    _rect(d, x + s * 0.5, y - s * 0.7, x + s * 1.1, y - s * 0.2, (50, 90, 150), radius=s * 0.08)
    _rect(d, x + s * 0.65, y - s * 0.62, x + s * 1.0, y - s * 0.42, (150, 190, 215))
    for wx in (-s * 1.1, -s * 0.5, s * 0.8):
        _ellipse(d, x + wx, y - s * 0.18, s * 0.18, s * 0.18, (25, 25, 28))


def train(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    for c in range(3):
        cx = x - s * 2.4 + c * s * 1.65
        _rect(d, cx, y - s, cx + s * 1.55, y - s * 0.15, (60, 110, 90) if c else (150, 40, 40), radius=s * 0.08)
        for i in range(3):
            _rect(d, cx + s * 0.15 + i * s * 0.45, y - s * 0.85, cx + s * 0.45 + i * s * 0.45, y - s * 0.55, _lit(k))
    _rect(d, x - s * 2.6, y - s * 0.1, x + s * 2.6, y, (60, 55, 50))


def tree(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 0.06, y - s * 0.45, x + s * 0.06, y, (95, 65, 40))
    for cx, cy, r in ((0, 0.62, 0.3), (-0.18, 0.5, 0.22), (0.18, 0.5, 0.22), (0, 0.8, 0.2)):
        _ellipse(d, x + cx * s, y - cy * s, r * s, r * s, (45, 110, 50))


def pine(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 0.04, y - s * 0.2, x + s * 0.04, y, (90, 60, 40))
    for i in range(3):
        top, bottom, hw = y - s * (1 - i * 0.22), y - s * (0.45 - i * 0.12), s * (0.18 + i * 0.08)
        _poly(d, [(x, top), (x + hw, bottom), (x - hw, bottom)], (30, 85, 50))


def palm(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    d.line([(round(x), round(y)), (round(x + s * 0.12), round(y - s * 0.5)), (round(x + s * 0.05), round(y - s * 0.9))],
           fill=(120, 90, 55), width=max(2, round(s * 0.06)))
    for ang in (-160, -120, -60, -20, 20):
        a = math.radians(ang)
        _poly(d, [(x + s * 0.05, y - s * 0.9), (x + s * 0.05 + math.cos(a) * s * 0.5, y - s * 0.9 + math.sin(a) * s * 0.25 + s * 0.15),
                  (x + s * 0.05 + math.cos(a) * s * 0.45, y - s * 0.9 + math.sin(a) * s * 0.25 + s * 0.22)], (50, 120, 55))


def cactus(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    green = (70, 130, 70)
    _rect(d, x - s * 0.1, y - s, x + s * 0.1, y, green, radius=s * 0.09)
    _rect(d, x - s * 0.4, y - s * 0.7, x - s * 0.24, y - s * 0.35, green, radius=s * 0.07)
    _rect(d, x - s * 0.4, y - s * 0.42, x - s * 0.08, y - s * 0.3, green)
    _rect(d, x + s * 0.24, y - s * 0.8, x + s * 0.4, y - s * 0.45, green, radius=s * 0.07)
    _rect(d, x + s * 0.08, y - s * 0.52, x + s * 0.4, y - s * 0.4, green)


def rock(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _poly(d, [(x - s, y), (x - s * 0.7, y - s * 0.6), (x - s * 0.1, y - s), (x + s * 0.6, y - s * 0.7), (x + s, y)],
          (95, 90, 88))
    _poly(d, [(x - s * 0.1, y - s), (x + s * 0.6, y - s * 0.7), (x + s, y), (x + s * 0.2, y)], (75, 70, 70))


def moon(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    r = s / 2
    _ellipse(d, x, y - r, r * 1.8, r * 1.8, (235, 238, 245, 40))  # halo
    _ellipse(d, x, y - r, r, r, (238, 236, 222))
    for cx, cy, cr in ((-0.3, -0.2, 0.2), (0.25, 0.15, 0.15), (0.05, 0.4, 0.1)):
        _ellipse(d, x + cx * r, y - r + cy * r, cr * r, cr * r, (205, 205, 195))


def sun(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    r = s / 2
    _ellipse(d, x, y - r, r * 1.6, r * 1.6, (255, 230, 150, 60))
    _ellipse(d, x, y - r, r, r, (255, 220, 110))


def star(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    r = s / 2
    pts = [(x + math.cos(math.radians(-90 + i * 36)) * (r if i % 2 == 0 else r * 0.4),
            y - r + math.sin(math.radians(-90 + i * 36)) * (r if i % 2 == 0 else r * 0.4)) for i in range(10)]
    _poly(d, pts, (255, 240, 170))


def cloud(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    c = (230, 232, 240) if not k.night else (90, 95, 120)
    for cx, cy, r in ((-0.6, 0.3, 0.3), (0, 0.5, 0.45), (0.6, 0.3, 0.32), (0.25, 0.25, 0.3)):
        _ellipse(d, x + cx * s, y - cy * s, r * s * 1.2, r * s, c)


def bird(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    for dx in (0, s * 0.9, s * 1.7):
        d.line([(round(x + dx - s * 0.4), round(y - s * 0.5)), (round(x + dx), round(y - s * 0.2)),
                (round(x + dx + s * 0.4), round(y - s * 0.5))], fill=(30, 30, 35), width=max(1, round(s * 0.1)))


def plane(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s, y - s * 0.55, x + s, y - s * 0.4, (225, 228, 232), radius=s * 0.07)
    _poly(d, [(x - s * 0.1, y - s * 0.5), (x + s * 0.3, y - s * 0.5), (x - s * 0.3, y - s * 0.05)], (200, 204, 210))
    _poly(d, [(x - s * 0.95, y - s * 0.5), (x - s * 0.7, y - s * 0.5), (x - s * 0.95, y - s * 0.85)], (200, 60, 50))


def rocket(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 0.14, y - s * 0.8, x + s * 0.14, y - s * 0.1, (230, 230, 235))
    _poly(d, [(x - s * 0.14, y - s * 0.8), (x + s * 0.14, y - s * 0.8), (x, y - s)], (200, 50, 45))
    for side in (-1, 1):
        _poly(d, [(x + side * s * 0.14, y - s * 0.35), (x + side * s * 0.3, y - s * 0.1),
                  (x + side * s * 0.14, y - s * 0.1)], (200, 50, 45))
    _ellipse(d, x, y - s * 0.55, s * 0.07, s * 0.07, (90, 150, 210))
    _poly(d, [(x - s * 0.1, y - s * 0.1), (x + s * 0.1, y - s * 0.1), (x, y + s * 0.05)], (255, 170, 60))


def robot(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    metal = (160, 170, 185)
    _rect(d, x - s * 0.22, y - s * 0.95, x + s * 0.22, y - s * 0.7, metal, radius=s * 0.05)
    for ex in (-0.09, 0.09):
        _ellipse(d, x + ex * s, y - s * 0.83, s * 0.04, s * 0.04, (80, 220, 255))
    _rect(d, x - s * 0.3, y - s * 0.66, x + s * 0.3, y - s * 0.3, metal, radius=s * 0.05)
    for lx in (-0.18, 0.08):
        _rect(d, x + lx * s, y - s * 0.3, x + (lx + 0.1) * s, y, (120, 130, 145))


def house(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    hw = s * 0.6
    _rect(d, x - hw, y - s * 0.6, x + hw, y, (200, 180, 150))
    _poly(d, [(x - hw * 1.15, y - s * 0.6), (x + hw * 1.15, y - s * 0.6), (x, y - s)], (140, 60, 50))
    _rect(d, x - s * 0.1, y - s * 0.3, x + s * 0.1, y, (100, 65, 45))
    for wx in (-hw * 0.65, hw * 0.35):
        _rect(d, x + wx, y - s * 0.5, x + wx + s * 0.18, y - s * 0.35, _lit(k, off=(120, 160, 190)))


def tent(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _poly(d, [(x - s * 0.9, y), (x, y - s), (x + s * 0.9, y)], (200, 120, 50))
    _poly(d, [(x - s * 0.2, y), (x, y - s * 0.55), (x + s * 0.2, y)], (60, 40, 30) if not k.night else (255, 200, 120))


def campfire(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _ellipse(d, x, y - s * 0.5, s * 1.1, s * 0.8, (255, 170, 70, 50))
    for dx in (-0.3, 0.3):
        d.line([(round(x + dx * s), round(y)), (round(x - dx * s), round(y - s * 0.2))], fill=(90, 60, 40),
               width=max(2, round(s * 0.12)))
    _poly(d, [(x - s * 0.3, y - s * 0.1), (x, y - s), (x + s * 0.3, y - s * 0.1)], (250, 130, 40))
    _poly(d, [(x - s * 0.15, y - s * 0.1), (x, y - s * 0.6), (x + s * 0.15, y - s * 0.1)], (255, 220, 90))


def streetlight(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 0.03, y - s, x + s * 0.03, y, (50, 55, 60))
    _rect(d, x - s * 0.03, y - s, x + s * 0.25, y - s * 0.96, (50, 55, 60))
    on = (255, 220, 140)
    if k.night:
        _poly(d, [(x + s * 0.2, y - s * 0.94), (x + s * 0.5, y), (x - s * 0.1, y)], (*on, 45))
    _ellipse(d, x + s * 0.2, y - s * 0.93, s * 0.07, s * 0.04, on if k.night else (210, 210, 200))


def lamp(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 0.04, y - s * 0.7, x + s * 0.04, y, (60, 50, 45))
    _rect(d, x - s * 0.25, y - s * 0.04, x + s * 0.25, y, (60, 50, 45))
    _ellipse(d, x, y - s * 0.75, s * 0.6, s * 0.45, (255, 210, 140, 50))
    _poly(d, [(x - s * 0.15, y - s), (x + s * 0.15, y - s), (x + s * 0.28, y - s * 0.68), (x - s * 0.28, y - s * 0.68)],
          (240, 210, 150))


def lantern(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _ellipse(d, x, y - s * 0.45, s * 0.6, s * 0.6, (255, 190, 90, 60))
    _rect(d, x - s * 0.2, y - s * 0.75, x + s * 0.2, y - s * 0.1, (255, 200, 100))
    _rect(d, x - s * 0.26, y - s * 0.85, x + s * 0.26, y - s * 0.75, (50, 45, 40))
    _rect(d, x - s * 0.26, y - s * 0.1, x + s * 0.26, y, (50, 45, 40))
    d.arc((round(x - s * 0.15), round(y - s), round(x + s * 0.15), round(y - s * 0.7)), 180, 360,
          fill=(50, 45, 40), width=max(1, round(s * 0.04)))


def candle(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _ellipse(d, x, y - s * 0.85, s * 0.4, s * 0.4, (255, 200, 110, 60))
    _rect(d, x - s * 0.1, y - s * 0.7, x + s * 0.1, y, (240, 232, 210))
    _poly(d, [(x - s * 0.06, y - s * 0.72), (x, y - s), (x + s * 0.06, y - s * 0.72)], (255, 190, 70))


def cup(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _poly(d, [(x - s * 0.35, y - s * 0.8), (x + s * 0.35, y - s * 0.8), (x + s * 0.28, y), (x - s * 0.28, y)],
          (235, 235, 230))
    d.arc((round(x + s * 0.2), round(y - s * 0.65), round(x + s * 0.6), round(y - s * 0.2)), 270, 90,
          fill=(235, 235, 230), width=max(1, round(s * 0.1)))
    _ellipse(d, x, y - s * 0.8, s * 0.35, s * 0.08, (100, 60, 40))


def book(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    for i, c in enumerate(((140, 40, 40), (40, 80, 130), (60, 110, 60))):
        _rect(d, x - s * 0.8 + i * s * 0.05, y - s * (0.33 * (i + 1)), x + s * 0.8 - i * s * 0.1, y - s * 0.33 * i, c)
        _rect(d, x + s * 0.6 - i * s * 0.1, y - s * (0.33 * (i + 1)) + 2, x + s * 0.75 - i * s * 0.1,
              y - s * 0.33 * i - 2, (235, 228, 210))


def phone(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 0.28, y - s, x + s * 0.28, y, (25, 25, 30), radius=s * 0.08)
    _rect(d, x - s * 0.22, y - s * 0.9, x + s * 0.22, y - s * 0.12, (90, 170, 230))


def clock(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    r = s / 2
    _ellipse(d, x, y - r, r, r, (60, 45, 35))
    _ellipse(d, x, y - r, r * 0.85, r * 0.85, (240, 236, 222))
    w = max(1, round(s * 0.06))
    d.line([(round(x), round(y - r)), (round(x), round(y - r * 1.6))], fill=(30, 30, 30), width=w)
    d.line([(round(x), round(y - r)), (round(x + r * 0.45), round(y - r))], fill=(30, 30, 30), width=w)


def painting(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 0.7, y - s, x + s * 0.7, y, (150, 110, 50))
    _rect(d, x - s * 0.6, y - s * 0.9, x + s * 0.6, y - s * 0.1, (120, 170, 210))
    _poly(d, [(x - s * 0.6, y - s * 0.1), (x - s * 0.1, y - s * 0.6), (x + s * 0.3, y - s * 0.3), (x + s * 0.6, y - s * 0.1)],
          (70, 120, 70))


def window(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 0.5, y - s, x + s * 0.5, y, (90, 70, 55))
    _rect(d, x - s * 0.44, y - s * 0.94, x + s * 0.44, y - s * 0.06, (30, 40, 80) if k.night else (160, 200, 235))
    _rect(d, x - s * 0.02, y - s * 0.94, x + s * 0.02, y - s * 0.06, (90, 70, 55))
    _rect(d, x - s * 0.44, y - s * 0.52, x + s * 0.44, y - s * 0.48, (90, 70, 55))


def door(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 0.28, y - s, x + s * 0.28, y, (110, 70, 45))
    _rect(d, x - s * 0.2, y - s * 0.92, x + s * 0.2, y - s * 0.55, (95, 60, 40))
    _ellipse(d, x + s * 0.18, y - s * 0.48, s * 0.03, s * 0.03, (220, 190, 90))


def chair(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    wood = (125, 80, 50)
    _rect(d, x - s * 0.3, y - s * 0.5, x + s * 0.3, y - s * 0.42, wood)
    _rect(d, x + s * 0.22, y - s, x + s * 0.3, y, wood)
    _rect(d, x - s * 0.3, y - s * 0.5, x - s * 0.22, y, wood)
    _rect(d, x + s * 0.22, y - s, x - s * 0.05, y - s * 0.9, wood)


def bed(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 1.2, y - s * 0.45, x + s * 1.2, y - s * 0.15, (235, 235, 240))
    _rect(d, x - s * 1.25, y - s * 0.15, x + s * 1.25, y - s * 0.05, (110, 110, 120))
    _rect(d, x - s * 1.25, y - s, x - s * 1.15, y, (110, 110, 120))
    _rect(d, x - s * 1.1, y - s * 0.6, x - s * 0.6, y - s * 0.45, (250, 250, 250), radius=s * 0.05)
    _rect(d, x - s * 0.4, y - s * 0.55, x + s * 1.2, y - s * 0.42, (120, 160, 200))


def desk(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 1.2, y - s * 0.75, x + s * 1.2, y - s * 0.65, (140, 100, 65))
    _rect(d, x - s * 1.15, y - s * 0.65, x - s * 0.5, y, (120, 85, 55))
    _rect(d, x + s * 1.0, y - s * 0.65, x + s * 1.1, y, (120, 85, 55))


def computer(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 0.6, y - s, x + s * 0.6, y - s * 0.3, (35, 35, 40), radius=s * 0.04)
    _rect(d, x - s * 0.52, y - s * 0.93, x + s * 0.52, y - s * 0.37, (70, 140, 200))
    _rect(d, x - s * 0.08, y - s * 0.3, x + s * 0.08, y - s * 0.08, (50, 50, 55))
    _rect(d, x - s * 0.35, y - s * 0.08, x + s * 0.35, y, (50, 50, 55))


def bookshelf(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 0.5, y - s, x + s * 0.5, y, (100, 65, 40))
    palette = ((150, 40, 40), (40, 80, 130), (60, 110, 60), (190, 150, 60), (110, 60, 120))
    for row in range(4):
        top = y - s + s * 0.05 + row * s * 0.24
        bx = x - s * 0.45
        i = row
        while bx < x + s * 0.4:
            bw = s * (0.06 + 0.03 * ((i * 7) % 3))
            _rect(d, bx, top + s * 0.03, bx + bw, top + s * 0.2, palette[i % len(palette)])
            bx += bw + 1
            i += 1


def blackboard(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 1.5, y - s, x + s * 1.5, y, (120, 90, 60))
    _rect(d, x - s * 1.42, y - s * 0.93, x + s * 1.42, y - s * 0.07, (40, 70, 55))
    for i in range(3):
        d.line([(round(x - s * 1.2), round(y - s * (0.75 - i * 0.2))), (round(x + s * (0.2 + 0.3 * (i % 2))),
                round(y - s * (0.75 - i * 0.2)))], fill=(220, 225, 215), width=max(1, round(s * 0.03)))


def monitor(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 0.04, y - s * 0.5, x + s * 0.04, y, (90, 95, 100))
    _rect(d, x - s * 0.35, y - s, x + s * 0.35, y - s * 0.5, (40, 45, 50), radius=s * 0.04)
    pts = [(x - s * 0.3 + i * s * 0.06, y - s * 0.75 + (s * 0.15 if i % 4 == 2 else 0) - (s * 0.12 if i % 4 == 3 else 0))
           for i in range(11)]
    d.line([(round(a), round(b)) for a, b in pts], fill=(80, 240, 120), width=max(1, round(s * 0.03)))


def console(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _poly(d, [(x - s * 1.4, y), (x - s * 1.2, y - s * 0.6), (x + s * 1.2, y - s * 0.6), (x + s * 1.4, y)], (60, 68, 82))
    for i in range(8):
        c = ((80, 200, 255), (255, 120, 80), (120, 255, 150))[i % 3]
        _rect(d, x - s * 1.05 + i * s * 0.27, y - s * 0.5, x - s * 0.9 + i * s * 0.27, y - s * 0.42, c)
    _rect(d, x - s * 0.5, y - s * 0.38, x + s * 0.5, y - s * 0.1, (40, 110, 160))


def crate(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 0.5, y - s, x + s * 0.5, y, (165, 120, 70))
    w = max(1, round(s * 0.06))
    d.line([(round(x - s * 0.5), round(y - s)), (round(x + s * 0.5), round(y))], fill=(120, 85, 50), width=w)
    d.rectangle((round(x - s * 0.5), round(y - s), round(x + s * 0.5), round(y)), outline=(120, 85, 50), width=w)


def barrel(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 0.35, y - s, x + s * 0.35, y, (130, 85, 50), radius=s * 0.12)
    for by in (0.2, 0.8):
        _rect(d, x - s * 0.36, y - s * by - s * 0.04, x + s * 0.36, y - s * by + s * 0.04, (70, 70, 75))


def anchor(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    c, w = (60, 65, 75), max(2, round(s * 0.08))
    d.line([(round(x), round(y - s * 0.85)), (round(x), round(y - s * 0.05))], fill=c, width=w)
    d.ellipse((round(x - s * 0.1), round(y - s), round(x + s * 0.1), round(y - s * 0.8)), outline=c, width=w)
    d.arc((round(x - s * 0.4), round(y - s * 0.55), round(x + s * 0.4), round(y)), 0, 180, fill=c, width=w)
    d.line([(round(x - s * 0.25), round(y - s * 0.65)), (round(x + s * 0.25), round(y - s * 0.65))], fill=c, width=w)


def fish(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _ellipse(d, x, y - s * 0.4, s * 0.6, s * 0.35, (90, 140, 180))
    _poly(d, [(x + s * 0.5, y - s * 0.4), (x + s * 0.95, y - s * 0.75), (x + s * 0.95, y - s * 0.05)], (70, 120, 160))
    _ellipse(d, x - s * 0.35, y - s * 0.48, s * 0.06, s * 0.06, (20, 20, 25))


def umbrella(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    d.pieslice((round(x - s * 0.6), round(y - s), round(x + s * 0.6), round(y - s * 0.4)), 180, 360, fill=(190, 40, 60))
    _rect(d, x - s * 0.02, y - s * 0.7, x + s * 0.02, y - s * 0.05, (40, 40, 40))
    d.arc((round(x - s * 0.12), round(y - s * 0.15), round(x + s * 0.02), round(y)), 0, 180, fill=(40, 40, 40),
          width=max(1, round(s * 0.04)))


def suitcase(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 0.5, y - s * 0.8, x + s * 0.5, y, (120, 70, 40), radius=s * 0.06)
    d.rectangle((round(x - s * 0.15), round(y - s), round(x + s * 0.15), round(y - s * 0.8)), outline=(50, 35, 25),
                width=max(1, round(s * 0.06)))
    for bx in (-0.3, 0.25):
        _rect(d, x + bx * s, y - s * 0.8, x + (bx + 0.05) * s, y, (200, 170, 90))


def guitar(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _ellipse(d, x, y - s * 0.22, s * 0.25, s * 0.22, (180, 110, 50))
    _ellipse(d, x, y - s * 0.5, s * 0.19, s * 0.16, (180, 110, 50))
    _ellipse(d, x, y - s * 0.3, s * 0.07, s * 0.07, (40, 25, 15))
    _rect(d, x - s * 0.03, y - s, x + s * 0.03, y - s * 0.55, (80, 50, 30))


def piano(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 0.9, y - s, x + s * 0.9, y - s * 0.1, (25, 22, 24))
    _rect(d, x - s * 0.8, y - s * 0.52, x + s * 0.8, y - s * 0.4, (245, 245, 240))
    for i in range(12):
        if i % 7 not in (2, 6):
            kx = x - s * 0.75 + i * s * 0.13
            _rect(d, kx, y - s * 0.52, kx + s * 0.06, y - s * 0.45, (20, 20, 20))
    for lx in (-0.85, 0.78):
        _rect(d, x + lx * s, y - s * 0.1, x + (lx + 0.07) * s, y, (25, 22, 24))


def flower(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _poly(d, [(x - s * 0.25, y - s * 0.35), (x + s * 0.25, y - s * 0.35), (x + s * 0.18, y), (x - s * 0.18, y)],
          (170, 90, 60))
    for fx, fy, c in ((-0.2, 0.8, (230, 70, 90)), (0.05, 0.95, (250, 200, 60)), (0.22, 0.75, (200, 90, 200))):
        d.line([(round(x), round(y - s * 0.35)), (round(x + fx * s), round(y - fy * s))], fill=(60, 130, 60),
               width=max(1, round(s * 0.04)))
        _ellipse(d, x + fx * s, y - fy * s, s * 0.1, s * 0.1, c)


def dog(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    c = (150, 100, 60)
    _ellipse(d, x, y - s * 0.55, s * 0.5, s * 0.22, c)
    _ellipse(d, x + s * 0.5, y - s * 0.8, s * 0.2, s * 0.18, c)
    _poly(d, [(x + s * 0.38, y - s * 0.9), (x + s * 0.45, y - s * 1.05), (x + s * 0.5, y - s * 0.9)], (110, 70, 40))
    for lx in (-0.35, -0.2, 0.2, 0.35):
        _rect(d, x + lx * s, y - s * 0.45, x + (lx + 0.08) * s, y, c)
    d.line([(round(x - s * 0.48), round(y - s * 0.6)), (round(x - s * 0.7), round(y - s * 0.85))], fill=c,
           width=max(1, round(s * 0.06)))


def cat(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    c = (50, 45, 50)
    _ellipse(d, x, y - s * 0.3, s * 0.3, s * 0.3, c)
    _ellipse(d, x, y - s * 0.72, s * 0.2, s * 0.18, c)
    for side in (-1, 1):
        _poly(d, [(x + side * s * 0.18, y - s * 0.78), (x + side * s * 0.16, y - s * 1.0), (x + side * s * 0.04, y - s * 0.86)], c)
    d.arc((round(x + s * 0.1), round(y - s * 0.5), round(x + s * 0.55), round(y)), 270, 90, fill=c,
          width=max(1, round(s * 0.07)))


def fence(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    c = (200, 190, 170)
    for i in range(9):
        px = x - s * 2 + i * s * 0.5
        _poly(d, [(px - s * 0.1, y), (px - s * 0.1, y - s * 0.8), (px, y - s), (px + s * 0.1, y - s * 0.8), (px + s * 0.1, y)], c)
    _rect(d, x - s * 2.1, y - s * 0.65, x + s * 2.1, y - s * 0.55, c)
    _rect(d, x - s * 2.1, y - s * 0.3, x + s * 2.1, y - s * 0.2, c)


def bench(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    wood = (130, 90, 55)
    for by in (0.55, 0.8):
        _rect(d, x - s * 1.1, y - s * by - s * 0.06, x + s * 1.1, y - s * by + s * 0.06, wood)
    for lx in (-0.95, 0.85):
        _rect(d, x + lx * s, y - s * 0.55, x + (lx + 0.1) * s, y, (50, 50, 55))


def stall(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 0.9, y - s * 0.45, x + s * 0.9, y, (140, 95, 60))
    for i in range(6):
        _poly(d, [(x - s + i * s / 3, y - s), (x - s + (i + 1) * s / 3, y - s), (x - s + (i + 1) * s / 3, y - s * 0.8),
                  (x - s + i * s / 3, y - s * 0.8)], (220, 60, 50) if i % 2 == 0 else (240, 235, 220))
    _rect(d, x - s * 0.85, y - s * 0.8, x - s * 0.8, y - s * 0.45, (90, 60, 40))
    _rect(d, x + s * 0.8, y - s * 0.8, x + s * 0.85, y - s * 0.45, (90, 60, 40))
    for i in range(5):
        _ellipse(d, x - s * 0.6 + i * s * 0.3, y - s * 0.5, s * 0.1, s * 0.08,
                 ((240, 150, 40), (200, 40, 50), (120, 180, 60))[i % 3])


def crane(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    c, w = (210, 150, 40), max(2, round(s * 0.04))
    d.line([(round(x), round(y)), (round(x), round(y - s))], fill=c, width=w * 2)
    d.line([(round(x - s * 0.3), round(y - s)), (round(x + s * 0.9), round(y - s))], fill=c, width=w)
    d.line([(round(x + s * 0.7), round(y - s)), (round(x + s * 0.7), round(y - s * 0.55))], fill=(50, 50, 50), width=1)
    _rect(d, x + s * 0.62, y - s * 0.55, x + s * 0.78, y - s * 0.45, (60, 90, 140))


def pier(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 2.5, y - s * 0.7, x + s * 2.5, y - s * 0.55, (110, 80, 55))
    for i in range(9):
        px = x - s * 2.4 + i * s * 0.6
        _rect(d, px, y - s * 0.55, px + s * 0.1, y, (80, 60, 45))
    for i in range(3):
        _rect(d, x - s * 2 + i * s * 2, y - s, x - s * 1.95 + i * s * 2, y - s * 0.7, (80, 60, 45))


def road(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    """A road to the horizon: drawn over the ground from `y` (the horizon) down `s` pixels."""
    _poly(d, [(x - s * 0.03, y), (x + s * 0.03, y), (x + s * 1.6, y + s), (x - s * 1.6, y + s)], (70, 68, 66))
    for i in range(6):
        t0, t1 = (i + 0.2) / 6, (i + 0.6) / 6
        _poly(d, [(x - s * 0.06 * t0, y + s * t0 ** 1.5), (x + s * 0.06 * t0, y + s * t0 ** 1.5),
                  (x + s * 0.06 * t1, y + s * t1 ** 1.5), (x - s * 0.06 * t1, y + s * t1 ** 1.5)], (235, 210, 90))


def stove(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 0.5, y - s, x + s * 0.5, y, (225, 225, 228))
    _rect(d, x - s * 0.42, y - s * 0.7, x + s * 0.42, y - s * 0.15, (50, 50, 55))
    _rect(d, x - s * 0.55, y - s * 1.04, x + s * 0.55, y - s * 0.96, (80, 80, 85))
    for kx in (-0.3, -0.1, 0.1, 0.3):
        _ellipse(d, x + kx * s, y - s * 0.85, s * 0.04, s * 0.04, (40, 40, 40))


def counter(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _rect(d, x - s * 2, y - s, x + s * 2, y - s * 0.92, (200, 195, 185))
    _rect(d, x - s * 1.95, y - s * 0.92, x + s * 1.95, y, (150, 110, 75))
    for i in range(4):
        _rect(d, x - s * 1.85 + i * s, y - s * 0.85, x - s * 1.0 + i * s, y - s * 0.08, (165, 122, 85))


def sofa(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    c = (110, 60, 70)
    _rect(d, x - s * 1.2, y - s, x + s * 1.2, y - s * 0.4, c, radius=s * 0.1)
    _rect(d, x - s * 1.35, y - s * 0.6, x + s * 1.35, y - s * 0.1, (125, 70, 80), radius=s * 0.1)
    for lx in (-1.2, 1.1):
        _rect(d, x + lx * s, y - s * 0.1, x + (lx + 0.1) * s, y, (60, 40, 30))


def mountain(d: ImageDraw.ImageDraw, x: float, y: float, s: float, k: Kit) -> None:
    _poly(d, [(x - s * 1.4, y), (x, y - s), (x + s * 1.4, y)], (90, 95, 115))
    _poly(d, [(x - s * 0.3, y - s * 0.78), (x, y - s), (x + s * 0.3, y - s * 0.78), (x + s * 0.1, y - s * 0.7),
              (x - s * 0.1, y - s * 0.74)], (240, 242, 248))


# -- the tables ---------------------------------------------------------------------------------


Where = str  # "ground": stands on the ground/floor; "table": on a table (one is drawn); "sky"; "wall"; "water"


@dataclass(frozen=True)
class Prop:
    """A thing a shot's action can name: its drawing, where it goes and how tall it is (of the frame)."""

    name: str
    draw: Draw
    where: Where
    height: float  # of the backdrop's height
    words: tuple[str, ...] = ()  # more words that name it (its name and plurals always do)


PROPS: dict[str, Prop] = {p.name: p for p in (
    Prop("lighthouse", lighthouse, "ground", 0.4, ("beacon", "beam")),
    Prop("boat", boat, "water", 0.12, ("dinghy", "trawler", "rowboat")),
    Prop("ship", ship, "water", 0.14, ("ferry", "freighter", "steamer", "liner")),
    Prop("sailboat", sailboat, "water", 0.22, ("yacht", "sail")),
    Prop("table", table, "ground", 0.2, ()),
    Prop("bottle", bottle, "table", 0.1, ("wine", "flask")),
    Prop("kettle", kettle, "table", 0.09, ("teapot",)),
    Prop("letter", letter, "table", 0.06, ("envelope", "note")),
    Prop("car", car, "ground", 0.12, ("taxi", "cab", "sedan", "jeep")),
    Prop("bus", bus, "ground", 0.16, ()),
    Prop("bicycle", bicycle, "ground", 0.12, ("bike",)),
    Prop("truck", truck, "ground", 0.15, ("van", "lorry")),
    Prop("train", train, "ground", 0.14, ("tram", "locomotive")),
    Prop("tree", tree, "ground", 0.32, ("oak", "elm", "maple")),
    Prop("pine", pine, "ground", 0.34, ("fir", "spruce")),
    Prop("palm", palm, "ground", 0.34, ()),
    Prop("cactus", cactus, "ground", 0.18, ("cacti",)),
    Prop("rock", rock, "ground", 0.1, ("boulder", "stone")),
    Prop("moon", moon, "sky", 0.1, ("moonlight",)),
    Prop("sun", sun, "sky", 0.12, ("sunshine", "sunlight")),
    Prop("star", star, "sky", 0.05, ()),
    Prop("cloud", cloud, "sky", 0.08, ()),
    Prop("bird", bird, "sky", 0.04, ("gull", "seagull", "crow")),
    Prop("plane", plane, "sky", 0.08, ("airplane", "aeroplane", "jet")),
    Prop("rocket", rocket, "ground", 0.4, ()),
    Prop("robot", robot, "ground", 0.3, ("android", "droid")),
    Prop("house", house, "ground", 0.26, ("cottage", "cabin", "hut")),
    Prop("tent", tent, "ground", 0.16, ()),
    Prop("campfire", campfire, "ground", 0.1, ("fire", "bonfire")),
    Prop("streetlight", streetlight, "ground", 0.36, ("lamppost", "streetlamp")),
    Prop("lamp", lamp, "table", 0.16, ()),
    Prop("lantern", lantern, "ground", 0.1, ()),
    Prop("candle", candle, "table", 0.08, ()),
    Prop("cup", cup, "table", 0.06, ("mug", "coffee", "tea")),
    Prop("book", book, "table", 0.06, ("notebook", "diary")),
    Prop("phone", phone, "table", 0.07, ("telephone", "cellphone", "smartphone")),
    Prop("clock", clock, "wall", 0.1, ()),
    Prop("painting", painting, "wall", 0.16, ("picture", "portrait")),
    Prop("window", window, "wall", 0.26, ()),
    Prop("door", door, "ground", 0.45, ("doorway",)),
    Prop("chair", chair, "ground", 0.2, ("stool",)),
    Prop("bed", bed, "ground", 0.18, ()),
    Prop("desk", desk, "ground", 0.24, ()),
    Prop("computer", computer, "table", 0.12, ("laptop", "screen")),
    Prop("bookshelf", bookshelf, "ground", 0.42, ("bookcase", "shelf", "shelves")),
    Prop("blackboard", blackboard, "wall", 0.22, ("chalkboard", "whiteboard")),
    Prop("monitor", monitor, "ground", 0.26, ()),
    Prop("console", console, "ground", 0.16, ("controls", "panel")),
    Prop("crate", crate, "ground", 0.1, ("box",)),
    Prop("barrel", barrel, "ground", 0.12, ()),
    Prop("anchor", anchor, "ground", 0.12, ()),
    Prop("fish", fish, "table", 0.06, ()),
    Prop("umbrella", umbrella, "ground", 0.2, ()),
    Prop("suitcase", suitcase, "ground", 0.1, ("luggage", "bag")),
    Prop("guitar", guitar, "ground", 0.2, ()),
    Prop("piano", piano, "ground", 0.22, ()),
    Prop("flower", flower, "table", 0.1, ("flowers", "vase", "roses")),
    Prop("dog", dog, "ground", 0.1, ("puppy",)),
    Prop("cat", cat, "ground", 0.08, ("kitten",)),
    Prop("fence", fence, "ground", 0.08, ()),
    Prop("bench", bench, "ground", 0.1, ()),
    Prop("stall", stall, "ground", 0.2, ("stand", "booth")),
    Prop("crane", crane, "ground", 0.4, ()),
    Prop("pier", pier, "water", 0.08, ("jetty", "dock", "wharf")),
    Prop("stove", stove, "ground", 0.22, ("oven", "cooker")),
    Prop("counter", counter, "ground", 0.2, ("bar",)),
    Prop("sofa", sofa, "ground", 0.16, ("couch",)),
    Prop("mountain", mountain, "ground", 0.3, ("peak",)),
    Prop("road", road, "road", 0.36, ("highway", "street")),
)}


@dataclass(frozen=True)
class Setting:
    """A place a scene heading can name: the painted base it builds on and the props that make it."""

    name: str
    words: tuple[str, ...]  # heading words that name it (whole words; plurals count)
    motif: str  # the base painting: sea, forest, desert, mountain, space, city, market, room
    props: tuple[str, ...] = ()
    wall: RGB | None = None  # an interior's wall colour (None: the painted room's own)


SETTINGS: tuple[Setting, ...] = (
    # More specific names first: the first setting whose word the heading names wins.
    Setting("spaceship bridge", ("SPACESHIP BRIDGE", "SHIP BRIDGE", "BRIDGE OF THE", "COCKPIT", "SPACESHIP", "STARSHIP"),
            "space", ("console", "monitor", "star"), wall=(55, 62, 78)),
    Setting("space station", ("SPACE STATION", "ORBIT", "SPACE"), "space", ("rocket", "star")),
    Setting("lighthouse", ("LIGHTHOUSE",), "sea", ("lighthouse", "rock")),
    Setting("lamp room", ("LAMP ROOM", "LANTERN ROOM"), "room", ("window", "lantern"), wall=(120, 105, 90)),
    Setting("harbour", ("HARBOUR", "HARBOR", "PORT", "MARINA", "WHARF", "DOCKS", "DOCK", "QUAY"), "sea",
            ("pier", "boat", "crane")),
    Setting("pier", ("PIER", "JETTY", "BOARDWALK"), "sea", ("pier", "sailboat")),
    Setting("beach", ("BEACH", "SHORE", "SEASIDE"), "sea", ("palm", "umbrella")),
    Setting("coast", ("COAST", "CLIFF", "CLIFFS", "COVE", "BAY"), "sea", ("rock",)),
    Setting("sea", ("SEA", "OCEAN", "OPEN WATER", "DECK"), "sea", ("ship", "bird")),
    Setting("island", ("ISLAND",), "sea", ("palm", "rock")),
    Setting("lake", ("LAKE", "RIVER", "POND", "RIVERBANK"), "sea", ("sailboat", "pine")),
    Setting("kitchen", ("KITCHEN",), "room", ("counter", "stove", "kettle"), wall=(215, 205, 175)),
    Setting("dining room", ("DINING ROOM", "RESTAURANT", "DINER", "CAFE", "CAFÉ", "BISTRO"), "room",
            ("table", "chair", "candle"), wall=(150, 90, 70)),
    Setting("bar", ("BAR", "PUB", "TAVERN", "SALOON", "NIGHTCLUB"), "room", ("counter", "bottle", "lamp"),
            wall=(90, 55, 45)),
    Setting("bedroom", ("BEDROOM", "HOTEL ROOM", "DORM"), "room", ("bed", "lamp", "window"), wall=(170, 150, 170)),
    Setting("living room", ("LIVING ROOM", "LOUNGE", "PARLOUR", "PARLOR", "APARTMENT", "FLAT", "HOUSE", "HOME"),
            "room", ("sofa", "lamp", "painting")),
    Setting("office", ("OFFICE", "STUDY", "AGENCY", "BANK", "HEADQUARTERS"), "room", ("desk", "computer", "window"),
            wall=(185, 190, 195)),
    Setting("library", ("LIBRARY", "BOOKSHOP", "BOOKSTORE", "ARCHIVE"), "room", ("bookshelf", "bookshelf", "desk"),
            wall=(120, 85, 60)),
    Setting("classroom", ("CLASSROOM", "SCHOOL", "LECTURE HALL", "UNIVERSITY"), "room", ("blackboard", "desk", "clock"),
            wall=(200, 195, 160)),
    Setting("hospital", ("HOSPITAL", "WARD", "CLINIC", "INFIRMARY", "SURGERY"), "room", ("bed", "monitor", "window"),
            wall=(185, 215, 205)),
    Setting("laboratory", ("LAB", "LABORATORY", "WORKSHOP", "GARAGE"), "room", ("computer", "monitor", "crate"),
            wall=(170, 180, 190)),
    Setting("music room", ("MUSIC ROOM", "STUDIO", "CONCERT HALL", "STAGE"), "room", ("piano", "guitar"),
            wall=(110, 60, 60)),
    Setting("church", ("CHURCH", "CHAPEL", "CATHEDRAL", "TEMPLE"), "room", ("candle", "window", "bench"),
            wall=(175, 165, 150)),
    Setting("station", ("TRAIN STATION", "STATION", "PLATFORM", "RAILWAY", "SUBWAY"), "city", ("train", "clock", "bench")),
    Setting("market", ("MARKET", "BAZAAR", "FAIR", "FESTIVAL"), "market", ("stall", "lantern", "stall")),
    Setting("street", ("STREET", "ALLEY", "AVENUE", "SQUARE", "DOWNTOWN", "CITY", "TOWN"), "city",
            ("streetlight", "car")),
    Setting("desert road", ("DESERT ROAD", "HIGHWAY", "ROAD", "ROUTE"), "desert", ("road", "cactus")),
    Setting("desert", ("DESERT", "DUNE", "DUNES", "CANYON", "MESA"), "desert", ("cactus", "rock")),
    Setting("forest", ("FOREST", "WOODS", "WOOD", "JUNGLE", "GROVE"), "forest", ("pine", "tree", "pine")),
    Setting("campsite", ("CAMP", "CAMPSITE", "CAMPGROUND"), "forest", ("tent", "campfire")),
    Setting("park", ("PARK", "GARDEN", "GARDENS", "COURTYARD"), "forest", ("tree", "bench", "flower")),
    Setting("farm", ("FARM", "FIELD", "FIELDS", "MEADOW", "BARN", "RANCH"), "forest", ("house", "fence", "tree")),
    Setting("mountains", ("MOUNTAIN", "MOUNTAINS", "PEAK", "SUMMIT", "VALLEY", "RIDGE", "HILL", "HILLS"), "mountain",
            ("mountain", "pine")),
    Setting("rooftop", ("ROOF", "ROOFTOP", "BALCONY", "TERRACE"), "city", ("streetlight", "moon")),
    Setting("airport", ("AIRPORT", "RUNWAY", "HANGAR", "AIRFIELD"), "city", ("plane", "suitcase")),
    Setting("village", ("VILLAGE", "HAMLET", "COUNTRYSIDE"), "forest", ("house", "house", "tree")),
)


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[A-Z]+", text.upper())) + " "


def setting_for(location: str, int_ext: str | None = None) -> Setting | None:
    """The setting a scene heading's location names (first table entry that matches), else None."""
    words = _words(location)
    for setting in SETTINGS:
        if any(f" {w} " in words or f" {w}S " in words or f" {w}ES " in words for w in setting.words):
            return setting
    return None


def _forms(word: str) -> set[str]:
    """A word and its plural forms (boat/boats, bus/buses, ferry/ferries, shelf/shelves)."""
    out = {word, word + "s", word + "es"}
    if word.endswith("y"):
        out.add(word[:-1] + "ies")
    if word.endswith("f"):
        out.add(word[:-1] + "ves")
    return out


_LOOKUP: dict[str, str] = {form: p.name for p in PROPS.values() for w in (p.name, *p.words) for form in _forms(w)}


def props_in(text: str, limit: int = 4) -> tuple[str, ...]:
    """The props a text names, in order of first mention, each once ("the old boats" -> boat)."""
    out: list[str] = []
    for word in re.findall(r"[a-z]+", text.lower()):
        name = _LOOKUP.get(word)
        if name is not None and name not in out:
            out.append(name)
    return tuple(out[:limit])


# -- placing and drawing a set ---------------------------------------------------------------


SLOTS = (0.6, 0.36, 0.78, 0.22, 0.48)  # across the backdrop: the middle is in frame whatever the pan


Box = tuple[int, int, int, int]


def draw_set(img: Image.Image, props: tuple[str, ...], *, horizon: float, floor: float, kit: Kit,
             sky_band: float = 0.3) -> tuple[Image.Image, dict[str, Box]]:
    """`img` with the named props drawn on it (RGB in, RGB out) and each prop's box on it, placed
    by the prop's kind: standing on the ground line (`horizon` outdoors, `floor` indoors), on a
    table (one is drawn), in the sky, on the wall, on the water line, or down the middle (a road)."""
    w, h = img.size
    out = img.convert("RGBA")
    boxes: dict[str, Box] = {}
    ground = floor if kit.interior else horizon
    table_at: float | None = None
    used = 0
    for name in props:
        prop = PROPS[name]
        layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
        d = ImageDraw.Draw(layer)
        x = w * SLOTS[used % len(SLOTS)]
        s = h * prop.height
        if prop.where == "sky":
            prop.draw(d, x, h * sky_band, s, kit)
        elif prop.where == "wall":
            prop.draw(d, x, ground - h * 0.22, s, kit)
        elif prop.where == "road":
            prop.draw(d, w * 0.5, horizon, h - horizon, kit)
            used -= 1  # the road takes no slot
        elif prop.where == "table":
            if table_at is None:
                table(d, x, ground + h * 0.02, h * 0.2, kit)
                table_at = x
            prop.draw(d, table_at + (used % 3 - 1) * h * 0.1, ground + h * 0.02 - h * 0.2, s, kit)
        elif prop.where == "water":
            prop.draw(d, x, horizon + h * 0.06, s, kit)
        else:
            prop.draw(d, x, ground + h * 0.02, s, kit)
            if name == "table" and table_at is None:
                table_at = x  # what is named "on a table" stands on this one
        if name == "lighthouse" and kit.dusk:
            glow = Image.new("RGBA", img.size, (0, 0, 0, 0))
            lighthouse_beam(ImageDraw.Draw(glow), x, ground + h * 0.02, s, kit)
            out.alpha_composite(glow.filter(ImageFilter.GaussianBlur(max(1, h // 90))))
        box = layer.getchannel("A").getbbox()
        if box is not None:
            boxes[name] = box
        out.alpha_composite(layer)
        used += 1
    return out.convert("RGB"), boxes
