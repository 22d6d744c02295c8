"""The storyboard: the film's shot list, one still prompt per shot, aligned with the render's cuts.

A shot is what the render cuts at (`shot_cuts`): the scene's first moment and each spoken line
long enough to hold a shot. Without a render the lines' lengths are estimated from their words,
so `filmstudio storyboard` and the render agree on the shots for the same timing. Each shot has
its scene facts, the characters on screen (described word for word from the bible), the line it
carries, a camera choice and a prompt; per-project edits (seed, prompt, lock) come from a JSON file.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline import motion_plan
from filmstudio.pipeline.bible import CharacterLook, PlaceLook, character_bible, place_bible, place_key
from filmstudio.pipeline.plan import Line, SceneTiming, Script, TimedLine
from filmstudio.pipeline.prompts import EstimatedTokens, PromptTokens, fit_negative, fit_prompt
from filmstudio.pipeline.references import CharacterReference, character_references
from filmstudio.pipeline.script.characters import read_characters
from filmstudio.pipeline.shot_prompts import manner, place_words, shot_parts, time_words, visible_sentences

Camera = Literal["establishing", "wide", "medium", "close"]
MIN_SHOT_LINE = 1.5  # a spoken line this long starts a new shot (a cut)
MIN_SHOT = 1.0
MAX_SHOT = 8.0  # no shot is held longer than this where a cut fits (a long film of a short script gets more shots)
SHOWN_LINE_SECONDS = 1.5  # an estimate for a shown-only line when there is no render timing
CAMERA_WORDS: dict[str, str] = {"establishing": "establishing wide shot", "wide": "wide shot", "medium": "medium shot", "close": "close-up"}
STYLE_LOOKS: dict[str, str] = {
    "cinematic": "cinematic film still, dramatic lighting, shallow depth of field, anamorphic",
    "documentary": "documentary photograph, natural light, realistic, 35mm",
    "minimal": "minimalist illustration, flat colours, clean composition",
    "retro": "1980s film still, neon colours, retro VHS look",
}
NEGATIVE = "blurry, low quality, deformed, disfigured, extra limbs, text, watermark, signature, logo"
_INHERITED_TIMES = frozenset({"CONTINUOUS", "LATER", "MOMENTS LATER", "SAME", "SAME TIME"})
_TIME_WORDS = {"DAY": "during the day", "NIGHT": "at night", "MORNING": "in the morning",
               "AFTERNOON": "in the afternoon", "EVENING": "in the evening"}
_CLOSE = re.compile(r"whisper|softly|quiet|tear|cry|sob|trembl|chok|hushed|barely|breaking", re.IGNORECASE)
_OFFSCREEN = frozenset({"V.O.", "O.S.", "O.C.", "VO", "OS", "OC"})
_PRONOUN = re.compile(r"\b(she|he|they|her|him|them)\b", re.IGNORECASE)


@dataclass(frozen=True)
class ShotEdit:
    """The user's edits of one shot: a new seed, an edited prompt, a lock (keeps prompt and seed),
    and whether it moves (None: as the motion budget says)."""

    seed: int | None = None
    prompt: str | None = None
    locked: bool = False
    motion: bool | None = None


@dataclass(frozen=True)
class StoryboardEdits:
    """Per-project storyboard edits, stored as JSON beside the project's pictures."""

    shots: Mapping[int, ShotEdit] = field(default_factory=dict)
    characters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # name -> description/seed

    @classmethod
    def load(cls, path: Path | None) -> StoryboardEdits:
        if path is None or not path.is_file():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        shots = {int(k): ShotEdit(**v) for k, v in (data.get("shots") or {}).items()}
        return cls(shots=shots, characters=dict(data.get("characters") or {}))

    def as_dict(self) -> dict[str, Any]:
        return {"shots": {str(k): asdict(v) for k, v in sorted(self.shots.items())},
                "characters": {k: dict(v) for k, v in self.characters.items()}}


@dataclass(frozen=True)
class Shot:
    """One shot: where, who, what it shows, how it is framed, and the still's prompt and seed."""

    number: int  # 1-based across the film (the API's /storyboard/shots/{n})
    scene_index: int
    shot: int  # index inside its scene (SegmentSpec.shot)
    heading: str | None
    int_ext: str | None
    location: str
    time_of_day: str | None  # a continuing scene's time is the previous scene's
    characters: tuple[str, ...]
    line_indices: tuple[int, ...]
    text: str  # the action or line it carries
    camera: Camera
    prompt: str
    negative_prompt: str
    seed: int
    locked: bool = False
    image: Path | None = None  # the user's own picture for this shot (`shot-<n>.png`)
    tokens: int = 0  # the prompt's tokens as the picture model counts them (start and end included)
    warning: str | None = None  # what was left out of the prompt to fit the model, or why it does not fit
    descriptions_fit: bool = True  # False: the characters' descriptions alone are over the model's limit
    motion: bool = False  # a video model animates this shot (when one is installed)
    motion_reason: str = ""  # why it moves or not (motion_plan.mark)


@dataclass(frozen=True)
class Storyboard:
    title: str
    style: str
    shots: tuple[Shot, ...]
    characters: tuple[CharacterLook, ...]
    places: tuple[PlaceLook, ...]
    references: Mapping[str, CharacterReference] = field(default_factory=dict)  # by character name
    tokens: str = "estimate"  # what counted the prompts' tokens: the model's tokenizer, or the estimate
    token_limit: int = 77

    @property
    def warnings(self) -> tuple[str, ...]:
        """For the render's manifest: the shots whose characters' descriptions did not fit whole."""
        return tuple(f"storyboard shot {s.number}: {s.warning}" for s in self.shots
                     if not s.descriptions_fit and s.warning)

    def as_dict(self) -> dict[str, Any]:
        def shot(s: Shot) -> dict[str, Any]:
            d = asdict(s)
            d["image"] = s.image.name if s.image else None
            return d

        return {"title": self.title, "style": self.style, "shots": [shot(s) for s in self.shots],
                "characters": [_character(c, self.references.get(c.name)) for c in self.characters],
                "places": [asdict(p) for p in self.places], "tokens": self.tokens, "token_limit": self.token_limit}


def _character(look: CharacterLook, reference: CharacterReference | None) -> dict[str, Any]:
    return {**asdict(look), "reference": reference.as_dict() if reference else None}


def shot_cuts(seg: SceneTiming, timed: Sequence[TimedLine], fps: int) -> list[tuple[float, float]]:
    """Cut a scene into shots at the start of each spoken line long enough to hold a shot.

    Whether a line starts a shot depends on that line alone, so an edited line changes its own
    shot (and shifts the later ones without changing them): a re-render redoes one shot.
    """
    starts = [seg.start]
    for t in list(timed)[1:]:
        at = round(t.start * fps) / fps
        if t.line.spoken and t.end - t.start >= MIN_SHOT_LINE and at - starts[-1] >= MIN_SHOT and seg.end - at >= MIN_SHOT:
            starts.append(at)
    ends = [*starts[1:], seg.end]
    spoken = [(t.start, t.end) for t in timed if t.line.spoken]
    return [piece for a, b in zip(starts, ends, strict=True) for piece in _spread(a, b, spoken, fps)]


def _spread(a: float, b: float, spoken: Sequence[tuple[float, float]], fps: int) -> list[tuple[float, float]]:
    """A shot held longer than MAX_SHOT (a film far longer than its script needs) as shots of about equal
    length, each cut moved out of a spoken line to its end: nobody is cut away from mid-sentence.

    Only the shot's own span decides, so an edit elsewhere leaves these cuts as they were."""
    n = math.ceil((b - a) / MAX_SHOT - 1e-9)
    if n <= 1:
        return [(a, b)]
    cuts = [a]
    for k in range(1, n):
        at = round((a + k * (b - a) / n) * fps) / fps
        for start, end in spoken:
            if start < at < end:
                at = math.ceil(end * fps - 1e-6) / fps
        if at - cuts[-1] >= MIN_SHOT and b - at >= MIN_SHOT:
            cuts.append(at)
    return list(zip(cuts, [*cuts[1:], b], strict=True))


def estimated_timing(script: Script, words_per_minute: float = 175.0, settings: RenderSettings | None = None,
                     ) -> tuple[tuple[SceneTiming, ...], tuple[TimedLine, ...]]:
    """A timeline from the lines' estimated lengths, for a storyboard without a render.

    With `settings` that set a duration, laid out as the render lays out (`fit.lay_out`: the spare time of a
    film longer than its script goes to the gaps), so the storyboard has the render's shots; without one
    (the film takes the script's own length), or when the estimate does not fit, the lines follow each
    other with short gaps."""
    from filmstudio.domain.errors import ScriptError
    from filmstudio.pipeline.fit import lay_out
    from filmstudio.pipeline.script.casting import estimate_speech_seconds

    if settings is not None and "duration" in settings.model_fields_set:
        seconds = {ln.index: estimate_speech_seconds(ln.text, words_per_minute)
                   for scene in script.scenes for ln in scene.lines if ln.spoken}
        try:
            layout = lay_out(script, seconds, settings)
        except ScriptError:
            layout = None
        if layout is not None:
            laid = tuple(TimedLine(line=ln, scene_index=scene.index, start=layout.line_starts[ln.index],
                                   end=layout.line_ends[ln.index], clip=None)
                         for scene in script.scenes for ln in scene.lines if ln.index in layout.line_starts)
            return layout.timeline, laid
    t, timeline, timed = 0.0, [], []
    for scene in script.scenes:
        start = t
        for line in scene.lines:
            d = estimate_speech_seconds(line.text, words_per_minute) if line.spoken else SHOWN_LINE_SECONDS
            timed.append(TimedLine(line=line, scene_index=scene.index, start=t, end=t + d, clip=None))
            t += d + 0.3
        timeline.append(SceneTiming("scene", scene.index, start, t))
    return tuple(timeline), tuple(timed)


def build_storyboard(script: Script, settings: RenderSettings, *, text: str = "",
                     timeline: Sequence[SceneTiming] = (), timed: Sequence[TimedLine] = (),
                     edits: StoryboardEdits | None = None, images: Sequence[Path] = (),
                     tokens: PromptTokens | None = None) -> Storyboard:
    """The shot list of `script` at the render's timing (estimated when none is given).

    `tokens`: the picture model's token counter (`prompts.tokens_of`); each prompt is fitted to it.
    """
    edits = edits or StoryboardEdits()
    counter: PromptTokens = tokens or EstimatedTokens()
    if not timeline:
        timeline, timed = estimated_timing(script, settings=settings)
    negative = fit_negative(NEGATIVE, counter)
    synopses = _synopses(text)
    cast = character_bible(script, settings, synopses, edits.characters)
    reading = read_characters(script, settings, edits.characters, synopses)
    descriptions = {name: look.description for name, look in cast.items()}
    places = place_bible(script.scenes)
    look = STYLE_LOOKS.get(settings.style, STYLE_LOOKS["cinematic"])
    replacements = {p.stem.lower(): p for p in images if p.stem.lower().startswith("shot-")}
    shots: list[Shot] = []
    previous_location: str | None = None
    time: str | None = None
    for seg in (s for s in timeline if s.kind == "scene"):
        scene = script.scenes[seg.scene_index]
        if scene.time_of_day and scene.time_of_day not in _INHERITED_TIMES:
            time = scene.time_of_day
        elif not scene.time_of_day:
            time = None
        lines = sorted((t for t in timed if t.scene_index == seg.scene_index), key=lambda t: t.start)
        cuts = shot_cuts(seg, lines, settings.fps)
        on_screen: tuple[str, ...] = ()
        seen = visible_sentences(scene, reading)
        drawn: set[int] = set()  # the scene's sentences some shot already shows
        for n, (a, b) in enumerate(cuts):
            # The first shot carries everything before the second cut (a line at the scene's very
            # start too, which rounding to a frame can put a hair before it).
            carried = [t.line for t in lines if (n == 0 or a <= round(t.start * settings.fps) / settings.fps)
                       and round(t.start * settings.fps) / settings.fps < b]
            on_screen = _characters(carried, script.characters, on_screen)
            new_place = n == 0 and scene.location != previous_location
            camera = _camera(carried, new_place)
            place = places[place_key(scene)]
            number = len(shots) + 1
            indices = {ln.index for ln in carried}
            own = [d for d in seen if d.line in indices]
            drawn.update(k for k, d in enumerate(seen) if d.line in indices)
            extra = None
            if not own:  # a shot of talk shows one more thing of the scene: each prop drawn once, shots differ
                k = next((k for k in range(len(seen)) if k not in drawn), n % len(seen) if seen else None)
                if k is not None:
                    extra = seen[k]
                    drawn.add(k)
            speakers = [ln.speaker for ln in carried if ln.kind in ("dialogue", "lyric")
                        and (ln.extension or "").upper() not in _OFFSCREEN]
            parts = shot_parts(CAMERA_WORDS[camera], on_screen, reading, descriptions, own, extra, speakers,
                               manner(carried), place_words(scene.int_ext, scene.location), time_words(time), look)
            fitted = fit_prompt(parts, counter)
            seed = cast[on_screen[0]].seed if on_screen else place.seed  # the same face, the same place
            edit = edits.shots.get(number, ShotEdit())
            prompt, count, warning = fitted.text, fitted.tokens, fitted.warning
            if edit.prompt:  # the user's own words are never shortened: say when the model cuts them
                prompt, count = edit.prompt, counter.count(edit.prompt)
                warning = (f"the edited prompt is {count} tokens; the picture model reads {counter.limit} and "
                           "cuts the rest" if count > counter.limit else None)
            key = motion_plan.key_reason(carried, n, camera, new_scene=scene.heading is not None)
            moves = motion_plan.mark(settings.motion, key, edit.motion)
            shots.append(Shot(
                number=number, scene_index=scene.index, shot=n, heading=scene.heading, int_ext=scene.int_ext,
                location=scene.location, time_of_day=time, characters=on_screen,
                line_indices=tuple(ln.index for ln in carried), text=_carried_text(carried), camera=camera,
                prompt=prompt, negative_prompt=negative,
                seed=edit.seed if edit.seed is not None else seed, locked=edit.locked,
                image=replacements.get(f"shot-{number}"), tokens=count, warning=warning,
                descriptions_fit=fitted.descriptions_fit or bool(edit.prompt),
                motion=moves.moves, motion_reason=moves.reason,
            ))
        previous_location = scene.location
    return Storyboard(title=script.title, style=settings.style, shots=tuple(shots),
                      characters=tuple(cast.values()), places=tuple(places.values()),
                      references=character_references(cast, images), tokens=counter.name,
                      token_limit=counter.limit)


def lock(board: Storyboard, edits: StoryboardEdits, number: int, locked: bool = True) -> StoryboardEdits:
    """Lock (or unlock) a shot: a locked shot keeps its prompt and seed whatever the script says."""
    shot = board.shots[number - 1]
    edit = edits.shots.get(number, ShotEdit())
    edit = replace(edit, locked=locked, prompt=edit.prompt or (shot.prompt if locked else None),
                   seed=edit.seed if edit.seed is not None or not locked else shot.seed)
    return replace(edits, shots={**edits.shots, number: edit})


def _synopses(text: str) -> list[str]:
    if not text:
        return []
    from filmstudio.pipeline.script.fountain import parse

    return [e.text for e in parse(text).elements if e.type == "synopsis"]


def _characters(lines: Sequence[Line], names: Sequence[str], previous: tuple[str, ...]) -> tuple[str, ...]:
    """Speakers on screen (not voice-over) and characters named in the shot's action, in order."""
    found: list[str] = []
    for ln in lines:
        if ln.kind in ("dialogue", "lyric") and ln.speaker in names and (ln.extension or "").upper() not in _OFFSCREEN:
            found.append(ln.speaker)
        elif ln.kind == "action":
            named = [n for n in names if re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", ln.text, re.IGNORECASE)]
            named.sort(key=lambda n: ln.text.upper().find(n))
            found.extend(named if named else (previous if _PRONOUN.search(ln.text) else ()))
    if not found and any(ln.kind in ("dialogue", "lyric") for ln in lines):
        found.extend(previous)  # a voice over the scene: the people still in it
    return tuple(dict.fromkeys(found))


def _camera(lines: Sequence[Line], new_place: bool) -> Camera:
    if new_place:
        return "establishing"
    for ln in lines:
        if ln.kind != "dialogue":
            continue
        if (ln.parenthetical and _CLOSE.search(ln.parenthetical)) or (ln.text.endswith("!") and len(ln.text.split()) <= 3):
            return "close"
    return "medium" if any(ln.kind == "dialogue" for ln in lines) else "wide"


def _carried_text(lines: Sequence[Line]) -> str:
    text = " ".join(f"{ln.speaker}: {ln.text}" if ln.kind == "dialogue" else ln.text for ln in lines)
    return text[:300]


def set_motion(edits: StoryboardEdits, number: int, motion: bool | None) -> StoryboardEdits:
    """Make a shot move (True), stay a still (False), or follow the motion budget again (None)."""
    edit = replace(edits.shots.get(number, ShotEdit()), motion=motion)
    return replace(edits, shots={**edits.shots, number: edit})
