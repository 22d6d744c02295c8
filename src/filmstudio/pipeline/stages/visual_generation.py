"""visual_generation: decide what every segment shows — style, scene look, text, images, captions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from filmstudio.pipeline.context import StageContext, content_key
from filmstudio.pipeline.plan import RenderPlan, Scene, SceneTiming
from filmstudio.pipeline.providers.visuals import Overlay, SegmentSpec
from filmstudio.pipeline.storyboard import Storyboard, StoryboardEdits, build_storyboard, shot_cuts

SCENE_TITLE_SECONDS = 2.8


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def pick_image(images: list[Path], scene_index: int, location: str) -> Path | None:
    """A user image for a scene: named `scene-<n>` or after its location, else the next in order."""
    images = [p for p in images if not _slug(p.stem).startswith("shot-")]  # those replace one shot
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
        board = storyboard_for(plan)
        stills: dict[tuple[int, int], Path] = {}
        if ctx.engines.pictures is not None:
            from filmstudio.pipeline.stages.stills import generate_stills

            stills = generate_stills(plan, ctx, board, lambda f: ctx.report(self.name, 0.95 * f))
        specs = build_specs(plan, board=board, stills=stills)
        ctx.report(self.name, 1.0)
        return replace(plan, segment_specs=specs, stills=tuple(stills.values()))


def storyboard_for(plan: RenderPlan) -> Storyboard:
    """The storyboard at this render's timing, with the project's edits."""
    assert plan.script is not None
    return build_storyboard(plan.script, plan.settings, text=plan.script_text, timeline=plan.timeline,
                            timed=plan.timed_lines, edits=StoryboardEdits.load(plan.storyboard_edits),
                            images=plan.images)


def build_specs(plan: RenderPlan, *, board: Storyboard | None = None,
                stills: Mapping[tuple[int, int], Path] | None = None) -> tuple[SegmentSpec, ...]:
    """One spec per title card, end card and shot (scenes are cut into shots at their lines)."""
    assert plan.script is not None
    settings, script = plan.settings, plan.script
    author = script.title_page.get("Author") or script.title_page.get("Authors") or ""
    credit = f"{script.title_page.get('Credit', 'written by')} {author}".strip() if author else ""
    images = list(plan.images)
    caption_lang = settings.subtitle_langs[0] if settings.subtitle_langs else None
    cues = plan.subtitles.get(caption_lang, ()) if (settings.burn_subtitles and caption_lang) else ()
    fps = settings.fps
    specs: list[SegmentSpec] = []
    shots = {(s.scene_index, s.shot): s for s in (board.shots if board is not None else ())}
    stills = stills or {}
    for seg in plan.timeline:
        base = SegmentSpec(
            kind=seg.kind, style=settings.style, size=settings.size, fps=fps,
            duration=round(seg.duration * fps) / fps, seed=_seed(script.title, seg),
            title=script.title, credit=credit, language=caption_lang or settings.language,
        )
        captions = [Overlay(c.text, c.start, c.end, "caption") for c in cues]
        if seg.kind != "scene":
            specs.append(replace(base, overlays=_window(captions, seg.start, seg.end)))
            continue
        scene = script.scenes[seg.scene_index]
        timed = sorted((t for t in plan.timed_lines if t.scene_index == seg.scene_index), key=lambda t: t.start)
        shown = [Overlay(t.line.text, t.start, t.end, "onscreen") for t in timed if not t.line.spoken]
        overlays = [*shown, *captions]
        if scene.heading:
            label = scene.location.title() if scene.location else scene.heading
            if scene.time_of_day and scene.time_of_day not in ("CONTINUOUS", "LATER", "SAME"):
                label = f"{label} — {scene.time_of_day.title()}"
            # A transition that opens the scene ("FADE IN:") shows first, then the scene title.
            begin = max([o.end for o in shown if o.start < seg.start + SCENE_TITLE_SECONDS] + [seg.start])
            finish = min(begin + SCENE_TITLE_SECONDS, seg.end)
            if finish - begin >= 0.8:
                overlays.insert(0, Overlay(label, begin, finish, "scene_title"))
        cuts = shot_cuts(seg, timed, fps)
        scene_image = pick_image(images, seg.scene_index, scene.location)
        for n, (a, b) in enumerate(cuts):
            shot = shots.get((seg.scene_index, n))
            # The user's picture for this shot, else for this scene, else the generated still.
            image = (shot.image if shot is not None else None) or scene_image or stills.get((seg.scene_index, n))
            specs.append(replace(
                base, duration=round((b - a) * fps) / fps, heading=scene.heading, int_ext=scene.int_ext,
                location=scene.location, time_of_day=scene.time_of_day, overlays=_window(overlays, a, b),
                image=image, camera=shot.camera if shot is not None and image is not None else "",
                shot=n, fade_in=n == 0 and not _hard_cut(script.scenes, seg.scene_index - 1),
                fade_out=n == len(cuts) - 1 and not _hard_cut(script.scenes, seg.scene_index),
            ))
    return tuple(specs)


def _hard_cut(scenes: Sequence[Scene], index: int) -> bool:
    """The screenplay says CUT (`CUT TO:`, `SMASH CUT TO:`) at the end of scene `index`: no fade there."""
    if not 0 <= index < len(scenes) - 1:
        return False
    last = scenes[index].lines[-1] if scenes[index].lines else None
    return last is not None and last.kind == "transition" and "CUT" in last.text.upper()


def _window(overlays: list[Overlay], a: float, b: float) -> tuple[Overlay, ...]:
    """The overlays showing during [a, b), in that window's own time."""
    out = []
    for o in overlays:
        start, end = max(o.start, a), min(o.end, b)
        if end - start > 0.05:
            out.append(Overlay(o.text, round(start - a, 4), round(end - a, 4), o.role))
    return tuple(out)


def _seed(title: str, seg: SceneTiming) -> int:
    return int(content_key(title, seg.kind, seg.scene_index)[:8], 16)
