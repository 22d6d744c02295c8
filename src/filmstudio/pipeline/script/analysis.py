"""Script analysis: Fountain or prose text -> a `Script` of scenes and lines."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from filmstudio.domain.errors import ScriptError
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.plan import NARRATOR, Line, LineKind, Scene, Script
from filmstudio.pipeline.script.fountain import Element, FountainDocument, parse
from filmstudio.pipeline.script.markup import one_line, plain_text, strip_notes
from filmstudio.pipeline.script.prose import split_prose

_INT_EXT = re.compile(r"^(INT\.?/EXT|EXT\.?/INT|INT|EXT|EST|I/E|E/I)\.?\s*", re.IGNORECASE)
# A parenthesised span in action is the writer talking to the crew (`MARA (60s)`, `(beat)`), not text
# for the audience; a space before it goes too, and a space left before punctuation closes up.
_ASIDE = re.compile(r"\s*\([^()]*\)")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
_DASH = re.compile(r"\s+[-–—]+\s+|\s*[-–—]{2,}\s*")
TIMES_OF_DAY = frozenset(
    {"DAY", "NIGHT", "DAWN", "DUSK", "MORNING", "EVENING", "AFTERNOON", "NOON", "MIDNIGHT", "SUNRISE",
     "SUNSET", "TWILIGHT", "CONTINUOUS", "LATER", "MOMENTS LATER", "SAME", "SAME TIME", "NIGHTFALL",
     "DAYBREAK", "GOLDEN HOUR", "MAGIC HOUR", "EARLY MORNING", "LATE NIGHT", "PRE-DAWN", "LATE AFTERNOON"}
)


@dataclass(frozen=True)
class Heading:
    """The facts of a scene heading."""

    int_ext: str | None
    location: str
    time_of_day: str | None


def parse_heading(heading: str) -> Heading:
    """`EXT. NIGHT MARKET - NIGHT` -> Heading("EXT", "NIGHT MARKET", "NIGHT")."""
    text = one_line(heading).strip()
    int_ext: str | None = None
    m = _INT_EXT.match(text)
    if m:
        word = m.group(1).upper().replace(".", "")
        int_ext = {"INT": "INT", "EXT": "EXT", "EST": "EXT"}.get(word, "INT/EXT")
        text = text[m.end() :]
    parts = [p.strip() for p in _DASH.split(text) if p.strip()]
    time: str | None = None
    if len(parts) > 1 and _is_time(parts[-1]):
        time = parts.pop().upper()
    return Heading(int_ext=int_ext, location=" - ".join(parts).upper(), time_of_day=time)


def _is_time(part: str) -> bool:
    upper = part.upper().strip(" .")
    return upper in TIMES_OF_DAY or any(word in TIMES_OF_DAY for word in upper.split())


def is_fountain(doc: FountainDocument) -> bool:
    """A title page, a scene heading or a character cue makes text a screenplay."""
    return bool(doc.title_page) or _has_structure(doc)


_PROSE_LIKE = frozenset({"action", "section", "synopsis", "note", "page_break"})


def _has_structure(doc: FountainDocument) -> bool:
    return any(e.type in ("scene_heading", "character") for e in doc.elements)


def analyse(text: str, settings: RenderSettings) -> Script:
    """Turn script text (Fountain or plain prose) into a `Script`; raise SCRIPT_EMPTY if empty."""
    if not text or not text.strip():
        raise ScriptError("the script is empty", code="SCRIPT_EMPTY")
    doc = parse(text)
    if _has_structure(doc):
        script = _from_fountain(doc, settings)
    elif doc.title_page and all(e.type in _PROSE_LIKE for e in doc.elements):
        # A title page over plain paragraphs: narrate the paragraphs like prose, under that title.
        body = "\n\n".join(e.text for e in doc.elements if e.type == "action")
        script = _from_prose(body, settings, title_page=doc.title_page)
    elif doc.title_page:
        script = _from_fountain(doc, settings)
    else:
        script = _from_prose(text, settings)
    if not script.lines:
        raise ScriptError("the script has nothing to speak or show", code="SCRIPT_EMPTY")
    return script


def _fallback_title(settings: RenderSettings) -> str:
    return (settings.title or "").strip() or "Untitled"


def _from_prose(text: str, settings: RenderSettings, title_page: dict[str, str] | None = None) -> Script:
    doc = split_prose(strip_notes(text))
    scenes: list[Scene] = []
    index = 0
    for passage in doc.passages:
        lines: list[Line] = []
        for para in passage.paragraphs:
            clean = one_line(para)
            if clean:
                lines.append(Line(index=index, kind="narration", text=clean))
                index += 1
        if lines:
            scenes.append(Scene(index=len(scenes), heading=None, int_ext=None, location="", time_of_day=None,
                                lines=tuple(lines)))
    page = {k: plain_text(v) for k, v in (title_page or {}).items()}
    given = _title_page_title(title_page or {})
    title = given or (one_line(doc.title) if doc.title else "") or _fallback_title(settings)
    return Script(title=title, scenes=tuple(scenes), characters=(), title_page=page, is_fountain=False)


def _title_page_title(title_page: dict[str, str]) -> str:
    for key, value in title_page.items():
        if key.strip().lower() == "title":
            return one_line(value)
    return ""


@dataclass
class _SceneDraft:
    heading: str | None
    section: str | None
    number: str | None
    lines: list[Line] = field(default_factory=list)


class _Builder:
    """Walks Fountain elements, numbering lines and opening scenes at headings."""

    def __init__(self) -> None:
        self.drafts: list[_SceneDraft] = []
        self.section: str | None = None
        self.characters: list[str] = []
        self.parenthetical: str | None = None

    def _scene(self) -> _SceneDraft:
        if not self.drafts:
            self.drafts.append(_SceneDraft(heading=None, section=self.section, number=None))
        return self.drafts[-1]

    def _line(
        self,
        kind: LineKind,
        text: str,
        *,
        speaker: str = NARRATOR,
        parenthetical: str | None = None,
        extension: str | None = None,
        dual: bool = False,
        spoken: bool = True,
    ) -> None:
        clean = one_line(text)
        written = ""
        asides: tuple[str, ...] = ()
        if kind == "action":
            written = clean
            clean, asides = split_asides(clean)
        if not clean:
            return
        if speaker != NARRATOR and speaker not in self.characters:
            self.characters.append(speaker)
        # index -1 until the scenes are settled (a leading shown-only block may move).
        line = Line(-1, kind, clean, speaker, parenthetical, extension, dual, spoken, asides,
                    written if asides else "")
        self._scene().lines.append(line)

    def add(self, e: Element) -> None:
        if e.type == "scene_heading":
            self.drafts.append(_SceneDraft(heading=one_line(e.text), section=self.section, number=e.scene_number))
        elif e.type == "section":
            self.section = one_line(e.text) or self.section
        elif e.type == "action":
            self._line("action", e.text)
        elif e.type == "character":
            self.parenthetical = None
        elif e.type == "parenthetical":
            self.parenthetical = one_line(e.text) or None
        elif e.type == "dialogue" and e.character is not None:
            self._line("dialogue", e.text, speaker=_speaker(e.character), parenthetical=self.parenthetical,
                       extension=e.extension, dual=e.dual)
            self.parenthetical = None
        elif e.type == "lyric":
            speaker = _speaker(e.character) if e.character else NARRATOR
            self._line("lyric", e.text, speaker=speaker, extension=e.extension, dual=e.dual)
        elif e.type == "transition":
            self._line("transition", e.text, spoken=False)
        elif e.type == "centered":
            self._line("centered", e.text, spoken=False)
        # synopsis, note, page_break: never lines.

    def scenes(self) -> tuple[Scene, ...]:
        drafts = list(self.drafts)
        # Shown-only lines before the first heading (FADE IN:) open the first real scene rather
        # than making a scene of their own.
        if len(drafts) > 1 and drafts[0].heading is None and not any(ln.spoken for ln in drafts[0].lines):
            drafts[1].lines[:0] = drafts[0].lines
            if drafts[1].section is None:
                drafts[1].section = drafts[0].section
            drafts.pop(0)
        scenes = []
        index = 0
        for n, d in enumerate(d for d in drafts if d.lines):
            lines = []
            for ln in d.lines:
                lines.append(_renumber(ln, index))
                index += 1
            facts = parse_heading(d.heading) if d.heading else Heading(None, "", None)
            scenes.append(
                Scene(index=n, heading=d.heading, int_ext=facts.int_ext, location=facts.location,
                      time_of_day=facts.time_of_day, lines=tuple(lines), section=d.section, number=d.number)
            )
        return tuple(scenes)


def split_asides(text: str) -> tuple[str, tuple[str, ...]]:
    """`"MARA (60s), the keeper, climbs."` -> `("MARA, the keeper, climbs.", ("(60s)",))`."""
    asides = tuple(m.group(0).strip() for m in _ASIDE.finditer(text))
    if not asides:
        return text, ()
    clean = _SPACE_BEFORE_PUNCT.sub(r"\1", _ASIDE.sub("", text))
    return " ".join(clean.split()), asides


def _renumber(line: Line, index: int) -> Line:
    return replace(line, index=index)


def _speaker(name: str) -> str:
    speaker = " ".join(one_line(name).upper().split())
    return speaker or NARRATOR


def _from_fountain(doc: FountainDocument, settings: RenderSettings) -> Script:
    builder = _Builder()
    for element in doc.elements:
        builder.add(element)
    scenes = builder.scenes()
    title = _title_page_title(doc.title_page)
    title_page = {k: plain_text(v) for k, v in doc.title_page.items()}
    used = {ln.speaker for s in scenes for ln in s.lines}
    characters = tuple(c for c in builder.characters if c in used)
    return Script(
        title=title or _fallback_title(settings),
        scenes=scenes,
        characters=characters,
        title_page=title_page,
        is_fountain=True,
        synopses=tuple(one_line(e.text) for e in doc.elements if e.type == "synopsis" and e.text.strip()),
    )
