"""Thumbnails: the strongest frame of a finished film, its letterbox bars cropped, the title on it."""

from __future__ import annotations

import contextlib
import logging
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from filmstudio.domain.errors import RenderFailed
from filmstudio.pipeline.context import atomic_output
from filmstudio.pipeline.media.ffmpeg import run_ffmpeg
from filmstudio.pipeline.media.text import render_text_image
from filmstudio.pipeline.providers.layers import cover_fit, letterbox_bar
from filmstudio.pipeline.providers.styles import get_style
from filmstudio.pipeline.providers.visuals import trim_transparent_rows

log = logging.getLogger(__name__)

THUMB_SIZE = (1280, 720)


def _grab_frame(film: Path, t: float) -> Image.Image | None:
    """The decoded frame at `t` seconds (None past the end)."""
    return grab_frames(film, [t])[0]


def grab_frames(film: Path, times: Sequence[float]) -> list[Image.Image | None]:
    """The decoded frames at `times` (None past the end), by one ffmpeg seeking once per time.

    A seek decodes from the keyframe before its time: times just after a keyframe cost a frame or two.
    """
    if not times:
        return []
    with tempfile.TemporaryDirectory(prefix=".thumb-", dir=film.parent) as tmp:
        # Uncompressed BMPs at the thumbnail's width at most: no PNG encode and decode per candidate.
        bmps = [Path(tmp) / f"frame{n}.bmp" for n in range(len(times))]
        args: list[str] = []
        for t in times:
            # One decoder thread per seek: frame threading decodes frames ahead before giving the first.
            args += ["-threads", "1", "-ss", f"{max(0.0, t):.3f}", "-i", str(film)]
        for n, bmp in enumerate(bmps):
            args += ["-map", f"{n}:v:0", "-frames:v", "1", "-an", "-vf", f"scale='min({THUMB_SIZE[0]},iw)':-2",
                     str(bmp)]
        try:
            run_ffmpeg(args)
        except RenderFailed:  # e.g. a time past the end on an ffmpeg that calls an empty output an error
            for t, bmp in zip(times, bmps, strict=True):
                with contextlib.suppress(RenderFailed):
                    run_ffmpeg(["-ss", f"{max(0.0, t):.3f}", "-i", str(film), "-frames:v", "1", "-an",
                                "-vf", f"scale='min({THUMB_SIZE[0]},iw)':-2", str(bmp)])
        frames: list[Image.Image | None] = []
        for bmp in bmps:
            if not bmp.exists() or bmp.stat().st_size == 0:
                frames.append(None)
                continue
            with Image.open(bmp) as img:
                frames.append(img.convert("RGB"))
        return frames


def frame_score(img: Image.Image) -> float:
    """How strong a frame is for a thumbnail: colourfulness x contrast; near-black frames score 0."""
    small = np.asarray(img.resize((160, max(1, 160 * img.height // img.width))), dtype=np.float32)
    r, g, b = small[..., 0], small[..., 1], small[..., 2]
    luma = 0.299 * r + 0.587 * g + 0.114 * b
    if luma.mean() < 20 or luma.std() < 6:
        return 0.0  # a fade or a black frame
    rg, yb = r - g, 0.5 * (r + g) - b
    colourful = math.hypot(float(rg.std()), float(yb.std())) + 0.3 * math.hypot(float(rg.mean()), float(yb.mean()))
    return (colourful + 1.0) * (float(luma.std()) + 1.0)


def thumbnail_size(film_size: tuple[int, int]) -> tuple[int, int]:
    """The thumbnail's size for a film: 1280x720 for landscape, the film's own shape otherwise (long side 1280)."""
    w, h = film_size
    if w / h >= 1.7:
        return THUMB_SIZE
    scale = 1280 / max(w, h)
    return _even_px(w * scale), _even_px(h * scale)


@dataclass(frozen=True)
class ThumbnailCandidate:
    """A moment worth a thumbnail: when, and how much it shows of the story (1 = a located scene)."""

    time: float
    weight: float = 1.0
    caption: bool = False  # a burned-in subtitle shows at the bottom: the title goes to the top


def make_thumbnail(
    film: Path, *, title: str, style: str, out: Path, sample_times: Sequence[float] | Sequence[ThumbnailCandidate],
    size: tuple[int, int] = THUMB_SIZE, film_size: tuple[int, int] | None = None,
    frames: Sequence[Image.Image | None] | None = None,
) -> Path:
    """A JPEG of the strongest sampled frame at `size`, with the title drawn on it.

    The letterbox bars are cropped off first (so the title never straddles one); a frame of
    another shape than `size` is shown whole over a blurred, cover-fitted copy of itself.
    `frames`: the candidates' frames when already grabbed (`grab_frames`), e.g. for a second size.
    """
    candidates = [c if isinstance(c, ThumbnailCandidate) else ThumbnailCandidate(float(c))
                  for c in (sample_times or (1.0,))]
    best: tuple[float, Image.Image, ThumbnailCandidate] | None = None
    if frames is None:
        frames = grab_frames(film, [c.time for c in candidates])
    for cand, img in zip(candidates, frames, strict=True):
        if img is None:
            continue
        score = frame_score(_without_bars(img, style, film_size)) * cand.weight
        if best is None or score > best[0]:
            best = (score, img, cand)
    if best is None:
        raise RenderFailed(f"no frame could be read from {film.name} for the thumbnail", code="THUMBNAIL_FAILED")
    picture = _without_bars(best[1], style, film_size)
    canvas = _fit_picture(picture, size).convert("RGBA")
    w, h = size
    top = best[2].caption
    # Darken the part under the title so it reads over any picture.
    rows = np.arange(h, dtype=np.float32) / h
    ramp = np.clip(((1.0 - rows if top else rows) - 0.35) / 0.65, 0, 1) * 200
    shade = np.zeros((h, w, 4), np.uint8)
    shade[..., 3] = ramp.astype(np.uint8)[:, None]
    canvas.alpha_composite(Image.fromarray(shade))
    look = get_style(style)
    if title.strip():
        unit = min(w, h)
        text, missing = render_text_image(
            title.upper() if look.title_upper else title, width=int(w * 0.88), font_size=int(unit * 0.11),
            color=look.text_color, max_lines=3 if h > w else 2, bold=True, shadow=True, serif=look.serif_titles,
            outline=3, outline_color=(0, 0, 0),
        )
        if missing:
            log.warning("thumbnail title: no font for %s", "".join(sorted(missing)))
        text = trim_transparent_rows(text)
        canvas.alpha_composite(text, ((w - text.width) // 2, int(h * 0.07) if top else int(h * 0.93) - text.height))
    with atomic_output(out) as tmp:
        canvas.convert("RGB").save(tmp, format="JPEG", quality=90, optimize=True)
    return out


def _without_bars(img: Image.Image, style: str, film_size: tuple[int, int] | None) -> Image.Image:
    """The frame with the style's letterbox bars cropped off (their share of the film's height)."""
    bar = letterbox_bar(get_style(style), film_size or img.size)
    if not bar:
        return img
    share = bar / (film_size or img.size)[1]
    cut = math.ceil(img.height * share) + 1
    return img.crop((0, cut, img.width, img.height - cut))


def _fit_picture(picture: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Cover-fit when the shapes are close; else the whole picture over a blurred fill of itself."""
    w, h = size
    ratio = (picture.width / picture.height) / (w / h)
    if 0.7 <= ratio <= 1.45:  # scope 2.39:1 into 16:9 crops the sides; a vertical frame does not fit
        return cover_fit(picture, size)
    back = cover_fit(picture, size).filter(ImageFilter.GaussianBlur(max(4, min(size) // 30)))
    back = Image.blend(back, Image.new("RGB", size, (0, 0, 0)), 0.35)
    scale = min(w / picture.width, h / picture.height)
    whole = picture.resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))),
                           Image.Resampling.LANCZOS)
    back.paste(whole, ((w - whole.width) // 2, (h - whole.height) // 2))
    return back


def _even_px(v: float) -> int:
    return int(math.ceil(v / 2) * 2)

