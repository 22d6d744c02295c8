"""The `render` job kind: a project's script and settings rendered into its film folder."""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Protocol

from filmstudio.domain.jobs import JobRow, RenderParams
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.context import CancelToken, ProgressFn
from filmstudio.pipeline.engines import Engines, Writer
from filmstudio.pipeline.request import RenderRequest
from filmstudio.services import assets
from filmstudio.services.executor import JobOutcome, JobProgress
from filmstudio.services.studio import Studio
from filmstudio.store import projects as project_rows

log = logging.getLogger(__name__)
# + how long the script wants, and what the moving shots' clips cost
STILLS_FIELDS = ("stills", "stills_drawn", "stills_seconds", "script_duration", "clips_made", "clips_seconds")
RESULT_FIELDS = (*STILLS_FIELDS, "subtitles")  # + how readable each subtitle track is (media.readability)
WRITING_SHARE = 0.15  # of a generate that writes its screenplay first: the bar's part for the writing


class Renderer(Protocol):
    """Renders one request (the pipeline with its engines, the farm, or a test double); returns the manifest."""

    def __call__(
        self, request: RenderRequest, *, progress: ProgressFn | None = None, cancel: CancelToken | None = None,
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class PipelineRenderer:
    """The render pipeline on this machine with the engines the composition root chose."""

    engines: Engines

    def __call__(
        self, request: RenderRequest, *, progress: ProgressFn | None = None, cancel: CancelToken | None = None,
    ) -> dict[str, Any]:
        from filmstudio.pipeline.runner import render

        return render(request, self.engines, progress=progress, cancel=cancel)


@dataclass(frozen=True)
class JobReport:
    """A job's progress as the pipeline calls it: (step, fraction), and notes (e.g. which stills are drawn)."""

    job: JobProgress
    start: float = 0.0  # the share of the job done before the render (a screenplay written first)

    def __call__(self, step: str, fraction: float) -> None:
        self.job.report(step, self.start + (1.0 - self.start) * fraction)

    def note(self, **detail: Any) -> None:
        self.job.note(**detail)


@dataclass(frozen=True)
class RenderJobs:
    """The JobHandler for `render` jobs."""

    studio: Studio
    renderer: Renderer
    writer: Writer | None = None  # for a project with only an idea: its screenplay is written first
    kind: ClassVar[str] = "render"

    def request_for(self, job: JobRow) -> RenderRequest:
        project_id = _project_of(job)
        project = project_rows.get_project(self.studio.store, project_id)
        title = project["title"] if project is not None else None
        return RenderRequest(
            script=job.script, settings=RenderSettings.model_validate_json(job.settings_json),
            output=assets.output_path(self.studio, project_id, job.id),
            work_dir=self.studio.work_dir / job.id, cache_dir=self.studio.cache_dir, job_id=job.id,
            images=assets.project_images(self.studio, project_id), title=title,
            continuity=f"project:{project_id}",
            storyboard=assets.project_storyboard(self.studio, project_id),
        )

    def run(self, job: JobRow, progress: JobProgress, cancel: CancelToken) -> JobOutcome:
        report: JobReport = JobReport(progress)
        params = job.params_as(RenderParams)
        if params.write_first and not job.script.strip():
            job = self._write_first(job, params.idea or "", progress, cancel)
            report = JobReport(progress, start=WRITING_SHARE)
        request = self.request_for(job)
        manifest = self.renderer(request, progress=report, cancel=cancel)
        warnings = tuple((manifest or {}).get("warnings", [])) if isinstance(manifest, dict) else ()
        publish = params.publish
        return JobOutcome(
            # What the stills cost (the next estimates take the drawing out of the stage speeds).
            result={"title": manifest.get("title"), **{k: manifest[k] for k in RESULT_FIELDS if k in manifest}}
            if isinstance(manifest, dict) else {},
            warnings=warnings,
            output_dir=request.output.parent.relative_to(self.studio.media_dir).as_posix(),
            then=(str(uuid.uuid4()),) if publish else (),  # the publish job's id, created in `completed`
        )

    def _write_first(self, job: JobRow, idea: str, progress: JobProgress, cancel: CancelToken) -> JobRow:
        """Write the screenplay, keep it as the project's script (and the job's), and render that."""
        from filmstudio.services.writing import save_script, write_for
        from filmstudio.store import jobs as job_rows
        from filmstudio.store.db import utcnow

        settings = RenderSettings.model_validate_json(job.settings_json)
        play = write_for(self.studio, self.writer, idea, settings, progress, cancel, share=WRITING_SHARE)
        with self.studio.store.write() as db:
            save_script(db, _project_of(job), play, utcnow())
            job_rows.update_job(db, job.id, {"script": play.text})
        return replace(job, script=play.text)

    def completed(self, db: Any, job: JobRow, outcome: JobOutcome, now: str) -> dict[str, Any]:
        project_id = _project_of(job)
        output = assets.output_path(self.studio, project_id, job.id)
        found = assets.collect(self.studio, output)
        project_rows.update_project(db, project_id, {
            "status": "completed", "assets": json.dumps(found), "completed_at": now, "updated_at": now,
        })
        shutil.rmtree(self.studio.work_dir / job.id, ignore_errors=True)
        publish = job.params_as(RenderParams).publish
        if publish is not None and outcome.then:  # generate asked for `youtube_upload`: queue it with the film's files
            from filmstudio.services.publish import add_publish_job
            from filmstudio.services.targets import Accepted, Destination, target_named

            target = target_named(self.studio.publish_targets, publish.target)
            accepted = Accepted(target.parse(publish.options),
                                Destination(publish.destination.id, publish.destination.title))
            add_publish_job(db, self.studio, account_id=job.account_id, project_id=project_id,
                            assets=found, target=publish.target, accepted=accepted, job_id=outcome.then[0])
        return {"output_url": _video_url(self.studio, found)}

    def discard(self, job: JobRow) -> None:
        shutil.rmtree(assets.output_path(self.studio, _project_of(job), job.id).parent, ignore_errors=True)
        shutil.rmtree(self.studio.work_dir / job.id, ignore_errors=True)


def _project_of(job: JobRow) -> str:
    """A render's project (every render has one: the table's CHECK allows none only for a model pull)."""
    if job.project_id is None:
        raise ValueError(f"render job {job.id} has no project")
    return job.project_id


def _video_url(studio: Studio, found: dict[str, Any]) -> str | None:
    """The film's signed (expiring) download URL for the job.completed event."""
    try:
        return assets.public_assets(studio, json.dumps(found)).video_url
    except Exception:  # a missing signing secret must not lose the completion
        log.exception("could not sign the output URL")
        return None

