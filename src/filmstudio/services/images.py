"""A project's own pictures: uploaded for scene backgrounds (`--images` over the API and in the app)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from pydantic import BaseModel

from filmstudio.domain.errors import BadRequest, Conflict, NotFound
from filmstudio.pipeline.context import atomic_output
from filmstudio.services import assets
from filmstudio.services.keys import Principal
from filmstudio.services.projects import owned_project
from filmstudio.services.studio import Studio
from filmstudio.store import projects as project_rows
from filmstudio.store.db import utcnow

MAX_IMAGE_BYTES = 16_000_000
MAX_IMAGES = 200
MAX_PIXELS = 40_000_000  # 8K x 5K; a decompression bomb is refused before it is decoded
FORMATS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "BMP": ".bmp"}
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$"
_NAME = re.compile(NAME_PATTERN)


class ProjectImage(BaseModel):
    """One of a project's pictures: scenes take them by name (`scene-2`, a location) or in turn."""

    name: str
    bytes: int
    width: int
    height: int
    format: str


def _check_name(name: str) -> str:
    stem = Path(name).stem.strip()
    if not _NAME.match(name) or not stem or "/" in name or name.startswith("."):
        raise BadRequest("image names are 1-100 letters, digits, spaces, dots, dashes or underscores",
                         code="INVALID_IMAGE_NAME", details={"name": name[:120]})
    return stem


def _folder(studio: Studio, principal: Principal, project_id: str, *, write: bool) -> Path:
    principal.require("projects:write" if write else "projects:read")
    owned_project(studio, principal, project_id)
    return assets.project_images_dir(studio, project_id)


def _describe(path: Path) -> ProjectImage:
    from PIL import Image

    with Image.open(path) as img:
        return ProjectImage(name=path.name, bytes=path.stat().st_size, width=img.width, height=img.height,
                            format=str(img.format))


def add_image(studio: Studio, principal: Principal, project_id: str, name: str, data: bytes) -> ProjectImage:
    """Store a picture under `name` (its extension follows its real format); replaces one of the same stem."""
    from PIL import Image, UnidentifiedImageError

    folder = _folder(studio, principal, project_id, write=True)
    stem = _check_name(name)
    if len(data) > MAX_IMAGE_BYTES:
        raise BadRequest(f"images are limited to {MAX_IMAGE_BYTES // 1_000_000} MB", code="IMAGE_TOO_LARGE",
                         details={"bytes": len(data), "limit": MAX_IMAGE_BYTES})
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = str(img.format)
            if img.width * img.height > MAX_PIXELS:
                raise BadRequest("the image has too many pixels", code="IMAGE_TOO_LARGE",
                                 details={"width": img.width, "height": img.height, "max_pixels": MAX_PIXELS})
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise BadRequest("that is not a PNG, JPEG, WebP or BMP picture", code="INVALID_IMAGE") from exc
    if fmt not in FORMATS:
        raise BadRequest(f"{fmt} pictures are not supported; use PNG, JPEG, WebP or BMP", code="INVALID_IMAGE")
    existing = [p for p in folder.glob("*") if p.is_file()] if folder.is_dir() else []
    same = [p for p in existing if p.stem == stem]
    if len(existing) - len(same) >= MAX_IMAGES:
        raise Conflict(f"a project holds at most {MAX_IMAGES} pictures", code="TOO_MANY_IMAGES")
    final = folder / f"{stem}{FORMATS[fmt]}"
    with atomic_output(final) as tmp:
        tmp.write_bytes(data)
    for old in same:
        if old != final:
            old.unlink(missing_ok=True)
    _touch(studio, project_id)
    return _describe(final)


_MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp", ".bmp": "image/bmp"}


def media_type(path: Path) -> str:
    return _MEDIA_TYPES.get(path.suffix, "application/octet-stream")


def image_path(studio: Studio, principal: Principal, project_id: str, name: str) -> Path:
    """The stored file of the picture `name` (its stem is enough: `shot-3` finds `shot-3.jpg`)."""
    folder = _folder(studio, principal, project_id, write=False)
    stem = _check_name(name)
    found = [p for p in assets.project_images(studio, project_id) if p.name == name or p.stem == stem]
    if not found or found[0].parent != folder:
        raise NotFound("no such image", code="IMAGE_NOT_FOUND", details={"name": name[:120]})
    return found[0]


def list_images(studio: Studio, principal: Principal, project_id: str) -> list[ProjectImage]:
    _folder(studio, principal, project_id, write=False)
    return [_describe(p) for p in assets.project_images(studio, project_id)]


def delete_image(studio: Studio, principal: Principal, project_id: str, name: str) -> None:
    folder = _folder(studio, principal, project_id, write=True)
    stem = _check_name(name)
    found = [p for p in folder.glob("*") if p.is_file() and (p.name == name or p.stem == stem)] if folder.is_dir() else []
    if not found:
        raise NotFound("no such image", code="IMAGE_NOT_FOUND")
    for p in found:
        p.unlink(missing_ok=True)
    _touch(studio, project_id)


def _touch(studio: Studio, project_id: str) -> None:
    """A picture changed what the project renders: its revision (and ETag) moves on."""
    with studio.store.write() as db:
        project_rows.touch_project(db, project_id, utcnow())
