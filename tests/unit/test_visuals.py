"""Styles, scene lighting, layout and cache keys of the visuals provider (stills, no video encode)."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from filmstudio.domain.settings import STYLES
from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.providers.backdrops import Still
from filmstudio.pipeline.providers.layers import letterbox_bar
from filmstudio.pipeline.providers.styles import (
    STYLE_PRESETS,
    get_style,
    lighting_for,
    motif_for,
    seed_for,
)
from filmstudio.pipeline.providers.thumbnails import frame_score
from filmstudio.pipeline.providers.visuals import (
    CUT,
    Camera,
    Overlay,
    SegmentSpec,
    _filter_graph,
    _layout,
    _write_layers,
    render_segment,
    scene_still,
    spec_key,
    style_preview,
)

SCENE = SegmentSpec(
    kind="scene", style="cinematic", size=(320, 180), fps=12, duration=3.0,
    heading="EXT. NIGHT MARKET - DAY", int_ext="EXT", location="NIGHT MARKET", time_of_day="DAY",
)


def _arr(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB"), dtype=np.float32)


def _luma(img: Image.Image) -> float:
    a = _arr(img)
    return float((0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]).mean())


def test_every_setting_style_has_a_frozen_preset() -> None:
    assert set(STYLE_PRESETS) == set(STYLES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        STYLE_PRESETS["cinematic"].grain = 0  # type: ignore[misc]
    assert get_style("  Retro ") is STYLE_PRESETS["retro"]
    assert get_style("unknown") is STYLE_PRESETS["cinematic"]


def test_style_previews_differ_clearly() -> None:
    previews = {s: _arr(style_preview(s)) for s in STYLES}
    for a, b in itertools.combinations(STYLES, 2):
        assert previews[a].shape == (180, 320, 3)
        diff = float(np.abs(previews[a] - previews[b]).mean())
        assert diff > 10, (a, b, diff)


def test_cinematic_is_letterboxed_and_others_are_not() -> None:
    still = _arr(scene_still(SCENE, 1.5))
    bar = letterbox_bar(get_style("cinematic"), SCENE.size)
    assert bar == int((180 - 320 / 2.39) / 2)
    assert float(still[:bar].max()) < 30 and float(still[-bar:].max()) < 30
    doc = _arr(scene_still(replace(SCENE, style="documentary"), 1.5))
    assert float(doc[:bar].mean()) > 40


@pytest.mark.parametrize("style", STYLES)
def test_night_stills_are_darker_than_day(style: str) -> None:
    day = scene_still(replace(SCENE, style=style), 1.5)
    night = scene_still(replace(SCENE, style=style, time_of_day="NIGHT"), 1.5)
    assert _luma(night) < _luma(day) - 30, style


def test_interior_and_exterior_look_different() -> None:
    ext = _arr(scene_still(replace(SCENE, style="documentary"), 1.5))
    inside = _arr(scene_still(replace(SCENE, style="documentary", int_ext="INT", location="KITCHEN"), 1.5))
    assert float(np.abs(ext - inside).mean()) > 15


def test_lighting_and_motifs_from_headings() -> None:
    assert lighting_for("NIGHT").brightness < lighting_for("DAY").brightness
    assert lighting_for("continuous") == lighting_for("DAY")
    assert lighting_for("LATE AFTERNOON") == lighting_for("AFTERNOON")
    assert lighting_for(None) == lighting_for("DAY")
    assert motif_for("CITY STREET", "EXT") == "city"  # not "forest" via the letters T-R-E-E
    assert motif_for("NIGHT MARKET", "EXT") == "market"
    assert motif_for("THE WOODS", "EXT") == "forest"
    assert motif_for("KITCHEN", "INT") == "room"
    assert motif_for("BEACH", "INT") == "room"
    assert motif_for("SPACE STATION", "INT") == "space"
    assert seed_for("a", "b") == seed_for("a", "b") != seed_for("a", "c")


def test_spec_key_tracks_content(tmp_path: Path) -> None:
    assert spec_key(SCENE) == spec_key(replace(SCENE))
    assert spec_key(SCENE) != spec_key(replace(SCENE, overlays=(Overlay("Hi", 0, 1, "caption"),)))
    assert spec_key(SCENE) != spec_key(replace(SCENE, style="retro"))
    photo = tmp_path / "p.png"
    Image.new("RGB", (8, 8), (255, 0, 0)).save(photo)
    first = spec_key(replace(SCENE, source=Still.of(photo)))
    moved = tmp_path / "elsewhere.png"
    moved.write_bytes(photo.read_bytes())
    assert spec_key(replace(SCENE, source=Still.of(moved))) == first  # by content, not by path
    Image.new("RGB", (8, 8), (0, 0, 255)).save(photo)
    assert spec_key(replace(SCENE, source=Still.of(photo))) != first
    assert spec_key(replace(SCENE, opening=CUT)) != spec_key(SCENE) != spec_key(replace(SCENE, camera=Camera("wide")))


def test_spec_key_names_every_field() -> None:
    """A field added to SegmentSpec must join the explicit key (no `__dict__`): the key's fields
    are the spec's fields."""
    from filmstudio.pipeline.providers.visuals import _key_fields

    assert set(_key_fields(SCENE)) == {f.name for f in dataclasses.fields(SegmentSpec)}


def test_both_renderers_apply_one_layer_list(tmp_path: Path) -> None:
    """The ffmpeg graph and the Pillow compositor walk the same layers: one input per raw layer."""
    from filmstudio.pipeline.providers.visuals import _layers

    spec = replace(SCENE, overlays=(Overlay("Hello", 0.5, 2.0, "caption"),))
    lay = _layout(spec)
    names = [name for layer in _layers(lay) for name, _ in layer.raws()]
    assert names == ["backdrop", "foreground", "light", "frame", "text0"]  # cinematic has a vignette
    inputs, _graph = _filter_graph(lay, _write_layers(lay, tmp_path))
    assert inputs.count("-i") == len(names)


@pytest.mark.parametrize("size", [(320, 180), (1080, 1920), (1080, 1080)])
def test_text_stays_inside_the_safe_frame(size: tuple[int, int]) -> None:
    w, h = size
    spec = replace(SCENE, size=size, overlays=(
        Overlay("NIGHT MARKET", 0, 3, "scene_title"),
        Overlay("A caption long enough that it has to wrap onto a second line and then some more words "
                "to force the cut", 0, 3, "caption"),
        Overlay("CUT TO:", 1, 2, "onscreen"),
    ))
    lay = _layout(spec)
    assert len(lay.texts) == 3
    for placed in lay.texts:
        assert placed.x >= 0 and placed.y >= 0
        assert placed.x + placed.image.width <= w and placed.y + placed.image.height <= h
    caption = lay.texts[1]
    unit = min(w, h)
    assert caption.image.height < 3 * 1.25 * unit * 0.052  # cut to two lines
    assert caption.y + caption.image.height <= h - int(h * 0.05)  # bottom margin kept


def test_title_and_end_cards_carry_their_text() -> None:
    title = _layout(SegmentSpec(kind="title", style="minimal", size=(320, 180), fps=12, duration=3,
                                title="Solar Sails", credit="by Ada"))
    end = _layout(SegmentSpec(kind="end", style="minimal", size=(320, 180), fps=12, duration=3, title="The End"))
    for lay in (title, end):
        assert len(lay.texts) == 1
        card = lay.texts[0]
        assert (card.start, card.end) == (0.0, 3)
        assert np.asarray(card.image.getchannel("A")).max() == 255


def test_filter_graph_uses_cheap_filters(tmp_path: Path) -> None:
    spec = replace(SCENE, overlays=(Overlay("Hello", 0.5, 2.0, "caption"),))
    lay = _layout(spec)
    inputs, graph = _filter_graph(lay, _write_layers(lay, tmp_path))
    assert "zoompan" not in graph and "geq" not in graph
    assert graph.count("crop=") == 1
    assert "overlay=x=" in graph and "enable" not in graph
    assert inputs.count("-i") == 5
    assert inputs.count("rawvideo") == 5  # layers are raw pixels: no PNG encode/decode per shot
    assert "noise=" in graph  # cinematic grain
    minimal = _layout(replace(spec, style="minimal"))
    assert "noise=" not in _filter_graph(minimal, _write_layers(minimal, tmp_path))[1]


def test_frame_score_prefers_colourful_contrasty_frames() -> None:
    black = Image.new("RGB", (64, 36), (3, 3, 3))
    grey = Image.new("RGB", (64, 36), (120, 120, 120))
    vivid = Image.fromarray(np.dstack([
        np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (36, 1)),
        np.full((36, 64), 60, np.uint8),
        np.tile(np.linspace(255, 0, 64, dtype=np.uint8), (36, 1)),
    ]))
    assert frame_score(black) == 0.0
    assert frame_score(grey) == 0.0  # flat: no contrast
    assert frame_score(vivid) > 100


def test_odd_frame_sizes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        render_segment(replace(SCENE, size=(321, 180)), tmp_path / "x.mp4", encoder="libx264",
                       cancel=CancelToken())
    assert list(tmp_path.iterdir()) == []


def _dark_row_runs(img: Image.Image) -> list[int]:
    """Lengths of runs of rows darker than their neighbourhood in a flat grey frame's middle column."""
    col = _arr(img)[img.height // 4: 3 * img.height // 4, img.width // 2].mean(axis=1)  # clear of the vignette
    dark = col < np.median(col) - 8
    runs, n = [], 0
    for d in dark:
        if d:
            n += 1
        elif n:
            runs.append(n)
            n = 0
    return runs


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920)])
def test_retro_scanlines_are_fine_lines_at_any_orientation(size: tuple[int, int]) -> None:
    """A vertical film got 10-row bands (venetian blinds); lines follow the short side's resolution."""
    from filmstudio.pipeline.providers.layers import paint_frame

    layer = paint_frame(get_style("retro"), size)
    assert layer is not None
    grey = Image.new("RGBA", size, (160, 160, 160, 255))
    grey.alpha_composite(layer)
    runs = _dark_row_runs(grey.convert("RGB"))
    assert runs and max(runs) <= 2, max(runs)
    assert len(runs) >= 150  # hundreds of scanlines across the frame, like a CRT


def test_minimal_sun_has_no_ghost() -> None:
    """The minimal style's sun is one flat disc: no translucent copy of it drifting beside it."""
    spec = replace(SCENE, style="minimal", location="FIELD", heading="EXT. FIELD - DAY", seed=11)
    sky = _arr(scene_still(spec, spec.duration / 2))[: int(spec.size[1] * 0.5)]
    r, g, b = sky[..., 0], sky[..., 1], sky[..., 2]
    # The sky is blue, the sun accent-red; a blend of the two (the ghost) is purple.
    purple = (r > g + 8) & (b > g + 8)
    sun = r > b + 40
    near_sun = sun.copy()
    for dy, dx in itertools.product(range(-2, 3), repeat=2):  # the disc's anti-aliased rim is fine
        near_sun |= np.roll(np.roll(sun, dy, axis=0), dx, axis=1)
    assert sun.any()
    assert int((purple & ~near_sun).sum()) == 0, int((purple & ~near_sun).sum())
