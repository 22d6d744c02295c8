"""The desktop's only door into `services/` and the pipeline: thin calls, no Qt, safe on pool threads.

Every method may block (SQLite, espeak, ffmpeg); pages call them through `TaskRunner`, never
directly on the GUI thread. The embedded API server and queue consumer live above the desktop
layer (`server`, `queue`), so they arrive here as an `EmbeddedServer` built by the entry point.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from filmstudio.domain.errors import BadRequest, FilmStudioError, InvalidSettings, ScriptError
from filmstudio.domain.models import (
    ApiKeyCreated,
    ApiKeyPublic,
    DeliveryPublic,
    GenerateRequest,
    JobAccepted,
    JobPublic,
    ModelPublic,
    ModelPullAccepted,
    ModelRecommendation,
    ModelSetPull,
    ModelSetPullAccepted,
    ProjectCreate,
    ProjectPublic,
    ProjectUpdate,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
)
from filmstudio.domain.settings import RenderSettings, estimated_credits, parse_settings
from filmstudio.services import accounts, jobs, keys, projects, webhooks
from filmstudio.services.keys import Principal
from filmstudio.services.studio import Studio

if TYPE_CHECKING:
    from filmstudio.pipeline.engines import Engines
    from filmstudio.pipeline.plan import Voice

DESKTOP_KEY_ID = "desktop"
NEW_SCRIPT = (
    "Title: Untitled\n\nINT. STUDIO - DAY\n\nA blank page waits.\n\nWRITER\nLet's begin.\n"
)


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
    """A project's rendered film on disk: the MP4, its thumbnail and subtitle files by language."""

    video: Path | None
    thumbnail: Path | None = None
    subtitles: dict[str, Path] = field(default_factory=dict)
    chapters: tuple[tuple[float, str], ...] = ()


@dataclass(frozen=True)
class StoryboardView:
    """What the storyboard page shows: the shot list, and per shot the picture files to show."""

    board: dict[str, Any]
    stills: dict[int, Path]  # shot number -> the still the last render drew
    replacements: dict[int, Path]  # shot number -> the user's own picture (`shot-<n>.<ext>`)

    @property
    def model(self) -> str | None:
        """The picture model that draws the stills; None: procedural backdrops."""
        return self.board.get("pictures", {}).get("model")


@dataclass(frozen=True)
class SavedForm:
    """What `Backend.save_valid` wrote, and what it could not (field -> message)."""

    project: ProjectPublic
    problems: dict[str, str] = field(default_factory=dict)


def _top_field(name: str) -> str:
    """`subtitle_languages.0` or `characters[1].age` -> the settings key it belongs to."""
    return name.replace("[", ".").split(".")[0]


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


class Backend:
    """The desktop user's (the owner account's) view of the studio."""

    def __init__(self, studio: Studio, server: EmbeddedServer | None = None, engines: Engines | None = None) -> None:
        self.studio = studio
        self.server = server
        if engines is None:
            raise ValueError("the desktop needs the engines the composition root built")
        self._engines = engines
        self._pinned = False
        owner = accounts.owner_account(studio.store)
        # The owner account has no credit limit: the desktop does not show credits for it.
        self.unlimited = owner.credit_balance is None
        # Audition and music-preview WAVs live here and go when the app closes (`close`).
        self._scratch = tempfile.TemporaryDirectory(prefix="filmstudio-desktop-")
        self.scratch_dir = Path(self._scratch.name)
        # The desktop is the owner at the keyboard: no key, every scope.
        self.principal = Principal(account_id=owner.account_id, key_id=DESKTOP_KEY_ID, scopes=frozenset({"admin"}))

    @property
    def engines(self) -> Engines:
        """The studio's engines of now: a model pulled or removed while the app runs is used at once."""
        source = self.studio.engine_source
        return source.current() if source is not None and not self._pinned else self._engines

    @engines.setter
    def engines(self, engines: Engines) -> None:
        """Engines set by hand (a test's writer) stay as set: they no longer follow the model library."""
        self._engines = engines
        self._pinned = True

    def close(self) -> None:
        """Remove the scratch folder (audition and music previews)."""
        self._scratch.cleanup()

    # -- projects ---------------------------------------------------------------------------

    def list_projects(self, status: str | None = None, search: str = "") -> list[ProjectPublic]:
        out: list[ProjectPublic] = []
        page = 1
        while True:
            found = projects.list_projects(self.studio, self.principal, page=page, per_page=100, status=status,
                                           sort="updated_at")
            out.extend(found.projects)
            if page >= found.total_pages:
                break
            page += 1
        needle = search.strip().lower()
        return [p for p in out if needle in p.title.lower()] if needle else out

    def get_project(self, project_id: str) -> ProjectPublic:
        return projects.get_project(self.studio, self.principal, project_id)

    def create_project(self, title: str = "Untitled film", script: str = NEW_SCRIPT,
                       settings: dict[str, Any] | None = None) -> ProjectPublic:
        data = self.validate_project(title, script, settings or {})
        created = projects.create_project(self.studio, self.principal, data)
        return self.get_project(created.project_id)

    def validate_project(self, title: str, script: str, settings: dict[str, Any]) -> ProjectCreate:
        """The form's values as a `ProjectCreate`, or InvalidSettings/BadRequest with stable codes."""
        parsed = parse_settings(settings)
        try:
            return ProjectCreate.model_validate({"title": title, "script": script, "settings": parsed})
        except Exception as exc:
            from pydantic import ValidationError

            if isinstance(exc, ValidationError):
                field_name = str(exc.errors()[0]["loc"][0])
                raise BadRequest(f"{field_name} must not be empty", code="VALIDATION_ERROR",
                                 details={"field": field_name}) from None
            raise

    def save_project(self, project_id: str, title: str, script: str, settings: dict[str, Any]) -> ProjectPublic:
        """Autosave: validate the whole form, then write title, script and settings."""
        data = self.validate_project(title, script, settings)
        update = ProjectUpdate(title=data.title, script=data.script,
                               settings=json.loads(data.settings.model_dump_json()))
        return projects.update_project(self.studio, self.principal, project_id, update)

    def save_valid(self, project_id: str, title: str, script: str, settings: dict[str, Any]) -> SavedForm:
        """Autosave that never loses work: write every valid field, report the others.

        An empty title or script, or a setting the studio refuses, is left as it was stored and
        comes back in `problems` (field -> message in words) for the form to mark.
        """
        problems: dict[str, str] = {}
        if not title.strip():
            problems["title"] = "A film needs a title."
        try:  # the check the service makes: only notes or headings are empty too
            projects.check_speakable(script, RenderSettings())
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
                    values.pop(key)  # the stored value stays: settings merge on update
        update = ProjectUpdate(title=None if "title" in problems else title.strip()[:200],
                               script=None if "script" in problems else script,
                               settings=json.loads(parse_settings(values).model_dump_json(exclude_unset=True))
                               if values else None)
        saved = projects.update_project(self.studio, self.principal, project_id, update)
        return SavedForm(saved, problems)

    def translation_pairs(self) -> set[tuple[str, str]]:
        """(source, target) language pairs the installed translator can do."""
        return set(self.engines.translator.pairs())

    def duplicate_project(self, project_id: str) -> ProjectPublic:
        src = self.get_project(project_id)
        return self.create_project(f"{src.title} (copy)"[:200], src.script, src.settings)

    def delete_project(self, project_id: str) -> None:
        projects.delete_project(self.studio, self.principal, project_id)

    def film_files(self, project_id: str, *, chapters: bool = True) -> FilmFiles:
        """Local paths of the project's latest film (the API hands out signed URLs instead).

        `chapters` reads them from the MP4 with ffprobe; list views pass False to skip that.
        """
        row = projects.owned_project(self.studio, self.principal, project_id)
        stored: dict[str, Any] = json.loads(row["assets"] or "{}")
        media = self.studio.media_dir
        if not stored.get("video"):
            return FilmFiles(video=None)
        video = media / stored["video"]
        return FilmFiles(
            video=video,
            thumbnail=media / stored["thumbnail"] if stored.get("thumbnail") else None,
            subtitles={lang: media / rel for lang, rel in stored.get("subtitles", {}).items()},
            chapters=_chapters(video) if chapters else (),
        )

    # -- jobs -------------------------------------------------------------------------------

    def generate(self, project_id: str) -> JobAccepted:
        return jobs.generate(self.studio, self.principal, project_id, GenerateRequest())

    def get_job(self, job_id: str) -> JobPublic:
        return jobs.get_job(self.studio, self.principal, job_id)

    def list_jobs(self, status: str | None = None, kind: str | None = None) -> list[JobPublic]:
        return jobs.list_jobs(self.studio, self.principal, per_page=100, status=status, kind=kind).jobs

    # -- storyboard ---------------------------------------------------------------------------

    def storyboard(self, project_id: str) -> StoryboardView:
        from filmstudio.services import assets, storyboard

        board = storyboard.get_storyboard(self.studio, self.principal, project_id)
        folder = assets.project_images_dir(self.studio, project_id)
        return StoryboardView(
            board=board, stills=storyboard.shot_stills(self.studio, self.principal, project_id),
            replacements={s["number"]: folder / s["image"] for s in board["shots"] if s.get("image")},
        )

    def regenerate_shot(self, project_id: str, number: int, *, seed: int | None = None, prompt: str | None = None,
                        locked: bool | None = None) -> dict[str, Any]:
        """A new seed (none given), an edited prompt, or a lock for one shot; the next render redraws it."""
        from filmstudio.domain.models import ShotRegenerate
        from filmstudio.services import storyboard

        body = _validated(ShotRegenerate, {"seed": seed, "prompt": prompt, "locked": locked})
        return storyboard.regenerate_shot(self.studio, self.principal, project_id, number, body)

    def update_character(self, project_id: str, name: str, *, description: str | None = None,
                         seed: int | None = None) -> dict[str, Any]:
        from filmstudio.domain.models import CharacterLookUpdate
        from filmstudio.services import storyboard

        body = _validated(CharacterLookUpdate, {"description": description, "seed": seed})
        return storyboard.update_character(self.studio, self.principal, project_id, name, body)

    def replace_shot(self, project_id: str, number: int, picture: Path) -> Any:
        """Use the user's picture file for shot `number` (stored as `shot-<n>` among the project's images)."""
        from filmstudio.services import images

        try:
            size = picture.stat().st_size
        except OSError as exc:
            raise BadRequest(f"could not read {picture.name}: {exc.strerror or exc}", code="IMAGE_UNREADABLE") from exc
        if size > images.MAX_IMAGE_BYTES:  # refused before reading a huge file into memory
            raise BadRequest(f"{picture.name} is too large: pictures are limited to "
                             f"{images.MAX_IMAGE_BYTES // 1_000_000} MB", code="IMAGE_TOO_LARGE",
                             details={"bytes": size, "limit": images.MAX_IMAGE_BYTES})
        return images.add_image(self.studio, self.principal, project_id, f"shot-{number}.png", picture.read_bytes())

    def use_generated(self, project_id: str, number: int) -> None:
        """Remove the user's picture for shot `number`: the generated still shows again."""
        from filmstudio.services import images

        images.delete_image(self.studio, self.principal, project_id, f"shot-{number}")

    # -- models -------------------------------------------------------------------------------

    def list_models(self) -> list[ModelPublic]:
        from filmstudio.services import models

        return models.list_models(self.studio, self.principal)

    def hardware_summary(self) -> str:
        from filmstudio.services import models

        return models.hardware().summary()

    def pull_model(self, model_id: str) -> ModelPullAccepted:
        from filmstudio.services import models

        return models.start_pull(self.studio, self.principal, model_id)

    def remove_model(self, model_id: str) -> None:
        from filmstudio.services import models

        models.remove_model(self.studio, self.principal, model_id)

    def recommended_models(self, language: str = "en") -> ModelRecommendation:
        """What `models pull --recommended` would pull on this machine for `language` (nothing is fetched)."""
        from filmstudio.services import models

        return models.recommended(self.studio, self.principal, language)

    def pull_models(self, model_ids: list[str]) -> ModelSetPullAccepted:
        """Pull several models as one `model_pull` job (one progress over the set)."""
        from filmstudio.services import models

        return models.start_pull_set(self.studio, self.principal, ModelSetPull(models=model_ids))

    def models_installed(self) -> bool:
        """Whether any model was pulled into this studio (the bundled voice does not count)."""
        from filmstudio.services import models

        return bool(models.library(self.studio).state())

    def model_pulls(self) -> list[JobPublic]:
        """Model downloads still queued or running."""
        return [j for j in self.list_jobs(kind="model_pull") if j.status in ("queued", "processing")]

    def cancel_job(self, job_id: str) -> JobPublic:
        return jobs.cancel_job(self.studio, self.principal, job_id)

    def retry_job(self, job_id: str) -> JobAccepted:
        """A new job for the same project (the old one stays in the history)."""
        project_id = self.get_job(job_id).project_id
        if project_id is None:
            raise BadRequest("only renders can be retried here", code="JOB_NOT_RETRIABLE")
        return self.generate(project_id)

    # -- YouTube ------------------------------------------------------------------------------

    def publish(self, project_id: str, privacy: str = "private") -> Any:
        """Queue a publish of the project's film to the connected channel (a `publish` job)."""
        from filmstudio.domain.models import PublishRequest
        from filmstudio.services.publish import start_publish

        request = PublishRequest(target="youtube", options={"privacy": privacy})
        return start_publish(self.studio, self.principal, project_id, request)

    def publish_targets(self) -> list[str]:
        """Where films can be published from this studio (YouTube first)."""
        from filmstudio.services.publish_form import target_names

        return target_names(self.studio)

    def publish_target_fields(self, target: str) -> dict[str, str]:
        """A target's text options and their defaults (for a target without its own form)."""
        from filmstudio.services.publish_form import target_fields

        return target_fields(self.studio, target)

    def publish_defaults(self, project_id: str) -> dict[str, Any]:
        """The Publish dialog's first values, from the project's film and its manifest."""
        from filmstudio.services.publish_form import publish_defaults

        return publish_defaults(self.studio, self.principal, project_id)

    def check_publish(self, project_id: str, target: str, options: dict[str, Any]) -> list[Any]:
        """Every refusal of the target for these options, field by field (`FieldProblem`s), before any job."""
        from filmstudio.domain.models import PublishRequest
        from filmstudio.services.publish_form import check_publish

        return check_publish(self.studio, self.principal, project_id, PublishRequest(target=target, options=options))

    def publish_to(self, project_id: str, target: str, options: dict[str, Any]) -> Any:
        """Queue a publish of the project's film to `target` with `options` (a `publish` job)."""
        from filmstudio.domain.models import PublishRequest
        from filmstudio.services.publish import start_publish

        return start_publish(self.studio, self.principal, project_id, PublishRequest(target=target, options=options))

    def youtube_channels(self) -> list[dict[str, Any]]:
        from filmstudio.services.youtube import auth

        return auth.status(self.studio, self.principal.account_id)

    def connect_youtube(self, client_secrets: Path) -> dict[str, Any]:
        """Google's sign-in in the user's browser (blocks until the loopback redirect arrives)."""
        from filmstudio.services.youtube import auth

        return auth.connect(self.studio, client_secrets, account_id=self.principal.account_id)

    def project_titles(self) -> dict[str, str]:
        return {p.project_id: p.title for p in self.list_projects()}

    # -- API keys ---------------------------------------------------------------------------

    def list_keys(self) -> list[ApiKeyPublic]:
        return keys.list_keys(self.studio.store, self.principal.account_id)

    def create_key(self, name: str) -> ApiKeyCreated:
        return keys.create_key(self.studio.store, self.principal.account_id, name=name or "desktop key")

    def revoke_key(self, key_id: str) -> ApiKeyPublic:
        return keys.revoke_key(self.studio.store, key_id)

    def rotate_key(self, key_id: str) -> ApiKeyCreated:
        return keys.rotate_key(self.studio.store, key_id)

    # -- webhooks -------------------------------------------------------------------------------

    def list_webhooks(self) -> list[WebhookPublic]:
        return webhooks.list_webhooks(self.studio, self.principal).webhooks

    def create_webhook(self, url: str, events: list[str], secret: str | None = None) -> WebhookCreated:
        """Register an endpoint; with no secret the studio makes one and returns it (shown once)."""
        from pydantic import ValidationError

        try:
            data = WebhookCreate.model_validate({"url": url.strip(), "events": events, "secret": secret or None})
        except ValidationError as exc:
            first = exc.errors()[0]
            field_name = str(first["loc"][0]) if first["loc"] else "webhook"
            kind = str(first["type"])  # the model's own stable codes (INVALID_WEBHOOK_SECRET) pass through
            raise BadRequest(f"{field_name}: {first['msg']}", code=kind if kind.isupper() else "VALIDATION_ERROR",
                             details={"field": field_name}) from None
        return webhooks.create_webhook(self.studio, self.principal, data)

    def delete_webhook(self, webhook_id: str) -> None:
        webhooks.delete_webhook(self.studio, self.principal, webhook_id)

    def list_deliveries(self, webhook_id: str, limit: int = 50) -> list[DeliveryPublic]:
        return webhooks.list_deliveries(self.studio, self.principal, webhook_id, limit=limit).deliveries

    def send_test_webhook(self, webhook_id: str) -> DeliveryPublic:
        """Send a `webhook.test` event now (one try, over the network: run it off the GUI thread)."""
        return webhooks.test_webhook(self.studio, self.principal, webhook_id)

    # -- script checks and previews -----------------------------------------------------------

    def check_script(self, script: str, settings: dict[str, Any]) -> ScriptCheck:
        """Parse, cast and fit-check a script as typed (pure CPU; a few ms for normal scripts)."""
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
            available = self.engines.voices.voices(parsed.language)
            casting = cast_voices(script_obj, parsed, available)
        except FilmStudioError as exc:
            return ScriptCheck((), {}, credits, 0, None, exc.code, exc.message)
        names = tuple(script_obj.characters)
        voices = {name: self.voice_name(v) for name, v in casting.items()}
        readings = {name: summary(c) for name, c in read_characters(script_obj, parsed).items()}
        mismatches = {name: gender_warning(name, casting[name].gender, heard, parsed.language)
                      for name, heard in gender_mismatches(casting, available).items()}
        try:
            _, seconds = choose_rate(script_obj, casting, parsed, estimate_speech_seconds)
        except FilmStudioError as exc:
            return ScriptCheck(names, voices, credits, len(script_obj.scenes), None, exc.code, exc.message,
                               readings, mismatches)
        return ScriptCheck(names, voices, credits, len(script_obj.scenes), round(seconds, 1), readings=readings,
                           mismatches=mismatches)

    def voice_name(self, voice: Voice) -> str:
        """What the cast table shows for a cast voice: the engine's own name for it."""
        from filmstudio.pipeline.plan import PITCH_PER_SEMITONE

        own = voice.espeak_name if voice.engine == "espeak" else voice.voice_id
        # A neural voice shared by several characters: its treatment tells them apart in the table.
        shift = "" if voice.engine == "espeak" or voice.pitch == 50 else \
            f" ({(voice.pitch - 50) / PITCH_PER_SEMITONE:+g} semitones)"
        for info in self.engines.voices.voices():
            if info.engine == voice.engine and info.voice_id == own and info.speaker == voice.speaker_id:
                return info.name + shift
        return voice.label + shift

    def style_preview_png(self, style: str, size: tuple[int, int] = (192, 108)) -> bytes:
        import io

        from filmstudio.pipeline.providers.visuals import style_preview

        buf = io.BytesIO()
        style_preview(style, size).save(buf, format="PNG")
        return buf.getvalue()

    def audition(self, script: str, character: str, text: str, settings: dict[str, Any]) -> Path:
        """A WAV of `text` in the voice `character` is cast in `script` under `settings`."""
        from filmstudio.pipeline.context import CancelToken
        from filmstudio.pipeline.engines import SpeechRequest
        from filmstudio.pipeline.script.analysis import analyse
        from filmstudio.pipeline.script.casting import cast_voices

        parsed: RenderSettings = parse_settings(settings)
        voice = cast_voices(analyse(script, parsed), parsed, self.engines.voices.voices(parsed.language))[character]
        out = Path(tempfile.mkdtemp(prefix="audition-", dir=self.scratch_dir)) / "line.wav"
        self.engines.voices.synthesize_many([SpeechRequest(text, voice, 175.0, out)], cancel=CancelToken())
        return out

    def write_screenplay(self, idea: str, settings: dict[str, Any], *, cancel: Any,
                         on_text: Callable[[int, str], None]) -> Any:
        """A screenplay from `idea` by the studio's writer, sized to `settings` (its text streamed to `on_text`)."""
        from filmstudio.domain.errors import WriterUnavailable
        from filmstudio.pipeline.writer import Brief, write_screenplay

        if self.engines.writer is None:
            raise WriterUnavailable("no screenplay writer is set up in this studio")
        parsed: RenderSettings = parse_settings(settings)
        brief = Brief(idea=idea, duration=parsed.duration, style=parsed.style, language=parsed.language)
        return write_screenplay(self.engines.writer, brief, cancel=cancel, on_text=on_text,
                                voices=self.engines.voices.voices(parsed.language))

    def music_preview(self, genre: str, seconds: float = 6.0) -> Path:
        """A few seconds of the genre's music as a WAV file."""
        import numpy as np

        from filmstudio.pipeline.media.audio import write_wav
        from filmstudio.pipeline.providers.music import PEAK

        stream = self.engines.music.score(genre, seconds, [0.0], sample_rate=48000, seed=7)
        music = np.concatenate(list(stream.chunks()), axis=1).T if stream.frames else np.zeros((0, 2), np.float32)
        peak = float(np.abs(music).max()) if music.size else 0.0
        out = Path(tempfile.mkdtemp(prefix="music-", dir=self.scratch_dir)) / f"{genre}.wav"
        write_wav(out, music * np.float32(PEAK / peak) if peak > 0 else music, 48000)
        return out


def _validated(model: Any, values: dict[str, Any]) -> Any:
    """`model` from the values that are set, or BadRequest VALIDATION_ERROR naming the field in words."""
    from pydantic import ValidationError

    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        field_name = str(first["loc"][0]) if first["loc"] else "value"
        raise BadRequest(f"{field_name}: {first['msg']}", code="VALIDATION_ERROR",
                         details={"field": field_name}) from None


def _chapters(video: Path) -> tuple[tuple[float, str], ...]:
    """Chapters from the MP4 itself (ffprobe), so the player shows what the file carries."""
    from filmstudio.pipeline.media.ffmpeg import probe

    try:
        info = probe(video) if video.exists() else {}
    except FilmStudioError:
        return ()
    chapters = info.get("chapters") or []
    return tuple(
        (float(c.get("start_time", 0.0)), str((c.get("tags") or {}).get("title") or f"Chapter {i + 1}"))
        for i, c in enumerate(chapters)
    )
