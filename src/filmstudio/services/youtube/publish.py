"""`filmstudio publish FILM.mp4 --youtube`: a film file (and its sidecars beside it) to YouTube, in this process.

Publishing a project's film is a `publish` job of the generic service (`services/publish.py`) with
the YouTube target (`target.py`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from filmstudio.domain.models import YouTubeOptions
from filmstudio.pipeline.context import CancelToken
from filmstudio.services.accounts import owner_account
from filmstudio.services.executor import JobProgress
from filmstudio.services.studio import Studio
from filmstudio.services.targets import FilmFiles
from filmstudio.services.youtube.target import YouTubeTarget
from filmstudio.services.youtube.upload import DEFAULT_CHUNK


def film_title(video: Path, manifest: Path | None) -> str | None:
    """The film's own title: its manifest's, else the MP4's title tag (None when it has neither)."""
    if manifest is not None and manifest.exists():
        title = json.loads(manifest.read_text(encoding="utf-8")).get("title")
        if isinstance(title, str) and title.strip():
            return title.strip()
    try:
        from filmstudio.pipeline.media.ffmpeg import probe

        tags = probe(video).get("format", {}).get("tags", {})
    except Exception:  # not an MP4 ffprobe can read, or no ffprobe: the file name it is
        return None
    tag = next((v for k, v in tags.items() if k.lower() == "title"), None)
    return tag.strip() if isinstance(tag, str) and tag.strip() else None


def film_beside(path: Path) -> FilmFiles:
    """A film file with the sidecars `filmstudio render` writes beside it."""
    stem = path.with_suffix("")
    subs = {p.suffixes[-2].lstrip("."): p for p in sorted(path.parent.glob(f"{stem.name}.*.srt"))}
    thumb, wide, manifest = path.with_suffix(".jpg"), path.with_suffix(".youtube.jpg"), Path(f"{stem}.manifest.json")
    found = manifest if manifest.exists() else None
    return FilmFiles(path, thumb if thumb.exists() else None, subs, found, film_title(path, found),
                     wide if wide.exists() else None)


def publish_file(studio: Studio, path: Path, options: YouTubeOptions, *, progress: JobProgress | None = None,
                 cancel: CancelToken | None = None, chunk_bytes: int = DEFAULT_CHUNK,
                 account_id: str | None = None) -> dict[str, Any]:
    """Publish a film file to a channel of `account_id` (default: the studio's owner, as the CLI is)."""
    target = YouTubeTarget(studio, chunk_bytes)
    film = film_beside(path)
    accepted = target.destination(account_id or owner_account(studio.store).account_id, options)
    target.check(film, accepted.options)
    done = target.run(film, accepted.options, {}, lambda: None, cancel or CancelToken(), progress or JobProgress())
    return {**done.details, "url": done.url, "warnings": list(done.warnings)}
