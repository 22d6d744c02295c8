"""The `write` job kind: a project's screenplay written from its idea by the studio's writer.

`POST /api/v1/projects/{id}/write` queues it (1 credit, refunded on a failure or cancel); the job
streams the model's text as progress and, when the screenplay fits, fills the project's script (a
draft the user edits). On any failure the project's script is untouched. `generate` on a project
that has only an idea runs the same writing as the first step of its render job (`write_first`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from filmstudio.domain.errors import Conflict, InsufficientCredits, NotFound, WriterUnavailable
from filmstudio.domain.jobs import JobRow, WriteParams, params_json
from filmstudio.domain.models import JobAccepted, WriteRequest
from filmstudio.domain.settings import RenderSettings, parse_settings
from filmstudio.pipeline.cancel import CancelToken
from filmstudio.pipeline.engines import Writer
from filmstudio.pipeline.writer import Brief, Screenplay, write_screenplay
from filmstudio.services import events
from filmstudio.services import idempotency as idem
from filmstudio.services.executor import JobOutcome, JobProgress
from filmstudio.services.jobs import enqueue
from filmstudio.services.keys import Principal
from filmstudio.services.studio import Studio
from filmstudio.store import accounts as account_rows
from filmstudio.store import jobs as rows
from filmstudio.store import projects as project_rows
from filmstudio.store.db import utcnow

WRITE_CREDITS = 1
STEP = "script_writing"


def start_write(studio: Studio, principal: Principal, project_id: str, request: WriteRequest | None = None, *,
                idempotency: idem.Claim | None = None) -> JobAccepted:
    """Queue the writing of a project's screenplay from its idea (or the request's, kept as the project's)."""
    principal.require("jobs:write")
    seen = project_rows.get_project(studio.store, project_id)
    if seen is None or seen["account_id"] != principal.account_id:
        raise NotFound("no such project", code="PROJECT_NOT_FOUND")
    settings = parse_settings({**json.loads(seen["settings"]), **((request.settings if request else None) or {})})
    idea = (request.idea if request else None) or seen.get("idea") or ""
    if not idea.strip():  # the project's state, not the request's shape: nothing to write from yet
        raise Conflict("the project has no idea to write from: give one (`idea`)", code="IDEA_EMPTY")
    brief(idea, settings)  # IDEA_TOO_LONG before any credit moves
    now = utcnow()
    job_id = str(uuid.uuid4())
    accepted = JobAccepted(job_id=job_id, project_id=project_id, status="queued", estimated_time="1-3 minutes",
                           credits_deducted=WRITE_CREDITS, created_at=now)
    with studio.store.write() as db:
        project = project_rows.lock_project(db, project_id)
        if project is None:
            raise NotFound("no such project", code="PROJECT_NOT_FOUND")
        if project["status"] == "processing" or rows.active_job_of_kind(db, project_id, "write"):
            raise Conflict("the project is busy (rendering or being written)", code="PROJECT_BUSY")
        available = account_rows.balance(db, principal.account_id)
        if available is not None and available < WRITE_CREDITS:
            raise InsufficientCredits("You don't have enough credits to write a screenplay.",
                                      details={"required": WRITE_CREDITS, "available": available})
        rows.add_job(db, {
            "id": job_id, "kind": "write", "project_id": project_id, "account_id": principal.account_id,
            "status": "queued", "script": project["script"], "settings": settings.model_dump_json(),
            "credits": WRITE_CREDITS, "created_at": now, "params": params_json(WriteParams(idea=idea)),
        })
        account_rows.ledger_entry(db, principal.account_id, job_id, "deduct", WRITE_CREDITS)
        project_rows.update_project(db, project_id, {"idea": idea, "updated_at": now})
        events.emit(db, principal.account_id, "job.queued", job_id, project_id, "queued", kind="write")
        if idempotency is not None:
            idem.complete(db, idempotency, 202, accepted.model_dump_json())
    enqueue(studio, job_id)
    return accepted


def brief(idea: str, settings: RenderSettings) -> Brief:
    return Brief.for_settings(idea, settings).checked()


def write_for(studio: Studio, writer: Writer | None, idea: str, settings: RenderSettings, progress: JobProgress,
              cancel: CancelToken, *, share: float = 1.0) -> Screenplay:
    """Write `idea`'s screenplay, reporting the streamed text as `script_writing` progress (0..share)."""
    if writer is None:
        raise WriterUnavailable("no screenplay writer is set up in this studio")
    wanted = brief(idea, settings)
    expected = max(400, wanted.words * 7)  # characters of a first draft, roughly: progress, not a promise
    written = {"round": 0, "chars": 0}

    def on_text(round_: int, delta: str) -> None:
        if round_ != written["round"]:
            written.update(round=round_, chars=0)
        written["chars"] += len(delta)
        fraction = min(0.95, written["chars"] / expected) / max(1, ROUNDS_SHOWN) + (round_ - 1) / ROUNDS_SHOWN
        progress.report(STEP, share * min(0.97, fraction))
        progress.note(round=round_, characters=written["chars"])

    progress.report(STEP, 0.0)
    return write_screenplay(writer, wanted, cancel=cancel, voices=studio.offered_voices(), on_text=on_text)


ROUNDS_SHOWN = 3


def save_script(db: Any, project_id: str, play: Screenplay, now: str) -> None:
    project_rows.update_project(db, project_id, {"script": play.text, "updated_at": now})


@dataclass(frozen=True)
class WriteJobs:
    """The JobHandler for `write` jobs."""

    studio: Studio
    writer: Writer | None
    kind: ClassVar[str] = "write"

    def run(self, job: JobRow, progress: JobProgress, cancel: CancelToken) -> JobOutcome:
        settings = RenderSettings.model_validate_json(job.settings_json)
        play = write_for(self.studio, self.writer, job.params_as(WriteParams).idea, settings, progress, cancel)
        return JobOutcome(result={**play.as_dict(), "script": play.text}, warnings=play.advice)

    def completed(self, db: Any, job: JobRow, outcome: JobOutcome, now: str) -> dict[str, Any]:
        assert job.project_id is not None  # a write job is always a project's
        save_script(db, job.project_id, _screenplay(outcome), now)
        return {}

    def discard(self, job: JobRow) -> None:
        return None  # nothing on disk: the script is written only when the job completes


def _screenplay(outcome: JobOutcome) -> Screenplay:
    r = outcome.result
    return Screenplay(text=str(r["script"]), title=str(r["title"]), rounds=int(r["rounds"]), words=int(r["words"]),
                      budget=int(r["word_budget"]), scenes=int(r["scenes"]))

