"""The service layer's handle: store, secrets, folders and the queue, built once by an entry point."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from filmstudio.config import Settings
from filmstudio.pipeline.engines import Engines, Motion, MotionAdvice, Pictures, VoiceInfo
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
    """Everything a use case needs; routes, the desktop, the CLI and workers all hold one.

    The machine's settings are the one frozen `Settings` the entry point read (`studio.settings.X`);
    the rest is what the composition root built for this process: the store, the secret store, the
    queue, and what the engines offer.
    """

    store: Store
    secrets: SecretStore
    queue: JobQueue
    settings: Settings
    # The voices the render engines offer (the composition root sets them), so the length check
    # before credits move casts as the render will.
    voices: tuple[VoiceInfo, ...] = ()
    # The render engines' picture engine (None: procedural backdrops), for the storyboard's token
    # counts and the estimate of the stills to draw before a render starts.
    pictures: Pictures | None = None
    # The render engines' video model (None: every shot a still), for the estimate of what motion adds.
    motion: Motion | None = None
    # Without `motion`, though a video model is installed (AnimateDiff's adapter without sd15): what to pull.
    motion_advice: MotionAdvice | None = None
    # Where films can be published, by name (the composition root registers them).
    publish_targets: Mapping[str, PublishTarget] = field(default_factory=dict)
    # issue 18: the live engines (None: `voices`, `pictures` and `motion` above are fixed, e.g. a test's own engines)
    engine_source: EngineSource | None = None

    def offered_voices(self) -> tuple[VoiceInfo, ...]:
        """The voices a render would cast with now (a voice pulled a moment ago included)."""
        return self.engine_source.voices() if self.engine_source is not None else self.voices

    def picture_engine(self) -> Pictures | None:
        """The picture engine a render would draw with now (None: procedural backdrops)."""
        return self.engine_source.current().pictures if self.engine_source is not None else self.pictures

    def motion_engine(self) -> Motion | None:
        """The video model a render would animate with now (None: every shot a still), one pulled a moment
        ago included."""
        return self.engine_source.current().motion if self.engine_source is not None else self.motion

    def motion_advice_now(self) -> MotionAdvice | None:
        """Why a render now would have no video engine though a video model is installed, and what to pull."""
        return self.engine_source.current().motion_advice if self.engine_source is not None else self.motion_advice

    def with_engine_source(self, source: EngineSource | None) -> Studio:
        from dataclasses import replace

        return replace(self, engine_source=source)

    # The studio's folders, read through the settings (every use case works in them).
    @property
    def media_dir(self) -> Path:
        return self.settings.media_dir

    @property
    def work_dir(self) -> Path:
        return self.settings.work_dir

    @property
    def cache_dir(self) -> Path:
        return self.settings.cache_dir

    @property
    def models_dir(self) -> Path:
        return self.settings.models_dir

    def with_voices(self, voices: Sequence[VoiceInfo]) -> Studio:
        from dataclasses import replace

        return replace(self, voices=tuple(voices))

    def with_pictures(self, pictures: Pictures | None) -> Studio:
        from dataclasses import replace

        return replace(self, pictures=pictures)

    def with_motion(self, motion: Motion | None, advice: MotionAdvice | None = None) -> Studio:
        from dataclasses import replace

        return replace(self, motion=motion, motion_advice=advice)

    def with_targets(self, targets: Mapping[str, PublishTarget]) -> Studio:
        from dataclasses import replace

        return replace(self, publish_targets=dict(targets))

    def with_queue(self, queue: JobQueue) -> Studio:
        from dataclasses import replace

        return replace(self, queue=queue)
