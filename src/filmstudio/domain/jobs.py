"""A job as the code sees it: a `JobRow` with its `params` parsed into the model of its kind.

`store/jobs.py` is the one place a row of the `jobs` table becomes a `JobRow` (its JSON columns
parsed: params, settings, result, warnings, error details, stage timings), so no use case reads
JSON columns itself.

What a job carries in its `params`, one model per kind:
- render: the stills it was expected to draw (the estimate) and, when generate asked for it, the
  publish to queue after the film;
- model_pull: the model;
- publish: the target, its options, the destination, the film's files and the target's resumable state
  (the target owns what is inside `state`);
- write: the idea.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator

from filmstudio.domain.models import JobKind, JobStatus

DEFAULT_TARGET = "youtube"  # a publish queued before publish targets existed went to YouTube


class _Params(BaseModel):
    # Frozen; unknown keys kept (an older or newer studio may have written more), never dropped.
    model_config = ConfigDict(frozen=True, extra="allow")


class JobParams(_Params):
    """The params of a kind this code has no model for (kept as they are)."""


class StillsPlanned(_Params):
    """The stills a render was counted to need when it was queued (`StillPlan.as_dict`)."""

    shots: int = 0
    to_draw: int = 0
    seconds_per_still: float = 0.0
    measured: bool = False

    @property
    def seconds(self) -> float:
        return self.to_draw * self.seconds_per_still


class PublishDestination(_Params):
    """Where a publish goes, pinned when it was queued: a channel, a folder."""

    id: str = ""
    title: str = ""


class PublishFilm(_Params):
    """The film's files a publish reads, relative to the media folder."""

    video: str
    thumbnail: str | None = None
    subtitles: dict[str, str] = {}
    manifest: str | None = None
    wide_thumbnail: str | None = None


class PublishParams(_Params):
    """A publish: to which target, with which options, where, of which film, and how far it got."""

    target: str = DEFAULT_TARGET
    options: dict[str, Any] = {}
    destination: PublishDestination = PublishDestination()
    film: PublishFilm | None = None  # None: not chosen yet (a render's publish, queued with its film)
    state: dict[str, Any] = {}  # the target's own resumable state (an upload session, steps done)

    @model_validator(mode="before")
    @classmethod
    def _before_targets(cls, data: Any) -> Any:
        """A job queued before publish targets: `{youtube: {...options}, channel_id}` means the same thing."""
        if isinstance(data, dict) and "target" not in data and "youtube" in data:
            data = dict(data)
            channel = data.pop("channel_id", None)
            data.update(target=DEFAULT_TARGET, options={**(data.pop("youtube") or {}), "channel_id": channel},
                        destination={"id": channel or "", "title": ""})
        return data
class ClipsPlanned(_Params):
    """The clips a render was counted to make when it was queued (`MotionEstimate`): its moving shots."""

    moving: int = 0
    seconds_per_clip: float = 0.0
    model: str | None = None
    measured: bool = False

    @property
    def seconds(self) -> float:
        return self.moving * self.seconds_per_clip if self.model else 0.0


class RenderParams(_Params):
    stills: StillsPlanned | None = None
    clips: ClipsPlanned | None = None  # None: no video model installed (every shot a still)
    write_first: bool | None = None  # True: the project had only an idea: the job writes its screenplay, then renders it
    idea: str | None = None
    publish: PublishParams | None = None  # the publish target, its options and destination, for after the film

    @model_validator(mode="before")
    @classmethod
    def _publish_before_targets(cls, data: Any) -> Any:
        """A render queued before publish targets kept only the YouTube options (with the channel id)."""
        publish = data.get("publish") if isinstance(data, dict) else None
        if isinstance(publish, dict) and "target" not in publish and "youtube" not in publish:
            data = {**data, "publish": {"youtube": publish, "channel_id": publish.get("channel_id")}}
        return data


class ModelPullParams(_Params):
    model_id: str  # a set's first model
    model_ids: tuple[str, ...] | None = None  # a set pulled as one job (POST /models/pull), in this order


class WriteParams(_Params):
    idea: str = ""


PARAMS_BY_KIND: Mapping[str, type[_Params]] = {
    "render": RenderParams, "model_pull": ModelPullParams, "publish": PublishParams, "write": WriteParams,
}
P = TypeVar("P", bound=_Params)


def parse_params(kind: str, raw: str | None) -> _Params:
    """A job's `params` column parsed into its kind's model (`JobParams` for a kind without one)."""
    found = json.loads(raw or "{}")
    return PARAMS_BY_KIND.get(kind, JobParams).model_validate(found if isinstance(found, dict) else {})


def params_json(params: _Params) -> str:
    """The `params` column for a job."""
    return params.model_dump_json(exclude_none=True)


@dataclass(frozen=True)
class JobRow:
    """One job as stored, its JSON columns parsed (built only by `store/jobs.py`)."""

    id: str
    kind: JobKind  # a kind this code does not know stays as written (its params then `JobParams`)
    project_id: str | None
    account_id: str
    status: JobStatus
    params: _Params = field(default_factory=JobParams)
    script: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)  # the render settings as stored (checked at queue time)
    progress: int = 0
    current_step: str | None = None
    result: Mapping[str, Any] | None = None
    attempts: int = 0
    lease_owner: str | None = None
    lease_until: float | None = None
    cancel_requested: bool = False
    error_code: str | None = None
    error_message: str | None = None
    error_details: Mapping[str, Any] | None = None
    warnings: tuple[str, ...] = ()
    stage_timings: Mapping[str, float] = field(default_factory=dict)
    credits: int = 0
    idempotency_key: str | None = None
    output_dir: str | None = None
    created_at: str = ""
    enqueued_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None

    def params_as(self, model: type[P]) -> P:
        """The params as the model the caller's kind has (a handler for `render` asks for RenderParams)."""
        if not isinstance(self.params, model):
            raise TypeError(f"job {self.id} is a {self.kind} job; its params are not {model.__name__}")
        return self.params

    @property
    def duration(self) -> int:
        """The film's asked length in seconds (the settings' `duration`, 60 when not stored)."""
        return int(self.settings.get("duration", 60))

    @property
    def settings_json(self) -> str:
        return json.dumps(dict(self.settings))
