"""A project's storyboard: the shot list with prompts, and the user's per-shot edits (redo, lock)."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import replace
from pathlib import Path
from typing import Any

from filmstudio.domain.errors import NotFound
from filmstudio.domain.models import ShotRegenerate
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.context import atomic_output
from filmstudio.pipeline.engines import PROCEDURAL_PICTURES
from filmstudio.pipeline.prompts import EstimatedTokens, PromptTokens, model_tokens, tokens_of
from filmstudio.pipeline.references import marked_used
from filmstudio.pipeline.script.analysis import analyse
from filmstudio.pipeline.still_timings import StillPlan, plan_stills
from filmstudio.pipeline.storyboard import ShotEdit, Storyboard, StoryboardEdits, build_storyboard, lock
from filmstudio.services import assets
from filmstudio.services.keys import Principal
from filmstudio.services.projects import owned_project
from filmstudio.services.studio import Studio

log = logging.getLogger(__name__)


def _board(studio: Studio, project: dict[str, Any], edits: StoryboardEdits,
           settings: RenderSettings | None = None) -> Storyboard:
    settings = settings or RenderSettings.model_validate_json(project["settings"])
    script = analyse(project["script"], settings)
    return build_storyboard(script, settings, text=project["script"], edits=edits,
                            images=assets.project_images(studio, project["id"]), tokens=_tokens(studio))


def planned_stills(studio: Studio, project: dict[str, Any], settings: RenderSettings) -> StillPlan | None:
    """The stills a render of `project` will draw (cache misses) and their seconds; None without a model.

    Only an estimate: a failure here (an unreadable edits file, a broken tokenizer) is logged and
    gives None, and never stops the render it estimates (the render reports such errors itself).
    """
    if studio.pictures is None:
        return None
    try:
        edits = StoryboardEdits.load(assets.project_storyboard(studio, project["id"]))
        board = _board(studio, project, edits, settings)
        w, h = settings.size
        return plan_stills(board, studio.pictures, w / h, studio.cache_dir)
    except Exception:
        log.exception("could not count the stills to draw for project %s", project.get("id"))
        return None


def _picture_models(studio: Studio) -> list[tuple[str, Path]]:
    from filmstudio.pipeline.models.library import ModelLibrary

    return [(m.id, m.path) for m in ModelLibrary(studio.models_dir).installed()
            if (m.path / "model_index.json").is_file()]


def _tokens(studio: Studio) -> PromptTokens:
    """The render's picture engine's tokenizer (else the installed model's, else the estimate)."""
    if studio.pictures is not None:
        return tokens_of(studio.pictures)
    models = _picture_models(studio)
    return model_tokens(models[0][1], models[0][0]) if models else EstimatedTokens()


def _pictures(studio: Studio) -> dict[str, Any]:
    """Which picture model will draw the stills, or how to get one; and whether it uses references."""
    from filmstudio.pipeline.models.library import ModelLibrary
    from filmstudio.pipeline.providers.reference_adapter import PULL_ADVICE, find_reference_adapter

    models = [m for m in ModelLibrary(studio.models_dir).installed() if (m.path / "model_index.json").is_file()]
    if models:
        adapter, why = find_reference_adapter(studio.models_dir, models[0].path, models[0].id)
        references = {"used": True, **adapter.identity()} if adapter else {"used": False, "advice": why}
        return {"engine": "diffusers", "model": models[0].id, "references": references}
    return {"engine": PROCEDURAL_PICTURES.name, "model": None, "advice": list(PROCEDURAL_PICTURES.missing),
            "references": {"used": False, "advice": PULL_ADVICE}}


def get_storyboard(studio: Studio, principal: Principal, project_id: str) -> dict[str, Any]:
    """The project's shot list at estimated timing (a render cuts at the same lines)."""
    principal.require("projects:read")
    project = owned_project(studio, principal, project_id)
    edits = StoryboardEdits.load(assets.project_storyboard(studio, project_id))
    board, pictures = _board(studio, project, edits), _pictures(studio)
    if pictures["references"]["used"]:
        board = replace(board, references=marked_used(board.references))
    return {**board.as_dict(), "pictures": pictures}


def regenerate_shot(studio: Studio, principal: Principal, project_id: str, number: int,
                    body: ShotRegenerate) -> dict[str, Any]:
    """Store a new seed or prompt (or a lock) for shot `number`; the next render redraws only it."""
    principal.require("projects:write")
    project = owned_project(studio, principal, project_id)
    path = assets.project_storyboard(studio, project_id)
    edits = StoryboardEdits.load(path)
    board = _board(studio, project, edits)
    if not 1 <= number <= len(board.shots):
        raise NotFound(f"the storyboard has shots 1 to {len(board.shots)}", code="SHOT_NOT_FOUND",
                       details={"shot": number, "shots": len(board.shots)})
    old = edits.shots.get(number, ShotEdit())
    if body.locked is not None and body.seed is None and body.prompt is None:
        edits = lock(board, edits, number, body.locked)
    else:
        seed = body.seed if body.seed is not None else (old.seed if body.prompt else None)
        if seed is None:
            seed = secrets.randbelow(2**32)
        edit = replace(old, seed=seed, prompt=body.prompt or old.prompt,
                       locked=old.locked if body.locked is None else body.locked)
        edits = replace(edits, shots={**edits.shots, number: edit})
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(edits.as_dict(), indent=1), encoding="utf-8")
    shot = _board(studio, project, edits).as_dict()["shots"][number - 1]
    return {"shot": shot, "render": f"POST /api/v1/projects/{project_id}/generate draws the new still"}
