"""What a Publish form needs before it queues anything: the targets, defaults from the film, every refusal now.

The desktop's Publish dialog (and any other front door) shows the film's own title, a description and
tags made from its manifest, and privacy `private`; while the user edits, `check_publish` runs the
target's own parse and check (for YouTube, its documented rules: `services/youtube/rules.py`) on the
project's film without a destination, so each refusal is shown at its field before a byte moves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from filmstudio.domain.errors import Conflict, FilmStudioError
from filmstudio.domain.models import PublishRequest
from filmstudio.services.keys import Principal
from filmstudio.services.projects import owned_project
from filmstudio.services.publish import film_files, film_params
from filmstudio.services.studio import Studio
from filmstudio.services.targets import FilmFiles, resolve


@dataclass(frozen=True)
class FieldProblem:
    """One refusal, at the field it concerns (`field` as the target names it: `title`, `snippet.tags`, ...)."""

    field: str
    message: str
    code: str


def target_names(studio: Studio) -> list[str]:
    """Where this studio can publish, the default (YouTube) first."""
    from filmstudio.services.targets import DEFAULT_TARGET

    return sorted(studio.publish_targets, key=lambda name: (name != DEFAULT_TARGET, name))


def _film(studio: Studio, principal: Principal, project_id: str) -> tuple[FilmFiles, dict[str, Any]]:
    project = owned_project(studio, principal, project_id)
    assets = json.loads(project["assets"] or "{}")
    if not assets.get("video"):
        raise Conflict("the project has no film yet: generate it first", code="PROJECT_NOT_RENDERED")
    return film_files(studio, film_params(assets, studio.media_dir), project["title"]), dict(project)


def target_fields(studio: Studio, name: str) -> dict[str, str]:
    """A target's text options with their defaults (a form for a target the front door knows nothing of)."""
    from filmstudio.services.targets import target_named

    parsed = target_named(studio.publish_targets, name).parse({})
    return {k: v for k, v in parsed.model_dump(mode="json").items() if isinstance(v, str)}


def publish_defaults(studio: Studio, principal: Principal, project_id: str) -> dict[str, Any]:
    """The form's first values, from the project and its film's manifest: title, description, tags, privacy."""
    principal.require("jobs:read")
    film, project = _film(studio, principal, project_id)
    manifest = film.manifest_data()
    title = str(project.get("title") or manifest.get("title") or film.video.stem)[:100]
    settings = manifest.get("settings") or {}
    scenes = [s for s in manifest.get("scenes", []) if s.get("kind") == "scene"]
    cast = [name for name in (manifest.get("casting") or {}) if name != "NARRATOR"]
    seconds = float(manifest.get("duration") or 0.0)
    length = f"{int(seconds // 60)} min {int(seconds % 60)} s" if seconds >= 60 else f"{round(seconds)} s"
    parts = [f"{title}: a {settings.get('style', 'short')} short film ({length}"
             + (f", {len(scenes)} scene{'s' if len(scenes) != 1 else ''}" if scenes else "") + ")"]
    if cast:
        parts.append("with " + (", ".join(n.title() for n in cast[:-1]) + " and " if len(cast) > 1 else "")
                     + cast[-1].title())
    tags = ["short film", *(t for t in (settings.get("style"), settings.get("music_genre")) if t and t != "none")]
    return {"title": title, "description": " ".join(parts) + ".", "tags": tags, "privacy": "private",
            "publish_at": None, "made_for_kids": False}


def check_publish(studio: Studio, principal: Principal, project_id: str,
                  request: PublishRequest) -> list[FieldProblem]:
    """What the target would refuse about this film with these options, field by field (nothing queued)."""
    principal.require("jobs:read")
    film, _project = _film(studio, principal, project_id)
    try:
        _name, target, options = resolve(studio.publish_targets, request)
    except FilmStudioError as exc:
        return _problems(exc)
    try:
        target.check(film, options)
    except FilmStudioError as exc:
        return _problems(exc)
    return []


def _problems(exc: FilmStudioError) -> list[FieldProblem]:
    details = exc.details if isinstance(exc.details, dict) else {}
    errors = details.get("errors")
    if isinstance(errors, list) and errors:  # every field pydantic refused, not just the first
        return [FieldProblem(".".join(str(p) for p in e.get("loc", ())) or str(details.get("field", "")),
                             str(e.get("msg", exc.message)), exc.code) for e in errors if isinstance(e, dict)]
    return [FieldProblem(str(details.get("field", "")), exc.message, exc.code)]
