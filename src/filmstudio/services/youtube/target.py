"""YouTube as a publish target: a channel the account may use, the metadata checked, then `Publisher`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from filmstudio.domain.models import YouTubeOptions
from filmstudio.pipeline.context import CancelToken
from filmstudio.services.studio import Studio
from filmstudio.services.targets import (
    Accepted,
    Destination,
    FilmFiles,
    PublishProgress,
    PublishResult,
    parse_options,
)
from filmstudio.services.youtube.client import Endpoint, channel_for, credentials
from filmstudio.services.youtube.steps import Publisher, prepare
from filmstudio.services.youtube.upload import DEFAULT_CHUNK


@dataclass(frozen=True)
class YouTubeTarget:
    """Publishes to a YouTube channel the account connected (or was shared); options are `YouTubeOptions`."""

    studio: Studio
    chunk_bytes: int = DEFAULT_CHUNK

    def parse(self, options: Mapping[str, Any]) -> YouTubeOptions:
        parsed = parse_options(YouTubeOptions, options, "youtube")
        assert isinstance(parsed, YouTubeOptions)
        return parsed

    def destination(self, account_id: str, options: BaseModel) -> Accepted:
        opts = _options(options)
        channel = channel_for(self.studio, account_id, opts.channel_id)
        return Accepted(opts.model_copy(update={"channel_id": channel["channel_id"]}),
                        Destination(channel["channel_id"], channel["title"]))

    def check(self, film: FilmFiles, options: BaseModel) -> None:
        prepare(film, _options(options))  # YOUTUBE_METADATA_INVALID with the field and the limit

    def run(self, film: FilmFiles, options: BaseModel, state: dict[str, Any], save: Callable[[], None],
            cancel: CancelToken, progress: PublishProgress) -> PublishResult:
        opts = _options(options)
        channel = _channel(self.studio, opts.channel_id)
        progress.note(channel_id=channel["channel_id"], bytes_done=(state.get("upload") or {}).get("acked", 0),
                      bytes_total=film.video.stat().st_size, bytes_per_second=0)
        publisher = Publisher(credentials(self.studio, channel), Endpoint.of(self.studio), save, cancel,
                              progress.report, progress.note, self.chunk_bytes, closing=self.studio.store.close)
        done = publisher.publish(film, opts, state)
        return result_of(done, channel["channel_id"])


def result_of(done: dict[str, Any], channel_id: str) -> PublishResult:
    details = {**done, "channel_id": channel_id}
    warnings = tuple(details.pop("warnings", ()))
    return PublishResult(url=done["url"], ref=done["video_id"], details=details, warnings=warnings)


def _options(options: BaseModel) -> YouTubeOptions:
    assert isinstance(options, YouTubeOptions)
    return options


def _channel(studio: Studio, channel_id: str | None) -> dict[str, Any]:
    """The channel pinned when the job was queued (its owner was checked then)."""
    from filmstudio.domain.errors import YouTubeNotConnected
    from filmstudio.store import channels as channel_rows

    found = channel_rows.get_channel(studio.store, channel_id) if channel_id else None
    if found is None:
        raise YouTubeNotConnected(f"the YouTube channel {channel_id} is no longer connected; connect it again")
    return found
