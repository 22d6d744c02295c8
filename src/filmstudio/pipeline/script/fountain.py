"""A Fountain (https://fountain.io) screenplay parser producing typed elements."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

ElementType = Literal[
    "scene_heading",
    "action",
    "character",
    "parenthetical",
    "dialogue",
    "transition",
    "centered",
    "section",
    "synopsis",
    "lyric",
    "page_break",
    "note",
]


@dataclass(frozen=True)
class Element:
    """One Fountain element. `text` is as written (markup and inline notes kept)."""

    type: ElementType
    text: str
    scene_number: str | None = None  # `#1A#` on a scene heading
    extension: str | None = None  # character extension(s): "V.O.", "CONT'D", "V.O., CONT'D"
    dual: bool = False  # a `^` cue and its block
    depth: int = 0  # section level (`#` = 1)
    forced: bool = False  # written with a forcing prefix (`.`, `!`, `@`, `>`, `~`)
    character: str | None = None  # the cue name, on the elements of a dialogue block


@dataclass(frozen=True)
class FountainDocument:
    """A parsed Fountain file: title page fields and the body's elements in order."""

    title_page: dict[str, str] = field(default_factory=dict)
    elements: tuple[Element, ...] = ()

    def field(self, name: str) -> str | None:
        """A title page value by key, case-insensitively (`"draft date"`)."""
        wanted = name.strip().lower()
        for key, value in self.title_page.items():
            if key.lower() == wanted:
                return value
        return None


KNOWN_TITLE_KEYS = frozenset(
    {"title", "credit", "author", "authors", "source", "draft date", "date", "contact", "copyright",
     "notes", "revision", "episode", "series"}
)

_NOTE = re.compile(r"\[\[.*?\]\]", re.DOTALL)
_BONEYARD = re.compile(r"/\*.*?\*/", re.DOTALL)
_PLACEHOLDER = re.compile("\ue010(\\d+)\ue011")
_ONLY_NOTES = re.compile("(?:\ue010\\d+\ue011\\s*)+")
_TITLE_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9 _\-]*?)\s*:(.*)$")
_HEADING = re.compile(r"^(?:INT\.?/EXT|EXT\.?/INT|INT|EXT|EST|I/E|E/I)(?:\.|\s)", re.IGNORECASE)
_SCENE_NUMBER = re.compile(r"\s*#([\w.\-]+)#\s*$")
_PAGE_BREAK = re.compile(r"^={3,}\s*$")
_SECTION = re.compile(r"^(#+)\s*(.*)$")
_CENTERED = re.compile(r"^>\s*(.*?)\s*<$")
_PARENTHETICAL = re.compile(r"^\s*\(.*\)\s*$")
_EXTENSIONS = re.compile(r"\s*\(([^()]*)\)")
_NAMED_TRANSITIONS = frozenset({"FADE IN:", "FADE IN.", "FADE OUT.", "FADE OUT:", "FADE OUT", "FADE TO BLACK.",
                                "CUT TO BLACK.", "FADE TO WHITE."})


def is_scene_heading(line: str) -> bool:
    """Whether a (stripped) line is a scene heading: INT./EXT./EST./I/E..., or forced with one leading `.`."""
    if line.startswith(".") and not line.startswith(".."):
        return bool(line[1:].strip())
    return bool(_HEADING.match(line))


def _plain_transition(line: str) -> bool:
    if line != line.upper() or not any(c.isupper() for c in line):
        return False
    return line.endswith("TO:") or line in _NAMED_TRANSITIONS


def is_transition(line: str) -> bool:
    """Whether a (stripped) line is a transition: `CUT TO:`, `FADE OUT.`..., or forced `>` (not centered `> <`)."""
    if line.startswith(">"):
        return not line.rstrip().endswith("<")
    return _plain_transition(line)


def parse(text: str) -> FountainDocument:
    """Parse Fountain source into a `FountainDocument`. Never raises on odd input."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    text = _BONEYARD.sub("", text)
    notes: list[str] = []

    def hold(match: re.Match[str]) -> str:
        notes.append(match.group(0))
        return f"\ue010{len(notes) - 1}\ue011"

    # Notes may span lines; a placeholder keeps each on one line while lines are classified.
    text = _NOTE.sub(hold, text)
    lines = text.split("\n")
    title_page, start = _title_page(lines)
    elements = _Body(lines[start:], notes).parse()
    title_page = {k: _restore(v, notes) for k, v in title_page.items()}
    return FountainDocument(title_page=title_page, elements=tuple(elements))


def _restore(text: str, notes: list[str]) -> str:
    return _PLACEHOLDER.sub(lambda m: notes[int(m.group(1))], text)


def _title_page(lines: list[str]) -> tuple[dict[str, str], int]:
    """Read the title page at the top, if there is one: `(fields, first body line)`."""
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    first = _TITLE_KEY.match(lines[i]) if i < len(lines) else None
    if first is None or first.group(1).strip().lower() not in KNOWN_TITLE_KEYS:
        return {}, 0
    fields: dict[str, list[str]] = {}
    key: str | None = None
    while i < len(lines) and lines[i].strip():
        line = lines[i]
        match = _TITLE_KEY.match(line)
        indented = line.startswith(("   ", "\t"))
        if match and not indented:
            key = match.group(1).strip()
            fields[key] = [match.group(2).strip()] if match.group(2).strip() else []
        elif key is not None:
            fields[key].append(line.strip())
        else:
            return {}, 0
        i += 1
    return {k: "\n".join(v) for k, v in fields.items()}, i


def _is_blank(line: str | None) -> bool:
    return line is None or not line.strip()


def _character_name(line: str) -> tuple[str, str | None, bool, bool] | None:
    """`(name, extension, dual, forced)` if `line` is a character cue, else None."""
    s = line.strip()
    dual = s.endswith("^")
    if dual:
        s = s[:-1].rstrip()
    forced = s.startswith("@")
    if forced:
        s = s[1:].strip()
    extensions = [e.strip() for e in _EXTENSIONS.findall(s)]
    name = _EXTENSIONS.sub("", s).strip()
    if not name or "(" in name or ")" in name:
        return None
    if not forced:
        # A cue is all upper case and has at least one cased letter (CJK text has no case).
        if name != name.upper() or not any(c.isupper() for c in name):
            return None
        if name.endswith(":") or _PLACEHOLDER.search(name):
            return None
    extension = ", ".join(e for e in extensions if e) or None
    return name, extension, dual, forced


class _Body:
    """Line classifier for the body: one pass, state is the current dialogue block."""

    def __init__(self, lines: list[str], notes: list[str]) -> None:
        self.lines = lines
        self.notes = notes
        self.out: list[Element] = []

    def _add(
        self,
        type_: ElementType,
        text: str,
        *,
        scene_number: str | None = None,
        extension: str | None = None,
        dual: bool = False,
        depth: int = 0,
        forced: bool = False,
        character: str | None = None,
    ) -> None:
        self.out.append(
            Element(type_, _restore(text, self.notes), scene_number, extension, dual, depth, forced, character)
        )

    def _line(self, i: int) -> str | None:
        return self.lines[i] if 0 <= i < len(self.lines) else None

    def parse(self) -> list[Element]:
        i = 0
        n = len(self.lines)
        while i < n:
            line = self.lines[i]
            s = line.strip()
            if not s:
                i += 1
                continue
            before_blank = _is_blank(self._line(i - 1))
            after_blank = _is_blank(self._line(i + 1))
            if _ONLY_NOTES.fullmatch(s):
                for held in _PLACEHOLDER.finditer(s):
                    note = self.notes[int(held.group(1))]
                    self.out.append(Element("note", note[2:-2].strip()))
                i += 1
                continue
            if _PAGE_BREAK.match(s):
                self._add("page_break", "")
                i += 1
                continue
            if s.startswith("#"):
                section = _SECTION.match(s)
                assert section is not None
                self._add("section", section.group(2).strip(), depth=len(section.group(1)))
                i += 1
                continue
            if s.startswith("=") and not s.startswith("=="):
                self._add("synopsis", s[1:].strip())
                i += 1
                continue
            if s.startswith("~"):
                self._add("lyric", s[1:].lstrip(), forced=True)
                i += 1
                continue
            centered = _CENTERED.match(s)
            if centered:
                self._add("centered", centered.group(1))
                i += 1
                continue
            if s.startswith(">"):
                self._add("transition", s[1:].strip(), forced=True)
                i += 1
                continue
            if s.startswith("!"):
                i = self._action(i, forced=True)
                continue
            # The spec wants a blank line after a heading too; an all-caps heading is clear
            # enough without one, and the rule keeps prose like "Est. 1990, the shop..." action.
            if before_blank and (after_blank or s == s.upper()) and self._heading(s):
                i += 1
                continue
            if before_blank and after_blank and self._is_transition(s):
                self._add("transition", s)
                i += 1
                continue
            if before_blank and not after_blank:
                cue = _character_name(s)
                if cue is not None:
                    i = self._dialogue(i, *cue)
                    continue
            i = self._action(i, forced=False)
        return self.out

    def _heading(self, s: str) -> bool:
        if not is_scene_heading(s):
            return False
        forced = s.startswith(".")
        body = s[1:].strip() if forced else s
        number = None
        m = _SCENE_NUMBER.search(body)
        if m:
            number = m.group(1)
            body = body[: m.start()].rstrip()
        self._add("scene_heading", body, scene_number=number, forced=forced)
        return True

    @staticmethod
    def _is_transition(s: str) -> bool:
        return _plain_transition(s)

    def _action(self, i: int, *, forced: bool) -> int:
        """Collect an action paragraph (until a blank line or another element starts)."""
        collected: list[str] = []
        first = True
        while i < len(self.lines):
            line = self.lines[i]
            if not line.strip():
                break
            if not first and self._starts_element(line.strip()):
                break
            text = line.rstrip().replace("\t", "    ")
            if first and forced:
                text = text.lstrip()[1:]
            collected.append(text)
            first = False
            i += 1
        self._add("action", "\n".join(collected), forced=forced)
        return i

    @staticmethod
    def _starts_element(s: str) -> bool:
        """Lines that end an action paragraph even without a blank line before them."""
        return s.startswith(("~", "=", "#")) or _PAGE_BREAK.match(s) is not None or (
            s.startswith(">")
        )

    def _dialogue(self, i: int, name: str, extension: str | None, dual: bool, forced: bool) -> int:
        """Collect a character cue and its dialogue block."""
        self._add("character", name, extension=extension, dual=dual, forced=forced)
        i += 1
        speech: list[str] = []

        def flush() -> None:
            if speech:
                self._add("dialogue", "\n".join(speech), dual=dual, extension=extension, character=name)
                speech.clear()

        while i < len(self.lines):
            line = self.lines[i]
            s = line.strip()
            if not s:
                # Two spaces on an otherwise empty line keep the dialogue block open.
                if len(line) >= 2 and line.startswith("  ") and not _is_blank(self._line(i + 1)):
                    speech.append("")
                    i += 1
                    continue
                break
            if _PARENTHETICAL.match(s):
                flush()
                self._add("parenthetical", s, dual=dual, extension=extension, character=name)
            elif s.startswith("~"):
                flush()
                self._add("lyric", s[1:].lstrip(), dual=dual, forced=True, extension=extension, character=name)
            else:
                speech.append(s)
            i += 1
        flush()
        return i
