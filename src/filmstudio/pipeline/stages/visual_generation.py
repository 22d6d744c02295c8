"""visual_generation: decide what every segment shows — style, scene look, text, images, captions."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from filmstudio.pipeline.context import StageContext, content_key
from filmstudio.pipeline.plan import RenderPlan, Scene, SceneTiming, TimedLine
from filmstudio.pipeline.prompts import PromptTokens
from filmstudio.pipeline.providers.backdrops import Clip, Painted, Still
from filmstudio.pipeline.providers.sets import props_in
from filmstudio.pipeline.providers.visuals import (
    CUT,
    DRIFT,
    FADE,
    Camera,
    Dissolve,
    Overlay,
    SegmentSpec,
)
from filmstudio.pipeline.references import is_reference_picture
from filmstudio.pipeline.script.delivery import names_as_written
from filmstudio.pipeline.storyboard import Shot, Storyboard, StoryboardEdits, build_storyboard, shot_cuts

SCENE_TITLE_SECONDS = 2.8


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def pick_image(images: list[Path], scene_index: int, location: str) -> Path | None:
    """A user image for a scene: named `scene-<n>` or after its location, else the next in order."""
    # shot-<n> replaces one shot; character-<name> is a character's reference, not a backdrop
    images = [p for p in images if not _slug(p.stem).startswith("shot-") and not is_reference_picture(p)]
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
        from filmstudio.pipeline.prompts import tokens_of

        board = storyboard_for(plan, tokens_of(ctx.engines.pictures))
        stills: dict[tuple[int, int], Path] = {}
        moving = ctx.engines.motion is not None and any(s.motion for s in board.shots)
        drawing = 0.45 if moving else 0.95  # of the step's bar: the stills, then the clips
        if ctx.engines.pictures is not None:
            from filmstudio.pipeline.stages.stills import generate_stills

            stills = generate_stills(plan, ctx, board, lambda f: ctx.report(self.name, drawing * f))
        clips: Mapping[tuple[int, int], Path] = {}
        clip_warnings: tuple[str, ...] = ()
        if moving:
            from filmstudio.pipeline.stages.clips import animate_shots

            animated = animate_shots(plan, ctx, board, shown_pictures(plan, board, stills),
                                     lambda f: ctx.report(self.name, drawing + (0.95 - drawing) * f))
            clips, clip_warnings = animated.clips, animated.warnings
        elif ctx.engines.motion_advice is not None and any(s.motion for s in board.shots):
            # A video model is installed but cannot run here (AnimateDiff's adapter without sd15): say so.
            clip_warnings = (f"the moving shots are stills with camera moves: {ctx.engines.motion_advice.reason}",)
        specs = build_specs(plan, board=board, stills=stills, clips=clips)
        ctx.report(self.name, 1.0)
        warnings = board.warnings if ctx.engines.pictures is not None else ()
        drawn = {s.number: stills[(s.scene_index, s.shot)] for s in board.shots if (s.scene_index, s.shot) in stills}
        animated_shots = {s.number: clips[(s.scene_index, s.shot)] for s in board.shots
                          if (s.scene_index, s.shot) in clips}
        return replace(plan, segment_specs=specs, stills=tuple(stills.values()),
                       warnings=(*plan.warnings, *warnings, *clip_warnings), stills_drawn=ctx.stills.drawn,
                       stills_seconds=round(ctx.stills.seconds, 3), shot_stills=drawn, shot_clips=animated_shots,
                       clips_made=ctx.clips.made, clips_seconds=round(ctx.clips.seconds, 3))


def shown_pictures(plan: RenderPlan, board: Storyboard,
                   stills: Mapping[tuple[int, int], Path]) -> dict[tuple[int, int], Path]:
    """The picture each shot shows (as `_backdrop` picks it): the user's for the shot, else for its
    scene, else the drawn still. A moving shot is animated from this picture."""
    assert plan.script is not None
    scenes = plan.script.scenes
    out: dict[tuple[int, int], Path] = {}
    for shot in board.shots:
        key = (shot.scene_index, shot.shot)
        scene = scenes[shot.scene_index]
        image = shot.image or pick_image(list(plan.images), shot.scene_index, scene.location) or stills.get(key)
        if image is not None:
            out[key] = image
    return out


def storyboard_for(plan: RenderPlan, tokens: PromptTokens | None = None) -> Storyboard:
    """The storyboard at this render's timing, with the project's edits, its prompts fitted to `tokens`."""
    assert plan.script is not None
    return build_storyboard(plan.script, plan.settings, text=plan.script_text, timeline=plan.timeline,
                            timed=plan.timed_lines, edits=StoryboardEdits.load(plan.storyboard_edits),
                            images=plan.images, tokens=tokens)


@dataclass(frozen=True)
class _Film:
    """What every segment of the film shares: read once from the plan."""

    plan: RenderPlan
    base: SegmentSpec  # the fields common to every segment
    film_id: str
    captions: tuple[Overlay, ...]  # burned captions or karaoke rows, in film time
    shots: Mapping[tuple[int, int], Shot]
    stills: Mapping[tuple[int, int], Path]
    clips: Mapping[tuple[int, int], Path]  # the moving shots' clips
    times: tuple[str | None, ...]


def build_specs(plan: RenderPlan, *, board: Storyboard | None = None,
                stills: Mapping[tuple[int, int], Path] | None = None,
                clips: Mapping[tuple[int, int], Path] | None = None) -> tuple[SegmentSpec, ...]:
    """One spec per title card, end card and shot (scenes are cut into shots at their lines)."""
    film = _film(plan, board, stills or {}, clips or {})
    specs: list[SegmentSpec] = []
    firsts: dict[int, int] = {}  # timeline scene_index (end card: len(scenes)) -> its first segment
    for seg in plan.timeline:
        firsts[seg.scene_index] = len(specs)
        specs.extend(_scene_specs(film, seg) if seg.kind == "scene" else [_card_spec(film, seg)])
    return tuple(_perform_transitions(specs, firsts, plan))


def _film(plan: RenderPlan, board: Storyboard | None, stills: Mapping[tuple[int, int], Path],
          clips: Mapping[tuple[int, int], Path]) -> _Film:
    assert plan.script is not None
    settings, script = plan.settings, plan.script
    caption_lang = settings.subtitle_langs[0] if settings.subtitle_langs else None
    base = SegmentSpec(kind="scene", style=settings.style, size=settings.size, fps=settings.fps, duration=0.0,
                       title=script.title, credit=_credit(script.title_page),
                       language=caption_lang or settings.language)
    # What tells one film from another without changing on a line edit: its title and headings
    # (two untitled films with an INT. ROOM each were painted, and thumbnailed, identically).
    film_id = content_key(script.title, [sc.heading or sc.location for sc in script.scenes])
    return _Film(plan=plan, base=base, film_id=film_id, captions=tuple(_captions(plan, caption_lang)),
                 shots={(s.scene_index, s.shot): s for s in (board.shots if board is not None else ())},
                 stills=stills, clips=clips, times=tuple(scene_times(script.scenes)))


def _credit(title_page: Mapping[str, str]) -> str:
    author = title_page.get("Author") or title_page.get("Authors") or ""
    return f"{title_page.get('Credit', 'written by')} {author}".strip() if author else ""


def _captions(plan: RenderPlan, caption_lang: str | None) -> list[Overlay]:
    """The burned-in captions (standard cues or karaoke rows) in film time."""
    settings = plan.settings
    if settings.captions == "karaoke":
        assert plan.script is not None
        return karaoke_overlays(plan.timed_lines, plan.script.characters, settings.fps, karaoke_chars(settings.size))
    cues = plan.subtitles.get(caption_lang, ()) if (settings.burn_subtitles and caption_lang) else ()
    return [Overlay(c.text, c.start, c.end, "caption") for c in cues]


def _segment_base(film: _Film, seg: SceneTiming) -> SegmentSpec:
    fps = film.base.fps
    return replace(film.base, kind=seg.kind, duration=round(seg.duration * fps) / fps, seed=_seed(film.film_id, seg))


def _card_spec(film: _Film, seg: SceneTiming) -> SegmentSpec:
    """The title or end card: its text over the film's first scene's set (the title in that
    scene's light, the end card in the last scene's), with the captions in its window."""
    assert film.plan.script is not None
    scenes = film.plan.script.scenes
    spec = replace(_segment_base(film, seg), overlays=_window(list(film.captions), seg.start, seg.end))
    if not scenes:
        return spec
    first = scenes[0]
    return replace(spec, int_ext=first.int_ext, location=first.location,
                   time_of_day=film.times[0] if seg.kind == "title" else film.times[-1],
                   source=Painted(_action_props(first, None)))


def _scene_overlays(scene: Scene, seg: SceneTiming, timed: list[TimedLine], captions: tuple[Overlay, ...],
                    characters: tuple[str, ...]) -> list[Overlay]:
    """The text shown over a scene: its centered lines, the scene title, the captions."""
    # Transitions are performed (see `_perform_transitions`), never printed; centered text shows.
    shown = [Overlay(names_as_written(t.line.text, characters), t.start, t.end, "onscreen") for t in timed
             if not t.line.spoken and t.line.kind != "transition"]
    overlays = [*shown, *captions]
    if scene.heading:
        # A transition that opens the scene ("FADE IN:") shows first, then the scene title.
        begin = max([o.end for o in shown if o.start < seg.start + SCENE_TITLE_SECONDS] + [seg.start])
        finish = min(begin + SCENE_TITLE_SECONDS, seg.end)
        if finish - begin >= 0.8:
            overlays.insert(0, Overlay(_scene_label(scene), begin, finish, "scene_title"))
    return overlays


def _scene_label(scene: Scene) -> str:
    label = title_case(scene.location) if scene.location else (scene.heading or "")
    if scene.time_of_day and scene.time_of_day not in ("CONTINUOUS", "LATER", "SAME"):
        label = f"{label} — {title_case(scene.time_of_day)}"
    return label


def _scene_specs(film: _Film, seg: SceneTiming) -> list[SegmentSpec]:
    """A scene's shots: cut at its lines, each with its backdrop source and camera."""
    assert film.plan.script is not None
    scene = film.plan.script.scenes[seg.scene_index]
    timed = sorted((t for t in film.plan.timed_lines if t.scene_index == seg.scene_index), key=lambda t: t.start)
    overlays = _scene_overlays(scene, seg, timed, film.captions, film.plan.script.characters)
    cuts = shot_cuts(seg, timed, film.base.fps)
    scene_image = pick_image(list(film.plan.images), seg.scene_index, scene.location)
    base = replace(_segment_base(film, seg), heading=scene.heading, int_ext=scene.int_ext, location=scene.location,
                   time_of_day=film.times[seg.scene_index])
    fps = film.base.fps
    return [replace(base, duration=round((b - a) * fps) / fps, overlays=_window(overlays, a, b), shot=n,
                    opening=FADE if n == 0 else CUT, closing=FADE if n == len(cuts) - 1 else CUT,
                    **_backdrop(film, seg.scene_index, n, scene_image))
            for n, (a, b) in enumerate(cuts)]


def _action_props(scene: Scene, lines: set[int] | None) -> tuple[str, ...]:
    """The props a shot's set shows: named by its heading's location, by its own action lines
    (`lines`: their script indices; None: every action line of the scene), then by the scene's
    opening description (what was set up stays in the set)."""
    actions = [ln for ln in scene.lines if ln.kind == "action"]
    own = [ln.text for ln in actions if lines is None or ln.index in lines]
    opening = [ln.text for ln in actions[:2]]
    return props_in(" ".join([scene.location, *own, *opening]))


def _backdrop(film: _Film, scene_index: int, n: int, scene_image: Path | None) -> dict[str, Any]:
    """A shot's source and camera: its clip when it moves, else the user's picture for this shot, else
    for this scene, else the generated still (framed by the storyboard's camera), else the painted set."""
    assert film.plan.script is not None
    shot = film.shots.get((scene_index, n))
    clip = film.clips.get((scene_index, n))
    if clip is not None:
        return {"source": Clip.of(clip), "camera": Camera(shot.camera) if shot is not None else DRIFT}
    image = (shot.image if shot is not None else None) or scene_image or film.stills.get((scene_index, n))
    if image is None:
        lines = set(shot.line_indices) if shot is not None else None
        return {"source": Painted(_action_props(film.plan.script.scenes[scene_index], lines)), "camera": DRIFT}
    return {"source": Still.of(image), "camera": Camera(shot.camera) if shot is not None else DRIFT}


# Times of day that say "as before": the light carries on from the scene before.
_RELATIVE_TIMES = frozenset({"CONTINUOUS", "LATER", "MOMENTS LATER", "SAME", "SAME TIME", "A MOMENT LATER"})


def scene_times(scenes: tuple[Scene, ...]) -> list[str | None]:
    """Each scene's time of day for its look: `CONTINUOUS`, `LATER` or none keep the previous scene's."""
    out: list[str | None] = []
    previous: str | None = None
    for scene in scenes:
        tod = scene.time_of_day
        if (tod is None or tod.upper() in _RELATIVE_TIMES) and previous is not None:
            tod = previous
        out.append(tod)
        previous = tod
    return out


TransitionKind = str  # "cut", "dissolve", "fade"


def transition_kind(text: str) -> TransitionKind:
    """What a transition line does: `CUT TO:` cuts, `DISSOLVE TO:` cross-dissolves, the rest fade."""
    upper = text.upper()
    if "DISSOLVE" in upper:
        return "dissolve"
    if "CUT" in upper and "BLACK" not in upper:
        return "cut"
    return "fade"


def _boundary_transitions(plan: RenderPlan) -> dict[int, TransitionKind]:
    """Scene index -> the transition into that scene, from the lines that close the scene before
    (`CUT TO:` after its last spoken line) or open it (before its first spoken line)."""
    assert plan.script is not None
    scenes = plan.script.scenes
    out: dict[int, TransitionKind] = {}
    for i, scene in enumerate(scenes):
        spoken = [k for k, ln in enumerate(scene.lines) if ln.spoken]
        first = spoken[0] if spoken else len(scene.lines)
        last = spoken[-1] if spoken else -1
        opening = [ln for ln in scene.lines[:first] if ln.kind == "transition"]
        closing = [ln for ln in scene.lines[last + 1:] if ln.kind == "transition"]
        if opening and i not in out:
            out[i] = transition_kind(opening[-1].text)
        if closing:
            out[i + 1] = transition_kind(closing[-1].text)  # len(scenes): into the end card
    return out


def _perform_transitions(specs: list[SegmentSpec], firsts: dict[int, int], plan: RenderPlan) -> list[SegmentSpec]:
    """Set the joins between scenes: a cut (no fades), a cross-dissolve, or a fade through black."""
    for scene_index, kind in _boundary_transitions(plan).items():
        b = firsts.get(scene_index, 0)
        a = b - 1
        if kind == "fade" or a < 0 or specs[a].kind == "title":
            continue
        specs[a] = replace(specs[a], closing=CUT)
        before = replace(specs[a], opening=CUT) if isinstance(specs[a].opening, Dissolve) else specs[a]
        specs[b] = replace(specs[b], opening=CUT if kind == "cut" else Dissolve(before))
    return specs


def title_case(text: str) -> str:
    """"MARA'S KITCHEN" -> "Mara's Kitchen" (str.title gives "Mara'S"), "NIGHT MARKET" -> "Night Market"."""
    return re.sub(r"[^\W\d_]+(?:['’][^\W\d_]+)*", lambda m: m.group(0)[:1].upper() + m.group(0)[1:].lower(), text)


def _window(overlays: list[Overlay], a: float, b: float) -> tuple[Overlay, ...]:
    """The overlays showing during [a, b), in that window's own time (a karaoke word however short)."""
    out = []
    for o in overlays:
        start, end = max(o.start, a), min(o.end, b)
        if end - start > (1e-3 if o.role == "karaoke" else 0.05):
            out.append(Overlay(o.text, round(start - a, 4), round(end - a, 4), o.role, o.lit))
    return tuple(out)


def _seed(title: str, seg: SceneTiming) -> int:
    return int(content_key(title, seg.kind, seg.scene_index)[:8], 16)


KARAOKE_WORDS = 3  # words on screen at once, at most
KARAOKE_HOLD = 0.3  # a pause shorter than this between two word groups keeps the first up until the next


def karaoke_chars(size: tuple[int, int]) -> int:
    """About how many characters of karaoke text fit across a frame of `size` at full size."""
    w, h = size
    return max(8, int(w * 0.86 / (min(w, h) * 0.085 * 0.7)))


def karaoke_overlays(timed: tuple[TimedLine, ...], characters: tuple[str, ...] = (), fps: int = 24,
                     max_chars: int = 16) -> list[Overlay]:
    """Word-lit captions: each spoken line a word group at a time, the word being spoken lit.

    A group is up to `KARAOKE_WORDS` words cut where the phrase allows (never between an article
    and its noun, inside a name or a number); it shows from its first word to its last, the lit
    word changing inside it, and ends before the next group starts (they never overlap). Times
    sit on the frame grid, so one lit word hands over to the next in the same frame. Timed by the
    voice's own word timings; a line without them shares its time by letters.
    """
    from filmstudio.pipeline.stages.subtitles import word_timings

    groups: list[list[tuple[str, float, float]]] = []
    line_ends: dict[int, float] = {}  # the last group of a line (by its index in `groups`) -> the line's end
    for t in sorted(timed, key=lambda t: t.start):
        if not t.line.spoken or t.clip is None or not t.line.text.strip():
            continue
        text = names_as_written(t.line.text, characters)
        written = text.split()
        found = word_timings(t)
        if found and len(found) == len(re.findall(r"[^\W_]+(?:['’\-][^\W_]+)*", text)) == len(written):
            words = [(w, s, e) for w, (_, s, e) in zip(written, found, strict=True)]
        else:
            total = sum(len(w) for w in written) or 1
            words, at = [], t.start
            for w in written:
                step = (t.end - t.start) * len(w) / total
                words.append((w, at, at + step))
                at += step
        # The first word lights with the line, the last group holds until the line ends.
        words[0] = (words[0][0], t.start, words[0][2])
        groups += [words[a:b] for a, b in _word_groups([w for w, _, _ in words], max_chars)]
        line_ends[len(groups) - 1] = t.end
    out: list[Overlay] = []

    def frame(x: float) -> float:
        return round(x * fps) / fps

    for g, group in enumerate(groups):
        text = " ".join(w for w, _, _ in group)
        following = frame(groups[g + 1][0][1]) if g + 1 < len(groups) else float("inf")
        end = max(group[-1][2], group[0][1] + 0.2 * len(group), line_ends.get(g, 0.0))
        # Inside a line a group holds until the next (a pause mid-line never blanks the box).
        inside = g not in line_ends
        end = following if inside or following - end < KARAOKE_HOLD \
            else min(math.ceil(end * fps - 1e-6) / fps, following)
        for n, (_, start, _end) in enumerate(group):
            # Each word stays lit until the next one starts, so the box never blinks.
            a = frame(start)
            b = frame(group[n + 1][1]) if n + 1 < len(group) else end
            if b > a:
                out.append(Overlay(text, a, b, "karaoke", lit=n))
    return out


def _word_groups(words: list[str], max_chars: int) -> list[tuple[int, int]]:
    """Cut `words` into groups of at most KARAOKE_WORDS words and `max_chars` characters (so every group
    shows at the same size) at the least hurtful boundaries, fewest groups first."""
    from filmstudio.pipeline.media.linebreaks import boundary_cost

    tokens = [(" " if n else "", w) for n, w in enumerate(words)]
    n = len(words)
    best: list[tuple[float, int]] = [(float("inf"), n)] * (n + 1)
    best[n] = (0.0, n)
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, min(n, i + KARAOKE_WORDS) + 1):
            if j > i + 1 and len(" ".join(words[i:j])) > max_chars:
                break
            cost = 10.0 + best[j][0] + (boundary_cost(tokens, j) if j < n else 0.0) + (3.0 if j - i == 1 else 0.0)
            if cost < best[i][0]:
                best[i] = (cost, j)
    out, i = [], 0
    while i < n:
        out.append((i, best[i][1]))
        i = best[i][1]
    return out
