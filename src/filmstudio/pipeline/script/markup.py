"""Fountain inline markup: emphasis, inline notes and escapes, stripped to plain text."""

from __future__ import annotations

import re

# Private-use characters stand in for escaped markup while the emphasis patterns run, so an
# escaped `\*` can never pair with a real `*`.
_ESCAPES = {"\\*": "\ue000", "\\_": "\ue001", "\\\\": "\ue002", "\\[": "\ue003", "\\]": "\ue004"}
_UNESCAPE = {"\ue000": "*", "\ue001": "_", "\ue002": "\\", "\ue003": "[", "\ue004": "]"}

# A note takes the space before it along, so "stars [[note]]." reads "stars.".
_NOTE = re.compile(r"[ \t]*\[\[.*?\]\]", re.DOTALL)
_BONEYARD = re.compile(r"/\*.*?\*/", re.DOTALL)
_BOLD_ITALIC = re.compile(r"\*\*\*(?=\S)(.+?)(?<=\S)\*\*\*", re.DOTALL)
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", re.DOTALL)
_ITALIC = re.compile(r"\*(?=\S)(.+?)(?<=\S)\*", re.DOTALL)
# `_` inside a word (snake_case, file_names) is not underline.
_UNDERLINE = re.compile(r"(?<![^\W_])_(?=\S)(.+?)(?<=\S)_(?![^\W_])", re.DOTALL)
_SPACES = re.compile(r"[ \t]+")


def strip_notes(text: str) -> str:
    """Remove `[[notes]]` and `/* boneyard */` spans, leaving the rest as written."""
    return _NOTE.sub("", _BONEYARD.sub("", text))


def plain_text(text: str) -> str:
    """Strip emphasis markup and inline notes; keep escaped characters literally.

    Line breaks are kept; runs of spaces collapse to one and each line is trimmed.
    """
    for escaped, stand_in in _ESCAPES.items():
        text = text.replace(escaped, stand_in)
    text = strip_notes(text)
    for pattern in (_BOLD_ITALIC, _BOLD, _ITALIC, _UNDERLINE):
        # Repeat so nested emphasis (`_**both**_`) unwraps fully.
        previous = None
        while previous != text:
            previous = text
            text = pattern.sub(r"\1", text)
    for stand_in, literal in _UNESCAPE.items():
        text = text.replace(stand_in, literal)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def one_line(text: str) -> str:
    """Plain text on a single line: line breaks become spaces."""
    return " ".join(part for part in plain_text(text).split("\n") if part)
