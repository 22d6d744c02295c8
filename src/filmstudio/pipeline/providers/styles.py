"""Visual style presets and scene lighting: what a film looks like, as plain frozen values."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Style:
    """One look: grade, texture, framing and typography. Values are fractions unless named otherwise."""

    name: str
    label: str
    serif_titles: bool
    title_bold: bool
    title_upper: bool
    text_color: RGB
    accent: RGB
    saturation: float  # 1 = as painted
    contrast: float  # 1 = as painted
    lift: RGB  # added to shadows (faded blacks)
    split_tone: float  # teal shadows / orange highlights amount
    warmth: float  # -1 cool .. 1 warm
    posterize: int  # colour levels per channel; 0 = off
    letterbox: float | None  # target picture aspect (2.39 = scope bars); None = full frame
    vignette: float  # darkening at the corners
    grain: int  # ffmpeg noise strength; 0 = off
    scanlines: float  # darkening of alternate line pairs; 0 = off
    flat: bool  # flat colour fills and simple geometry instead of painted gradients
    sun_stripes: bool  # the striped 80s sun
    lower_third: bool  # scene titles as a lower-third caption instead of a centred card
    pan: float  # background oversize (Ken Burns travel) as a fraction of the frame
    parallax: float  # foreground extra width as a fraction of the frame
    fade: float  # seconds of fade at segment edges


STYLE_PRESETS: dict[str, Style] = {
    "cinematic": Style(
        name="cinematic", label="Cinematic", serif_titles=True, title_bold=True, title_upper=True,
        text_color=(245, 238, 226), accent=(230, 160, 80), saturation=1.1, contrast=1.15,
        lift=(6, 10, 14), split_tone=0.55, warmth=0.1, posterize=0, letterbox=2.39,
        vignette=0.55, grain=4, scanlines=0.0, flat=False, sun_stripes=False, lower_third=False,
        pan=0.16, parallax=0.32, fade=0.6,
    ),
    "documentary": Style(
        name="documentary", label="Documentary", serif_titles=False, title_bold=True, title_upper=False,
        text_color=(255, 255, 255), accent=(240, 200, 40), saturation=0.95, contrast=1.0,
        lift=(0, 0, 0), split_tone=0.0, warmth=0.0, posterize=0, letterbox=None,
        vignette=0.0, grain=0, scanlines=0.0, flat=False, sun_stripes=False, lower_third=True,
        pan=0.12, parallax=0.2, fade=0.4,
    ),
    "minimal": Style(
        name="minimal", label="Minimal", serif_titles=False, title_bold=True, title_upper=False,
        text_color=(250, 250, 248), accent=(255, 90, 70), saturation=0.85, contrast=0.95,
        lift=(0, 0, 0), split_tone=0.0, warmth=0.0, posterize=0, letterbox=None,
        vignette=0.0, grain=0, scanlines=0.0, flat=True, sun_stripes=False, lower_third=False,
        pan=0.14, parallax=0.4, fade=0.5,
    ),
    "retro": Style(
        name="retro", label="Retro", serif_titles=False, title_bold=True, title_upper=True,
        text_color=(255, 236, 200), accent=(255, 80, 150), saturation=0.8, contrast=0.85,
        lift=(38, 22, 30), split_tone=0.0, warmth=0.6, posterize=8, letterbox=None,
        vignette=0.35, grain=4, scanlines=0.28, flat=False, sun_stripes=True, lower_third=False,
        pan=0.16, parallax=0.36, fade=0.5,
    ),
}


def get_style(name: str) -> Style:
    """The preset for `name`; unknown names fall back to cinematic."""
    return STYLE_PRESETS.get(name.strip().lower(), STYLE_PRESETS["cinematic"])


@dataclass(frozen=True)
class Lighting:
    """Palette and light for a scene, from its time of day and INT/EXT."""

    sky_top: RGB
    sky_horizon: RGB
    ground: RGB
    light: RGB  # sun/moon/lamp colour
    brightness: float  # overall multiplier: NIGHT well below DAY
    night: bool
    sun_height: float  # 0 = on the horizon, 1 = high; negative = below (night: moon instead)


_LIGHT: dict[str, Lighting] = {
    "DAY": Lighting((70, 140, 220), (185, 215, 240), (95, 125, 80), (255, 250, 225), 1.0, False, 0.8),
    "MORNING": Lighting((110, 160, 220), (240, 215, 180), (100, 120, 80), (255, 235, 190), 0.95, False, 0.45),
    "AFTERNOON": Lighting((80, 145, 215), (220, 215, 190), (110, 120, 75), (255, 240, 200), 0.97, False, 0.6),
    "DAWN": Lighting((70, 80, 140), (245, 170, 140), (60, 60, 75), (255, 200, 160), 0.75, False, 0.08),
    "DUSK": Lighting((50, 45, 110), (250, 130, 80), (50, 40, 55), (255, 150, 90), 0.7, False, 0.1),
    "EVENING": Lighting((35, 40, 95), (200, 110, 90), (40, 35, 50), (255, 170, 110), 0.6, False, 0.05),
    "NIGHT": Lighting((14, 20, 48), (42, 54, 98), (24, 26, 40), (220, 230, 255), 0.62, True, -0.5),
}
_ALIASES = {
    "LATER": "DAY", "CONTINUOUS": "DAY", "MOMENTS LATER": "DAY", "SAME": "DAY", "NOON": "DAY",
    "MIDDAY": "DAY", "SUNRISE": "DAWN", "SUNSET": "DUSK", "TWILIGHT": "DUSK", "MIDNIGHT": "NIGHT",
    "LATE NIGHT": "NIGHT", "EARLY MORNING": "DAWN",
}


def lighting_for(time_of_day: str | None) -> Lighting:
    """Lighting for a heading's time of day; unknown or continuous scenes read as day."""
    key = (time_of_day or "DAY").strip().upper()
    key = _ALIASES.get(key, key)
    if key not in _LIGHT:
        key = next((k for k in _LIGHT if k in key), "DAY")
    return _LIGHT[key]


# Location words that pick a motif for the backdrop (first match wins).
MOTIFS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("market", ("MARKET", "BAZAAR", "STALL", "FAIR", "FESTIVAL", "CARNIVAL")),
    ("sea", ("SEA", "BEACH", "OCEAN", "HARBOR", "HARBOUR", "PORT", "DOCK", "LAKE", "RIVER", "SHORE", "COAST", "BAY", "LIGHTHOUSE", "PIER", "ISLAND", "BOAT", "SHIP")),
    ("forest", ("FOREST", "WOOD", "PARK", "GARDEN", "JUNGLE", "FIELD", "FARM", "MEADOW", "TREE")),
    ("desert", ("DESERT", "DUNE", "CANYON", "MESA", "PLAIN")),
    ("mountain", ("MOUNTAIN", "HILL", "PEAK", "CLIFF", "VALLEY", "RIDGE")),
    ("space", ("SPACE", "ORBIT", "STATION", "SHIP BRIDGE", "PLANET", "MOON", "STAR", "SOLAR", "COCKPIT")),
    ("city", ("CITY", "STREET", "ROAD", "ALLEY", "ROOF", "TOWN", "AVENUE", "SQUARE", "DOWNTOWN", "BRIDGE")),
)


def location_motif(location: str, int_ext: str | None) -> str | None:
    """The motif a location word picks (None when the scene gets the generic room or street)."""
    words = " " + " ".join(re.findall(r"[A-Z]+", location.upper())) + " "
    indoors = (int_ext or "").upper().startswith("INT") and "EXT" not in (int_ext or "").upper()
    for motif, keys in MOTIFS:
        # Whole words only ("STREET" must not match "TREE"); plural forms count.
        if any(f" {k} " in words or f" {k}S " in words for k in keys) and (motif == "space" or not indoors):
            return motif
    return None


def motif_for(location: str, int_ext: str | None) -> str:
    """The backdrop motif: a location word's match, else `room` indoors and `city` outdoors."""
    indoors = (int_ext or "").upper().startswith("INT") and "EXT" not in (int_ext or "").upper()
    return location_motif(location, int_ext) or ("room" if indoors else "city")


def seed_for(*parts: object) -> int:
    """A deterministic 32-bit seed from text parts (no global random state)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "little")


def grade(rgb: np.ndarray, style: Style, brightness: float = 1.0) -> np.ndarray:
    """Apply a style's colour grade to a float32 HxWx3 array in 0..255; returns uint8."""
    img = rgb.astype(np.float32) * brightness
    luma = img @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    img = luma[..., None] + (img - luma[..., None]) * style.saturation
    img = (img - 128.0) * style.contrast + 128.0
    if style.split_tone:
        t = np.clip(luma / 255.0, 0.0, 1.0)[..., None]
        teal = np.array([-18, 10, 22], dtype=np.float32)
        orange = np.array([26, 8, -22], dtype=np.float32)
        img = img + style.split_tone * ((1.0 - t) * teal + t * orange)
    if style.warmth:
        img = img + style.warmth * np.array([14, 4, -16], dtype=np.float32)
    lift = np.array(style.lift, dtype=np.float32)
    img = lift + img * (1.0 - lift / 255.0)
    if style.posterize:
        step = 255.0 / (style.posterize - 1)
        img = np.round(img / step) * step
    return np.clip(img, 0, 255).astype(np.uint8)
