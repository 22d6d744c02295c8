"""Plain prose -> narrated passages: paragraphs, grouped into scenes."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Splitting is by sentence count, not characters, so a translation (longer or shorter in
# characters) splits the same way and its lines still line up with the original's.
MAX_SENTENCES = 5
# A paragraph this short (characters) joins the next scene rather than being a scene alone.
SHORT_PARAGRAPH = 30
TITLE_MAX_CHARS = 70
TITLE_MAX_WORDS = 10

_BLANK_LINES = re.compile(r"\n[ \t]*\n+")
_SENTENCE_END = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’»)\]]))\s+(?=\S)|(?<=[。！？])(?=\S)")
_FINAL_STOP = re.compile(r"[.!?…:;,。！？،؛]$")


@dataclass(frozen=True)
class ProsePassage:
    """One narrated scene of prose: its paragraphs (each becomes one narration line)."""

    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class ProseDocument:
    """Prose split for narration: an optional title line and the passages in order."""

    title: str | None
    passages: tuple[ProsePassage, ...]


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, each on one line with whitespace collapsed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    out = []
    for block in _BLANK_LINES.split(text):
        joined = " ".join(block.split())
        if joined:
            out.append(joined)
    return out


def sentences(paragraph: str) -> list[str]:
    """Split at sentence ends (Latin and CJK punctuation); never loses characters but spaces."""
    parts = [p.strip() for p in _SENTENCE_END.split(paragraph)]
    return [p for p in parts if p]


def looks_like_title(line: str) -> bool:
    """A short line with no final punctuation, e.g. `Solar Sails`."""
    words = line.split()
    return 0 < len(line) <= TITLE_MAX_CHARS and len(words) <= TITLE_MAX_WORDS and not _FINAL_STOP.search(line)


def split_prose(text: str) -> ProseDocument:
    """Split prose into a title (when the first line looks like one) and narrated passages."""
    paras = paragraphs(text)
    title: str | None = None
    if len(paras) > 1 and looks_like_title(paras[0].lstrip("#").strip()):
        # A Markdown-style `# Title` is a title too.
        title, paras = paras[0].lstrip("#").strip(), paras[1:]
    pieces: list[str] = []
    for para in paras:
        pieces.extend(_split_long(para))
    passages: list[list[str]] = []
    pending: list[str] = []
    for piece in pieces:
        pending.append(piece)
        if len(piece) >= SHORT_PARAGRAPH:
            passages.append(pending)
            pending = []
    if pending:
        if passages:
            passages[-1].extend(pending)
        else:
            passages.append(pending)
    return ProseDocument(title=title, passages=tuple(ProsePassage(tuple(p)) for p in passages))


def _split_long(paragraph: str) -> list[str]:
    parts = sentences(paragraph)
    if len(parts) <= MAX_SENTENCES:
        return [paragraph]
    groups = -(-len(parts) // MAX_SENTENCES)
    size = -(-len(parts) // groups)
    return [join_sentences(parts[k : k + size]) for k in range(0, len(parts), size)]


def join_sentences(parts: list[str]) -> str:
    """Join sentences with a space, except after CJK full stops (those scripts use none)."""
    out = ""
    for part in parts:
        out += part if not out or out.endswith(("。", "！", "？")) else " " + part
    return out
