"""A still's prompt fitted to what the picture model reads: CLIP's 77 tokens, counted by its own tokenizer.

CLIP text encoders read 77 tokens (their start and end tokens included) and silently cut the
rest, so a long prompt lost its end: the action, or half a character's description. A prompt is
built from parts in priority order; when it is too long the least important words go first
(the style's look, from its last item; then the place's details and the action, from their last
word), then the time and the place, then whole characters after the first, then the camera; a
character's description is never cut mid-way.
Tokens are counted by the model's own tokenizer when one is installed (`model_tokens`), else by
`EstimatedTokens`, which counts high so that a fitted prompt fits a real CLIP tokenizer too.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from filmstudio.pipeline.engines import PromptTokens

if TYPE_CHECKING:
    from filmstudio.pipeline.engines import Pictures

CLIP_TOKENS = 77  # what SD 1.x/2.x/XL text encoders read, their start and end tokens included

PartKind = Literal["camera", "character", "place", "time", "look", "detail", "action"]
_WORD = re.compile(r"[^\W\d_]+|\d|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class EstimatedTokens:
    """A conservative count for when no tokenizer is installed: CLIP's BPE, counted high.

    Every punctuation mark and digit is a token; a word is one token up to 7 letters and one more
    per 7 after (CLIP keeps common words whole and splits rare long ones into pieces).
    """

    name: str = "estimate"
    limit: int = CLIP_TOKENS

    def count(self, text: str) -> int:
        return 2 + sum(1 + (len(w) - 1) // 7 if w[0].isalpha() else 1 for w in _WORD.findall(text.lower()))


@dataclass(frozen=True)
class TokenizerTokens:
    """A tokenizer's own count (a `transformers` tokenizer: `tokenizer(text)["input_ids"]`)."""

    tokenizer: Any
    name: str
    limit: int

    def count(self, text: str) -> int:
        return len(self.tokenizer(text, truncation=False, verbose=False)["input_ids"])


def model_tokens(folder: Path, name: str) -> PromptTokens:
    """The tokenizer in a diffusers folder (`<folder>/tokenizer`) when it loads, else the estimate."""
    return _load_tokenizer(str(folder / "tokenizer"), name) or EstimatedTokens()


@functools.lru_cache(maxsize=4)
def _load_tokenizer(folder: str, name: str) -> TokenizerTokens | None:
    if not Path(folder).is_dir():
        return None
    try:
        from transformers import CLIPTokenizer
    except ImportError:
        return None
    try:
        tokenizer = CLIPTokenizer.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError):
        return None
    limit = int(getattr(tokenizer, "model_max_length", CLIP_TOKENS))
    return TokenizerTokens(tokenizer, f"{name} tokenizer", limit if 8 <= limit <= 4096 else CLIP_TOKENS)


def tokens_of(pictures: Pictures | None) -> PromptTokens:
    """The picture engine's token counter (`Pictures.prompt_tokens()`); without one, the conservative estimate."""
    return pictures.prompt_tokens() if pictures is not None else EstimatedTokens()


@dataclass(frozen=True)
class PromptPart:
    """One piece of a prompt: what it is decides when it may be shortened or left out."""

    text: str
    kind: PartKind
    name: str = ""  # the character's name, for a description


@dataclass(frozen=True)
class FittedPrompt:
    text: str
    tokens: int
    limit: int
    dropped: tuple[str, ...] = ()  # what was left out, in words (empty: nothing)
    descriptions_fit: bool = True  # False: the characters' descriptions alone did not fit

    @property
    def warning(self) -> str | None:
        if not self.dropped:
            return None
        head = f"the prompt is fitted to the {self.limit} tokens the picture model reads"
        if not self.descriptions_fit:
            head = (
                f"the characters' descriptions alone take more than the {self.limit} tokens the picture "
                "model reads (shorten one)"
            )
        return f"{head}: left out {'; '.join(self.dropped)}"


def join(parts: Sequence[PromptPart]) -> str:
    """The prompt's text: parts joined by commas, characters side by side by "and", a character's action after them."""
    out = ""
    previous: PartKind | None = None
    for p in (p for p in parts if p.text):
        sep = " and " if p.kind == previous == "character" else " " if (previous, p.kind) == ("character", "action") \
            else ", with " if (previous, p.kind) == ("action", "character") else ", "
        out = f"{out}{sep}{p.text}" if out else p.text
        previous = p.kind
    return out


def fit_prompt(parts: Sequence[PromptPart], tokens: PromptTokens) -> FittedPrompt:
    """The prompt of `parts` in at most `tokens.limit` tokens, the least important words left out first."""
    kept = [p for p in parts if p.text]
    text = join(kept)
    count = tokens.count(text)
    if count <= tokens.limit:
        return FittedPrompt(text, count, tokens.limit)
    dropped: list[str] = []

    def fits() -> bool:
        return tokens.count(join(kept)) <= tokens.limit

    # 1. The style's look, from its last item; 2. the place's details and 3. the action, from their last word.
    for kind, sep in (("look", ", "), ("detail", " "), ("action", " ")):
        for i in [i for i, p in enumerate(kept) if p.kind == kind]:
            items = kept[i].text.split(sep)
            gone: list[str] = []
            while items and not fits():
                gone.insert(0, items.pop())
                kept[i] = replace(kept[i], text=sep.join(items).rstrip(" ,.;:"))
            if gone:
                whole = not items
                dropped.append(
                    f"the {kind}"
                    if whole and kind != "look"
                    else f"the style's {', '.join(gone)}"
                    if kind == "look"
                    else f"the {kind}'s last {len(gone)} word{'s' * (len(gone) > 1)}"
                )
        if fits():
            break
    descriptions_fit = True

    def leave_out(kind: str) -> None:
        for i, p in enumerate(kept):
            if p.kind == kind and p.text and not fits():
                dropped.append(f"the {kind} ({p.text})")
                kept[i] = replace(p, text="")

    # 4. The time and the place, then whole characters after the first (never half a description,
    # the last first), then the camera; one description longer than the limit stays whole.
    leave_out("time")
    leave_out("place")
    characters = [i for i, p in enumerate(kept) if p.kind == "character" and p.text]
    for i in reversed(characters[1:]):
        if fits():
            break
        descriptions_fit = False
        dropped.append(f"{kept[i].name}'s description")
        kept[i] = replace(kept[i], text="")
    leave_out("camera")
    text = join(kept)
    count = tokens.count(text)
    if count > tokens.limit:
        descriptions_fit = False
        dropped.append(
            f"nothing more: {kept[characters[0]].name}'s description alone is over the limit, "
            "and the model cuts its end"
            if characters
            else "nothing more"
        )
    return FittedPrompt(text, count, tokens.limit, tuple(dropped), descriptions_fit)


def fit_negative(text: str, tokens: PromptTokens) -> str:
    """A negative prompt (a list of things to avoid) without its last items until it fits."""
    items = text.split(", ")
    while len(items) > 1 and tokens.count(", ".join(items)) > tokens.limit:
        items.pop()
    return ", ".join(items)
