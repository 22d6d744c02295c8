"""Domain errors with stable codes, shared by the CLI, the API and the desktop."""

from __future__ import annotations

from typing import Any


class FilmStudioError(Exception):
    """An error a user can act on. `code` is stable API; `message` is for people."""

    code: str = "INTERNAL_ERROR"
    http_status: int = 500

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status
        self.message = message
        self.details: dict[str, Any] = details or {}

    def to_dict(self) -> dict[str, Any]:
        """The error envelope body: `{"error": {"code", "message", "details"}}`."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidSettings(FilmStudioError):
    """One or more render settings are unknown or out of range."""

    code = "INVALID_SETTINGS"
    http_status = 400


class ScriptError(FilmStudioError):
    """The script cannot become a film (empty, too long for the duration...)."""

    code = "SCRIPT_INVALID"
    http_status = 400


class NotFound(FilmStudioError):
    code = "NOT_FOUND"
    http_status = 404


class Conflict(FilmStudioError):
    code = "CONFLICT"
    http_status = 409


class PreconditionFailed(FilmStudioError):
    """An `If-Match` named another version than the current one: someone changed it since it was read.

    `details.etag` is the current ETag; read the object again, merge, and send that.
    """

    code = "PRECONDITION_FAILED"
    http_status = 412


class Cancelled(FilmStudioError):
    """The render was cancelled by its user; nothing was left at the output path."""

    code = "JOB_CANCELLED"
    http_status = 409


class EngineMissing(FilmStudioError):
    """A required engine (ffmpeg, a TTS voice, a font) is not installed."""

    code = "ENGINE_MISSING"
    http_status = 503


class RenderFailed(FilmStudioError):
    code = "RENDER_FAILED"
    http_status = 500


# -- studio server (additive) ---------------------------------------------------------------


class BadRequest(FilmStudioError):
    code = "BAD_REQUEST"
    http_status = 400


class Unauthorized(FilmStudioError):
    """No credentials, or credentials that are unknown, revoked or expired."""

    code = "UNAUTHORIZED"
    http_status = 401


class Forbidden(FilmStudioError):
    """Valid credentials without the scope, or from an address the key does not allow."""

    code = "FORBIDDEN"
    http_status = 403


class InsufficientCredits(FilmStudioError):
    code = "INSUFFICIENT_CREDITS"
    http_status = 402


class SecretsUnavailable(FilmStudioError):
    """No OS keyring to hold the server's secrets, and the file backend was not opted into."""

    code = "KEYRING_UNAVAILABLE"
    http_status = 503


# -- model manager (additive) -----------------------------------------------------------------


class ModelNotFound(NotFound):
    """The id names no model in the catalogue (or no installed model)."""

    code = "MODEL_NOT_FOUND"


class ModelCorrupt(FilmStudioError):
    """A model file does not match its checksum; nothing was installed, the bad file was removed."""

    code = "MODEL_CORRUPT"
    http_status = 422


class DiskFull(FilmStudioError):
    """Not enough free disk space for a download; `details` has needed_bytes and available_bytes."""

    code = "DISK_FULL"
    http_status = 507


class ModelDownloadFailed(FilmStudioError):
    """The model host could not be reached or refused a file; a later pull resumes."""

    code = "MODEL_DOWNLOAD_FAILED"
    http_status = 502


class ModelPullInProgress(Conflict):
    """Another process is pulling the same model into the same library."""

    code = "MODEL_PULL_IN_PROGRESS"


# -- YouTube publishing (additive) ----------------------------------------------------------


class YouTubeNotConnected(FilmStudioError):
    """No YouTube channel is connected (`filmstudio youtube connect`)."""

    code = "YOUTUBE_NOT_CONNECTED"
    http_status = 409


class YouTubeAuthExpired(FilmStudioError):
    """The channel's refresh token was revoked or expired: connect it again."""

    code = "YOUTUBE_AUTH_EXPIRED"
    http_status = 401


class YouTubeQuotaExceeded(FilmStudioError):
    """The Google Cloud project's daily YouTube quota is used up; `details.resets_at` says when it resets."""

    code = "YOUTUBE_QUOTA_EXCEEDED"
    http_status = 429


class YouTubeUploadRejected(FilmStudioError):
    """YouTube refused the video or its metadata; `details.reason` is YouTube's own reason."""

    code = "YOUTUBE_UPLOAD_REJECTED"
    http_status = 422


class YouTubeUnavailable(FilmStudioError):
    """YouTube kept failing (5xx, cut connections) through every retry; a later publish resumes."""

    code = "YOUTUBE_UNAVAILABLE"
    http_status = 502


# -- the screenplay writer (additive) ---------------------------------------------------------


class IdeaError(FilmStudioError):
    """The idea a screenplay is to be written from is empty or too long (IDEA_EMPTY, IDEA_TOO_LONG)."""

    code = "IDEA_INVALID"
    http_status = 400


class WriterUnavailable(FilmStudioError):
    """No language model to write with: no server answering at the writer URL, no built-in model pulled."""

    code = "WRITER_UNAVAILABLE"
    http_status = 503


class WriterFailed(FilmStudioError):
    """The model answered, but not with a screenplay that fits (after the repair rounds), or it broke off."""

    code = "WRITER_FAILED"
    http_status = 502


class YouTubeMetadataInvalid(FilmStudioError):
    """The video's metadata breaks one of YouTube's documented rules; `details.field` and the limit say which."""

    code = "YOUTUBE_METADATA_INVALID"
    http_status = 400
