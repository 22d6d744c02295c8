"""Model use cases: the catalogue as this machine sees it, and `model_pull` jobs that download one."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, cast

from filmstudio.domain.errors import BadRequest, Conflict
from filmstudio.domain.jobs import JobRow, ModelPullParams, params_json
from filmstudio.domain.models import (
    ModelKind,
    ModelPick,
    ModelPublic,
    ModelPullAccepted,
    ModelRecommendation,
    ModelSetPull,
    ModelSetPullAccepted,
)
from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.models.catalogue import Catalogue, ModelEntry, load_catalogue
from filmstudio.pipeline.models.hardware import Hardware, detect_hardware, fits
from filmstudio.pipeline.models.library import ModelLibrary
from filmstudio.pipeline.models.recommend import Pick, pull_plan, recommend
from filmstudio.services import events
from filmstudio.services.executor import JobOutcome, JobProgress
from filmstudio.services.jobs import enqueue
from filmstudio.services.keys import Principal
from filmstudio.services.studio import Studio
from filmstudio.store import jobs as rows
from filmstudio.store.db import utcnow


@cache
def _catalogue(path: Path | None) -> Catalogue:
    return load_catalogue(path)


def catalogue(studio: Studio) -> Catalogue:
    """The studio's catalogue: the package's own unless settings name another (read once per process)."""
    return _catalogue(studio.settings.model_catalogue)


@cache
def hardware() -> Hardware:
    return detect_hardware()


def library(studio: Studio) -> ModelLibrary:
    return ModelLibrary(studio.models_dir)


def to_public(entry: ModelEntry, lib: ModelLibrary, machine: Hardware) -> ModelPublic:
    installed = lib.get(entry.id)
    ok, why = fits(entry, machine)
    return ModelPublic(
        id=entry.id, kind=cast(ModelKind, entry.kind), engine=entry.engine, title=entry.title, size_bytes=entry.size,
        installed=installed is not None, installed_bytes=installed.size_bytes if installed else None,
        licence=entry.licence.spdx, licence_url=entry.licence.url, commercial_use=entry.licence.commercial_use,
        licence_note=entry.licence.note, fits=ok, fits_reason=why, languages=list(entry.languages),
        min_ram_mb=entry.min_ram_mb, min_vram_mb=entry.min_vram_mb, verified=entry.verified,
        repo=entry.repo, revision=entry.revision,
    )


def list_models(studio: Studio, principal: Principal, kind: str | None = None) -> list[ModelPublic]:
    """Every catalogue model, with whether it is installed here and whether it fits this machine."""
    principal.require("jobs:read")
    lib, machine = library(studio), hardware()
    return [to_public(e, lib, machine) for e in catalogue(studio) if kind is None or e.kind == kind]


def get_model(studio: Studio, principal: Principal, model_id: str) -> ModelPublic:
    principal.require("jobs:read")
    return to_public(catalogue(studio).get(model_id), library(studio), hardware())


def start_pull(studio: Studio, principal: Principal, model_id: str) -> ModelPullAccepted:
    """Queue a `model_pull` job (the studio's owner decides what fills its disk: admin scope)."""
    principal.require("admin")
    entry = catalogue(studio).get(model_id)  # MODEL_NOT_FOUND before any job exists
    now = utcnow()
    job_id = str(uuid.uuid4())
    with studio.store.write() as db:
        running = rows.active_pull(db, model_id)
        if running is not None:
            raise Conflict(f"{model_id} is already being downloaded", code="MODEL_PULL_IN_PROGRESS",
                           details={"job_id": running})
        rows.add_job(db, {
            "id": job_id, "kind": "model_pull", "project_id": None, "account_id": principal.account_id,
            "status": "queued", "params": params_json(ModelPullParams(model_id=model_id)), "credits": 0, "created_at": now,
        })
        events.emit(db, principal.account_id, "job.queued", job_id, None, "queued", kind="model_pull")
    enqueue(studio, job_id)
    return ModelPullAccepted(job_id=job_id, model_id=model_id, status="queued", size_bytes=entry.size,
                             licence=entry.licence.spdx, commercial_use=entry.licence.commercial_use,
                             created_at=now)


def _pick(pick: Pick) -> ModelPick:
    e = pick.entry
    return ModelPick(id=e.id, kind=cast(ModelKind, e.kind), title=e.title, size_bytes=e.size, installed=pick.installed,
                     licence=e.licence.spdx, licence_url=e.licence.url, commercial_use=e.licence.commercial_use,
                     licence_note=e.licence.note, why=pick.why)


def recommended(studio: Studio, principal: Principal, language: str = "en") -> ModelRecommendation:
    """The set `models pull --recommended` would pull here for `language`: each model's size and licence first."""
    principal.require("jobs:read")
    plan = recommend(catalogue(studio), hardware(), language, library(studio))
    return ModelRecommendation(language=plan.language, hardware=plan.hardware.summary(),
                               models=[_pick(p) for p in plan.picks], total_bytes=plan.total_bytes,
                               notes=list(plan.notes))


def start_pull_set(studio: Studio, principal: Principal, request: ModelSetPull) -> ModelSetPullAccepted:
    """Queue one `model_pull` job for several models (named, or the recommended set), one progress over all."""
    principal.require("admin")
    if request.recommended == (request.models is not None):
        raise BadRequest("give either `models` (catalogue ids) or `recommended: true`", code="VALIDATION_ERROR",
                         details={"field": "models"})
    lib = library(studio)
    if request.recommended:
        picks = list(recommend(catalogue(studio), hardware(), request.language, lib).picks)
    else:
        ids = list(dict.fromkeys(request.models or ()))  # each once, in the order asked
        picks = [Pick(catalogue(studio).get(i), "", installed=lib.is_installed(i)) for i in ids]  # MODEL_NOT_FOUND
    if not picks:
        raise Conflict("nothing is recommended for this machine and language", code="NOTHING_TO_PULL",
                       details={"language": request.language})
    ids = [p.entry.id for p in picks]
    now = utcnow()
    job_id = str(uuid.uuid4())
    with studio.store.write() as db:
        for model_id in ids:
            running = rows.active_pull(db, model_id)
            if running is not None:
                raise Conflict(f"{model_id} is already being downloaded", code="MODEL_PULL_IN_PROGRESS",
                               details={"job_id": running, "model_id": model_id})
        rows.add_job(db, {
            "id": job_id, "kind": "model_pull", "project_id": None, "account_id": principal.account_id,
            "status": "queued", "params": params_json(ModelPullParams(model_id=ids[0], model_ids=tuple(ids))),
            "credits": 0, "created_at": now,
        })
        events.emit(db, principal.account_id, "job.queued", job_id, None, "queued", kind="model_pull")
    enqueue(studio, job_id)
    return ModelSetPullAccepted(job_id=job_id, status="queued", models=[_pick(p) for p in picks],
                                total_bytes=sum(p.entry.size for p in picks if not p.installed), created_at=now)


def remove_model(studio: Studio, principal: Principal, model_id: str) -> None:
    principal.require("admin")
    catalogue(studio).get(model_id)
    library(studio).remove(model_id)


@dataclass(frozen=True)
class ModelPullJobs:
    """The JobHandler for `model_pull` jobs: a resumable, verified download into the studio's models folder."""

    studio: Studio
    kind: ClassVar[str] = "model_pull"

    def run(self, job: JobRow, progress: JobProgress, cancel: CancelToken) -> JobOutcome:
        from filmstudio.pipeline.models.download import pull

        params = job.params_as(ModelPullParams)
        if params.model_ids is not None:
            return self._run_set(params.model_ids, progress, cancel)
        model_id = params.model_id
        entry = catalogue(self.studio).get(model_id)

        def report(done: int, total: int, rate: float) -> None:
            progress.report("download", done / total if total else 0.0)
            progress.note(model_id=model_id, bytes_done=done, bytes_total=total, bytes_per_second=round(rate))

        progress.report("download", 0.0)
        progress.note(model_id=model_id, bytes_done=0, bytes_total=entry.size, bytes_per_second=0)
        # Every chunk is noted (a dict update); the heartbeat writes the latest out twice a second.
        folder = pull(entry, library(self.studio), progress=report, cancel=cancel,
                      endpoint=self.studio.settings.pull_endpoint, report_seconds=0.0)
        installed = library(self.studio).get(model_id)
        return JobOutcome(result={
            "model_id": model_id, "path": str(folder), "bytes": installed.size_bytes if installed else entry.size,
            "revision": installed.revision if installed else entry.revision,
        })

    def _run_set(self, ids: tuple[str, ...], progress: JobProgress, cancel: CancelToken) -> JobOutcome:
        """Several models in turn, one bar over the whole set; `result.models` has each one's bytes and state."""
        entries = [catalogue(self.studio).get(i) for i in ids]
        lib = library(self.studio)
        each = {e.id: {"model_id": e.id, "bytes_done": 0, "bytes_total": e.size,
                       "state": "installed" if lib.is_installed(e.id) else "waiting"} for e in entries}

        def model_report(model_id: str, done: int, size: int) -> None:
            entry = each[model_id]
            if entry["state"] != "installed":
                entry.update(bytes_done=done, bytes_total=size, state="done" if done >= size else "downloading")
            else:
                entry.update(bytes_done=size, bytes_total=size)
            progress.note(model_id=model_id, models=[dict(m) for m in each.values()])

        def report(done: int, total: int, rate: float) -> None:
            progress.report("download", done / total if total else 0.0)
            progress.note(bytes_done=done, bytes_total=total, bytes_per_second=round(rate))

        total = sum(e.size for e in entries if not lib.is_installed(e.id))
        progress.report("download", 0.0)
        progress.note(model_id=ids[0], bytes_done=0, bytes_total=total, bytes_per_second=0,
                      models=[dict(m) for m in each.values()])
        folders = pull_plan(entries, lib, progress=report, cancel=cancel, endpoint=self.studio.settings.pull_endpoint,
                            report_seconds=0.0, each=model_report)
        done: list[dict[str, Any]] = []
        for entry, folder in zip(entries, folders, strict=True):
            installed = lib.get(entry.id)
            done.append({"model_id": entry.id, "path": str(folder),
                         "bytes": installed.size_bytes if installed else entry.size,
                         "revision": installed.revision if installed else entry.revision,
                         "state": each[entry.id]["state"] if each[entry.id]["state"] == "installed" else "done"})
        return JobOutcome(result={"model_id": ids[0], "model_ids": list(ids), "models": done,
                                  "bytes": sum(int(m["bytes"]) for m in done)})

    def completed(self, db: Any, job: JobRow, outcome: JobOutcome, now: str) -> dict[str, Any]:
        return {}

    def discard(self, job: JobRow) -> None:
        # A cancelled or failed pull keeps its partial files on purpose: the next pull resumes them.
        # Only a pull whose model left the catalogue is cleaned away.
        params = job.params_as(ModelPullParams)
        for model_id in params.model_ids or (params.model_id,):
            if model_id and model_id not in catalogue(self.studio):
                shutil.rmtree(library(self.studio).staging_dir(model_id), ignore_errors=True)
