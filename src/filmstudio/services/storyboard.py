"""A project's storyboard: the shot list with prompts, the user's edits (redo, lock, character looks,
which shots move), the stills and clips the project's last render made, and what motion adds to a render."""

from __future__ import annotations

import json
import logging
import re
import secrets
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filmstudio.domain.errors import NotFound
from filmstudio.domain.models import CharacterLookUpdate, ShotRegenerate, ShotUpdate
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.context import atomic_output
from filmstudio.pipeline.engines import PROCEDURAL_PICTURES
from filmstudio.pipeline.motion_estimate import estimate_motion
from filmstudio.pipeline.motion_plan import MotionEstimate, motion_prompt
from filmstudio.pipeline.plan import Script
from filmstudio.pipeline.prompts import EstimatedTokens, PromptTokens, model_tokens, tokens_of
from filmstudio.pipeline.references import marked_used
from filmstudio.pipeline.script.analysis import analyse
from filmstudio.pipeline.still_timings import StillPlan, plan_stills
from filmstudio.pipeline.storyboard import (
    ShotEdit,
    Storyboard,
    StoryboardEdits,
    build_storyboard,
    lock,
    set_motion,
)
from filmstudio.services import assets
from filmstudio.services.clips import made_clips
from filmstudio.services.keys import Principal
from filmstudio.services.projects import owned_project
from filmstudio.services.studio import Studio
from filmstudio.store import projects as project_rows
from filmstudio.store.db import utcnow

if TYPE_CHECKING:
    from filmstudio.pipeline.models.library import InstalledModel

log = logging.getLogger(__name__)


def _board(studio: Studio, project: dict[str, Any], edits: StoryboardEdits,
           settings: RenderSettings | None = None, script: Script | None = None) -> Storyboard:
    settings = settings or RenderSettings.model_validate_json(project["settings"])
    if script is None and not project["script"].strip() and project.get("idea"):
        from filmstudio.domain.errors import Conflict

        raise Conflict("the project has only an idea so far: write its screenplay first "
                       "(POST /api/v1/projects/{id}/write, or generate)", code="SCRIPT_NOT_WRITTEN")
    script = script or analyse(project["script"], settings)
    return build_storyboard(script, settings, text=project["script"], edits=edits,
                            images=assets.project_images(studio, project["id"]), tokens=_tokens(studio))


def planned_stills(studio: Studio, project: dict[str, Any], settings: RenderSettings, *,
                   script: Script | None = None) -> StillPlan | None:
    """The stills a render of `project` will draw (cache misses) and their seconds; None without a model.

    `script`: the project's script already analysed with `settings` (else it is analysed here).

    Only an estimate: a failure here (an unreadable edits file, a broken tokenizer) is logged and
    gives None, and never stops the render it estimates (the render reports such errors itself).
    """
    pictures = studio.picture_engine()
    if pictures is None:
        return None
    try:
        edits = StoryboardEdits.load(assets.project_storyboard(studio, project["id"]))
        board = _board(studio, project, edits, settings, script)
        w, h = settings.size
        return plan_stills(board, pictures, w / h, studio.cache_dir)
    except Exception:
        log.exception("could not count the stills to draw for project %s", project.get("id"))
        return None


def planned_motion(studio: Studio, project: dict[str, Any], settings: RenderSettings, *,
                   script: Script | None = None, board: Storyboard | None = None) -> MotionEstimate | None:
    """What motion adds to a render of `project`: its moving shots times the seconds per clip.

    Every moving shot is counted as a full clip (the clips a render already made are not told apart
    yet). Without `board` (a render's estimate) and without a video model: None, nothing is built.
    Only an estimate: a failure is logged and gives None, and never stops the render it estimates.
    """
    motion = studio.motion_engine()
    if board is None and motion is None:
        return None
    try:
        if board is None:
            edits = StoryboardEdits.load(assets.project_storyboard(studio, project["id"]))
            board = _board(studio, project, edits, settings, script)
        w, h = settings.size
        return estimate_motion(board, settings.motion, motion, w / h, studio.cache_dir, studio.motion_advice_now())
    except Exception:
        log.exception("could not estimate the motion for project %s", project.get("id"))
        return None


def _installed_pictures(studio: Studio) -> list[InstalledModel]:
    """The installed models of kind "picture" that diffusers draws with (never another kind's folder)."""
    from filmstudio.pipeline.models.catalogue import load_catalogue
    from filmstudio.pipeline.models.library import ModelLibrary, serving

    return [m for m in serving(ModelLibrary(studio.models_dir), load_catalogue(), kind="picture", engine="diffusers")
            if (m.path / "model_index.json").is_file()]


def _picture_models(studio: Studio) -> list[tuple[str, Path]]:
    return [(m.id, m.path) for m in _installed_pictures(studio)]


def _tokens(studio: Studio) -> PromptTokens:
    """The render's picture engine's tokenizer (else the installed model's, else the estimate)."""
    pictures = studio.picture_engine()
    if pictures is not None:
        return tokens_of(pictures)
    models = _picture_models(studio)
    return model_tokens(models[0][1], models[0][0]) if models else EstimatedTokens()


def _pictures(studio: Studio) -> dict[str, Any]:
    """Which picture model will draw the stills, or how to get one; and whether it uses references."""
    from filmstudio.pipeline.providers.reference_adapter import PULL_ADVICE, find_reference_adapter

    models = _installed_pictures(studio)
    if models:
        adapter, why = find_reference_adapter(studio.models_dir, models[0].path, models[0].id)
        references = {"used": True, **adapter.identity().as_dict()} if adapter else {"used": False, "advice": why}
        return {"engine": "diffusers", "model": models[0].id, "references": references}
    return {"engine": PROCEDURAL_PICTURES.name, "model": None, "advice": list(PROCEDURAL_PICTURES.missing),
            "references": {"used": False, "advice": PULL_ADVICE}}


_STILL_NAME = re.compile(r"^still-[0-9a-f]{32}\.png$")


def _drawn(studio: Studio, project: dict[str, Any]) -> dict[int, Path]:
    """Shot number -> the still the project's last render drew for it (from the film's manifest)."""
    stored = json.loads(project["assets"] or "{}")
    if not stored.get("video"):
        return {}
    manifest = (studio.media_dir / stored["video"]).with_suffix(".manifest.json")
    try:
        names = json.loads(manifest.read_text(encoding="utf-8")).get("shot_stills") or {}
    except (OSError, ValueError):
        return {}
    folder = studio.cache_dir / "stills"
    # Names only, checked: the manifest never points the API at a file outside the stills cache.
    found = {int(n): folder / name for n, name in names.items()
             if str(n).isdigit() and isinstance(name, str) and _STILL_NAME.match(name)}
    return {n: p for n, p in sorted(found.items()) if p.is_file()}


def get_storyboard(studio: Studio, principal: Principal, project_id: str) -> dict[str, Any]:
    """The project's shot list at estimated timing (a render cuts at the same lines).

    Each shot's `still` is the API path of the still the last render drew for it (None before one).
    """
    principal.require("projects:read")
    project = owned_project(studio, principal, project_id)
    edits = StoryboardEdits.load(assets.project_storyboard(studio, project_id))
    board, pictures = _board(studio, project, edits), _pictures(studio)
    if pictures["references"]["used"]:
        board = replace(board, references=marked_used(board.references))
    listed = board.as_dict()
    drawn, clips = _drawn(studio, project), made_clips(studio, project)
    base = f"/api/v1/projects/{project_id}/storyboard/shots"
    for shot, made in zip(listed["shots"], board.shots, strict=True):
        n = shot["number"]
        shot["still"] = f"{base}/{n}/still" if n in drawn else None
        shot["clip_url"] = f"{base}/{n}/clip" if n in clips else None
        shot["motion_prompt"], shot["motion_negative_prompt"] = motion_prompt(made.prompt, made.negative_prompt)
    settings = RenderSettings.model_validate_json(project["settings"])
    motion = planned_motion(studio, project, settings, board=board)
    return {**listed, "pictures": pictures, "motion": motion.as_dict() if motion is not None else None}


def shot_stills(studio: Studio, principal: Principal, project_id: str) -> dict[int, Path]:
    """Shot number -> the still file the project's last render drew for it."""
    principal.require("projects:read")
    return _drawn(studio, owned_project(studio, principal, project_id))


def shot_still(studio: Studio, principal: Principal, project_id: str, number: int) -> Path:
    """The PNG the last render drew for shot `number`, or STILL_NOT_FOUND."""
    drawn = shot_stills(studio, principal, project_id)
    if number not in drawn:
        raise NotFound("no still for that shot: render the film with a picture model installed first "
                       "(a shot with your own picture has none)", code="STILL_NOT_FOUND",
                       details={"shot": number, "drawn": sorted(drawn)})
    return drawn[number]


def update_shot(studio: Studio, principal: Principal, project_id: str, number: int,
                body: ShotUpdate) -> dict[str, Any]:
    """Make shot `number` move (`motion: true`), stay a still (false) or follow the budget (null)."""
    principal.require("projects:write")
    project = owned_project(studio, principal, project_id)
    path = assets.project_storyboard(studio, project_id)
    edits = StoryboardEdits.load(path)
    board = _board(studio, project, edits)
    if not 1 <= number <= len(board.shots):
        raise NotFound(f"the storyboard has shots 1 to {len(board.shots)}", code="SHOT_NOT_FOUND",
                       details={"shot": number, "shots": len(board.shots)})
    if "motion" in body.model_fields_set:
        edits = set_motion(edits, number, body.motion)
        _save(studio, project_id, path, edits)
    shot = _board(studio, project, edits).as_dict()["shots"][number - 1]
    return {"shot": shot, "render": f"POST /api/v1/projects/{project_id}/generate animates the shots marked moving"}


def update_character(studio: Studio, principal: Principal, project_id: str, name: str,
                     body: CharacterLookUpdate) -> dict[str, Any]:
    """Store a character's edited description or seed; every shot with them uses it from the next render."""
    principal.require("projects:write")
    project = owned_project(studio, principal, project_id)
    path = assets.project_storyboard(studio, project_id)
    edits = StoryboardEdits.load(path)
    names = [c.name for c in _board(studio, project, edits).characters]
    wanted = name.strip().upper()
    if wanted not in names:
        raise NotFound("the script has no such character", code="CHARACTER_NOT_FOUND",
                       details={"character": name[:100], "characters": names})
    edit = dict(edits.characters.get(wanted) or {})
    if body.description is not None:
        edit["description"] = body.description.strip()
    if body.seed is not None:
        edit["seed"] = body.seed
    edits = replace(edits, characters={**edits.characters, wanted: edit})
    _save(studio, project_id, path, edits)
    look = next(c for c in _board(studio, project, edits).characters if c.name == wanted)
    return {"character": asdict(look), "render": f"POST /api/v1/projects/{project_id}/generate redraws their shots"}


def _save(studio: Studio, project_id: str, path: Path, edits: StoryboardEdits) -> None:
    """Write the edits, and mark the project changed (its revision, hence its ETag, moves on)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(edits.as_dict(), indent=1), encoding="utf-8")
    with studio.store.write() as db:
        project_rows.touch_project(db, project_id, utcnow())


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
    _save(studio, project_id, path, edits)
    shot = _board(studio, project, edits).as_dict()["shots"][number - 1]
    return {"shot": shot, "render": f"POST /api/v1/projects/{project_id}/generate draws the new still"}
