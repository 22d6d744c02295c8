"""Produced files: where a render writes them, signed expiring URLs, and safe lookup for downloads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from filmstudio.domain.errors import FilmStudioError, NotFound
from filmstudio.domain.models import AssetFiles, Assets, PublishedAsset
from filmstudio.services.keys import Principal
from filmstudio.services.studio import Studio
from filmstudio.store import projects as project_rows

SIGNING_SECRET = "file-url-signing"
FILM_STEM = "film"
_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_MEDIA_TYPES = {".mp4": "video/mp4", ".jpg": "image/jpeg", ".srt": "application/x-subrip", ".vtt": "text/vtt"}


class FileRefused(FilmStudioError):
    code = "FILE_NOT_FOUND"
    http_status = 404


def output_path(studio: Studio, project_id: str, job_id: str) -> Path:
    """Where a job's film goes: one folder per job, so a retry rewrites the same files."""
    return studio.media_dir / project_id / job_id / f"{FILM_STEM}.mp4"


def project_images_dir(studio: Studio, project_id: str) -> Path:
    """Where a project's own pictures (uploaded for scene backgrounds) live."""
    return studio.media_dir / project_id / "images"


def project_storyboard(studio: Studio, project_id: str) -> Path:
    """A project's storyboard edits (seeds, prompts, locks per shot; character looks)."""
    return studio.media_dir / project_id / "storyboard.json"


def project_images(studio: Studio, project_id: str) -> tuple[Path, ...]:
    """A project's pictures in name order (scenes take them by `scene-<n>` or location name, else in turn)."""
    from filmstudio.pipeline.request import images_in

    return images_in(project_images_dir(studio, project_id))


def collect(studio: Studio, output: Path) -> dict[str, Any]:
    """The asset map stored on a project after a render: paths relative to the media folder."""
    folder = output.parent

    def rel(p: Path) -> str:
        return p.relative_to(studio.media_dir).as_posix()

    found: dict[str, Any] = {"video": rel(output), "subtitles": {}, "subtitles_vtt": {}}
    thumb = folder / f"{FILM_STEM}.jpg"
    if thumb.exists():
        found["thumbnail"] = rel(thumb)
    for sub in sorted(folder.glob(f"{FILM_STEM}.*.srt")):
        found["subtitles"][sub.suffixes[-2].lstrip(".")] = rel(sub)
    for sub in sorted(folder.glob(f"{FILM_STEM}.*.vtt")):
        found["subtitles_vtt"][sub.suffixes[-2].lstrip(".")] = rel(sub)
    return found


def _signature(studio: Studio, rel_path: str, expires: int) -> str:
    key = studio.secrets.get_or_create(SIGNING_SECRET).encode()
    mac = hmac.new(key, f"{rel_path}\n{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def signed_url(studio: Studio, rel_path: str, expires: int) -> str:
    sig = _signature(studio, rel_path, expires)
    return f"{studio.settings.base_url}/api/v1/files/{quote(rel_path)}?expires={expires}&signature={sig}"


def public_assets(studio: Studio, assets_json: str) -> Assets:
    """Signed URLs for a project's stored asset map."""
    stored: dict[str, Any] = json.loads(assets_json or "{}")
    if not stored.get("video"):
        return Assets()
    expires = int(time.time()) + studio.settings.signed_url_seconds
    published: dict[str, Any] = stored.get("published") or {}
    youtube: dict[str, Any] = published.get("youtube") or stored.get("youtube") or {}  # `youtube`: before targets
    return Assets(
        video_url=signed_url(studio, stored["video"], expires),
        thumbnail_url=signed_url(studio, stored["thumbnail"], expires) if stored.get("thumbnail") else None,
        subtitles={k: signed_url(studio, v, expires) for k, v in stored.get("subtitles", {}).items()},
        subtitles_vtt={k: signed_url(studio, v, expires) for k, v in stored.get("subtitles_vtt", {}).items()},
        expires_at=datetime.fromtimestamp(expires, UTC).isoformat().replace("+00:00", "Z"),
        youtube_url=youtube.get("url"),
        youtube_video_id=youtube.get("ref") or youtube.get("video_id"),
        published={name: PublishedAsset.model_validate(p) for name, p in published.items()},
        files=AssetFiles(
            video=key_url(studio, stored["video"]),
            thumbnail=key_url(studio, stored["thumbnail"]) if stored.get("thumbnail") else None,
            subtitles={k: key_url(studio, v) for k, v in stored.get("subtitles", {}).items()},
            subtitles_vtt={k: key_url(studio, v) for k, v in stored.get("subtitles_vtt", {}).items()},
        ),
    )


def key_url(studio: Studio, rel_path: str) -> str:
    """A produced file's stable URL, for a caller with a key that owns the project (no signature)."""
    return f"{studio.settings.base_url}/api/v1/files/{quote(rel_path)}"


def media_type(path: Path) -> str:
    return _MEDIA_TYPES.get(path.suffix, "application/octet-stream")


def resolve_file(
    studio: Studio,
    rel_path: str,
    *,
    principal: Principal | None,
    expires: int | None = None,
    signature: str | None = None,
) -> Path:
    """The file behind a download path, if the caller may have it; anything doubtful is a 404."""
    parts = rel_path.split("/")
    if not parts or any(not _SAFE_PART.match(p) or p in (".", "..") for p in parts) or len(parts) != 3:
        raise FileRefused("no such file")
    if signature is not None and expires is not None:
        good = hmac.compare_digest(signature, _signature(studio, rel_path, expires))
        if not good or expires < time.time():
            raise FileRefused("the download link is invalid or has expired", code="LINK_EXPIRED")
        # A link signed before its project was deleted dies with the project.
        if project_rows.get_project(studio.store, parts[0]) is None:
            raise FileRefused("no such file")
    else:
        if principal is None:
            from filmstudio.domain.errors import Unauthorized

            raise Unauthorized("send an API key or use a signed link", code="MISSING_API_KEY")
        principal.require("projects:read")
        project = project_rows.get_project(studio.store, parts[0])
        if project is None or project["account_id"] != principal.account_id:
            raise FileRefused("no such file")
        if rel_path not in _listed(json.loads(project["assets"] or "{}")):
            raise FileRefused("no such file")
    root = studio.media_dir.resolve()
    candidate = root.joinpath(*parts)
    # resolve() follows symlinks: any link along the way makes the two differ.
    if candidate.resolve() != candidate or not candidate.is_file() or candidate.is_symlink():
        raise NotFound("no such file", code="FILE_NOT_FOUND")
    return candidate


def remove_project_files(studio: Studio, project_id: str) -> None:
    """Delete a project's films from the media folder (its folder and everything in it)."""
    if not _SAFE_PART.match(project_id):
        return
    folder = studio.media_dir / project_id
    if folder.is_symlink():
        folder.unlink()
    elif folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)


def _listed(stored: dict[str, Any]) -> set[str]:
    out = {v for k, v in stored.items() if isinstance(v, str)}
    for key in ("subtitles", "subtitles_vtt"):
        out.update(stored.get(key, {}).values())
    return out
