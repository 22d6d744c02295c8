"""One render, as the CLI, the jobs executor and the farm all describe it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from filmstudio.domain.settings import RenderSettings

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


@dataclass(frozen=True)
class RenderRequest:
    """Everything one render needs besides the engines: script, settings, the user's images, where to work."""

    script: str
    settings: RenderSettings
    output: Path  # the MP4; sidecars (thumbnail, subtitles, manifest) go beside it
    work_dir: Path
    cache_dir: Path
    job_id: str | None = None  # the job it renders, when it is one (the farm names segment orders by it)
    images: tuple[Path, ...] = ()  # the user's own pictures for scene backgrounds, in order
    title: str | None = None  # the user's title (a project's): wins over the script's title page
    fallback_title: str | None = None  # used when neither names one (e.g. from the file name)
    continuity: str | None = None  # the film's identity across renders (a project, an output path): rates stay put
    encoder: str | None = None  # force a video encoder
    jobs: int | None = None  # parallel workers (default: CPU count)
    storyboard: Path | None = None  # the project's storyboard edits (JSON: seeds, prompts, locks)
    duration_from_script: bool = False  # no duration was asked for: the film takes the script's natural length


def images_in(folder: Path | None) -> tuple[Path, ...]:
    """The pictures in a folder, sorted by name (what `--images DIR` means)."""
    if folder is None or not folder.is_dir():
        return ()
    return tuple(sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()))
