"""`publish` jobs for any target: queue one (API, CLI, desktop, or a render that asked for it) and run it.

A publish reads the film and never changes it: the only write to the project is, on success, where it
went, in `assets.published[target]`. The target's progress (an upload session, the steps done) is kept
in the job's `params.state`, written as it goes, so the reconciler's retry resumes.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from filmstudio.domain.errors import Conflict, NotFound
from filmstudio.domain.jobs import JobRow, PublishDestination, PublishFilm, PublishParams, params_json
from filmstudio.domain.models import PublishAccepted, PublishRequest
from filmstudio.pipeline.context import CancelToken
from filmstudio.services import events
from filmstudio.services.executor import JobOutcome, JobProgress
from filmstudio.services.jobs import enqueue
from filmstudio.services.keys import Principal
from filmstudio.services.studio import Studio
from filmstudio.services.targets import Accepted, FilmFiles, resolve, target_named
from filmstudio.store import jobs as rows
from filmstudio.store import projects as project_rows
from filmstudio.store.db import utcnow


def film_params(assets: dict[str, Any], media: Any = None) -> PublishFilm:
    """The film's files (relative to the media folder) as a publish job keeps them."""
    video = assets["video"]
    stem = video[: -len(".mp4")] if video.endswith(".mp4") else None
    wide = f"{stem}.youtube.jpg" if stem else None
    return PublishFilm(video=video, thumbnail=assets.get("thumbnail"), subtitles=dict(assets.get("subtitles") or {}),
                       manifest=f"{stem}.manifest.json" if stem else None,
                       wide_thumbnail=wide if wide and media is not None and (media / wide).exists() else None)


def film_files(studio: Studio, film: PublishFilm, title: str | None) -> FilmFiles:
    media = studio.media_dir

    def at(rel: str | None) -> Any:
        return media / rel if rel else None

    return FilmFiles(video=media / film.video, thumbnail=at(film.thumbnail),
                     subtitles={lang: media / rel for lang, rel in film.subtitles.items()},
                     manifest=at(film.manifest), title=title, wide_thumbnail=at(film.wide_thumbnail))


def add_publish_job(db: Any, studio: Studio, *, account_id: str, project_id: str, assets: dict[str, Any],
                    target: str, accepted: Accepted, job_id: str | None = None) -> str:
    """Write a queued publish job (inside the caller's transaction); the caller enqueues it after commit."""
    job_id = job_id or str(uuid.uuid4())
    film = film_params(assets, studio.media_dir)
    earlier = _unfinished_state(db, project_id, target, accepted.destination.id, film.video)
    params = PublishParams(  # the same film to the same place failed part way: continue it (session, video, steps)
        target=target, options=accepted.options.model_dump(mode="json"),
        destination=PublishDestination(id=accepted.destination.id, title=accepted.destination.title),
        film=film, state=earlier or {})
    rows.add_job(db, {"id": job_id, "kind": "publish", "project_id": project_id, "account_id": account_id,
                      "status": "queued", "params": params_json(params), "credits": 0, "created_at": utcnow()})
    events.emit(db, account_id, "job.queued", job_id, project_id, "queued", kind="publish")
    return job_id


def _unfinished_state(db: Any, project_id: str, target: str, destination: str, video: str) -> dict[str, Any] | None:
    """What the last failed or cancelled publish of this film to this place got done, if anything."""
    ended = rows.last_ended_publish(db, project_id)
    if ended is None:
        return None
    params = ended.params_as(PublishParams)
    if (params.target, params.destination.id, params.film.video if params.film else None) != (target, destination, video):
        return None
    return dict(params.state) or None


def start_publish(studio: Studio, principal: Principal, project_id: str,
                  request: PublishRequest | None = None) -> PublishAccepted:
    """Queue a publish of the project's latest film to the request's target (YouTube by default)."""
    principal.require("jobs:write")
    name, target, options = resolve(studio.publish_targets, request)
    accepted = target.destination(principal.account_id, options)  # e.g. YOUTUBE_NOT_CONNECTED before any job
    with studio.store.write() as db:
        project = project_rows.lock_project(db, project_id)
        if project is None or project["account_id"] != principal.account_id:
            raise NotFound("no such project", code="PROJECT_NOT_FOUND")
        assets = json.loads(project["assets"] or "{}")
        if not assets.get("video"):
            raise Conflict("the project has no film yet: generate it first", code="PROJECT_NOT_RENDERED")
        target.check(film_files(studio, film_params(assets, studio.media_dir), project["title"]), accepted.options)
        running = rows.running_publish(db, project_id)
        if running is not None:
            raise Conflict("this project is already being published", code="PUBLISH_IN_PROGRESS",
                           details={"job_id": running})
        job_id = add_publish_job(db, studio, account_id=principal.account_id, project_id=project_id,
                                 assets=assets, target=name, accepted=accepted)
        created = utcnow()
    enqueue(studio, job_id)
    return PublishAccepted(job_id=job_id, project_id=project_id, status="queued", target=name,
                           channel_id=accepted.destination.id, channel_title=accepted.destination.title,
                           created_at=created)


@dataclass(frozen=True)
class PublishJobs:
    """The JobHandler for `publish` jobs: the target named in the job does the work."""

    studio: Studio
    kind: ClassVar[str] = "publish"

    def run(self, job: JobRow, progress: JobProgress, cancel: CancelToken) -> JobOutcome:
        params = job.params_as(PublishParams)
        target = target_named(self.studio.publish_targets, params.target)
        options = target.parse(params.options)
        project = project_rows.get_project(self.studio.store, job.project_id) if job.project_id else None
        if params.film is None:
            raise NotFound("the publish job names no film", code="FILE_NOT_FOUND")
        film = film_files(self.studio, params.film, project["title"] if project else None)
        if not film.video.exists():
            raise NotFound("the film to publish is gone (re-rendered or deleted)", code="FILE_NOT_FOUND")
        state: dict[str, Any] = dict(params.state)  # the target fills it in as it goes; `save` makes it durable
        owner = job.lease_owner or ""

        def save() -> None:
            with self.studio.store.write() as db:
                rows.update_leased(db, job.id, owner, {"params": params_json(params.model_copy(update={"state": state}))})

        done = target.run(film, options, state, save, cancel, progress)
        result = done.as_result(params.target, params.destination.id)
        return JobOutcome(result=result, warnings=done.warnings)

    def completed(self, db: Any, job: JobRow, outcome: JobOutcome, now: str) -> dict[str, Any]:
        project = project_rows.lock_project(db, job.project_id) if job.project_id else None
        if project is not None:
            assets = json.loads(project["assets"] or "{}")
            film = job.params_as(PublishParams).film
            if film is not None and assets.get("video") == film.video:  # still the same film: say where it went
                r = outcome.result
                assets.setdefault("published", {})[r["target"]] = {
                    "url": r["url"], "ref": r["ref"], "destination_id": r.get("destination_id"),
                    "job_id": job.id, "published_at": now}
                project_rows.update_project(db, project["id"], {"assets": json.dumps(assets)})
        return {"output_url": outcome.result["url"]}  # the event also carries the result (video id, URL)

    def discard(self, job: JobRow) -> None:
        return None  # nothing of ours to clean: the film is untouched; a target drops its unfinished session
