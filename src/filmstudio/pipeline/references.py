"""Character reference pictures: the user's own (`character-<name>.png`) or a portrait drawn once.

A reference steers every still of a shot whose main (first) character it shows, through the
picture engine's IP-Adapter, so the same face comes back in every shot. The user's picture is a
project picture named after the character (`character-lena.png`, `character-old-vendor.jpg`);
without one, the picture model draws a portrait from the bible's description and seed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from filmstudio.domain.errors import BadRequest

PREFIX = "character-"


@dataclass(frozen=True)
class CharacterReference:
    """Where a character's reference picture comes from, and whether the picture engine uses it."""

    name: str
    source: Literal["picture", "portrait"]  # the user's picture, or a portrait drawn from the bible
    image: Path | None = None  # the user's picture
    used: bool = False  # an IP-Adapter that fits the picture model is installed

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "image": self.image.name if self.image else None, "used": self.used}


def picture_name(character: str) -> str:
    """The stem of a character's own reference picture: `LENA` -> `character-lena`."""
    return PREFIX + re.sub(r"[^a-z0-9]+", "-", character.lower()).strip("-")


def is_reference_picture(path: Path) -> bool:
    """A project picture that is a character's reference (not a scene backdrop)."""
    return path.stem.lower().startswith(PREFIX)


def character_references(names: Iterable[str], images: Sequence[Path]) -> dict[str, CharacterReference]:
    """Each character's reference: their own picture among `images`, else a portrait to draw."""
    own = {p.stem.lower(): p for p in images if is_reference_picture(p)}
    out: dict[str, CharacterReference] = {}
    for name in names:
        picture = own.get(picture_name(name))
        out[name] = CharacterReference(name, "picture", picture) if picture else CharacterReference(name, "portrait")
    return out


def readable_picture(path: Path) -> Path:
    """`path`, if it is a picture Pillow can decode; else INVALID_REFERENCE_IMAGE naming it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise BadRequest(f"the reference picture {path.name} is not a PNG, JPEG, WebP or BMP picture",
                         code="INVALID_REFERENCE_IMAGE", details={"image": path.name}) from exc
    return path


def marked_used(refs: Mapping[str, CharacterReference], used: bool = True) -> dict[str, CharacterReference]:
    return {name: replace(r, used=used) for name, r in refs.items()}


def portrait_prompt(description: str, look: str) -> str:
    """The prompt of a character's reference portrait: the face, plainly lit, in the film's look."""
    return f"portrait of {description}, head and shoulders, looking at the camera, plain background, {look}"


def reference_key(picture: Path, adapter: Mapping[str, Any]) -> dict[str, Any]:
    """What a still drawn with `picture` depends on: the picture's bytes and the adapter and its scale."""
    return {"image": hashlib.sha256(picture.read_bytes()).hexdigest(), **adapter}
