"""Text rendering: real glyphs in every script, shaping, wrapping, no tofu, missing chars reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from filmstudio.pipeline.media import text as textmod
from filmstudio.pipeline.media.text import (
    bundled_font,
    bundled_font_dir,
    find_font,
    font_report,
    render_text_image,
    text_has_ink,
)

UNCOVERED = "\U0010fffd"  # a private-use code point no font ships a glyph for


def _alpha(img: Image.Image) -> np.ndarray:
    return np.asarray(img.getchannel("A"), dtype=np.int16)


def test_latin_uses_bundled_font_and_has_ink() -> None:
    assert find_font("Café Zoë") == bundled_font()
    assert find_font("Café", bold=True) == bundled_font(bold=True)
    img, missing = render_text_image("Café Zoë", width=300, font_size=32)
    assert missing == set()
    assert img.mode == "RGBA" and img.width == 300
    assert text_has_ink(img)


def test_cjk_comes_from_a_system_font() -> None:
    font = find_font("東京の夜")
    assert font.parent != bundled_font_dir()
    assert textmod.covers(font, "東")
    img, missing = render_text_image("東京の夜は静かだった。", width=400, font_size=32)
    assert missing == set()
    assert text_has_ink(img)


def test_arabic_is_shaped_not_isolated_letters() -> None:
    word = "مرحبا"
    font_path = find_font(word)
    shaped, missing = render_text_image(word, width=300, font_size=48, shadow=False)
    assert missing == set()
    # The same letters drawn one by one, left to right, without shaping: what a naive renderer shows.
    naive = Image.new("L", shaped.size, 0)
    font = ImageFont.truetype(str(font_path), 48, layout_engine=ImageFont.Layout.BASIC)
    ImageDraw.Draw(naive).text((shaped.width / 2, shaped.height / 2), word, font=font, fill=255, anchor="mm")
    shaped_a, naive_a = _alpha(shaped), np.asarray(naive, dtype=np.int16)
    assert shaped_a.sum() > 0 and naive_a.sum() > 0
    # Joined, right-to-left glyphs overlap the naive drawing only partly.
    diff = np.abs((shaped_a > 127).astype(np.int16) - (naive_a > 127).astype(np.int16)).sum()
    assert diff > 0.3 * (naive_a > 127).sum()


def test_rtl_word_order_reads_from_the_right() -> None:
    # Two Hebrew words: the first (logical) word must be drawn to the right of the second.
    first, second = "שלום", "עולם"
    both, _ = render_text_image(f"{first} {second}", width=400, font_size=40, shadow=False, align="left")
    alone, _ = render_text_image(first, width=400, font_size=40, shadow=False, align="left")
    cols_both = np.nonzero(_alpha(both).max(axis=0) > 127)[0]
    cols_alone = np.nonzero(_alpha(alone).max(axis=0) > 127)[0]
    # align="left" hangs RTL text from the right edge, so the first word ends at the same right edge.
    assert abs(int(cols_both.max()) - int(cols_alone.max())) <= 2
    assert cols_both.min() < cols_alone.min()


def test_uncovered_characters_are_dropped_and_reported_not_drawn_as_boxes() -> None:
    with_it, missing = render_text_image(f"A{UNCOVERED}B", width=200, font_size=30)
    without, missing_none = render_text_image("AB", width=200, font_size=30)
    assert missing == {UNCOVERED}
    assert missing_none == set()
    assert np.array_equal(np.asarray(with_it), np.asarray(without))


def test_emoji_is_drawn_or_reported_never_tofu() -> None:
    has_emoji_font = font_report()["scripts"]["emoji"]["ok"]  # type: ignore[index]
    img, missing = render_text_image("Go 🚀", width=300, font_size=30)
    assert text_has_ink(img)
    if has_emoji_font:
        assert missing == set()
    else:
        assert missing == {"🚀"}
        plain, _ = render_text_image("Go ", width=300, font_size=30)
        assert np.array_equal(np.asarray(img), np.asarray(plain))


def test_unicode_mix_sample_renders_with_ink(samples: Path) -> None:
    paragraphs = [p.strip() for p in (samples / "unicode-mix.txt").read_text(encoding="utf-8").split("\n\n")]
    assert len([p for p in paragraphs if p]) >= 4
    for para in filter(None, paragraphs):
        img, missing = render_text_image(para, width=480, font_size=28, bold=True)
        assert text_has_ink(img), para
        assert missing <= {"🚀"}, (para, missing)


def test_long_words_wrap_inside_the_width() -> None:
    word = "Supercalifragilisticexpialidocious-and-then-some"
    img, _ = render_text_image(word, width=200, font_size=24, shadow=False)
    one_line, _ = render_text_image("Short", width=200, font_size=24, shadow=False)
    assert img.height > 2 * one_line.height * 0.9  # it broke onto several lines
    cols = np.nonzero(_alpha(img).max(axis=0) > 0)[0]
    assert cols.min() >= 0 and cols.max() < 200


def test_max_lines_cuts_with_an_ellipsis() -> None:
    text = " ".join(["word"] * 40)
    full, _ = render_text_image(text, width=200, font_size=20)
    cut, _ = render_text_image(text, width=200, font_size=20, max_lines=2)
    assert cut.height < full.height / 2
    two, _ = render_text_image("word word\nword word", width=200, font_size=20)
    assert cut.height == two.height


def test_center_alignment_centres_ink() -> None:
    img, _ = render_text_image("Hi", width=400, font_size=40, shadow=False)
    cols = np.nonzero(_alpha(img).max(axis=0) > 127)[0]
    centre = (cols.min() + cols.max()) / 2
    assert abs(centre - 200) < 6


def test_outline_and_shadow_add_dark_ink_around_glyphs() -> None:
    plain, _ = render_text_image("A", width=100, font_size=40, shadow=False)
    framed, _ = render_text_image("A", width=100, font_size=40, shadow=True, outline=3)
    assert (_alpha(framed) > 127).sum() > (_alpha(plain) > 127).sum() * 1.3
    rgb = np.asarray(framed.convert("RGB"), dtype=np.int16)
    solid = _alpha(framed) > 200
    assert (rgb[solid].sum(axis=1) < 60).any()  # dark outline pixels exist
    assert (rgb[solid].sum(axis=1) > 700).any()  # and the white face


@pytest.mark.parametrize("bold", [False, True])
def test_font_report_lists_bundled_fonts_and_scripts(bold: bool) -> None:
    report = font_report(samples=["東" if bold else "ש"])
    assert {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif-Bold.ttf"} <= set(report["bundled"])  # type: ignore[arg-type]
    scripts = report["scripts"]
    assert isinstance(scripts, dict)
    assert set(scripts) == {"cjk", "arabic", "hebrew", "devanagari", "emoji"}
    assert scripts["cjk"]["ok"]  # fonts-noto-cjk is a documented dependency
    missing_packages = report["install"]
    assert isinstance(missing_packages, list)
    for name, info in scripts.items():
        if not info["ok"]:
            assert missing_packages, name


def _guillemets(text: str, **kw: object) -> str:
    """The « » marks of a rendered line, left to right: '<' for a « shape, '>' for a » shape."""
    import numpy as np

    from filmstudio.pipeline.media.text import render_text_image

    img, _ = render_text_image(text, width=900, font_size=48, shadow=False, align="left", **kw)  # type: ignore[arg-type]
    a = np.asarray(img.getchannel("A"), np.float32)
    cols = [*list(a.max(axis=0) > 60), False]
    out, start = [], None
    for x, c in enumerate(cols):
        if c and start is None:
            start = x
        elif not c and start is not None:
            g = a[:, start:x]
            rows = np.nonzero(g.max(axis=1) > 60)[0]
            g = g[rows.min(): rows.max() + 1]
            # A guillemet pair is shorter than the x-height and narrow; its points show in the middle row.
            if 14 < g.shape[0] < 25 and g.shape[1] < 30:
                xs = np.nonzero(g[g.shape[0] // 2] > 60)[0]
                out.append("<" if xs.mean() < g.shape[1] / 2 else ">")
            start = None
    return "".join(out)


@pytest.mark.parametrize("text", ["He said «مرحبا» loudly", "«مرحبا»", "قال «مرحبا»"])
@pytest.mark.parametrize("serif", [False, True])
def test_guillemets_around_an_arabic_word_are_not_mirrored(text: str, serif: bool) -> None:
    """Titles (serif) draw Arabic in a fallback font: the closing » came out as « (shaped RTL with the word)."""
    assert _guillemets(text, serif=serif, bold=True) == "<>"
