"""YouTube's documented rules for a video's metadata, checked before the upload starts.

From the Data API's `videos` resource (snippet and status):
- `snippet.title`: required, at most 100 characters, no `<` or `>`.
- `snippet.description`: at most 5,000 **bytes** in UTF-8, no `<` or `>` (the chapters count: they are
  part of the description).
- `snippet.tags`: at most 500 characters in all, counted YouTube's way: the commas between tags count,
  and a tag with a space counts as if quoted (`Foo Baz` is 9 characters, `Foo-Baz` 7).
- `snippet.categoryId`: a category number.
- `status.privacyStatus`: private, unlisted or public; `status.publishAt` (a scheduled release) only
  with private, in the future.

`<` and `>` are replaced by `‹` and `›` (U+2039, U+203A) rather than refused: they are common in
titles ("<3", "A > B") and the look survives. Chapter names are shortened (with `…`) when the
chapters would take the description past 5,000 bytes; when even that does not fit, the publish is
refused with YOUTUBE_METADATA_INVALID and the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from filmstudio.domain.errors import YouTubeMetadataInvalid
from filmstudio.services.youtube.chapters import Chapter, description

TITLE_CHARS = 100
DESCRIPTION_BYTES = 5000
TAGS_CHARS = 500
PRIVACY = ("private", "unlisted", "public")
REFUSED = str.maketrans({"<": "\u2039", ">": "\u203a"})
CHAPTER_NAME_CAPS = (60, 40, 24, 12, 6)  # tried in turn when the chapters do not fit


def clean(text: str) -> str:
    """`<` and `>` as ‹ and › (YouTube refuses the first two in titles, descriptions and tags)."""
    return text.translate(REFUSED)


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def tags_length(tags: list[str] | tuple[str, ...]) -> int:
    """The tags' length as YouTube counts it: commas between, quotes around a tag with a space."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1)


def _refuse(field: str, message: str, **numbers: Any) -> YouTubeMetadataInvalid:
    return YouTubeMetadataInvalid(message, details={"field": field, **numbers})


@dataclass(frozen=True)
class Fitted:
    """The description that goes up, and what was done to make it fit."""

    text: str
    chapter_cap: int | None = None  # chapter names cut to this many characters, when they were


def fit_description(text: str, marks: list[Chapter]) -> Fitted:
    """The user's text plus the chapters within 5,000 bytes: names shortened if needed, else refused."""
    text = clean(text)
    marks = [Chapter(m.start, clean(m.title)) for m in marks]
    full = description(text, marks)
    if utf8_bytes(full) <= DESCRIPTION_BYTES:
        return Fitted(full)
    own = utf8_bytes(description(text, []))
    if own > DESCRIPTION_BYTES:
        raise _refuse("snippet.description", f"the description is {own} bytes in UTF-8; YouTube takes at most "
                      f"{DESCRIPTION_BYTES}", limit=DESCRIPTION_BYTES, unit="bytes", bytes=own, text_bytes=own,
                      chapter_bytes=0)
    for cap in CHAPTER_NAME_CAPS:
        candidate = description(text, _shorten(marks, cap))
        if utf8_bytes(candidate) <= DESCRIPTION_BYTES:
            return Fitted(candidate, cap)
    least = utf8_bytes(description(text, _shorten(marks, CHAPTER_NAME_CAPS[-1])))
    raise _refuse("snippet.description", f"the description with its {len(marks)} chapters is {utf8_bytes(full)} "
                  f"bytes in UTF-8 (at least {least} with the chapter names shortened); YouTube takes at most "
                  f"{DESCRIPTION_BYTES}: shorten the description by {least - DESCRIPTION_BYTES} bytes",
                  limit=DESCRIPTION_BYTES, unit="bytes", bytes=utf8_bytes(full), text_bytes=own,
                  chapter_bytes=utf8_bytes(full) - own, shortest_bytes=least)


def _shorten(marks: list[Chapter], cap: int) -> list[Chapter]:
    return [Chapter(m.start, m.title if len(m.title) <= cap else m.title[: cap - 1].rstrip() + "\u2026")
            for m in marks]


def check(body: dict[str, Any], *, now: datetime | None = None) -> None:
    """Refuse a `videos.insert` body YouTube would refuse (the first broken rule, with field and limit)."""
    snippet, status = body.get("snippet", {}), body.get("status", {})
    title = str(snippet.get("title") or "")
    if not title.strip():
        raise _refuse("snippet.title", "YouTube needs a title", limit=TITLE_CHARS, unit="characters", length=0)
    if len(title) > TITLE_CHARS:
        raise _refuse("snippet.title", f"the title is {len(title)} characters; YouTube takes at most {TITLE_CHARS}",
                      limit=TITLE_CHARS, unit="characters", length=len(title))
    text = str(snippet.get("description") or "")
    for field, value in (("snippet.title", title), ("snippet.description", text)):
        if "<" in value or ">" in value:
            raise _refuse(field, f"YouTube refuses < and > in {field.split('.')[1]}s", characters="<>")
    if utf8_bytes(text) > DESCRIPTION_BYTES:
        raise _refuse("snippet.description", f"the description is {utf8_bytes(text)} bytes in UTF-8; YouTube "
                      f"takes at most {DESCRIPTION_BYTES}", limit=DESCRIPTION_BYTES, unit="bytes",
                      bytes=utf8_bytes(text))
    tags = list(snippet.get("tags") or [])
    if tags_length(tags) > TAGS_CHARS:
        raise _refuse("snippet.tags", f"the tags come to {tags_length(tags)} characters as YouTube counts them "
                      f"(commas between tags, quotes around tags with spaces); it takes at most {TAGS_CHARS}",
                      limit=TAGS_CHARS, unit="characters", length=tags_length(tags))
    if any("<" in t or ">" in t for t in tags):
        raise _refuse("snippet.tags", "YouTube refuses < and > in tags", characters="<>")
    category = str(snippet.get("categoryId") or "")
    if not category.isdigit():
        raise _refuse("snippet.categoryId", f"the category must be a YouTube category number, not {category!r}")
    privacy = status.get("privacyStatus")
    if privacy not in PRIVACY:
        raise _refuse("status.privacyStatus", f"privacy must be one of {', '.join(PRIVACY)}", allowed=list(PRIVACY))
    when = status.get("publishAt")
    if when:
        if privacy != "private":
            raise _refuse("status.publishAt", "a scheduled video must be private until it is published")
        at = datetime.fromisoformat(str(when).replace("Z", "+00:00"))
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        if at <= (now or datetime.now(UTC)):
            raise _refuse("status.publishAt", f"the scheduled time {when} is not in the future", value=when)
