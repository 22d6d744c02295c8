"""The publish-target seam: where a finished film can go (YouTube, a test's folder, ...).

A target is one module with one class that follows `PublishTarget`, registered by name in the
composition root (`app/compose.py` `publish_targets`). The generic part — queueing a `publish`
job, resuming it, writing `assets.published[target]` — lives in `services/publish.py` and never
names a target.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from filmstudio.domain.errors import BadRequest, FilmStudioError
from filmstudio.domain.models import PublishRequest
from filmstudio.pipeline.context import CancelToken


@dataclass(frozen=True)
class FilmFiles:
    """What gets published: the film and its sidecars (absolute paths)."""

    video: Path
    thumbnail: Path | None = None
    subtitles: dict[str, Path] = field(default_factory=dict)
    manifest: Path | None = None
    title: str | None = None
    wide_thumbnail: Path | None = None  # 1280x720 (`film.youtube.jpg`) when the film is vertical or square

    def scenes(self) -> tuple[list[dict[str, Any]], float]:
        data = self.manifest_data()
        return list(data.get("scenes", [])), float(data.get("duration", 0.0))

    def manifest_data(self) -> dict[str, Any]:
        if self.manifest is None or not self.manifest.exists():
            return {}
        data: dict[str, Any] = json.loads(self.manifest.read_text(encoding="utf-8"))
        return data


@dataclass(frozen=True)
class Destination:
    """Where a publish goes, fixed when the job is queued (a channel, a folder)."""

    id: str
    title: str


@dataclass(frozen=True)
class PublishResult:
    """What a finished publish made: where to see it, and the target's own facts."""

    url: str
    ref: str  # the target's id for it (a YouTube video id, a folder path)
    details: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def as_result(self, target: str, destination_id: str) -> dict[str, Any]:
        """The job's `result` (also the `job.completed` event's)."""
        return {**self.details, "target": target, "url": self.url, "ref": self.ref,
                "destination_id": destination_id, "warnings": list(self.warnings)}


class PublishProgress(Protocol):
    """How a target reports (the executor's JobProgress): a step and fraction, and live details."""

    def report(self, step: str, fraction: float) -> None: ...

    def note(self, **detail: Any) -> None: ...


@dataclass(frozen=True)
class Accepted:
    """A publish a target agreed to: its options with the destination pinned (a channel id), and where."""

    options: BaseModel
    destination: Destination


class PublishTarget(Protocol):
    """One place films can be published to."""

    def parse(self, options: Mapping[str, Any]) -> BaseModel:
        """The target's options from a request (INVALID_PUBLISH_OPTIONS for bad ones)."""
        ...

    def destination(self, account_id: str, options: BaseModel) -> Accepted:
        """Before any job exists: where this account may publish with these options (raises if nowhere)."""
        ...

    def check(self, film: FilmFiles, options: BaseModel) -> None:
        """Everything the target would refuse about this film with these options, refused now, before a
        byte moves (in our envelope, with the field and the limit)."""
        ...

    def run(self, film: FilmFiles, options: BaseModel, state: dict[str, Any], save: Callable[[], None],
            cancel: CancelToken, progress: PublishProgress) -> PublishResult:
        """Publish with accepted options, resuming from `state` (JSON-able, made durable by `save`)."""
        ...


PublishTargets = Mapping[str, PublishTarget]
DEFAULT_TARGET = "youtube"  # a body with only `youtube` (or nothing) publishes there, as before targets


def resolve(targets: PublishTargets, request: PublishRequest | None) -> tuple[str, PublishTarget, BaseModel]:
    """The target a request names and its parsed options (`{"youtube": {...}}` is `{target: youtube}`)."""
    request = request or PublishRequest()
    name = request.target or DEFAULT_TARGET
    if request.youtube is not None and (name != DEFAULT_TARGET or request.options is not None):
        raise BadRequest("give either `youtube` or `target` with `options`, not both", code="PUBLISH_OPTIONS_CONFLICT",
                         details={"field": "youtube"})
    target = target_named(targets, name)
    raw = request.options if request.options is not None else (
        request.youtube.model_dump(mode="json", exclude_unset=True) if request.youtube is not None else {})
    return name, target, target.parse(raw)


def target_named(targets: PublishTargets, name: str) -> PublishTarget:
    found = targets.get(name)
    if found is None:
        raise BadRequest(f"no publish target {name!r}", code="UNKNOWN_PUBLISH_TARGET",
                         details={"allowed": sorted(targets)})
    return found


def parse_options(model: type[BaseModel], options: Mapping[str, Any], target: str) -> BaseModel:
    """`options` validated by a target's pydantic model, errors in our envelope (field and reason)."""
    try:
        return model.model_validate(dict(options))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "options"
        raise FilmStudioError(f"{target} options: {where}: {first['msg']}", code="INVALID_PUBLISH_OPTIONS",
                              http_status=422, details={"target": target, "field": where,
                                                        "errors": json.loads(exc.json(include_url=False))}) from exc
