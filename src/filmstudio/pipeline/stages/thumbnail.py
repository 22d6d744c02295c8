"""thumbnail: a JPEG from the frame of the finished film that best shows its story, with its title.

The thumbnail has the film's shape (vertical for a vertical film); a 1280x720 one for YouTube is
made beside it when the film is not landscape.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from filmstudio.pipeline.context import StageContext
from filmstudio.pipeline.media.ffmpeg import GOP_SECONDS
from filmstudio.pipeline.plan import Cue, RenderPlan
from filmstudio.pipeline.providers.styles import location_motif
from filmstudio.pipeline.providers.thumbnails import (
    THUMB_SIZE,
    ThumbnailCandidate,
    grab_frames,
    make_thumbnail,
    thumbnail_size,
)
from filmstudio.pipeline.stages.visual_generation import SCENE_TITLE_SECONDS

CAPTION_MARGIN = 0.3  # seconds either side of a burned-in cue


@dataclass(frozen=True)
class Thumbnail:
    name: ClassVar[str] = "thumbnail"
    weight: ClassVar[float] = 0.04

    def run(self, plan: RenderPlan, ctx: StageContext) -> RenderPlan:
        assert plan.video is not None and plan.script is not None
        candidates = thumbnail_candidates(plan) or [ThumbnailCandidate(plan.duration / 2)]
        size = thumbnail_size(plan.settings.size)
        out: Path = plan.work_dir / "thumbnail.jpg"
        common = {"title": plan.script.title, "style": plan.settings.style, "sample_times": candidates,
                  "film_size": plan.settings.size, "frames": grab_frames(plan.video, [c.time for c in candidates])}
        make_thumbnail(plan.video, out=out, size=size, **common)  # type: ignore[arg-type]
        youtube = out
        if size != THUMB_SIZE:
            youtube = plan.work_dir / "thumbnail.youtube.jpg"
            make_thumbnail(plan.video, out=youtube, size=THUMB_SIZE, **common)  # type: ignore[arg-type]
        ctx.report(self.name, 1.0)
        return replace(plan, thumbnail=out, youtube_thumbnail=youtube)


def thumbnail_candidates(plan: RenderPlan) -> list[ThumbnailCandidate]:
    """Moments inside scenes, never mid-transition, weighted down on the scene title or a burned-in caption.

    A scene whose location gave it its own picture (a harbour, a market, the user's image)
    weighs more than the generic room or street every film has.
    """
    assert plan.script is not None
    settings = plan.settings
    burned: tuple[Cue, ...] = ()
    if settings.burn_subtitles and settings.subtitle_langs:
        burned = plan.subtitles.get(settings.subtitle_langs[0], ())
    karaoke: list[tuple[float, float]] = []
    if settings.captions == "karaoke":
        from filmstudio.pipeline.stages.visual_generation import karaoke_chars, karaoke_overlays

        karaoke = [(o.start, o.end) for o in karaoke_overlays(plan.timed_lines, plan.script.characters, settings.fps,
                                                              karaoke_chars(settings.size))]
    keys = keyframe_times(plan)
    moving = transitions(plan)
    out: list[ThumbnailCandidate] = []
    for seg in plan.timeline:
        if seg.kind != "scene":
            continue
        scene = plan.script.scenes[seg.scene_index]
        weight = 1.0 if plan.images or location_motif(scene.location, scene.int_ext) else 0.6
        first = seg.start + min(0.8, seg.duration * 0.2)  # past the fade in
        last = seg.end - min(0.8, seg.duration * 0.2)
        titled = seg.start + SCENE_TITLE_SECONDS + 0.3  # the scene's title card is showing until then
        for share in (0.15, 0.5, 0.85):
            t = _after_keyframe(first + (last - first) * share, keys, first, last, plan.settings.fps)
            t, steady = _steady_near(t, moving, first, last, plan.settings.fps)
            covered = any(c.start - CAPTION_MARGIN <= t <= c.end + CAPTION_MARGIN for c in burned) or any(
                a <= t < b for a, b in karaoke)
            k = weight * (0.2 if covered else 1.0) * (0.3 if t < titled else 1.0) * (1.0 if steady else 0.0)
            out.append(ThumbnailCandidate(round(t, 3), k, caption=covered))
    return out


def transitions(plan: RenderPlan) -> list[tuple[float, float]]:
    """Film times where the picture is between two states: a fade or dissolve, a text fading in or out."""
    from filmstudio.pipeline.providers.styles import get_style
    from filmstudio.pipeline.providers.visuals import DISSOLVE_SECONDS, TEXT_FADE, FadeBlack

    fps = plan.settings.fps
    out: list[tuple[float, float]] = []
    at = 0.0
    for spec in plan.segment_specs:
        dur = int(spec.frames) / fps
        edge = min(get_style(spec.style).fade, dur / 4)
        if isinstance(spec.opening, FadeBlack) and edge > 0:
            out.append((at, at + edge))
        if isinstance(spec.closing, FadeBlack) and edge > 0:
            out.append((at + dur - edge, at + dur))
        if spec.dissolve_from is not None:
            out.append((at, at + min(DISSOLVE_SECONDS, dur / 3)))
        for ov in spec.overlays:
            if ov.role != "karaoke":  # karaoke cuts from word to word: never half drawn
                fade = min(TEXT_FADE, (ov.end - ov.start) / 3)
                out += [(at + ov.start, at + ov.start + fade), (at + ov.end - fade, at + ov.end)]
        at += dur
    return out


def _steady_near(t: float, moving: list[tuple[float, float]], lo: float, hi: float, fps: int) -> tuple[float, bool]:
    """`t`, else the nearest frame time within a second and [lo, hi] that is in no transition."""
    margin = 1.0 / fps
    for k in range(fps + 1):
        for c in ((t,) if k == 0 else (t + k / fps, t - k / fps)):
            if lo <= c <= hi and not any(a - margin <= c <= b + margin for a, b in moving):
                return c, True
    return t, False


def keyframe_times(plan: RenderPlan) -> tuple[list[float], set[float]]:
    """The film's keyframes (each segment starts on one, then one every GOP_SECONDS), and which start a shot."""
    fps = plan.settings.fps
    at, keys, starts = 0, [], set[float]()
    for spec in plan.segment_specs:
        frames = [(at + k) / fps for k in range(0, int(spec.frames), fps * GOP_SECONDS)]
        keys += frames
        starts.update(frames[:1])
        at += int(spec.frames)
    return keys, starts


def _after_keyframe(t: float, keys: tuple[list[float], set[float]], lo: float, hi: float, fps: int) -> float:
    """`t` moved to just after the nearest keyframe inside [lo, hi] and within a second (not a shot's first
    frame, which may be a dissolve's): a seek there decodes a frame or two, not up to a GOP."""
    times, starts = keys
    near = [k for k in times if lo <= k <= hi and abs(k - t) <= 1.0]
    inside = [k for k in near if k not in starts] or near
    if not inside:
        return t
    return min(inside, key=lambda k: abs(k - t)) + 0.25 / fps
