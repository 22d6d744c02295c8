"""`publish` jobs: queue one (from the API, the CLI, the desktop, or a render that asked for it) and run it.

A publish reads the film and never changes it: the only write to the project is, on success, the
video's id and URL in its assets. Its progress (session URI, acknowledged byte, steps done) is kept
in the job's `params`, written as each chunk is acknowledged, so the reconciler's retry resumes.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from filmstudio.domain.errors import Conflict, NotFound
from filmstudio.domain.models import PublishAccepted, YouTubeOptions
from filmstudio.pipeline.context import CancelToken
from filmstudio.services import events
from filmstudio.services.executor import JobOutcome, JobProgress
from filmstudio.services.jobs import enqueue
from filmstudio.services.keys import Principal
from filmstudio.services.studio import Studio
from filmstudio.services.youtube.client import Endpoint, channel_for, credentials
from filmstudio.services.youtube.steps import FilmFiles, Publisher
from filmstudio.services.youtube.upload import DEFAULT_CHUNK
from filmstudio.store import jobs as rows
from filmstudio.store import projects as project_rows
from filmstudio.store.db import utcnow


def film_params(assets: dict[str, Any]) -> dict[str, Any]:
    """The film's files (relative to the media folder) as a publish job keeps them."""
    video = assets["video"]
    return {"video": video, "thumbnail": assets.get("thumbnail"), "subtitles": dict(assets.get("subtitles") or {}),
            "manifest": video[: -len(".mp4")] + ".manifest.json" if video.endswith(".mp4") else None}


def film_files(studio: Studio, params: dict[str, Any], title: str | None) -> FilmFiles:
    media = studio.media_dir
    return FilmFiles(
        video=media / params["video"],
        thumbnail=media / params["thumbnail"] if params.get("thumbnail") else None,
        subtitles={lang: media / rel for lang, rel in (params.get("subtitles") or {}).items()},
        manifest=media / params["manifest"] if params.get("manifest") else None, title=title,
    )


def add_publish_job(db: Any, studio: Studio, *, account_id: str, project_id: str, assets: dict[str, Any],
                    options: YouTubeOptions, channel_id: str, job_id: str | None = None) -> str:
    """Write a queued publish job (inside the caller's transaction); the caller enqueues it after commit."""
    job_id = job_id or str(uuid.uuid4())
    params: dict[str, Any] = {"channel_id": channel_id, "youtube": options.model_dump(mode="json"),
                              "film": film_params(assets)}
    earlier = _unfinished_state(db, project_id, channel_id, params["film"]["video"])
    if earlier:  # the same film to the same channel failed part way: continue it (session, video, steps)
        params["state"] = earlier
    rows.add_job(db, {"id": job_id, "kind": "publish", "project_id": project_id, "account_id": account_id,
                      "status": "queued", "params": json.dumps(params), "credits": 0, "created_at": utcnow()})
    events.emit(db, account_id, "job.queued", job_id, project_id, "queued", kind="publish")
    return job_id


def _unfinished_state(db: Any, project_id: str, channel_id: str, video: str) -> dict[str, Any] | None:
    """What the last failed or cancelled publish of this film to this channel got done, if anything."""
    row = db.execute(
        "SELECT params FROM jobs WHERE kind = 'publish' AND project_id = ? AND status IN ('failed', 'cancelled') "
        "ORDER BY created_at DESC LIMIT 1", [project_id]).fetchone()
    if row is None:
        return None
    params = json.loads(row[0] or "{}")
    if params.get("channel_id") != channel_id or params.get("film", {}).get("video") != video:
        return None
    state: dict[str, Any] | None = params.get("state") or None
    return state


def start_publish(studio: Studio, principal: Principal, project_id: str,
                  options: YouTubeOptions | None = None) -> PublishAccepted:
    """Queue a publish of the project's latest film to the connected YouTube channel."""
    principal.require("jobs:write")
    options = options or YouTubeOptions()
    channel = channel_for(studio, options.channel_id)  # YOUTUBE_NOT_CONNECTED before any job exists
    with studio.store.write() as db:
        project = project_rows.lock_project(db, project_id)
        if project is None or project["account_id"] != principal.account_id:
            raise NotFound("no such project", code="PROJECT_NOT_FOUND")
        assets = json.loads(project["assets"] or "{}")
        if not assets.get("video"):
            raise Conflict("the project has no film yet: generate it first", code="PROJECT_NOT_RENDERED")
        running = db.execute(
            "SELECT id FROM jobs WHERE kind = 'publish' AND project_id = ? AND status IN ('queued', 'processing')",
            [project_id]).fetchone()
        if running is not None:
            raise Conflict("this project is already being published", code="PUBLISH_IN_PROGRESS",
                           details={"job_id": running[0]})
        job_id = add_publish_job(db, studio, account_id=principal.account_id, project_id=project_id,
                                 assets=assets, options=options, channel_id=channel["channel_id"])
        created = utcnow()
    enqueue(studio, job_id)
    return PublishAccepted(job_id=job_id, project_id=project_id, status="queued", channel_id=channel["channel_id"],
                           channel_title=channel["title"], created_at=created)


@dataclass(frozen=True)
class PublishJobs:
    """The JobHandler for `publish` jobs."""

    studio: Studio
    chunk_bytes: int = DEFAULT_CHUNK
    kind: ClassVar[str] = "publish"

    def run(self, job: dict[str, Any], progress: JobProgress, cancel: CancelToken) -> JobOutcome:
        params: dict[str, Any] = json.loads(job["params"] or "{}")
        options = YouTubeOptions.model_validate(params.get("youtube") or {})
        channel = channel_for(self.studio, params.get("channel_id"))
        project = project_rows.get_project(self.studio.store, job["project_id"])
        film = film_files(self.studio, params["film"], project["title"] if project else None)
        if not film.video.exists():
            raise NotFound("the film to publish is gone (re-rendered or deleted)", code="FILE_NOT_FOUND")
        state: dict[str, Any] = params.setdefault("state", {})

        def save() -> None:
            with self.studio.store.write() as db:
                rows.update_leased(db, job["id"], job["lease_owner"], {"params": json.dumps(params)})

        progress.note(channel_id=channel["channel_id"], bytes_done=(state.get("upload") or {}).get("acked", 0),
                      bytes_total=film.video.stat().st_size, bytes_per_second=0)
        publisher = Publisher(credentials(self.studio, channel), Endpoint.of(self.studio), save, cancel,
                              progress.report, progress.note, self.chunk_bytes, closing=self.studio.store.close)
        result = publisher.publish(film, options, state)
        result["channel_id"] = channel["channel_id"]
        return JobOutcome(result=result, warnings=tuple(result.get("warnings", ())))

    def completed(self, db: Any, job: dict[str, Any], outcome: JobOutcome, now: str) -> dict[str, Any]:
        project = project_rows.lock_project(db, job["project_id"])
        if project is not None:
            assets = json.loads(project["assets"] or "{}")
            published = json.loads(job["params"] or "{}").get("film", {}).get("video")
            if assets.get("video") == published:  # still the same film: show where it went
                assets["youtube"] = {"video_id": outcome.result["video_id"], "url": outcome.result["url"],
                                     "channel_id": outcome.result.get("channel_id"), "job_id": job["id"],
                                     "published_at": now}
                project_rows.update_project(db, job["project_id"], {"assets": json.dumps(assets)})
        return {"output_url": outcome.result["url"]}  # the event also carries the result (video id, URL)

    def discard(self, job: dict[str, Any]) -> None:
        return None  # nothing of ours to clean: the film is untouched; YouTube drops an unfinished session


def publish_file(studio: Studio, path: Path, options: YouTubeOptions, *, progress: JobProgress | None = None,
                 cancel: CancelToken | None = None, chunk_bytes: int = DEFAULT_CHUNK) -> dict[str, Any]:
    """`filmstudio publish FILM.mp4`: publish a film file (and its sidecars beside it) in this process."""
    stem = path.with_suffix("")
    subs = {p.suffixes[-2].lstrip("."): p for p in sorted(path.parent.glob(f"{stem.name}.*.srt"))}
    thumb, manifest = path.with_suffix(".jpg"), Path(f"{stem}.manifest.json")
    film = FilmFiles(path, thumb if thumb.exists() else None, subs, manifest if manifest.exists() else None)
    channel = channel_for(studio, options.channel_id)
    progress = progress or JobProgress()
    publisher = Publisher(credentials(studio, channel), Endpoint.of(studio), lambda: None, cancel or CancelToken(),
                          progress.report, progress.note, chunk_bytes)
    result = publisher.publish(film, options, {})
    result["channel_id"] = channel["channel_id"]
    return result
