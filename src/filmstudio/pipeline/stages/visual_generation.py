"""visual_generation: decide what every segment shows — style, scene look, text, images, captions."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from filmstudio.pipeline.context import StageContext, content_key
from filmstudio.pipeline.plan import RenderPlan, SceneTiming
from filmstudio.pipeline.providers.visuals import Overlay, SegmentSpec

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
SCENE_TITLE_SECONDS = 2.8


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def user_images(folder: Path | None) -> list[Path]:
    if folder is None or not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def pick_image(images: list[Path], scene_index: int, location: str) -> Path | None:
    """A user image for a scene: named `scene-<n>` or after its location, else the next in order."""
    if not images:
        return None
    slug = _slug(location)
    for img in images:
        stem = _slug(img.stem)
        if stem in (f"scene-{scene_index + 1}", f"scene{scene_index + 1}") or (slug and stem == slug):
            return img
    return images[scene_index % len(images)]


@dataclass(frozen=True)
class VisualGeneration:
    name: ClassVar[str] = "visual_generation"
    weight: ClassVar[float] = 0.01

    def run(self, plan: RenderPlan, ctx: StageContext) -> RenderPlan:
        specs = build_specs(plan)
        ctx.report(self.name, 1.0)
        return replace(plan, segment_specs=specs)


def build_specs(plan: RenderPlan) -> tuple[SegmentSpec, ...]:
    assert plan.script is not None
    settings, script = plan.settings, plan.script
    author = script.title_page.get("Author") or script.title_page.get("Authors") or ""
    credit = f"{script.title_page.get('Credit', 'written by')} {author}".strip() if author else ""
    images = user_images(plan.images_dir)
    caption_lang = settings.subtitle_langs[0] if settings.subtitle_langs else None
    cues = plan.subtitles.get(caption_lang, ()) if (settings.burn_subtitles and caption_lang) else ()
    specs: list[SegmentSpec] = []
    for seg in plan.timeline:
        overlays: list[Overlay] = []
        base = SegmentSpec(
            kind=seg.kind, style=settings.style, size=settings.size, fps=settings.fps,
            duration=round(seg.duration * settings.fps) / settings.fps, seed=_seed(script.title, seg),
            title=script.title, credit=credit, language=caption_lang or settings.language,
        )
        for cue in cues:
            if cue.end > seg.start and cue.start < seg.end:
                overlays.append(Overlay(cue.text, max(0.0, cue.start - seg.start),
                                        min(seg.duration, cue.end - seg.start), "caption"))
        if seg.kind == "scene":
            scene = script.scenes[seg.scene_index]
            shown = [Overlay(t.line.text, t.start - seg.start, min(seg.duration, t.end - seg.start), "onscreen")
                     for t in plan.timed_lines if t.scene_index == seg.scene_index and not t.line.spoken]
            if scene.heading:
                label = scene.location.title() if scene.location else scene.heading
                if scene.time_of_day and scene.time_of_day not in ("CONTINUOUS", "LATER", "SAME"):
                    label = f"{label} — {scene.time_of_day.title()}"
                # A transition that opens the scene ("FADE IN:") shows first, then the scene title.
                start = max([o.end for o in shown if o.start < SCENE_TITLE_SECONDS] + [0.0])
                end = min(start + SCENE_TITLE_SECONDS, seg.duration)
                if end - start >= 0.8:
                    overlays.insert(0, Overlay(label, start, end, "scene_title"))
            overlays.extend(shown)
            specs.append(replace(
                base, heading=scene.heading, int_ext=scene.int_ext, location=scene.location,
                time_of_day=scene.time_of_day, overlays=tuple(overlays),
                image=pick_image(images, seg.scene_index, scene.location),
            ))
        else:
            specs.append(replace(base, overlays=tuple(overlays)))
    return tuple(specs)


def _seed(title: str, seg: SceneTiming) -> int:
    return int(content_key(title, seg.kind, seg.scene_index)[:8], 16)
