"""The clips a project's last render made for its moving shots (from the film's manifest).

Mirrors how the storyboard finds each shot's still (`services/storyboard.py`): the manifest's
`shot_clips` maps a shot number to a file name under `<cache>/clips/`; names are checked, never
taken as paths, so the manifest can never point the API at another file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from filmstudio.domain.errors import NotFound
from filmstudio.pipeline.clip_timings import CLIPS_FOLDER
from filmstudio.services.keys import Principal
from filmstudio.services.projects import owned_project
from filmstudio.services.studio import Studio

CLIP_NAME = re.compile(r"^clip-[0-9a-f]{32}\.mp4$")


def made_clips(studio: Studio, project: dict[str, Any]) -> dict[int, Path]:
    """Shot number -> the clip the project's last render made for it (existing files only)."""
    stored = json.loads(project["assets"] or "{}")
    if not stored.get("video"):
        return {}
    manifest = (studio.media_dir / stored["video"]).with_suffix(".manifest.json")
    try:
        names = json.loads(manifest.read_text(encoding="utf-8")).get("shot_clips") or {}
    except (OSError, ValueError):
        return {}
    if not isinstance(names, dict):
        return {}
    folder = studio.cache_dir / CLIPS_FOLDER
    found = {int(n): folder / name for n, name in names.items()
             if str(n).isdigit() and isinstance(name, str) and CLIP_NAME.match(name)}
    return {n: p for n, p in sorted(found.items()) if p.is_file()}


def shot_clips(studio: Studio, principal: Principal, project_id: str) -> dict[int, Path]:
    """Shot number -> the clip file the project's last render made for it (its moving shots)."""
    principal.require("projects:read")
    return made_clips(studio, owned_project(studio, principal, project_id))


def shot_clip(studio: Studio, principal: Principal, project_id: str, number: int) -> Path:
    """The MP4 the last render made for shot `number`, or CLIP_NOT_FOUND."""
    made = shot_clips(studio, principal, project_id)
    if number not in made:
        raise NotFound("no clip for that shot: it did not move in the last render (mark it to move and render "
                       "with a video model installed)", code="CLIP_NOT_FOUND",
                       details={"shot": number, "moving": sorted(made)})
    return made[number]
