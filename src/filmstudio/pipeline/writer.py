"""From an idea to a screenplay: the brief, the instructions, and the check-and-repair loop.

Engine-neutral: a `Writer` (a local OpenAI-compatible server, or the built-in transformers model)
only answers a conversation. What makes the answer a film is here: a word budget from the fit
model (the share of the film that is speech times the speaking rate), instructions for the form
our pipeline reads best, a deterministic clean-up of what models usually get wrong (markdown
fences, bold headings, chat-style `NAME: line` dialogue, chatter around the screenplay), and a
check by our own Fountain parser and preflight — not by the model's word count. A screenplay that
does not pass is sent back with the list of its problems, at most `rounds` times in all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from filmstudio.domain.errors import FilmStudioError, IdeaError, ScriptError, WriterFailed
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.cancel import CancelToken
from filmstudio.pipeline.engines import ChatMessage, Completion, VoiceInfo, Writer
from filmstudio.pipeline.fit import NATURAL_WPM, Pacing, count_words

MAX_IDEA_CHARS = 4000  # "a sentence to a page": a page of prose is ~3,000 characters
DEFAULT_DURATION = 60
ROUNDS = 3
# The moods our voices act (pipeline/script/delivery.py's lexicon), one word each, for the model.
DELIVERY_WORDS = ("whispering", "shouting", "angrily", "quietly", "softly", "menacing", "pleading", "sadly",
                  "laughing", "excited", "urgently", "nervously", "tired", "dryly", "amused", "calmly", "beat")
# The share of the film's speech the budget aims at: the preflight allows up to 230 wpm, so a little
# under the natural rate leaves room for the model's miscount without a padded film.
BUDGET_SHARE = 0.9
TOO_SHORT = 0.45  # below this share of the budget, the film would be mostly silence


@dataclass(frozen=True)
class Brief:
    """What to write: an idea and the film it is for."""

    idea: str
    duration: int = DEFAULT_DURATION
    style: str = "cinematic"
    language: str = "en"
    audience: str = ""  # e.g. "children", "general", "adults"
    tone: str = ""  # e.g. "warm", "tense", "funny"
    characters: int | None = None  # how many speaking characters, if the user says

    @classmethod
    def for_settings(cls, idea: str, settings: RenderSettings) -> Brief:
        """The brief for a film of these render settings (its duration, style and language)."""
        return cls(idea=idea, duration=settings.duration, style=settings.style, language=settings.language)

    def checked(self) -> Brief:
        idea = " ".join(self.idea.split())
        if not idea:
            raise IdeaError("the idea is empty: say in a sentence or more what the film is about", code="IDEA_EMPTY")
        if len(idea) > MAX_IDEA_CHARS:
            raise IdeaError(f"the idea is {len(idea)} characters; at most {MAX_IDEA_CHARS} (about a page)",
                            code="IDEA_TOO_LONG", details={"length": len(idea), "limit": MAX_IDEA_CHARS})
        if self.characters is not None and not 0 <= self.characters <= 8:
            raise IdeaError("characters must be 0 to 8", code="INVALID_SETTINGS", details={"characters": self.characters})
        return Brief(idea, self.duration, self.style, self.language, self.audience, self.tone, self.characters)

    @property
    def scenes(self) -> int:
        """How many scenes a film of this length holds comfortably (one every ~20 s, 1 to 10)."""
        return max(1, min(10, round(self.duration / 20)))

    @property
    def words(self) -> int:
        """The word budget: spoken words that fill the film's speech at the natural rate."""
        pacing = Pacing.for_duration(self.duration)
        lines = max(2, round(self.duration / 5))
        overhead = (pacing.title + pacing.end + self.scenes * (pacing.lead + pacing.tail)
                    + pacing.gap * max(0, lines - 1))
        speech = max(3.0, self.duration - overhead)
        return max(8, round(speech * NATURAL_WPM / 60.0 * BUDGET_SHARE))


@dataclass(frozen=True)
class Problem:
    """What is wrong with a draft; `blocking` ones make it unusable, the rest are advice."""

    text: str
    blocking: bool = True


@dataclass(frozen=True)
class Screenplay:
    """A written screenplay that passed the checks."""

    text: str
    title: str
    rounds: int  # answers it took (1: the first one fitted)
    words: int  # spoken words, as the fit model counts them
    budget: int
    scenes: int
    advice: tuple[str, ...] = ()  # what is still not as asked (never a reason to refuse the draft)
    repaired: tuple[str, ...] = field(default_factory=tuple)  # what the clean-up fixed in the last answer

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "rounds": self.rounds, "words": self.words, "word_budget": self.budget,
                "scenes": self.scenes, "advice": list(self.advice), "repaired": list(self.repaired)}


# -- the instructions ------------------------------------------------------------------------------


def instructions(brief: Brief) -> list[ChatMessage]:
    """The conversation's first two turns: how to write, then what."""
    cast = (f"exactly {brief.characters} speaking characters" if brief.characters
            else "two or three speaking characters (or a narrator alone if the idea wants it)")
    system = "\n".join([
        "You are a screenwriter. You write short films in Fountain screenplay format, nothing else.",
        "Rules:",
        "- Start with a title page line: Title: <the film's title>",
        "- Each scene starts with a heading on its own line: INT. PLACE - TIME or EXT. PLACE - TIME "
        "(TIME is DAY, NIGHT, MORNING, EVENING or DUSK).",
        "- Introduce every character once, the first time they appear in an action line, with the name "
        "in CAPITALS, their age and a look you can see: MARA (60s), weathered, in a yellow raincoat.",
        "- Action lines say only what the camera sees: people, places, objects, light, weather.",
        "- Dialogue: the character's name in CAPITALS on its own line, then their words on the next line.",
        "- A parenthetical under a name is only one of: " + ", ".join(f"({w})" for w in DELIVERY_WORDS) + ".",
        "- No markdown, no bold, no numbered scenes, no notes, no commentary before or after.",
        f"- Write in the language with ISO code '{brief.language}'; headings stay INT./EXT.",
    ])
    parts = [
        f"Write a {brief.duration}-second {brief.style} short film from this idea: {brief.idea}",
        f"Length: about {brief.words} spoken words in all (dialogue and action together), "
        f"in {brief.scenes} scene{'s' if brief.scenes != 1 else ''}.",
        f"Cast: {cast}.",
    ]
    if brief.audience:
        parts.append(f"Audience: {brief.audience}.")
    if brief.tone:
        parts.append(f"Tone: {brief.tone}.")
    parts.append("Answer with the screenplay only.")
    return [ChatMessage("system", system), ChatMessage("user", "\n".join(parts))]


def repair_request(problems: Sequence[Problem]) -> ChatMessage:
    listed = "\n".join(f"- {p.text}" for p in problems)
    return ChatMessage("user", "That screenplay has these problems:\n" + listed
                       + "\nWrite the whole screenplay again with them fixed. Answer with the screenplay only.")


# -- the clean-up: what models get wrong in form, fixed without asking again -------------------------

_FENCE = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_SCENE_NUMBER = re.compile(r"^(?:scene\s*\d+\s*[:.\-–—]\s*|\d+[.)]\s+)(?=(?:INT|EXT|I/E)\b)", re.IGNORECASE)
_HEADING = re.compile(r"^(INT\.?/EXT|EXT\.?/INT|I/E|INTERIOR|EXTERIOR|INT|EXT)[.:]?\s+(.+)$", re.IGNORECASE)
_TIMES = ("DAY", "NIGHT", "MORNING", "EVENING", "DUSK", "DAWN", "AFTERNOON", "SUNSET", "SUNRISE", "LATER",
          "CONTINUOUS", "MOMENTS LATER")
_CHAT_LINE = re.compile(r"^([A-Z][A-Z0-9 .'\-]{0,30}?)(\s*\([^)]*\))?\s*:\s+(\S.*)$")
_TITLE_LINE = re.compile(r"^\s*title\s*:\s*(.+)$", re.IGNORECASE)
_CHATTER = re.compile(r"^(?:here(?:'s| is)\b|sure\b|certainly\b|okay\b|of course\b|below is\b|i hope\b|feel free\b|"
                      r"let me know\b|this screenplay\b|note:|notes:|this short film\b|i've\b|i have\b)", re.IGNORECASE)
_START = re.compile(r"^(?:title\s*:|(?:INT|EXT|I/E)[./ ]|FADE IN)", re.IGNORECASE)


def clean(answer: str) -> tuple[str, list[str]]:
    """The answer as plain Fountain, and what was fixed."""
    fixed: list[str] = []
    text = answer.replace("\r\n", "\n").replace("\r", "\n")
    fences = _FENCE.findall(text)
    if fences:
        text = max(fences, key=len)
        fixed.append("took the screenplay out of its markdown fence")
    lines = text.split("\n")
    out: list[str] = []
    for raw in lines:
        line = raw.rstrip()
        bare = _MD_HEADING.sub("", line)
        bare = _EMPHASIS.sub(r"\2", bare)
        bare = _ITALIC.sub(r"\1", bare)
        if bare != line:
            fixed.append("removed markdown emphasis and headings")
        bare = _SCENE_NUMBER.sub("", bare.strip()) if _SCENE_NUMBER.match(bare.strip()) else bare
        heading = _HEADING.match(bare.strip())
        if heading and (bare.strip().isupper() or bare.strip()[:3].upper() in ("INT", "EXT", "I/E")):
            bare = _fix_heading(heading.group(1), heading.group(2))
            if bare != line.strip():
                fixed.append("fixed a scene heading")
        chat = _CHAT_LINE.match(bare.strip())
        if chat and not _TITLE_LINE.match(bare) and not heading and not chat.group(1).strip().endswith("."):
            name = chat.group(1).strip()
            if name.upper() == name and name.lower() not in ("title", "author", "credit", "draft date"):
                if out and out[-1].strip():
                    out.append("")
                out.append(name)
                if chat.group(2):
                    out.append(chat.group(2).strip())
                out.append(chat.group(3).strip())
                out.append("")
                fixed.append("turned `NAME: line` dialogue into Fountain")
                continue
        out.append(bare)
    lines = _trim_chatter(out, fixed)
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    return text, sorted(set(fixed), key=fixed.index)


def _fix_heading(kind: str, rest: str) -> str:
    kind = kind.upper().replace("INTERIOR", "INT").replace("EXTERIOR", "EXT").rstrip(".")
    prefix = {"INT": "INT.", "EXT": "EXT.", "I/E": "INT./EXT."}.get(kind, "INT./EXT.")
    rest = rest.strip().rstrip(".:").upper()
    if " - " not in rest:
        for sep in (" – ", " — ", " -- ", ", ", "-"):
            head, found, tail = rest.rpartition(sep)
            if found and tail.strip() in _TIMES:
                rest = f"{head.strip()} - {tail.strip()}"
                break
        else:
            words = rest.split()
            if len(words) > 1 and words[-1] in _TIMES:
                rest = " ".join(words[:-1]) + " - " + words[-1]
    return f"{prefix} {rest}"


def _trim_chatter(lines: list[str], fixed: list[str]) -> list[str]:
    start = next((i for i, ln in enumerate(lines) if _START.match(ln.strip())), 0)
    if start:
        fixed.append("dropped the words before the screenplay")
    lines = lines[start:]
    # A closing paragraph of chatter ("I hope you enjoy…"): dropped.
    while lines:
        tail_start = len(lines)
        while tail_start > 0 and not lines[tail_start - 1].strip():
            tail_start -= 1
        block_start = tail_start
        while block_start > 0 and lines[block_start - 1].strip():
            block_start -= 1
        block = [ln for ln in lines[block_start:tail_start] if ln.strip()]
        if block and _CHATTER.match(block[0].strip()) and block_start > 0:
            lines = lines[:block_start]
            fixed.append("dropped the words after the screenplay")
            continue
        break
    return lines


# -- the check: our own parser and preflight decide -------------------------------------------------


def check(text: str, brief: Brief, voices: Sequence[VoiceInfo] = ()) -> list[Problem]:
    """What stops `text` from being this brief's film (blocking), and what is not as asked (advice)."""
    from filmstudio.pipeline import runner
    from filmstudio.pipeline.script.analysis import analyse
    from filmstudio.pipeline.script.fountain import parse

    settings = RenderSettings(duration=brief.duration, language=brief.language)
    doc = parse(text)
    headings = [e for e in doc.elements if e.type == "scene_heading"]
    problems: list[Problem] = []
    if not headings:
        problems.append(Problem("it has no scene headings: start every scene with a line like "
                                "INT. KITCHEN - NIGHT or EXT. HARBOUR - DAY"))
    try:
        script = analyse(text, settings)
    except ScriptError as exc:
        return [*problems, Problem(f"it has nothing to speak or show ({exc.message})")]
    spoken = [ln.text for scene in script.scenes for ln in scene.lines if ln.spoken and ln.text.strip()]
    words = sum(count_words(t) for t in spoken)
    try:
        runner.preflight(text, settings, voices)
    except ScriptError as exc:
        if exc.code != "SCRIPT_TOO_LONG":
            return [*problems, Problem(f"it cannot become a film: {exc.message}")]
        need = float(exc.details.get("needed_seconds") or exc.details.get("required_seconds") or 0.0)
        cut = max(1, round(words * min(0.85, brief.words / max(1, words))))
        said = f" (it needs {need:.0f} s of speech)" if need else ""
        problems.append(Problem(f"it is too long for a {brief.duration}-second film{said}: cut it to about "
                                f"{cut} spoken words"))
    if words < brief.words * TOO_SHORT:
        problems.append(Problem(f"it is too short: {words} spoken words for a {brief.duration}-second film; "
                                f"write about {brief.words}"))
    problems += _advice(doc, script)
    return problems


def _advice(doc: Any, script: Any) -> list[Problem]:
    from filmstudio.pipeline.script.delivery import beat_before, changes_delivery

    advice: list[Problem] = []
    action = " ".join(e.text for e in doc.elements if e.type == "action")
    for name in script.characters:
        if name.upper() in ("NARRATOR",):
            continue
        if not re.search(rf"\b{re.escape(name.upper())}\b", action):
            advice.append(Problem(f"{name} is never introduced in an action line (name in capitals, age, look)",
                                  blocking=False))
    for scene in script.scenes:
        for line in scene.lines:
            said = (line.parenthetical or "").strip("() ")
            if said and not changes_delivery(said) and not beat_before(line):
                advice.append(Problem(f"the parenthetical ({said}) is not one of ours: use only "
                                      + ", ".join(f"({w})" for w in DELIVERY_WORDS[:6]) + " and the like",
                                      blocking=False))
    return advice


def _title(text: str, brief: Brief) -> tuple[str, str]:
    """The screenplay's title, adding a title page from the idea when the model left it out."""
    from filmstudio.pipeline.script.fountain import parse

    found = (parse(text).field("title") or "").strip()
    if found:
        return text, found
    words = re.findall(r"[\w'’-]+", brief.idea)[:6]
    title = " ".join(words).strip().capitalize() or "Untitled"
    return f"Title: {title}\n\n{text}", title


# -- the loop ---------------------------------------------------------------------------------------

RoundStream = Callable[[int, str], None]
"""on_text(round, delta): a round's text as the model writes it (round 1, then each repair)."""


def write_screenplay(writer: Writer, brief: Brief, *, cancel: CancelToken, voices: Sequence[VoiceInfo] = (),
                     options: Completion | None = None, on_text: RoundStream | None = None,
                     rounds: int = ROUNDS) -> Screenplay:
    """Write `brief`'s screenplay: ask, clean, check, and ask again with the problems (at most `rounds`)."""
    brief = brief.checked()
    options = options or Completion(max_tokens=max(600, brief.words * 4 + 300))
    messages = instructions(brief)
    problems: list[Problem] = []
    for n in range(1, rounds + 1):
        cancel.raise_if_cancelled()
        stream = (lambda delta, n=n: on_text(n, delta)) if on_text is not None else None
        answer = writer.complete(messages, options, cancel=cancel, stream=stream)
        text, repaired = clean(answer)
        problems = check(text, brief, voices)
        if not any(p.blocking for p in problems):
            text, title = _title(text, brief)
            return Screenplay(text=text, title=title, rounds=n, words=_spoken_words(text, brief), budget=brief.words,
                              scenes=_scene_count(text), advice=tuple(p.text for p in problems),
                              repaired=tuple(repaired))
        messages = [*messages, ChatMessage("assistant", answer), repair_request(problems)]
    blocking = [p.text for p in problems if p.blocking]
    raise WriterFailed(f"the model's screenplay still does not fit after {rounds} answers: " + "; ".join(blocking),
                       details={"problems": blocking, "rounds": rounds, "word_budget": brief.words})


def _spoken_words(text: str, brief: Brief) -> int:
    from filmstudio.pipeline.script.analysis import analyse

    script = analyse(text, RenderSettings(duration=brief.duration, language=brief.language))
    return sum(count_words(ln.text) for s in script.scenes for ln in s.lines if ln.spoken)


def _scene_count(text: str) -> int:
    from filmstudio.pipeline.script.fountain import parse

    return sum(1 for e in parse(text).elements if e.type == "scene_heading")


def is_writer_error(exc: BaseException) -> bool:
    return isinstance(exc, FilmStudioError) and exc.code.startswith(("WRITER_", "IDEA_"))
