"""The service layer's handle: store, secrets, folders and the queue, built once by an entry point."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from filmstudio.pipeline.engines import Engines, Pictures, VoiceInfo
from filmstudio.services.secrets import SecretStore
from filmstudio.services.targets import PublishTarget
from filmstudio.store.db import Store


class JobQueue(Protocol):
    """Carries job ids to workers; the jobs table stays the truth."""

    def enqueue(self, job_id: str) -> None: ...


class NoQueue:
    """A queue that drops ids: jobs wait in the table until a reconciler enqueues them."""

    def enqueue(self, job_id: str) -> None:
        return None


class EngineSource(Protocol):
    """The engines of this studio as they are now: rebuilt by the composition root when the model library
    changes (a pull or a removal finished, in this process or another), so nothing needs a restart."""

    def current(self) -> Engines: ...

    def voices(self) -> tuple[VoiceInfo, ...]:
        """The current engines' voices (listed once per rebuild)."""
        ...


@dataclass(frozen=True)
class Studio:
    """Everything a use case needs; routes, the desktop, the CLI and workers all hold one."""

    store: Store
    secrets: SecretStore
    media_dir: Path
    work_dir: Path
    cache_dir: Path
    queue: JobQueue
    models_dir: Path = Path("models")  # pulled models (<home>/models); set by open_studio
    model_catalogue: Path | None = None  # None: the catalogue shipped in the package
    # The voices the render engines offer (the composition root sets them), so the length check
    # before credits move casts as the render will.
    voices: tuple[VoiceInfo, ...] = ()
    # The render engines' picture engine (None: procedural backdrops), for the storyboard's token
    # counts and the estimate of the stills to draw before a render starts.
    pictures: Pictures | None = None
    model_endpoint: str | None = None  # None: HF_ENDPOINT, else the public hub
    base_url: str = "http://127.0.0.1:8765"
    signed_url_seconds: int = 3600
    lease_seconds: float = 30.0
    max_attempts: int = 3
    # issue #4 (additive): webhook target policy and access-token lifetime
    loopback_only: bool = True
    webhook_allowed_hosts: tuple[str, ...] = ()
    webhook_timeout_seconds: float = 10.0
    webhook_lease_seconds: float = 60.0
    token_seconds: int = 900
    # issue #13 (additive): YouTube's API root and a CA bundle for it (tests, proxies)
    youtube_api_endpoint: str = "https://www.googleapis.com/"
    youtube_ca_bundle: Path | None = None
    youtube_chunk_bytes: int = 8 * 1024 * 1024
    # issue 17: where films can be published, by name (the composition root registers them)
    publish_targets: Mapping[str, PublishTarget] = field(default_factory=dict)
    # issue 18: the live engines (None: `voices` and `pictures` above are fixed, e.g. a test's own engines)
    engine_source: EngineSource | None = None

    def offered_voices(self) -> tuple[VoiceInfo, ...]:
        """The voices a render would cast with now (a voice pulled a moment ago included)."""
        return self.engine_source.voices() if self.engine_source is not None else self.voices

    def picture_engine(self) -> Pictures | None:
        """The picture engine a render would draw with now (None: procedural backdrops)."""
        return self.engine_source.current().pictures if self.engine_source is not None else self.pictures

    def with_engine_source(self, source: EngineSource | None) -> Studio:
        from dataclasses import replace

        return replace(self, engine_source=source)

    def with_voices(self, voices: Sequence[VoiceInfo]) -> Studio:
        from dataclasses import replace

        return replace(self, voices=tuple(voices))

    def with_pictures(self, pictures: Pictures | None) -> Studio:
        from dataclasses import replace

        return replace(self, pictures=pictures)

    def with_targets(self, targets: Mapping[str, PublishTarget]) -> Studio:
        from dataclasses import replace

        return replace(self, publish_targets=dict(targets))

    def with_queue(self, queue: JobQueue) -> Studio:
        from dataclasses import replace

        return replace(self, queue=queue)
