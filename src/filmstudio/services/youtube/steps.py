"""Publishing one film: the resumable upload, then thumbnail and captions, each its own step with retries.

`state` (a JSON-able dict) records what is done — the upload session and acknowledged byte, the video
id, the steps finished — and `save` writes it durably, so a retry after a crash continues where the
last attempt stopped and never uploads the video twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filmstudio.domain.errors import FilmStudioError, YouTubeAuthExpired, YouTubeUnavailable
from filmstudio.domain.models import YouTubeOptions
from filmstudio.pipeline.context import CancelToken
from filmstudio.services.targets import FilmFiles
from filmstudio.services.youtube import rules
from filmstudio.services.youtube.chapters import chapters
from filmstudio.services.youtube.client import Endpoint, api, error_for, refresh
from filmstudio.services.youtube.upload import DEFAULT_CHUNK, ResumableUpload

__all__ = ["FilmFiles", "Publisher", "metadata", "prepare"]  # FilmFiles: the seam's, re-exported

NOT_VERIFIED = ("custom thumbnails need a verified channel: verify it at https://www.youtube.com/verify "
                "(phone number), then publish again or set the thumbnail in YouTube Studio")
WATCH_URL = "https://www.youtube.com/watch?v={}"


def prepare(film: FilmFiles, options: YouTubeOptions) -> tuple[dict[str, Any], list[str]]:
    """The video resource we send (title, description with chapters, tags, category, privacy), checked
    against YouTube's rules (`rules.py`), and the warnings of what was changed to fit."""
    scenes, duration = film.scenes()
    title = rules.clean(options.title or film.title or film.video.stem)
    if len(title) > rules.TITLE_CHARS and not options.title:  # the film's own long title: cut, not refused
        title = title[: rules.TITLE_CHARS - 1].rstrip() + "\u2026"
    fitted = rules.fit_description(options.description, chapters(scenes, duration))
    snippet: dict[str, Any] = {"title": title, "description": fitted.text, "categoryId": options.category_id}
    if options.tags:
        snippet["tags"] = [rules.clean(t) for t in options.tags]
    status: dict[str, Any] = {"privacyStatus": options.privacy, "selfDeclaredMadeForKids": options.made_for_kids}
    if options.publish_at:  # YouTube publishes a scheduled video itself; until then it must be private
        status.update(privacyStatus="private", publishAt=options.publish_at)
    body = {"snippet": snippet, "status": status}
    rules.check(body)
    warnings = [f"chapter names were shortened to {fitted.chapter_cap} characters to keep the description "
                f"within YouTube's {rules.DESCRIPTION_BYTES} bytes"] if fitted.chapter_cap else []
    return body, warnings


def metadata(film: FilmFiles, options: YouTubeOptions) -> dict[str, Any]:
    """The video resource we send, checked (YOUTUBE_METADATA_INVALID with the field and the limit)."""
    return prepare(film, options)[0]


@dataclass
class Publisher:
    """Runs the steps against one channel's credentials."""

    creds: Any
    endpoint: Endpoint
    save: Callable[[], None]
    cancel: CancelToken = field(default_factory=CancelToken)
    report: Callable[[str, float], None] = lambda step, fraction: None
    note: Callable[..., None] = lambda **detail: None
    chunk_bytes: int = DEFAULT_CHUNK
    step_tries: int = 5
    backoff: float = 0.5
    upload: ResumableUpload | None = None  # the last one (the bench reads its byte count)
    closing: Callable[[], None] = lambda: None  # passed to the upload's saving thread

    def token(self, force: bool) -> str:
        if force or not self.creds.valid:
            return refresh(self.creds, self.endpoint)
        token: str = self.creds.token
        return token

    def publish(self, film: FilmFiles, options: YouTubeOptions, state: dict[str, Any]) -> dict[str, Any]:
        """Everything, resuming from `state`; returns the job's result."""
        done: list[str] = state.setdefault("done", [])
        warnings: list[str] = state.setdefault("warnings", [])
        if not state.get("video_id"):
            body, fitted = prepare(film, options)  # YOUTUBE_METADATA_INVALID before a byte moves
            warnings.extend(w for w in fitted if w not in warnings)
            self.report("upload", 0.0)
            self.token(False)  # YOUTUBE_AUTH_EXPIRED before a byte moves
            upload_state: dict[str, Any] = state.setdefault("upload", {})

            def keep(s: dict[str, Any]) -> None:
                upload_state.clear()
                upload_state.update(s)
                self.save()

            def progress(sent: int, total: int, rate: float) -> None:
                self.report("upload", 0.9 * sent / total if total else 0.0)
                self.note(bytes_done=sent, bytes_total=total, bytes_per_second=round(rate))

            self.upload = ResumableUpload(film.video, body, self.endpoint, self.token, keep,
                                          progress, self.cancel, self.chunk_bytes, backoff=self.backoff,
                                          closing=self.closing)
            video = self.upload.run(dict(upload_state))  # its own copy: `keep` writes ours from another thread
            state["video_id"] = video["id"]
            state["upload_status"] = (video.get("status") or {}).get("uploadStatus")
            self.save()
        video_id: str = state["video_id"]
        self.note(video_id=video_id, url=WATCH_URL.format(video_id))
        client = api(self.creds, self.endpoint)
        thumb = film.wide_thumbnail or film.thumbnail  # 1280x720 for a vertical film, as YouTube shows it
        if thumb is not None and thumb.exists() and "thumbnail" not in done:
            self.report("thumbnail", 0.92)
            if not self._step("the thumbnail", lambda: client.thumbnails().set(
                    videoId=video_id, media_body=_media(thumb, "image/jpeg")).execute(), not_verified=True):
                warnings.append(NOT_VERIFIED)
            done.append("thumbnail")
            self.save()
        for i, (lang, path) in enumerate(sorted(film.subtitles.items())):
            if f"captions:{lang}" in done:
                continue
            self.report("captions", 0.94 + 0.05 * i / max(1, len(film.subtitles)))
            self._step(f"the {lang} captions", _caption_call(client, video_id, lang, path))
            done.append(f"captions:{lang}")
            self.save()
        return {
            "video_id": video_id, "url": WATCH_URL.format(video_id), "privacy": options.privacy,
            "thumbnail": "thumbnail" in done and NOT_VERIFIED not in warnings,
            "captions": sorted(d.split(":", 1)[1] for d in done if d.startswith("captions:")),
            "chapters": _chapter_count(film), "bytes": film.video.stat().st_size, "warnings": list(warnings),
        }

    def _step(self, what: str, call: Callable[[], Any], *, not_verified: bool = False) -> bool:
        """One API call with its own retries (5xx, cut connections); False for an unverified thumbnail."""
        import google.auth.exceptions
        import httplib2
        from googleapiclient.errors import HttpError

        last = ""
        for attempt in range(self.step_tries):
            self.cancel.raise_if_cancelled()
            try:
                call()
                return True
            except HttpError as exc:
                status = exc.resp.status
                if status < 500 and status != 429:
                    err: FilmStudioError = error_for(status, exc.content, action=what)
                    if not_verified and status == 403 and err.code != "YOUTUBE_QUOTA_EXCEEDED":
                        return False
                    raise err from exc
                last = f"HTTP {status}"
            except google.auth.exceptions.RefreshError as exc:
                raise YouTubeAuthExpired("YouTube no longer accepts this channel's login; run "
                                         "`filmstudio youtube connect` again") from exc
            except (OSError, httplib2.HttpLib2Error) as exc:
                last = f"{type(exc).__name__}: {exc}"
            time.sleep(min(30.0, self.backoff * 2 ** attempt))
        raise YouTubeUnavailable(f"YouTube kept failing on {what} ({last}); publishing again continues from here")


def _caption_call(client: Any, video_id: str, lang: str, path: Path) -> Callable[[], Any]:
    body = {"snippet": {"videoId": video_id, "language": lang, "name": lang, "isDraft": False}}
    return lambda: client.captions().insert(
        part="snippet", body=body, media_body=_media(path, "application/octet-stream")).execute()


def _media(path: Path, mimetype: str) -> Any:
    from googleapiclient.http import MediaFileUpload

    return MediaFileUpload(str(path), mimetype=mimetype, resumable=False)


def _chapter_count(film: FilmFiles) -> int:
    scenes, duration = film.scenes()
    return len(chapters(scenes, duration))
