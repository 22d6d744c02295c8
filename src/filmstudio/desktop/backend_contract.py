"""What the desktop pages may ask of a studio: one contract, met in-process (`backend.LocalBackend`)
or over the studio's public API (`remote.RemoteBackend`).

Pages import this module, never `services/` or the store (an import-linter contract holds them to
it), so the same window works on this machine's studio and on a studio server. Every method may
block (SQLite, ffmpeg, the network); pages call them through `TaskRunner`, never on the GUI thread.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from filmstudio.domain.errors import FilmStudioError, InvalidSettings, ScriptError
from filmstudio.domain.models import (
    ApiKeyCreated,
    ApiKeyPublic,
    DeliveryPublic,
    JobAccepted,
    JobPublic,
    ModelPublic,
    ModelPullAccepted,
    ProjectPublic,
    ProjectUpdate,
    WebhookCreated,
    WebhookPublic,
)
from filmstudio.domain.settings import RenderSettings, parse_settings

NEW_SCRIPT = (
    "Title: Untitled\n\nINT. STUDIO - DAY\n\nA blank page waits.\n\nWRITER\nLet's begin.\n"
)
PROJECT_STATUSES = ("draft", "processing", "completed", "failed")
TERMINAL_JOB_STATUSES = ("completed", "failed", "cancelled")

# -- value types the pages show -----------------------------------------------------------------


class EmbeddedServer(Protocol):
    """The API server + queue consumer the app runs in-process (built by `filmstudio app`)."""

    @property
    def url(self) -> str: ...

    @property
    def running(self) -> bool: ...

    @property
    def notice(self) -> str:
        """A note for the user, e.g. that the configured port was taken and another was used."""
        ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class ScriptCheck:
    """What the editor shows while typing: characters, cost, and whether the script fits."""

    characters: tuple[str, ...]
    voices: dict[str, str]
    credits: int
    scenes: int
    speech_seconds: float | None
    error_code: str | None = None
    error: str | None = None
    readings: dict[str, str] = field(default_factory=dict)  # who each character is (script/characters.py)
    # A character read by the other sex's voice (none fitting is installed): the render's warning, with the pull
    mismatches: dict[str, str] = field(default_factory=dict)

    @property
    def fits(self) -> bool:
        return self.error_code is None


@dataclass(frozen=True)
class FilmFiles:
    """A project's rendered film: the MP4, its thumbnail and subtitle files by language.

    A local studio gives paths; a remote one gives `video_url` (a signed link the player streams
    with Range requests, no key needed) and downloads the small files (thumbnail, subtitles) into
    its cache. `video` is a local path when the film is on this machine.
    """

    video: Path | None
    thumbnail: Path | None = None
    subtitles: dict[str, Path] = field(default_factory=dict)
    chapters: tuple[tuple[float, str], ...] = ()
    video_url: str | None = None

    @property
    def has_film(self) -> bool:
        return (self.video is not None and self.video.exists()) or self.video_url is not None


@dataclass(frozen=True)
class StoryboardView:
    """What the storyboard page shows: the shot list, and per shot the picture files to show."""

    board: dict[str, Any]
    stills: dict[int, Path]  # shot number -> the still the last render drew (a cached copy when remote)
    replacements: dict[int, Path]  # shot number -> the user's own picture (`shot-<n>.<ext>`)
    clips: dict[int, Path] = field(default_factory=dict)  # shot number -> the clip the last render made

    @property
    def model(self) -> str | None:
        """The picture model that draws the stills; None: procedural backdrops."""
        return self.board.get("pictures", {}).get("model")


@dataclass(frozen=True)
class SavedForm:
    """What `save_valid` wrote, and what it could not (field -> message)."""

    project: ProjectPublic
    problems: dict[str, str] = field(default_factory=dict)


ProgressFn = Callable[[int, int | None], None]  # bytes done, total (None: unknown)
NoticeFn = Callable[[str], None]  # "reconnecting…", "rate limited, waiting 3 s", "" (all well again)

# -- errors a remote studio adds (the pages show them with `error_text` like any other) -------------


class ProjectConflict(FilmStudioError):
    """The project changed on the studio since this client opened it (HTTP 412).

    `current` is the project as the studio has it now; the user's own text is still in the form.
    """

    code = "PRECONDITION_FAILED"
    http_status = 412

    def __init__(self, message: str, *, current: ProjectPublic | None = None, code: str | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message, code=code, details=details)
        self.current = current


class StudioUnreachable(FilmStudioError):
    """The studio's host refused the connection, did not answer, or its name does not resolve."""

    code = "STUDIO_UNREACHABLE"
    http_status = 503


class StudioTlsError(FilmStudioError):
    """The studio's certificate is not trusted (give its CA file) or the TLS handshake failed."""

    code = "STUDIO_TLS_ERROR"
    http_status = 503


class StudioIncompatible(FilmStudioError):
    """The server speaks another major version of the API than this app (or is no FilmStudio)."""

    code = "STUDIO_VERSION_MISMATCH"
    http_status = 400


def error_text(exc: BaseException) -> str:
    """A readable one-line message in words, for message boxes and status lines.

    The stable code is left out (it means nothing to a user); `error_code` gives it for a
    details tooltip.
    """
    if isinstance(exc, FilmStudioError):
        problems = exc.details.get("errors") if isinstance(exc.details, dict) else None
        if problems and len(problems) > 1:
            return "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        return exc.message
    return f"Something went wrong: {exc}"


def error_code(exc: BaseException) -> str:
    """The stable code behind `error_text` (for tooltips and bug reports)."""
    return exc.code if isinstance(exc, FilmStudioError) else "INTERNAL_ERROR"


# -- the contract ------------------------------------------------------------------------------------


class StudioBackend(Protocol):
    """The desktop user's view of one studio (this machine's, or a server's)."""

    unlimited: bool  # the account has no credit limit: the pages do not show credits
    scratch_dir: Path  # audition and music-preview WAVs, removed by `close`

    @property
    def server(self) -> EmbeddedServer | None:
        """The API server this app runs in-process (None: none, or a remote studio)."""
        ...

    @property
    def home(self) -> Path | None:
        """This machine's studio data folder; None for a remote studio."""
        ...

    @property
    def location(self) -> str:
        """Where the studio is, for the title bar: "this computer" or the server's URL."""
        ...

    def set_notice_handler(self, handler: NoticeFn | None) -> None:
        """Where network states go ("reconnecting…", "rate limited, waiting 5 s"); called off the GUI thread."""
        ...

    def close(self) -> None: ...

    # projects
    def list_projects(self, status: str | None = None, search: str = "") -> list[ProjectPublic]: ...
    def get_project(self, project_id: str) -> ProjectPublic: ...
    def create_project(self, title: str = ..., script: str = ...,
                       settings: dict[str, Any] | None = None) -> ProjectPublic: ...
    def save_project(self, project_id: str, title: str, script: str, settings: dict[str, Any]) -> ProjectPublic: ...
    def save_valid(self, project_id: str, title: str, script: str, settings: dict[str, Any]) -> SavedForm: ...
    def duplicate_project(self, project_id: str) -> ProjectPublic: ...
    def delete_project(self, project_id: str) -> None: ...
    def project_titles(self) -> dict[str, str]: ...
    def translation_pairs(self) -> set[tuple[str, str]]: ...
    def film_files(self, project_id: str, *, chapters: bool = True) -> FilmFiles: ...
    def export_film(self, project_id: str, target: Path, progress: ProgressFn | None = None) -> Path:
        """The film at `target`, its subtitles and thumbnail beside it (a remote film is downloaded, resumably)."""
        ...

    # jobs
    def generate(self, project_id: str) -> JobAccepted: ...
    def get_job(self, job_id: str) -> JobPublic: ...
    def follow_job(self, job_id: str, on_update: Callable[[JobPublic], None], *,
                   stop: Callable[[], bool] = ...) -> JobPublic:
        """Call `on_update` with each change of the job until it ends (or `stop()`); the last state."""
        ...
    def list_jobs(self, status: str | None = None, kind: str | None = None) -> list[JobPublic]: ...
    def cancel_job(self, job_id: str) -> JobPublic: ...
    def retry_job(self, job_id: str) -> JobAccepted: ...

    # storyboard
    def storyboard(self, project_id: str) -> StoryboardView: ...
    def regenerate_shot(self, project_id: str, number: int, *, seed: int | None = None, prompt: str | None = None,
                        locked: bool | None = None) -> dict[str, Any]: ...
    def update_character(self, project_id: str, name: str, *, description: str | None = None,
                         seed: int | None = None) -> dict[str, Any]: ...
    def set_shot_motion(self, project_id: str, number: int, motion: bool | None) -> dict[str, Any]: ...
    def set_motion_budget(self, project_id: str, budget: str) -> ProjectPublic: ...
    # publish dialog
    def publish_targets(self) -> list[str]: ...
    def publish_target_fields(self, target: str) -> dict[str, str]: ...
    def publish_defaults(self, project_id: str) -> dict[str, Any]: ...
    def check_publish(self, project_id: str, target: str, options: dict[str, Any]) -> list[Any]: ...
    def publish_to(self, project_id: str, target: str, options: dict[str, Any]) -> Any: ...
    # first run: the models recommended for the studio's machine
    def recommended_models(self, language: str = "en") -> Any: ...
    def pull_models(self, model_ids: list[str]) -> Any: ...
    def models_installed(self) -> bool: ...
    def replace_shot(self, project_id: str, number: int, picture: Path) -> Any: ...
    def use_generated(self, project_id: str, number: int) -> None: ...

    # models
    def list_models(self) -> list[ModelPublic]: ...
    def hardware_summary(self) -> str: ...
    def pull_model(self, model_id: str) -> ModelPullAccepted: ...
    def remove_model(self, model_id: str) -> None: ...
    def model_pulls(self) -> list[JobPublic]: ...

    # publishing
    def publish(self, project_id: str, privacy: str = "private") -> Any: ...
    def youtube_channels(self) -> list[dict[str, Any]]: ...
    def connect_youtube(self, client_secrets: Path) -> dict[str, Any]: ...

    # API keys and webhooks
    def list_keys(self) -> list[ApiKeyPublic]: ...
    def create_key(self, name: str) -> ApiKeyCreated: ...
    def revoke_key(self, key_id: str) -> ApiKeyPublic: ...
    def rotate_key(self, key_id: str) -> ApiKeyCreated: ...
    def list_webhooks(self) -> list[WebhookPublic]: ...
    def create_webhook(self, url: str, events: list[str], secret: str | None = None) -> WebhookCreated: ...
    def delete_webhook(self, webhook_id: str) -> None: ...
    def list_deliveries(self, webhook_id: str, limit: int = 50) -> list[DeliveryPublic]: ...
    def send_test_webhook(self, webhook_id: str) -> DeliveryPublic: ...

    # script checks and previews
    def check_script(self, script: str, settings: dict[str, Any]) -> ScriptCheck: ...
    def style_preview_png(self, style: str, size: tuple[int, int] = (192, 108)) -> bytes: ...
    def audition(self, script: str, character: str, text: str, settings: dict[str, Any]) -> Path: ...
    def write_screenplay(self, idea: str, settings: dict[str, Any], *, cancel: Any,
                         on_text: Callable[[int, str], None]) -> Any: ...
    def music_preview(self, genre: str, seconds: float = 6.0) -> Path: ...


# -- form logic both implementations share (pure: domain + the script analysis) ------------------------


def _top_field(name: str) -> str:
    """`subtitle_languages.0` or `characters[1].age` -> the settings key it belongs to."""
    return name.replace("[", ".").split(".")[0]


def valid_update(title: str, script: str, settings: dict[str, Any]) -> tuple[ProjectUpdate, dict[str, str]]:
    """The fields of a form that can be saved as a `ProjectUpdate`, and the others (field -> message).

    An empty title or script, or a setting the studio refuses, is left out (the stored value stays:
    settings merge on update) and comes back as a problem for the form to mark.
    """
    from filmstudio.pipeline.script.analysis import analyse

    problems: dict[str, str] = {}
    if not title.strip():
        problems["title"] = "A film needs a title."
    try:  # the check the studio makes: only notes or headings are empty too
        analyse(script, RenderSettings())
    except ScriptError:
        problems["script"] = "The script is empty: write at least one scene."
    values = dict(settings)
    for _ in range(len(values) + 1):
        try:
            parse_settings(values)
            break
        except InvalidSettings as exc:
            errors = exc.details.get("errors") if isinstance(exc.details, dict) else None
            bad = {_top_field(str(e.get("field", ""))): str(e.get("message", exc.message)) for e in errors or []}
            bad = {k: v for k, v in bad.items() if k in values}
            if not bad:
                problems["settings"] = exc.message
                values = {}
                break
            problems.update(bad)
            for key in bad:
                values.pop(key)
    update = ProjectUpdate(title=None if "title" in problems else title.strip()[:200],
                           script=None if "script" in problems else script,
                           settings=json.loads(parse_settings(values).model_dump_json(exclude_unset=True))
                           if values else None)
    return update, problems


# -- local computations both implementations make (a remote studio's app computes them on the laptop) --


def script_check(script: str, settings: dict[str, Any], voices: Callable[[str], Any],
                 voice_name: Callable[[Any], str]) -> ScriptCheck:
    """Parse, cast and fit-check a script as typed, with `voices(language)` to cast from."""
    from filmstudio.domain.settings import estimated_credits
    from filmstudio.pipeline.fit import choose_rate
    from filmstudio.pipeline.script.analysis import analyse
    from filmstudio.pipeline.script.casting import cast_voices, estimate_speech_seconds, gender_mismatches
    from filmstudio.pipeline.script.characters import read_characters, summary
    from filmstudio.pipeline.stages.script_analysis import gender_warning

    try:
        parsed = parse_settings(settings)
    except InvalidSettings as exc:
        return ScriptCheck((), {}, 0, 0, None, exc.code, exc.message)
    credits = estimated_credits(parsed.duration)
    try:
        script_obj = analyse(script, parsed)
        available = voices(parsed.language)
        casting = cast_voices(script_obj, parsed, available)
    except FilmStudioError as exc:
        return ScriptCheck((), {}, credits, 0, None, exc.code, exc.message)
    names = tuple(script_obj.characters)
    cast = {name: voice_name(v) for name, v in casting.items()}
    readings = {name: summary(c) for name, c in read_characters(script_obj, parsed).items()}
    mismatches = {name: gender_warning(name, casting[name].gender, heard, parsed.language)
                  for name, heard in gender_mismatches(casting, available).items()}
    try:
        _, seconds = choose_rate(script_obj, casting, parsed, estimate_speech_seconds)
    except FilmStudioError as exc:
        return ScriptCheck(names, cast, credits, len(script_obj.scenes), None, exc.code, exc.message, readings,
                           mismatches)
    return ScriptCheck(names, cast, credits, len(script_obj.scenes), round(seconds, 1), readings=readings,
                       mismatches=mismatches)


def style_preview_png(style: str, size: tuple[int, int] = (192, 108)) -> bytes:
    """A small PNG of a visual style (procedural: the same on every machine)."""
    import io

    from filmstudio.pipeline.providers.visuals import style_preview

    buf = io.BytesIO()
    style_preview(style, size).save(buf, format="PNG")
    return buf.getvalue()


def music_preview_wav(music: Any, genre: str, seconds: float, folder: Path) -> Path:
    """A few seconds of `music`'s score for `genre`, peak-normalised, as a WAV under `folder`."""
    import tempfile

    import numpy as np

    from filmstudio.pipeline.media.audio import write_wav
    from filmstudio.pipeline.providers.music import PEAK

    stream = music.score(genre, seconds, [0.0], sample_rate=48000, seed=7)
    samples = np.concatenate(list(stream.chunks()), axis=1).T if stream.frames else np.zeros((0, 2), np.float32)
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    out = Path(tempfile.mkdtemp(prefix="music-", dir=folder)) / f"{genre}.wav"
    write_wav(out, samples * np.float32(PEAK / peak) if peak > 0 else samples, 48000)
    return out
