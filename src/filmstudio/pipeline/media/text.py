"""Text that renders with real glyphs in any script: font fallback per run, shaping, wrapping, shadows.

Pillow draws one font at a time, so a line is split into runs by which font covers each character
(bundled DejaVu first, then system fonts found through fontconfig) and drawn run by run on a shared
baseline. Characters that no font covers are dropped and reported, never drawn as tofu boxes.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import shutil
import subprocess
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFilter, ImageFont, features

Align = Literal["left", "center", "right"]
RGB = tuple[int, int, int]

ELLIPSIS = "…"
# Characters that belong to the glyph before them (marks, joiners, variation selectors): they
# follow their base's font and are never reported missing on their own.
_ATTACHED_CATEGORIES = frozenset({"Mn", "Mc", "Me", "Cf"})
# Scripts we look for in the font report, with a sample character and the package that covers them.
_SCRIPTS: dict[str, tuple[str, str]] = {
    "cjk": ("東", "fonts-noto-cjk"),
    "arabic": ("ع", "fonts-noto-core"),
    "hebrew": ("ש", "fonts-noto-core"),
    "devanagari": ("क", "fonts-noto-core"),
    "emoji": ("🚀", "fonts-symbola"),  # outline emoji; bitmap-only Noto Color Emoji is not used
}


@functools.cache
def raqm_available() -> bool:
    """Whether Pillow can shape complex scripts and right-to-left text itself."""
    return bool(features.check("raqm"))


@functools.cache
def bundled_font_dir() -> Path:
    """The folder of fonts shipped with FilmStudio (DejaVu)."""
    return Path(str(importlib.resources.files("filmstudio.assets") / "fonts"))


def bundled_font(*, bold: bool = False, serif: bool = False) -> Path:
    """The bundled DejaVu face for a weight/family (serif exists in bold only)."""
    name = "DejaVuSerif-Bold.ttf" if serif else "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return bundled_font_dir() / name


@functools.cache
def _cmap(path: Path) -> frozenset[int]:
    """Code points a font file covers (first face of a collection)."""
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(str(path), fontNumber=0, lazy=True)
        best = font.getBestCmap() or {}
        font.close()
    except Exception:
        return frozenset()
    return frozenset(best)


@functools.cache
def _scalable(path: Path) -> bool:
    """Whether the font has outlines.

    Bitmap-only colour fonts (CBDT Noto Color Emoji) load at one fixed pixel size only, so they
    are skipped: their characters are reported as missing rather than drawn at the wrong size.
    """
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(str(path), fontNumber=0, lazy=True)
        ok = any(tag in font for tag in ("glyf", "CFF ", "CFF2"))
        font.close()
    except Exception:
        return False
    return ok


def covers(path: Path, char: str) -> bool:
    """Whether the font at `path` has a glyph for `char`."""
    return ord(char) in _cmap(path)


@functools.cache
def _fontconfig_candidates(codepoint: int, bold: bool) -> tuple[Path, ...]:
    """System fonts fontconfig says cover `codepoint`, best first (sans, regular/bold to match)."""
    exe = shutil.which("fc-list")
    if exe is None:
        return ()
    try:
        out = subprocess.run(
            [exe, f":charset={codepoint:x}", "file", "style"],
            capture_output=True, text=True, timeout=10, check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ()
    found: list[tuple[int, str, Path]] = []
    for row in out.splitlines():
        file_part, _, style = row.partition(":")
        path = Path(file_part.strip())
        if path.suffix.lower() not in (".ttf", ".otf", ".ttc") or not path.exists() or not _scalable(path):
            continue
        found.append((_font_rank(path, style, bold), str(path), path))
    found.sort()
    return tuple(p for _, _, p in found)


def _font_rank(path: Path, style: str, bold: bool) -> int:
    """Lower is better: plain Sans faces in the wanted weight, decorative and UI faces last."""
    name = path.name.lower()
    rank = 0
    wants_bold = "bold" in style.lower() or "bold" in name
    rank += 0 if wants_bold == bold else 4
    for word, cost in (("serif", 2), ("kufi", 3), ("nastaliq", 5), ("ui", 1), ("mono", 6),
                       ("oblique", 8), ("italic", 8), ("condensed", 3), ("display", 2)):
        if word in name:
            rank += cost
    if "cjk" in name and not name.endswith(".ttc"):
        rank += 1
    return rank


@dataclass(frozen=True)
class _FontChoice:
    """The font chain for one text style: bundled faces first, then system fallbacks."""

    bold: bool
    serif: bool

    def primary(self) -> tuple[Path, ...]:
        return _bundled_chain(self.bold, self.serif)

    def font_for(self, char: str) -> Path | None:
        """The first font in the chain covering `char`, else None."""
        for path in self.primary():
            if covers(path, char):
                return path
        for path in _fontconfig_candidates(ord(char), self.bold):
            if covers(path, char):
                return path
        return None


@functools.cache
def _bundled_chain(bold: bool, serif: bool) -> tuple[Path, ...]:
    chain = [bundled_font(bold=bold, serif=serif)]
    if serif:
        chain.append(bundled_font(bold=True))
    chain.append(bundled_font(bold=False))
    return tuple(chain)


def find_font(text: str, bold: bool = False, *, serif: bool = False) -> Path:
    """The one font that covers most of `text` (bundled DejaVu when it covers everything)."""
    chooser = _FontChoice(bold=bold, serif=serif)
    counts: dict[Path, int] = {}
    order: list[Path] = []
    for char in text:
        if char.isspace() or unicodedata.category(char) in _ATTACHED_CATEGORIES:
            continue
        path = chooser.font_for(char)
        if path is None:
            continue
        if path not in counts:
            order.append(path)
        counts[path] = counts.get(path, 0) + 1
    if not counts:
        return chooser.primary()[0]
    return max(order, key=lambda p: counts[p])


# FreeType faces are not safe to share between threads, and render_segment runs in several.
_thread_fonts = threading.local()


def _load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """A FreeType font for this thread (cached per thread, never shared across threads)."""
    cache: dict[tuple[Path, int], ImageFont.FreeTypeFont] | None = getattr(_thread_fonts, "cache", None)
    if cache is None:
        cache = {}
        _thread_fonts.cache = cache
    font = cache.get((path, size))
    if font is None:
        layout = ImageFont.Layout.RAQM if raqm_available() else ImageFont.Layout.BASIC
        font = ImageFont.truetype(str(path), size=size, layout_engine=layout)
        if len(cache) > 64:
            cache.clear()
        cache[(path, size)] = font
    return font


@dataclass(frozen=True)
class _Run:
    text: str
    font: Path
    rtl: bool


def _is_rtl_char(char: str) -> bool:
    return unicodedata.bidirectional(char) in ("R", "AL")


def _is_strong(char: str) -> bool:
    return unicodedata.bidirectional(char) in ("L", "R", "AL")


def _split_runs(text: str, chooser: _FontChoice, missing: set[str]) -> list[_Run]:
    """Logical-order runs of one font each; uncovered characters are dropped into `missing`."""
    runs: list[_Run] = []
    cur_font: Path | None = None
    cur: list[str] = []

    def flush() -> None:
        if cur and cur_font is not None:
            chunk = "".join(cur)
            strong = [c for c in chunk if _is_strong(c)]
            runs.append(_Run(chunk, cur_font, bool(strong) and _is_rtl_char(strong[0])))
        cur.clear()

    for char in text:
        attached = unicodedata.category(char) in _ATTACHED_CATEGORIES
        if attached and cur_font is not None:
            cur.append(char)
            continue
        # Spaces and punctuation stay in the current run so shaping sees whole phrases.
        if cur_font is not None and not _is_strong(char) and covers(cur_font, char):
            cur.append(char)
            continue
        path = chooser.font_for(char)
        if path is None:
            if not attached and not char.isspace():
                missing.add(char)
            continue
        if path != cur_font:
            flush()
            cur_font = path
        cur.append(char)
    flush()
    return runs


def _line_is_rtl(text: str) -> bool:
    for char in text:
        if _is_strong(char):
            return _is_rtl_char(char)
    return False


def _visual_text(text: str) -> str:
    """Without raqm: reshape Arabic and reorder bidi text so BASIC layout draws it correctly."""
    import arabic_reshaper
    from bidi import get_display

    return str(get_display(arabic_reshaper.reshape(text)))


def _resolve_neutrals(runs: list[_Run], para_rtl: bool) -> list[_Run]:
    """Give the spaces and punctuation at a run's edges the direction the bidi algorithm gives them.

    A run keeps the neutrals that follow it in its font, so the `»` closing an Arabic word in
    an English sentence was shaped right-to-left with the word: mirrored, and on its far side.
    Rule N1/N2 of UAX #9: neutrals between two strong characters of one direction take it,
    otherwise the paragraph's; sos and eos are the paragraph direction.
    """
    pieces: list[tuple[str, Path, bool | None]] = []  # None: neutral, resolved below
    for run in runs:
        strong = [k for k, c in enumerate(run.text) if _is_strong(c)]
        if not strong:
            pieces.append((run.text, run.font, None))
            continue
        head, tail = strong[0], strong[-1] + 1
        if head:
            pieces.append((run.text[:head], run.font, None))
        pieces.append((run.text[head:tail], run.font, run.rtl))
        if tail < len(run.text):
            pieces.append((run.text[tail:], run.font, None))
    out: list[_Run] = []
    for n, (text, font, rtl) in enumerate(pieces):
        if rtl is None:
            before = next((p[2] for p in reversed(pieces[:n]) if p[2] is not None), para_rtl)
            after = next((p[2] for p in pieces[n + 1:] if p[2] is not None), para_rtl)
            rtl = before if before == after else para_rtl
        if out and out[-1].font == font and out[-1].rtl == rtl:
            out[-1] = _Run(out[-1].text + text, font, rtl)
        else:
            out.append(_Run(text, font, rtl))
    return out


def _visual_runs(runs: list[_Run], para_rtl: bool) -> list[_Run]:
    """Runs in drawing order, left to right: embedding levels, then rule L2 of UAX #9."""
    runs = _resolve_neutrals(runs, para_rtl)
    # An RTL paragraph is level 1 with its LTR runs at 2; an LTR one level 0 with its RTL runs at 1.
    levels = [(1 if r.rtl else 2) if para_rtl else (1 if r.rtl else 0) for r in runs]
    order = list(range(len(runs)))
    for level in range(max(levels, default=0), 0, -1):
        k = 0
        while k < len(order):
            if levels[order[k]] >= level:
                j = k
                while j < len(order) and levels[order[j]] >= level:
                    j += 1
                order[k:j] = reversed(order[k:j])
                k = j
            else:
                k += 1
    return [runs[k] for k in order]


class _Typesetter:
    """Measures and draws lines for one font size/style (no shared state: one per call)."""

    def __init__(self, size: int, chooser: _FontChoice, language: str | None) -> None:
        self.size = size
        self.chooser = chooser
        self.language = language
        self.missing: set[str] = set()

    def runs(self, line: str) -> list[_Run]:
        if not raqm_available() and any(_is_rtl_char(c) for c in line):
            line = _visual_text(line)
            return _split_runs(line, self.chooser, self.missing)
        return _visual_runs(_split_runs(line, self.chooser, self.missing), _line_is_rtl(line))

    def _kwargs(self, run: _Run) -> dict[str, object]:
        if not raqm_available():
            return {}
        kw: dict[str, object] = {"direction": "rtl" if run.rtl else "ltr"}
        if self.language:
            kw["language"] = self.language
        return kw

    def width(self, line: str) -> float:
        total = 0.0
        for run in self.runs(line):
            total += _load_font(run.font, self.size).getlength(run.text, **self._kwargs(run))  # type: ignore[arg-type]
        return total

    def draw(self, draw: ImageDraw.ImageDraw, line: str, x: float, baseline: float, stroke: int) -> None:
        for run in self.runs(line):
            font = _load_font(run.font, self.size)
            kw = self._kwargs(run)
            draw.text((x, baseline), run.text, font=font, fill=255, anchor="ls",
                      stroke_width=stroke, stroke_fill=255, **kw)  # type: ignore[arg-type]
            x += font.getlength(run.text, **kw)  # type: ignore[arg-type]


def _tokens(paragraph: str) -> list[str]:
    """Break opportunities: words with their trailing space; each CJK character on its own."""
    out: list[str] = []
    cur = ""
    for char in paragraph:
        wide = unicodedata.east_asian_width(char) in ("W", "F") and not char.isspace()
        if wide:
            if cur:
                out.append(cur)
                cur = ""
            out.append(char)
        elif char == " ":
            out.append(cur + " ")
            cur = ""
        else:
            cur += char
    if cur:
        out.append(cur)
    return out


def _wrap(text: str, ts: _Typesetter, width: float) -> list[str]:
    """Greedy wrap to `width` pixels; words longer than a line break between characters."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        cur = ""
        for token in _tokens(paragraph):
            if ts.width((cur + token).rstrip()) <= width:
                cur += token
                continue
            if cur.strip():
                lines.append(cur.rstrip())
                cur = ""
            if ts.width(token.rstrip()) <= width:
                cur = token
                continue
            # A single token too long for a line: split it between characters.
            for char in token:
                if cur and ts.width((cur + char).rstrip()) > width:
                    lines.append(cur.rstrip())
                    cur = ""
                cur += char
        lines.append(cur.rstrip())
    return lines


def _ellipsize(line: str, ts: _Typesetter, width: float) -> str:
    while line and ts.width(line + ELLIPSIS) > width:
        line = line[:-1]
    return line.rstrip() + ELLIPSIS


def render_text_image(
    text: str,
    *,
    width: int,
    font_size: int,
    color: RGB = (255, 255, 255),
    align: Align = "center",
    max_lines: int | None = None,
    bold: bool = False,
    shadow: bool = True,
    serif: bool = False,
    outline: int = 0,
    outline_color: RGB = (0, 0, 0),
    line_spacing: float = 1.25,
    language: str | None = None,
) -> tuple[Image.Image, set[str]]:
    """Render wrapped text into a transparent RGBA image `width` wide; return it and undrawable chars.

    `shadow` adds a soft dark drop shadow, `outline` a hard outline of that many pixels. Lines
    beyond `max_lines` are cut and the last kept line ends with an ellipsis. `language` (ISO 639-1)
    helps shaping pick locale forms.
    """
    font_size = max(4, int(font_size))
    chooser = _FontChoice(bold=bold, serif=serif)
    text, dropped = _drop_uncovered(text, chooser)
    ts = _Typesetter(font_size, chooser, language)
    pad = max(outline, int(font_size * 0.12) if shadow else 0) + 2
    inner = max(8, width - 2 * pad)
    lines = _wrap(text.strip(), ts, inner)
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _ellipsize(lines[-1], ts, inner)
    step = round(font_size * line_spacing)
    height = step * len(lines) + int(font_size * 0.35) + 2 * pad
    ascent = int(font_size * 0.95)
    glyphs = Image.new("L", (width, height), 0)
    strokes = Image.new("L", (width, height), 0) if outline else None
    draw = ImageDraw.Draw(glyphs)
    sdraw = ImageDraw.Draw(strokes) if strokes is not None else None
    for i, line in enumerate(lines):
        lw = ts.width(line)
        if align == "center":
            x = (width - lw) / 2
        elif align == "right" or (align == "left" and _line_is_rtl(line)):
            x = width - pad - lw  # right-to-left text hangs from the right edge
        else:
            x = float(pad)
        baseline = pad + ascent + i * step
        ts.draw(draw, line, x, baseline, 0)
        if sdraw is not None:
            ts.draw(sdraw, line, x, baseline, outline)
    out = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    if shadow:
        offset = max(1, font_size // 18)
        blur = glyphs if strokes is None else strokes
        soft = blur.filter(ImageFilter.MaxFilter(3)).filter(ImageFilter.GaussianBlur(max(1.0, font_size / 14)))
        shade = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        shade.paste((0, 0, 0, 255), (offset, offset), soft.point(lambda v: min(255, int(v * 0.85))))
        out = Image.alpha_composite(out, shade)
    if strokes is not None:
        edge = Image.new("RGBA", (width, height), (*outline_color, 0))
        edge.putalpha(strokes)
        out = Image.alpha_composite(out, edge)
    face = Image.new("RGBA", (width, height), (*color, 0))
    face.putalpha(glyphs)
    out = Image.alpha_composite(out, face)
    return out, ts.missing | dropped


def _drop_uncovered(text: str, chooser: _FontChoice) -> tuple[str, set[str]]:
    """Remove characters no font covers (before wrapping, so spacing stays even); report them."""
    missing = {
        c for c in set(text)
        if not c.isspace() and unicodedata.category(c) not in _ATTACHED_CATEGORIES and chooser.font_for(c) is None
    }
    if not missing:
        return text, missing
    kept = "".join(c for c in text if c not in missing)
    return re.sub(r"(?<=\S) {2,}", " ", kept).strip(" "), missing


def draw_text_block(
    canvas: Image.Image,
    text: str,
    *,
    xy: tuple[int, int],
    width: int,
    font_size: int,
    anchor: Literal["top", "middle", "bottom"] = "top",
    **kwargs: object,
) -> tuple[tuple[int, int, int, int], set[str]]:
    """Render `text` and alpha-composite it onto `canvas` (RGBA, in place) with its top-left x at xy[0].

    `anchor` says whether xy[1] is the block's top, middle or bottom. Returns the pasted box
    (left, top, right, bottom) and the characters that could not be drawn.
    """
    img, missing = render_text_image(text, width=width, font_size=font_size, **kwargs)  # type: ignore[arg-type]
    x, y = xy
    if anchor == "middle":
        y -= img.height // 2
    elif anchor == "bottom":
        y -= img.height
    canvas.alpha_composite(img, (max(0, x), max(0, y)))
    return (x, y, x + img.width, y + img.height), missing


def text_has_ink(img: Image.Image, threshold: int = 128) -> bool:
    """Whether an RGBA text image has any solid pixel."""
    alpha = img.getchannel("A")
    return alpha.point(lambda v: 255 if v >= threshold else 0).getbbox() is not None


def font_report(samples: Sequence[str] | None = None) -> dict[str, object]:
    """What `filmstudio doctor` shows: bundled fonts, system fonts per script, what to install."""
    bundled = sorted(p.name for p in bundled_font_dir().glob("*.tt[fc]"))
    scripts: dict[str, dict[str, object]] = {}
    install: list[str] = []
    chooser = _FontChoice(bold=False, serif=False)
    for script, (sample, package) in _SCRIPTS.items():
        path = chooser.font_for(sample)
        scripts[script] = {"font": str(path) if path else None, "sample": sample, "ok": path is not None}
        if path is None and package not in install:
            install.append(package)
    extra = {s: str(chooser.font_for(s)) for s in (samples or ())}
    return {
        "bundled": bundled,
        "shaping": "raqm" if raqm_available() else "basic (python-bidi + arabic-reshaper)",
        "fontconfig": shutil.which("fc-list") is not None,
        "scripts": scripts,
        "samples": extra,
        "install": install,
        "install_hint": ("sudo apt-get install " + " ".join(install)) if install else "",
    }
