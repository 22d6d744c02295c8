"""How readable a subtitle track is, by the rules `captions.build_cues` follows: the manifest's report."""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from filmstudio.pipeline.media.captions import (
    GAP_FRAMES,
    MAX_CHARS_PER_SECOND,
    MAX_CUE_SECONDS,
    MIN_CUE_SECONDS,
)
from filmstudio.pipeline.media.linebreaks import break_fault
from filmstudio.pipeline.plan import Cue

FAST_NO_PAUSE = "speech faster than reading speed with no pause to extend into"
SHORT_NO_ROOM = "the next line starts too soon and the two do not fit one cue"
EXAMPLES = 5  # cues quoted per problem


def _chars(cue: Cue) -> int:
    return len(cue.text.replace("\n", ""))


def _cps(cue: Cue) -> float:
    return _chars(cue) / max(cue.end - cue.start, 1e-6)


def phrase_splits(cues: Sequence[Cue]) -> list[tuple[str, str]]:
    """Every line or cue break that splits a phrase (`linebreaks.break_fault`): (the text around it, fault)."""
    out: list[tuple[str, str]] = []
    for n, cue in enumerate(cues):
        rows = cue.text.split("\n")
        if len(rows) > 1 and all(r.startswith("-") for r in rows):
            rows = []  # two speakers, one a line: each row is its own sentence
        for top, bottom in itertools.pairwise(rows):
            words = bottom.split()
            if top.split() and words:
                fault = break_fault(top.split()[-1], words[0], words[1] if len(words) > 1 else None)
                if fault:
                    out.append((f"{top} / {bottom}", fault))
        if n + 1 < len(cues) and cues[n + 1].line_index == cue.line_index >= 0:
            words, after = cue.text.split(), cues[n + 1].text.split()
            if words and after:
                fault = break_fault(words[-1], after[0], after[1] if len(after) > 1 else None)
                if fault:
                    out.append((f"{cue.text.replace(chr(10), ' ')} // {cues[n + 1].text.replace(chr(10), ' ')}",
                                fault))
    return out


def readability(cues: Sequence[Cue], *, max_cps: float = MAX_CHARS_PER_SECOND, fps: int = 24,
                max_chars: int = 42, max_lines: int = 2) -> dict[str, Any]:
    """One track's report: reading speed (median, max, share over `max_cps`), the shortest cue,
    breaks that split a phrase, cues over the line limits, and the cues that could not meet the
    rules with why (`unmet`). `readable` is true when every cue meets them all."""
    if not cues:
        return {"cues": 0, "max_cps": max_cps, "readable": True, "unmet": {"count": 0, "reasons": {}}}
    gap = GAP_FRAMES / fps
    speeds = [_cps(c) for c in cues]
    fast = [n for n, s in enumerate(speeds) if s > max_cps + 1e-6]
    short = [n for n, c in enumerate(cues) if c.end - c.start < MIN_CUE_SECONDS - 1e-3]
    long_ = [c for c in cues if c.end - c.start > MAX_CUE_SECONDS + 1e-3]
    too_big = [c for c in cues if len(c.text.split("\n")) > max_lines or any(len(r) > max_chars
                                                                                for r in c.text.split("\n"))]
    reasons: Counter[str] = Counter()
    for n in sorted({*fast, *short}):
        follows = n + 1 < len(cues) and cues[n + 1].start - cues[n].end <= gap + 1e-3
        if n in fast:
            reasons[FAST_NO_PAUSE if follows else "the film ends"] += 1
        if n in short:
            reasons[SHORT_NO_ROOM if follows else "the film ends"] += 1
    splits = phrase_splits(cues)
    shortest = min(cues, key=lambda c: c.end - c.start)
    return {
        "cues": len(cues),
        "max_cps": max_cps,
        "cps_median": round(statistics.median(speeds), 1),
        "cps_max": round(max(speeds), 1),
        "over_limit": len(fast),
        "share_over_limit": round(len(fast) / len(cues), 3),
        "over_limit_examples": [cues[n].text.replace("\n", " / ") for n in fast[:EXAMPLES]],
        "shortest": {"seconds": round(shortest.end - shortest.start, 3), "text": shortest.text.replace("\n", " / ")},
        "under_minimum": len(short),
        "over_maximum": len(long_),
        "over_line_limits": len(too_big),
        "split_phrases": len(splits),
        "split_examples": [f"{text} ({fault})" for text, fault in splits[:EXAMPLES]],
        "unmet": {"count": len({*fast, *short}), "reasons": dict(reasons)},
        "readable": not (fast or short or long_ or too_big or splits),
    }


def summary(report: Mapping[str, Mapping[str, Any]]) -> str:
    """One line for people: "subtitles: all readable", or what is not, track by track."""
    problems = []
    for lang, r in report.items():
        if r.get("readable", True):
            continue
        parts = []
        if r.get("over_limit"):
            parts.append(f"{r['over_limit']} of {r['cues']} cues faster than {r['max_cps']:g} characters a second"
                         f" (max {r['cps_max']:g})")
        if r.get("under_minimum"):
            parts.append(f"{r['under_minimum']} shorter than 5/6 s")
        if r.get("over_maximum"):
            parts.append(f"{r['over_maximum']} longer than 7 s")
        if r.get("over_line_limits"):
            parts.append(f"{r['over_line_limits']} over 2 lines of 42 characters")
        if r.get("split_phrases"):
            parts.append(f"{r['split_phrases']} breaks split a phrase")
        problems.append(f"{lang}: " + ", ".join(parts))
    return "subtitles: all readable" if not problems else "subtitles: " + "; ".join(problems)
