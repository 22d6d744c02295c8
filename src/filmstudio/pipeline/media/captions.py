"""Subtitle cues from clip timings; SRT/WebVTT writing and parsing; translation alignment."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from filmstudio.domain.errors import ScriptError
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.context import atomic_output
from filmstudio.pipeline.plan import Cue, Script
from filmstudio.pipeline.script.analysis import analyse

MIN_CUE_SECONDS = 0.83  # 5/6 s, the usual floor for a readable cue
MAX_CHARS_PER_SECOND = 17.0  # adult reading speed for English subtitles



def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words a phrase never ends on (a cue ending "the", "of", "and" leaves the reader hanging) and
# words a phrase starts with (a cue boundary just before them is natural). English only: other
# languages still split at sentence and clause ends, then evenly.
_NO_END_WORDS = _word_set(
    "a an the my your his her its our their this these those some any no every of to in on at by for from "
    "with into onto than as and or but nor so if that which who whose whom where when while because very "
    "not is are was were be been being has have had do does did can could will would shall should may "
    "might must i we you he she it they"
)
_START_WORDS = _word_set(
    "and or but nor so yet because although though while when whenever where which who whose that than "
    "until unless since after before as if to of in on at by for from with without into onto through "
    "across along around over under between against"
)

# Scripts written without spaces between words: any character is a place to wrap.
_NO_SPACE_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")
# Split after a full stop (and any closing quote or bracket), keeping every character.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’»)\]]))\s+|(?<=[。！？])")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+|(?<=[，、；：])\s*|\s+(?=[—–]\s)")

Token = tuple[str, str]  # (glue before it: "" or " ", text)


def _tokens(text: str) -> list[Token]:
    """Words (and single CJK characters), each with the glue that joins it to the one before."""
    out: list[Token] = []
    for n, word in enumerate(text.split()):
        glue = "" if n == 0 else " "
        piece = ""
        for ch in word:
            if _NO_SPACE_SCRIPT.match(ch):
                if piece:
                    out.append((glue, piece))
                    glue, piece = "", ""
                out.append((glue, ch))
                glue = ""
            else:
                piece += ch
        if piece:
            out.append((glue, piece))
    return out


def _join(tokens: Sequence[Token]) -> str:
    return "".join((glue if n else "") + word for n, (glue, word) in enumerate(tokens))


def _break_long(tokens: list[Token], max_chars: int) -> list[Token]:
    """Split words longer than a line, after hyphens where possible, else at `max_chars`."""
    out: list[Token] = []
    for glue, word in tokens:
        if len(word) <= max_chars:
            out.append((glue, word))
            continue
        pieces: list[str] = []
        for part in re.split(r"(?<=-)", word):
            if pieces and len(pieces[-1]) + len(part) <= max_chars:
                pieces[-1] += part
            else:
                pieces.extend(part[k : k + max_chars] for k in range(0, len(part), max_chars))
        out.extend((glue if n == 0 else "", piece) for n, piece in enumerate(p for p in pieces if p))
    return out


def _greedy(tokens: list[Token], width: int) -> list[list[Token]]:
    lines: list[list[Token]] = []
    current: list[Token] = []
    length = 0
    for glue, word in tokens:
        add = len(word) + (len(glue) if current else 0)
        if current and length + add > width:
            lines.append(current)
            current, length = [("", word)], len(word)
        else:
            current.append((glue, word))
            length += add
    if current:
        lines.append(current)
    return lines


def wrap(text: str, *, max_chars: int = 42, max_lines: int = 2) -> list[str] | None:
    """Balanced lines of at most `max_chars`, or None if `text` needs more than `max_lines`."""
    tokens = _break_long(_tokens(text), max_chars)
    if not tokens:
        return []
    total = len(_join(tokens))
    if total <= max_chars:
        return [_join(tokens)]
    # The narrowest width that still fits in max_lines gives the most even lines.
    for width in range(max(1, math.ceil(total / max_lines)), max_chars + 1):
        lines = _greedy(tokens, width)
        if len(lines) <= max_lines:
            return [_join(line) for line in lines]
    return None


def _fits(tokens: list[Token], max_chars: int, max_lines: int) -> bool:
    return wrap(_join(tokens), max_chars=max_chars, max_lines=max_lines) is not None


def _split_pieces(text: str, pattern: re.Pattern[str], glue: str = "") -> list[tuple[str, str]]:
    """Pieces of `text` split at `pattern`, each with the glue (" " or "") the text had before it."""
    out: list[tuple[str, str]] = []
    last = 0
    pending = glue
    for m in [*pattern.finditer(text), None]:
        end = m.start() if m else len(text)
        piece = text[last:end]
        if piece.strip():
            out.append((pending or (" " if piece[:1].isspace() else ""), piece.strip()))
            pending = ""
        elif piece:
            pending = " "
        if m:
            if any(ch.isspace() for ch in m.group()):
                pending = " "
            last = m.end()
    return out


def split_for_cues(text: str, *, max_chars: int = 42, max_lines: int = 2) -> list[str]:
    """Split a line's text into cue-sized chunks at sentence, then clause, then word ends."""
    text = " ".join(text.split())
    if not text:
        return []
    if wrap(text, max_chars=max_chars, max_lines=max_lines) is not None:
        return [text]
    units: list[list[Token]] = []
    for glue, sentence in _split_pieces(text, _SENTENCE_END):
        if wrap(sentence, max_chars=max_chars, max_lines=max_lines) is not None:
            units.append(_unit(sentence, glue))
            continue
        for clause_glue, clause in _split_pieces(sentence, _CLAUSE_END, glue):
            tokens = _unit(clause, clause_glue)
            if _fits(tokens, max_chars, max_lines):
                units.append(tokens)
            else:
                units.extend(_phrases(_break_long(tokens, max_chars), max_chars, max_lines))
    return [_join(u) for u in _pack(units, max_chars, max_lines)]


def _unit(text: str, glue: str) -> list[Token]:
    """Tokens of a sentence or clause, joined to what came before by `glue`."""
    tokens = _tokens(text)
    if tokens:
        tokens[0] = (glue, tokens[0][1])
    return tokens


def _bare(word: str) -> str:
    return word.strip("\"'“”‘’«»()[]").lower()


def _break_cost(before: Token, after: Token) -> float:
    """How much a cue boundary between two words hurts: 0 after punctuation, most inside a phrase."""
    last, first = before[1], after[1]
    if last[-1:] in ",;:—–-…" or not after[0]:
        return 0.0 if after[0] else 6.0  # no glue: inside a CJK run, any place is as good
    if _bare(last) in _NO_END_WORDS:
        return 12.0
    return 1.0 if _bare(first) in _START_WORDS else 6.0


def _phrases(tokens: list[Token], max_chars: int, max_lines: int) -> list[list[Token]]:
    """A clause too long for one cue, cut into the fewest cues, at the least hurtful word boundaries.

    Dynamic programming over word positions: each cue costs a fixed amount (fewer cues first),
    each boundary its `_break_cost`, and a cue much shorter than the others a little more.
    """
    n = len(tokens)
    best: list[tuple[float, int]] = [(math.inf, n)] * (n + 1)
    best[n] = (0.0, n)
    for i in range(n - 1, -1, -1):
        length = 0
        for j in range(i + 1, n + 1):
            length += len(tokens[j - 1][1]) + (1 if j - 1 > i else 0)
            if length > max_chars * max_lines or not _fits(tokens[i:j], max_chars, max_lines):
                if j == i + 1:
                    best[i] = (best[j][0] + 20.0, j)  # a single over-long token: its own cue
                break
            cost = 20.0 + best[j][0] + (_break_cost(tokens[j - 1], tokens[j]) if j < n else 0.0)
            cost += 4.0 if length < max_chars / 3 else 0.0
            if cost < best[i][0]:
                best[i] = (cost, j)
    out: list[list[Token]] = []
    i = 0
    while i < n:
        j = best[i][1]
        out.append(tokens[i:j])
        i = j
    return out


def _pack(units: list[list[Token]], max_chars: int, max_lines: int) -> list[list[Token]]:
    """Greedily join neighbouring units while the result still fits one cue."""
    out: list[list[Token]] = []
    for unit in units:
        if not unit:
            continue
        if out:
            candidate = out[-1] + unit
            if _fits(candidate, max_chars, max_lines):
                out[-1] = candidate
                continue
        out.append(list(unit))  # keeps its glue, in case a later pass joins it on
    return out


WordTimes = Sequence[tuple[str, float, float]]
"""A line's spoken words with their start and end on the film's timeline (seconds)."""
_CUE_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")


def _word_bounds(chunks: list[str], words: WordTimes | None) -> list[tuple[float, float]] | None:
    """Each chunk's (first word's start, last word's end), when the words match the text one to one."""
    if not words:
        return None
    counts = [len(_CUE_WORD.findall(c)) for c in chunks]
    if sum(counts) != len(words) or any(n == 0 for n in counts):
        return None  # the voice spoke other words (numbers read out, names): share the time by characters
    out, at = [], 0
    for n in counts:
        out.append((words[at][1], words[at + n - 1][2]))
        at += n
    return out


def build_cues(
    timed: Sequence[tuple[int, float, float, str]], *, max_chars: int = 42, max_lines: int = 2,
    words: Mapping[int, WordTimes] | None = None,
) -> list[Cue]:
    """Cues from `(line_index, start, end, text)` clip timings.

    A line that fits one cue starts exactly at its clip's start; a longer one is split at phrase
    boundaries, each cue timed by its own words where the voice gave word timings (`words`, by
    line index), else sharing the line's time by characters. Cues never overlap; short cues are
    held to 0.83 s, and to a reading speed of 17 characters a second, where the next cue leaves room.
    """
    ordered = sorted((t for t in timed if t[3].strip()), key=lambda t: (t[1], t[0]))
    raw: list[tuple[int, float, float, str]] = []
    for line_index, start, end, text in ordered:
        chunks = split_for_cues(text, max_chars=max_chars, max_lines=max_lines)
        bounds = _word_bounds(chunks, (words or {}).get(line_index)) if len(chunks) > 1 else None
        if bounds is not None:
            for k, (chunk, (w_start, w_end)) in enumerate(zip(chunks, bounds, strict=True)):
                # The first cue starts with the clip, the last ends with it; between, at the words.
                raw.append((line_index, start if k == 0 else max(start, w_start),
                            end if k == len(chunks) - 1 else min(end, w_end), chunk))
            continue
        total = sum(len(c) for c in chunks)
        span = max(0.0, end - start)
        done = 0
        for chunk in chunks:
            c_start = start + span * done / total
            done += len(chunk)
            c_end = start + span * done / total
            raw.append((line_index, c_start, c_end, chunk))
    cues: list[Cue] = []
    for n, (line_index, start, end, chunk) in enumerate(raw):
        limit = raw[n + 1][1] if n + 1 < len(raw) else math.inf
        wanted = max(MIN_CUE_SECONDS, len(chunk) / MAX_CHARS_PER_SECOND)
        end = min(max(end, start + wanted), limit)
        if end <= start:
            continue  # two lines share a start: the later one's cues carry the text
        lines = wrap(chunk, max_chars=max_chars, max_lines=max_lines) or [chunk]
        cues.append(Cue(index=len(cues) + 1, start=start, end=end, text="\n".join(lines), line_index=line_index))
    return cues


def too_fast(cues: Sequence[Cue], max_cps: float = MAX_CHARS_PER_SECOND) -> list[Cue]:
    """Cues that ask for more than `max_cps` characters a second (worth a job warning)."""
    return [c for c in cues if len(c.text.replace("\n", "")) / max(c.end - c.start, 1e-6) > max_cps]


# -- files -------------------------------------------------------------------------------------


def _stamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _safe(text: str) -> str:
    # "-->" ends a timing line in both formats; blank lines end a cue.
    text = text.replace("-->", "->")
    return "\n".join(line for line in text.split("\n") if line.strip())


def write_srt(cues: Sequence[Cue], path: Path) -> Path:
    """Write SubRip (UTF-8) atomically; returns `path`."""
    blocks = [
        f"{n}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{_safe(c.text)}\n"
        for n, c in enumerate(cues, start=1)
    ]
    with atomic_output(path) as tmp:
        tmp.write_text("\n".join(blocks), encoding="utf-8")
    return path


def write_vtt(cues: Sequence[Cue], path: Path) -> Path:
    """Write WebVTT atomically (text HTML-escaped as the format requires); returns `path`."""
    blocks = ["WEBVTT\n"]
    for n, c in enumerate(cues, start=1):
        text = html.escape(_safe(c.text), quote=False)
        blocks.append(f"{n}\n{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{text}\n")
    with atomic_output(path) as tmp:
        tmp.write_text("\n".join(blocks), encoding="utf-8")
    return path


_TIMING = re.compile(
    r"^\s*(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{3})\s*-->\s*(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{3})"
)


def _seconds(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def _parse(text: str, *, vtt: bool) -> list[Cue]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    cues: list[Cue] = []
    for block in re.split(r"\n\s*\n", text):
        lines = block.split("\n")
        for k, line in enumerate(lines):
            m = _TIMING.match(line)
            if not m:
                continue
            g = m.groups()
            body = "\n".join(lines[k + 1 :]).strip("\n")
            if vtt:
                body = html.unescape(body)
            cues.append(Cue(index=len(cues) + 1, start=_seconds(*g[:4]), end=_seconds(*g[4:]), text=body,
                            line_index=-1))
            break
    return cues


def parse_srt(path: Path) -> list[Cue]:
    """Read a SubRip file back into cues (`line_index` is -1: files do not carry it)."""
    return _parse(path.read_text(encoding="utf-8-sig"), vtt=False)


def parse_vtt(path: Path) -> list[Cue]:
    """Read a WebVTT file back into cues (`line_index` is -1)."""
    text = path.read_text(encoding="utf-8-sig")
    if not text.startswith("WEBVTT"):
        raise ValueError(f"{path} is not a WebVTT file")
    return _parse(text, vtt=True)


# -- translations ------------------------------------------------------------------------------


def align_translation(
    original: Script, translated_text: str, settings: RenderSettings, *, language: str | None = None
) -> dict[int, str]:
    """Map each original `Line.index` to its translated text, by position in the same structure.

    The translation is parsed like the original; both must have the same number of lines, else
    `ScriptError(code="TRANSLATION_MISMATCH")`.
    """
    lang = language or settings.language
    expected = len(original.lines)
    try:
        translated = analyse(translated_text, settings)
    except ScriptError:
        got = 0
    else:
        got = len(translated.lines)
        if got == expected:
            return {o.index: t.text for o, t in zip(original.lines, translated.lines, strict=True)}
    raise ScriptError(
        f"the {lang} translation has {got} lines where the script has {expected}; "
        "keep the same paragraphs, scene headings, cues and dialogue lines",
        code="TRANSLATION_MISMATCH",
        details={"expected": expected, "got": got, "language": lang},
    )
