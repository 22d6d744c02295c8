"""The character and place bible: one visual description and one seed per character and per place.

A description comes from where the screenplay introduces the character (`LENA (30s) pushes
through the crowd, holding a phone with a cracked screen` -> "a woman in her thirties holding a
phone with a cracked screen") or from the settings' `characters[].description`, and is used word
for word in every shot with that character, with the same seed, so the same face comes back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.plan import Scene, Script
from filmstudio.pipeline.providers.styles import seed_for
from filmstudio.pipeline.script.characters import read_characters

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class CharacterLook:
    """How a character looks in every shot, and the seed their shots start from."""

    name: str
    description: str
    seed: int
    source: str  # "screenplay", "settings" or "name" (nothing said: a neutral description)


@dataclass(frozen=True)
class PlaceLook:
    """How a location looks (its first action line) and its seed: the same place comes back."""

    location: str
    int_ext: str | None
    description: str
    seed: int


def character_bible(script: Script, settings: RenderSettings, extra_text: Iterable[str] = (),
                    edits: Mapping[str, Mapping[str, object]] | None = None) -> dict[str, CharacterLook]:
    """A look per character, from the shared reading (`script.characters`); `edits` win.

    `extra_text` (synopses, notes) adds evidence of who a character is.
    """
    reading = read_characters(script, settings, edits, extra_text)
    specs = {c.name.strip().upper(): c for c in settings.characters}
    out: dict[str, CharacterLook] = {}
    for name, character in reading.items():
        edit = (edits or {}).get(name) or {}
        spec = specs.get(name)
        if isinstance(edit.get("description"), str) and str(edit["description"]).strip():
            source = "edited"
        elif spec is not None and spec.description:
            source = "settings"
        elif character.introduced or character.sex or character.age or character.role or character.build:
            source = "screenplay"
        else:
            source = "name"
        seed = seed_for("character", name)
        if isinstance(edit.get("seed"), int):
            seed = int(str(edit["seed"]))
        out[name] = CharacterLook(name=name, description=character.description, seed=seed, source=source)
    return out


def place_bible(scenes: Iterable[Scene]) -> dict[str, PlaceLook]:
    """A look per location, from the first action line of its first scene."""
    out: dict[str, PlaceLook] = {}
    for scene in scenes:
        key = scene.location or f"passage {scene.index + 1}"
        if key in out:
            continue
        first = next((ln.text for ln in scene.lines if ln.kind in ("action", "narration")), "")
        detail = _first_sentences(_without_intros(first), 140)
        where = scene.location.lower() if scene.location else ""
        description = ", ".join(p for p in (where, detail.rstrip(".").lower() if detail else "") if p)
        out[key] = PlaceLook(location=key, int_ext=scene.int_ext, description=description,
                             seed=seed_for("place", key))
    return out


def place_key(scene: Scene) -> str:
    return scene.location or f"passage {scene.index + 1}"


def _without_intros(text: str) -> str:
    """The scene's look without a character's introduction (that belongs to the character)."""
    kept = [s for s in _SENTENCE.split(text) if not re.search(r"\b[A-Z][A-Z' -]+\s*\(\d", s)]
    return " ".join(kept)


def _first_sentences(text: str, limit: int) -> str:
    out = ""
    for s in _SENTENCE.split(text.strip()):
        if out and len(out) + len(s) > limit:
            break
        out = f"{out} {s}".strip()
    return out[:limit]
