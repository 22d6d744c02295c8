"""Subtitle cues from clip timings; SRT/WebVTT writing and parsing; translation alignment."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from filmstudio.domain.errors import ScriptError
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.context import atomic_output
from filmstudio.pipeline.media.linebreaks import (
    CLAUSE_END,
    FAULT,
    SENTENCE_END,
    Token,
    boundary_cost,
    break_long,
    fits,
    join_tokens,
    layout,
    tokenize,
    wrap,
)
from filmstudio.pipeline.plan import Cue, Script
from filmstudio.pipeline.script.analysis import analyse

MIN_CUE_SECONDS = 5 / 6  # the shortest a cue stays up and can still be read (Netflix: 5/6 s)
MAX_CUE_SECONDS = 7.0  # the longest a cue stays up
MAX_CHARS_PER_SECOND = 17.0  # adult reading speed for subtitles (Netflix timed-text style guide)
GAP_FRAMES = 2  # frames between two cues, so the eye sees that the text changed
MAX_LAG = 0.5  # a cue inside a line may start this much after its first word, to leave the one before up
MAX_LEAD = 0.5  # ... or this much before it, so that a line's cues share its time by their length
LAST_PAUSE = 2.0  # the pause the last line's cues may share (the film's end is not known here)


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


def _good(tokens: list[Token], max_chars: int, max_lines: int) -> bool:
    """Whether `tokens` make one cue whose lines break where the phrase allows."""
    found = layout(tokens, max_chars, max_lines) if fits(tokens, max_chars, max_lines) else None
    return found is not None and found[0] < FAULT


def split_for_cues(text: str, *, max_chars: int = 42, max_lines: int = 2) -> list[str]:
    """Split a line's text into cue-sized chunks at sentence, then clause, then phrase ends.

    A text that fits one cue only by breaking a line inside a phrase ("orbit around / the Earth")
    is cut into cues instead, where the phrase allows."""
    text = " ".join(text.split())
    if not text:
        return []
    if _good(tokenize(text), max_chars, max_lines):
        return [text]
    units: list[list[Token]] = []
    for glue, sentence in _split_pieces(text, SENTENCE_END):
        if _good(tokenize(sentence), max_chars, max_lines):
            units.append(_unit(sentence, glue))
            continue
        for clause_glue, clause in _split_pieces(sentence, CLAUSE_END, glue):
            tokens = _unit(clause, clause_glue)
            if _good(tokens, max_chars, max_lines):
                units.append(tokens)
            else:
                units.extend(_phrases(break_long(tokens, max_chars), max_chars, max_lines))
    return [join_tokens(u) for u in _pack(units, max_chars, max_lines)]


def _unit(text: str, glue: str) -> list[Token]:
    """Tokens of a sentence or clause, joined to what came before by `glue`."""
    tokens = tokenize(text)
    if tokens:
        tokens[0] = (glue, tokens[0][1])
    return tokens


def _phrases(tokens: list[Token], max_chars: int, max_lines: int) -> list[list[Token]]:
    """A clause too long for one cue, cut into the fewest cues, at the least hurtful word boundaries.

    Dynamic programming over word positions: each cue costs a fixed amount (fewer cues first),
    each boundary its `boundary_cost`, and a cue much shorter than the others a little more.
    """
    n = len(tokens)
    best: list[tuple[float, int]] = [(math.inf, n)] * (n + 1)
    best[n] = (0.0, n)
    for i in range(n - 1, -1, -1):
        length = 0
        for j in range(i + 1, n + 1):
            length += len(tokens[j - 1][1]) + (1 if j - 1 > i else 0)
            if length > max_chars * max_lines or not fits(tokens[i:j], max_chars, max_lines):
                if j == i + 1:
                    best[i] = (best[j][0] + 20.0, j)  # a single over-long token: its own cue
                break
            inside = layout(tokens[i:j], max_chars, max_lines)
            cost = 20.0 + best[j][0] + (boundary_cost(tokens, j) if j < n else 0.0) + (inside[0] if inside else 0.0)
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
            if _good(candidate, max_chars, max_lines):
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


@dataclass(frozen=True)
class _Piece:
    """A cue being built: its text (or lines, for two speakers), where its speech starts and ends."""

    line_index: int
    start: float
    end: float
    text: str
    first: bool  # the first cue of its line: it starts with the clip, never later
    speaker: str = ""
    lines: tuple[str, ...] = ()  # preset lines (a two-speaker cue), else wrapped from `text`


def _chars(text: str) -> int:
    return len(text.replace("\n", ""))


def build_cues(
    timed: Sequence[tuple[int, float, float, str]], *, max_chars: int = 42, max_lines: int = 2,
    words: Mapping[int, WordTimes] | None = None, speakers: Mapping[int, str] | None = None,
    fps: int = 24, max_cps: float = MAX_CHARS_PER_SECOND,
) -> list[Cue]:
    """Cues from `(line_index, start, end, text)` clip timings, timed for reading.

    A line that fits one cue starts exactly at its clip's start; a longer one is split at phrase
    boundaries, each cue timed by its own words where the voice gave word timings (`words`, by
    line index), else sharing the line's time by characters. Each cue then stays up for
    `max_cps` and at least 5/6 s, into the pause after it, never past 7 s nor closer than two
    frames to the next; a cue inside a line may start up to `MAX_LAG` after its words to leave
    the one before up. A cue still shorter than 5/6 s is merged with its neighbour where the two
    fit one cue (two speakers as a "-" dialogue pair, by `speakers`).
    """
    ordered = sorted((t for t in timed if t[3].strip()), key=lambda t: (t[1], t[0]))
    who = speakers or {}
    gap = GAP_FRAMES / fps
    pieces: list[_Piece] = []
    for n, (line_index, start, end, text) in enumerate(ordered):
        chunks = split_for_cues(text, max_chars=max_chars, max_lines=max_lines)
        spoken = _word_bounds(chunks, (words or {}).get(line_index)) if len(chunks) > 1 else None
        after = ordered[n + 1][1] - gap if n + 1 < len(ordered) else end + LAST_PAUSE
        bounds = _shared(chunks, start, end, max(end, after), spoken, gap, max_cps)
        last = len(chunks) - 1
        for k, (chunk, (w_start, w_end)) in enumerate(zip(chunks, bounds, strict=True)):
            # The first cue starts with the clip, the last ends with it; between, at the words.
            pieces.append(_Piece(line_index, start if k == 0 else max(start, w_start),
                                 end if k == last else min(end, w_end), chunk, k == 0, who.get(line_index, "")))
    timed_pieces = _merge_short(_time(pieces, gap, max_cps), max_chars, max_lines, gap, max_cps)
    cues: list[Cue] = []
    for piece, start, end in timed_pieces:
        lines = list(piece.lines) or wrap(piece.text, max_chars=max_chars, max_lines=max_lines) or [piece.text]
        cues.append(Cue(index=len(cues) + 1, start=start, end=end, text="\n".join(lines),
                        line_index=piece.line_index))
    return cues


def _shared(chunks: list[str], start: float, end: float, until: float,
            spoken: list[tuple[float, float]] | None, gap: float, max_cps: float) -> list[tuple[float, float]]:
    """Each chunk's (start, end): the line's time shared so that its fastest cue reads as slowly as
    it can, each cue starting at most `MAX_LEAD` before or `MAX_LAG` after its own first word
    (`spoken`, when the voice gave word timings; else anywhere in the line). The cues share the
    speech's own time when that reads at `max_cps` or slower, else also the pause after the line,
    up to the next line (`until`). The last chunk ends where the speech ends (the caller holds it)."""
    n = len(chunks)
    if n == 1:
        return [(start, end)]
    chars = [_chars(c) for c in chunks]
    until = max(end, min(until, start + MAX_CUE_SECONDS * n))
    window = []
    for k in range(1, n):
        lo, hi = (spoken[k][0] - MAX_LEAD, spoken[k][0] + MAX_LAG) if spoken else (start, end)
        window.append((min(max(lo, start), end), min(max(hi, start), end)))

    def place(rate: float, limit: float) -> tuple[list[float], bool]:
        """The earliest cue starts that give each cue `rate` (and 5/6 s), and whether they fit."""
        edges, fits = [start], True
        for k, (lo, hi) in enumerate(window):
            at = max(edges[-1] + max(MIN_CUE_SECONDS, chars[k] / rate) + gap, lo)
            fits = fits and at <= hi + 1e-9
            edges.append(min(at, hi))
        fits = fits and edges[-1] + max(MIN_CUE_SECONDS, chars[-1] / rate) <= limit + 1e-9
        return edges, fits

    def slowest(limit: float) -> float | None:
        """The slowest reading speed (characters a second) that fits before `limit`, by bisection."""
        slow, fast = 1.0, 1000.0
        if not place(fast, limit)[1]:
            return None
        while fast - slow > 0.05:
            mid = (slow + fast) / 2
            slow, fast = (slow, mid) if place(mid, limit)[1] else (mid, fast)
        return fast

    rate, limit = slowest(end), end
    if rate is None or rate > max_cps:
        rate, limit = slowest(until), until
    if rate is None and spoken is not None:  # no sharing fits the words' windows: each cue at its words
        return spoken
    if rate is None:  # too short a line for 5/6 s a cue: its time shared by characters
        total, span, done, out = sum(chars), max(0.0, end - start), 0, []
        for c in chars:
            a = start + span * done / total
            done += c
            out.append((a, start + span * done / total))
        return out
    edges = [*place(rate, limit)[0], end + gap]  # each cue ends two frames before the next starts
    return [(edges[k], max(edges[k], edges[k + 1] - gap)) for k in range(n)]


Timed = tuple[_Piece, float, float]


def _time(pieces: list[_Piece], gap: float, max_cps: float) -> list[Timed]:
    """Each piece's shown (start, end): held for reading into the pause after it, two frames off the next."""
    starts = [p.start for p in pieces]
    out: list[Timed] = []
    for n, p in enumerate(pieces):
        start = starts[n]
        inside = n + 1 < len(pieces) and not pieces[n + 1].first
        # A cue inside its line keeps the share of the line it was given (`_shared`), or 5/6 s;
        # a line's last cue is held for its reading time, into the pause after the line.
        need = MIN_CUE_SECONDS if inside else max(MIN_CUE_SECONDS, _chars(p.text) / max_cps)
        end = min(max(p.end, start + need), start + MAX_CUE_SECONDS)
        if n + 1 < len(pieces):
            nxt = pieces[n + 1]
            if not nxt.first:  # the same line goes on: its next cue may wait a little for this one
                lag = min(MAX_LAG, max(0.0, (nxt.end - nxt.start) / 2))
                starts[n + 1] = max(starts[n + 1], min(end + gap, nxt.start + lag))
            limit = starts[n + 1] - gap
            end = min(end, limit if limit - start >= gap else starts[n + 1])
        if end <= start:
            continue  # two lines share a start: the later one's cues carry the text
        out.append((p, start, end))
    return out


def _combine(a: _Piece, b: _Piece, max_chars: int, max_lines: int) -> _Piece | None:
    """`a` and `b` as one cue, if they fit: one speaker's words joined, two speakers' as "-" lines."""
    if a.speaker and b.speaker and a.speaker != b.speaker:
        first = a.lines or (f"-{a.text}",)
        second = f"-{b.text}"
        if b.lines or len(first) + 1 > max_lines or any(len(x) > max_chars for x in (*first, second)):
            return None
        return replace(a, end=b.end, text=f"{a.text}\n{b.text}", lines=(*first, second), speaker=b.speaker)
    if a.lines or b.lines:
        return None
    text = f"{a.text} {b.text}"
    if wrap(text, max_chars=max_chars, max_lines=max_lines) is None:
        return None
    return replace(a, end=b.end, text=text)


def _merge_short(items: list[Timed], max_chars: int, max_lines: int, gap: float, max_cps: float) -> list[Timed]:
    """A cue under 5/6 s (the next starts too soon) joins the next cue, else the one before, where they fit;
    the joined cue is then held for reading like any other."""
    out = list(items)

    def held(piece: _Piece, start: float, end: float, k: int) -> Timed:
        need = max(MIN_CUE_SECONDS, _chars(piece.text) / max_cps)
        limit = out[k][1] - gap if k < len(out) else math.inf
        return piece, start, max(end, min(start + need, start + MAX_CUE_SECONDS, limit))

    i = 0
    while i < len(out):
        piece, start, end = out[i]
        if end - start >= MIN_CUE_SECONDS - 1e-9:
            i += 1
            continue
        if i + 1 < len(out):
            nxt, _, nxt_end = out[i + 1]
            both = _combine(piece, nxt, max_chars, max_lines)
            if both is not None and nxt_end - start <= MAX_CUE_SECONDS:
                out[i : i + 2] = [held(both, start, nxt_end, i + 2)]
                continue
        if i > 0:
            prev, prev_start, _ = out[i - 1]
            both = _combine(prev, piece, max_chars, max_lines)
            if both is not None and end - prev_start <= MAX_CUE_SECONDS:
                out[i - 1 : i + 1] = [held(both, prev_start, end, i + 1)]
                continue
        i += 1
    return out


def too_fast(cues: Sequence[Cue], max_cps: float = MAX_CHARS_PER_SECOND) -> list[Cue]:
    """Cues that ask for more than `max_cps` characters a second (worth a job warning)."""
    return [c for c in cues if _chars(c.text) / max(c.end - c.start, 1e-6) > max_cps]


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
