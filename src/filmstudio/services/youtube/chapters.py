"""YouTube chapters from a film's scenes: `0:00 Title` lines that YouTube accepts.

YouTube shows chapters only when the first starts at 0:00, there are at least three, and each
lasts at least 10 seconds. A scene shorter than 10 s joins the chapter before it (a short first
chapter takes in the next); with fewer than three left there are none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MIN_CHAPTERS = 3
MIN_SECONDS = 10.0


@dataclass(frozen=True)
class Chapter:
    start: float
    title: str


def stamp(seconds: float) -> str:
    """0:00, 1:05, 1:02:03 — YouTube's timestamp form."""
    s = int(seconds)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def capitalised(text: str) -> str:
    """Each word with a capital first letter and the rest small: "HARBOUR MASTER'S OFFICE" ->
    "Harbour Master's Office" (`str.title()` would give "Master'S": it starts a word after the apostrophe)."""
    return " ".join(w[:1].upper() + w[1:].lower() for w in text.split())


def scene_title(scene: Mapping[str, Any], number: int) -> str:
    """A scene's chapter name: its location (and time of day), else its heading, else `Scene n`."""
    location = capitalised(str(scene.get("location") or ""))
    when = capitalised(str(scene.get("time_of_day") or ""))
    if location:
        return f"{location} ({when})" if when else location
    return str(scene.get("heading") or "").strip() or f"Scene {number}"


def chapters(scenes: Iterable[Mapping[str, Any]], duration: float) -> list[Chapter]:
    """The chapter list for a manifest's `scenes` (title cards count into the next scene), or []."""
    marks: list[Chapter] = []
    number = 0
    for scene in scenes:
        if scene.get("kind", "scene") != "scene":
            continue
        number += 1
        marks.append(Chapter(float(scene.get("start", 0.0)), scene_title(scene, number)))
    if not marks:
        return []
    marks[0] = Chapter(0.0, marks[0].title)  # an opening title card belongs to the first chapter
    # A scene shorter than 10 s (to the next scene, or the end) joins the chapter before it...
    ends = [m.start for m in marks[1:]] + [duration]
    merged = [marks[0]] + [m for m, end in zip(marks[1:], ends[1:], strict=True) if end - m.start >= MIN_SECONDS]
    # ...and a short first chapter takes in the next one.
    while len(merged) > 1 and merged[1].start < MIN_SECONDS:
        del merged[1]
    return merged if len(merged) >= MIN_CHAPTERS else []


def description(text: str, marks: list[Chapter]) -> str:
    """The video description: the user's text, then the chapter lines."""
    lines = [f"{stamp(c.start)} {c.title}" for c in marks]
    parts = [p for p in (text.strip(), "\n".join(lines)) if p]
    return "\n\n".join(parts)
