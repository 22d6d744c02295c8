"""Where a subtitle line or cue may break: the phrase rules a subtitler follows, and line wrapping."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# What a line or cue must not end on, by the phrase it would cut (the reader is left hanging):
# an article or determiner before its noun, a preposition before its object, a conjunction
# before its clause, a subject before its verb. English only: other languages still break at
# sentence and clause ends first, then by length.
_FAULTS: dict[str, frozenset[str]] = {
    "article": _word_set("a an the my your his her its our their this these those some any no every each "
                         "another such whose"),
    "preposition": _word_set("of to in on at by for from with into onto about over under through across along "
                             "around between against without within upon than as like near toward towards "
                             "behind beyond during via per among"),
    "conjunction": _word_set("and or but nor so if that which who whom where when while because although "
                             "though unless whether what how why"),
    "subject": _word_set("i we you he she it they there"),
    "verb": _word_set("is are was were be been being has have had do does did can could will would shall "
                      "should may might must not very"),
}
# Adjectives so common they are worth knowing: "a small / plush fox" splits the noun phrase.
_ADJECTIVES = _word_set(
    "small little big large old new young first last next thin wide long short tiny great good bad high low deep "
    "own whole other same red blue green white black dark bright cold warm hot quiet silent gentle patient "
    "plush cracked crowded walking starting solar soap football deep"
)
# Words a phrase starts with: a break just before them is natural.
_START_WORDS = _word_set(
    "and or but nor so yet because although though while when whenever where which who whose that than "
    "until unless since after before as if to of in on at by for from with without into onto through "
    "across along around over under between against up down out off"
)
# After a verb these finish it ("holds up", "gave away"): a break before them splits the verb.
_PARTICLES = _word_set("up down off away back out")
_NUMBER_WORDS = _word_set(
    "hundred thousand million billion trillion percent per cent km m cm mm kg g mph km/h am pm bc ad"
)
_TITLES = _word_set("mr. mrs. ms. dr. st. mt. prof. sir lady lord captain")
# Two words that are one preposition: "out / of the solar system" splits it.
_COMPOUNDS = frozenset({("out", "of"), ("because", "of"), ("instead", "of"), ("ahead", "of"), ("due", "to"),
                        ("according", "to"), ("next", "to"), ("close", "to"), ("such", "as"), ("so", "that")})
_END_PUNCT = ".!?…。！？"
_PAUSE_PUNCT = ",;:—–-…，、；："


def _bare(word: str) -> str:
    return word.strip("\"'“”‘’«»()[]").lower()


def _numeric(word: str) -> bool:
    return bool(re.fullmatch(r"[\d.,:/%]*\d[\d.,:/%]*", word.strip("\"'“”‘’()[]")))


def _capitalised(word: str) -> bool:
    w = word.strip("\"'“”‘’«»()[]")
    return bool(w[:1]) and w[:1].isupper()


def break_fault(before: str, after: str, following: str | None = None) -> str | None:
    """What a line or cue break between the words `before` and `after` would split, or None.

    "article", "preposition", "conjunction", "subject", "verb": the line ends on a word that needs
    what follows; "adjective": between a common adjective and its noun; "number": inside a number
    ("3 million"); "name": inside a name ("Old Tom", "LightSail 2", "Dr. Ito"); "particle": between
    a verb and its particle ("holds / up"). `following` is the word after `after`, where known.
    """
    if not before or not after:
        return None
    last, first = _bare(before), _bare(after)
    if last in _TITLES and _capitalised(after):
        return "name"
    if before[-1] in _END_PUNCT or before.rstrip("\"'”’»)]")[-1:] in _END_PUNCT:
        return None
    if _numeric(before) and (_numeric(after) or first in _NUMBER_WORDS):
        return "number"
    if before[-1] in _PAUSE_PUNCT:
        return None
    if (last, first) in _COMPOUNDS:
        return "preposition"
    for fault, words in _FAULTS.items():
        if last in words:
            return fault
    if _capitalised(before) and (_capitalised(after) or _numeric(after)):
        return "name"
    if last in _ADJECTIVES and first not in _START_WORDS and first not in _FAULTS["conjunction"] \
            and after[-1:] not in _PAUSE_PUNCT:
        return "adjective"
    if first in _PARTICLES and not (first == "out" and following is not None and _bare(following) == "of"):
        return "particle"
    return None


_SOFT_FAULTS = {"adjective": 25.0, "particle": 20.0}

# Scripts written without spaces between words: any character is a place to wrap.
_NO_SPACE_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")
# Split after a full stop (and any closing quote or bracket), keeping every character.
SENTENCE_END = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’»)\]]))\s+|(?<=[。！？])")
CLAUSE_END = re.compile(r"(?<=[,;:])\s+|(?<=[，、；：])\s*|\s+(?=[—–]\s)")

Token = tuple[str, str]  # (glue before it: "" or " ", text)


def tokenize(text: str) -> list[Token]:
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


def join_tokens(tokens: Sequence[Token]) -> str:
    return "".join((glue if n else "") + word for n, (glue, word) in enumerate(tokens))


def break_long(tokens: list[Token], max_chars: int) -> list[Token]:
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


def boundary_cost(tokens: Sequence[Token], j: int) -> float:
    """How much a line or cue break before `tokens[j]` hurts: 0 after a full stop, most inside a phrase."""
    before, (glue, after) = tokens[j - 1][1], tokens[j]
    if _bare(before) in _TITLES and _capitalised(after):
        return 40.0  # "Dr. / Ito": a title and its name
    if before[-1:] in _END_PUNCT or before.rstrip("\"'”’»)]")[-1:] in _END_PUNCT:
        return 0.0
    if not glue:
        return 6.0  # inside a CJK run or a word longer than a line: any place is as good
    following = tokens[j + 1][1] if j + 1 < len(tokens) else None
    fault = break_fault(before, after, following)
    if fault is not None:
        return _SOFT_FAULTS.get(fault, 40.0)
    if before[-1:] in _PAUSE_PUNCT:
        return 0.5
    return 1.0 if _bare(after) in _START_WORDS else 4.0


def _lengths(tokens: Sequence[Token]) -> list[int]:
    """at[i]: the length of tokens[:i] joined (so tokens[i:j] is at[j] - at[i] - its leading glue)."""
    at = [0]
    for n, (glue, word) in enumerate(tokens):
        at.append(at[-1] + len(word) + (len(glue) if n else 0))
    return at


def wrap(text: str, *, max_chars: int = 42, max_lines: int = 2) -> list[str] | None:
    """Lines of at most `max_chars`, broken where the phrase allows, or None if it needs more than `max_lines`.

    One line when it fits; else the fewest lines, choosing the breaks that hurt least (after
    punctuation, before a conjunction or preposition; never after an article, inside a name or a
    number, where another break exists) with even lengths second.
    """
    found = layout(break_long(tokenize(text), max_chars), max_chars, max_lines)
    return None if found is None else found[1]


FAULT = 20.0  # a layout costing this much or more splits a phrase somewhere


def layout(tokens: list[Token], max_chars: int, max_lines: int) -> tuple[float, list[str]] | None:
    """`wrap` of tokens, with what its breaks cost (`boundary_cost`, >= FAULT where one splits a phrase)."""
    if not tokens:
        return 0.0, []
    if len(join_tokens(tokens)) <= max_chars:
        return 0.0, [join_tokens(tokens)]
    n = len(tokens)
    at = _lengths(tokens)

    def span(i: int, j: int) -> int:
        return at[j] - at[i] - (len(tokens[i][0]) if i else 0)

    found: tuple[float, list[int]] | None = None
    for count in range(2, max_lines + 1):
        ideal = span(0, n) / count
        # best[k][i]: the least cost of laying tokens[i:] in k lines, and where the first of them ends
        best: list[list[tuple[float, int]]] = [[(math.inf, n)] * (n + 1) for _ in range(count + 1)]
        best[0][n] = (0.0, n)
        for k in range(1, count + 1):
            for i in range(n - 1, -1, -1):
                for j in range(i + 1, n + 1):
                    if span(i, j) > max_chars:
                        break
                    rest = best[k - 1][j][0]
                    if rest == math.inf:
                        continue
                    cost = rest + 0.15 * abs(span(i, j) - ideal) + (boundary_cost(tokens, j) if j < n else 0.0)
                    if cost < best[k][i][0]:
                        best[k][i] = (cost, j)
        if best[count][0][0] < math.inf:
            cuts, i = [], 0
            for k in range(count, 0, -1):
                i = best[k][i][1]
                cuts.append(i)
            total = best[count][0][0] + 8.0 * (count - 2)
            if found is None or total < found[0]:
                found = (total, cuts)
            if found is not None and count > 2:
                break
    if found is None:
        return None
    lines, i = [], 0
    for j in found[1]:
        lines.append(join_tokens(tokens[i:j]))
        i = j
    faults = sum(boundary_cost(tokens, j) for j in found[1][:-1])
    return faults, lines


def fits(tokens: list[Token], max_chars: int, max_lines: int) -> bool:
    """Whether `tokens` fit in `max_lines` of `max_chars` (greedy filling needs the fewest lines)."""
    lines, length = 1, -1
    for n, (glue, word) in enumerate(tokens):
        add = len(word) + (len(glue) if n and length >= 0 else 0)
        if length >= 0 and length + add > max_chars:
            lines, length = lines + 1, len(word)
        else:
            length = add if length < 0 else length + add
        if len(word) > max_chars:
            return False
    return lines <= max_lines
