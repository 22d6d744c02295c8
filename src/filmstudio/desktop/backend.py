"""The desktop's only door into `services/` and the pipeline: thin calls, no Qt, safe on pool threads.

Every method may block (SQLite, espeak, ffmpeg); pages call them through `TaskRunner`, never
directly on the GUI thread. The embedded API server and queue consumer live above the desktop
layer (`server`, `queue`), so they arrive here as an `EmbeddedServer` built by the entry point.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filmstudio.desktop.backend_contract import (
    NEW_SCRIPT,
    TERMINAL_JOB_STATUSES,
    EmbeddedServer,
    FilmFiles,
    NoticeFn,
    ProgressFn,
    SavedForm,
    ScriptCheck,
    StoryboardView,
    StudioBackend,
    error_code,
    error_text,
    music_preview_wav,
    script_check,
    style_preview_png,
    valid_update,
)
from filmstudio.domain.errors import BadRequest, FilmStudioError, NotFound
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
from filmstudio.domain.settings import RenderSettings, parse_settings
from filmstudio.services import accounts, jobs, keys, projects, webhooks
from filmstudio.services.keys import Principal
from filmstudio.services.studio import Studio

if TYPE_CHECKING:
    from filmstudio.pipeline.engines import Engines
    from filmstudio.pipeline.plan import Voice

DESKTOP_KEY_ID = "desktop"
POLL_SECONDS = 0.5  # follow_job: how often the in-process studio is asked (it is cheap)


__all__ = ["NEW_SCRIPT", "Backend", "EmbeddedServer", "FilmFiles", "LocalBackend", "SavedForm", "ScriptCheck",
           "StoryboardView", "error_code", "error_text"]


class LocalBackend:
    """The desktop user's (the owner account's) view of the studio on this machine, over `services/`."""

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
        self._notice: NoticeFn | None = None

    @property
    def home(self) -> Path:
        return self.studio.media_dir.parent

    @property
    def location(self) -> str:
        return "this computer"

    def set_notice_handler(self, handler: NoticeFn | None) -> None:
        self._notice = handler  # nothing on this machine goes offline or is rate limited

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
        update, problems = valid_update(title, script, settings)
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

    def export_film(self, project_id: str, target: Path, progress: ProgressFn | None = None) -> Path:
        """Copy the film, its SRT and VTT subtitles and its thumbnail beside `target`."""
        import shutil

        files = self.film_files(project_id, chapters=False)
        if files.video is None or not files.video.exists():
            raise NotFound("the project has no film yet", code="FILM_NOT_FOUND")
        shutil.copyfile(files.video, target)
        if progress is not None:
            size = target.stat().st_size
            progress(size, size)
        for lang, srt in files.subtitles.items():
            if srt.exists():
                shutil.copyfile(srt, target.with_name(f"{target.stem}.{lang}.srt"))
            vtt = srt.with_suffix(".vtt")
            if vtt.exists():
                shutil.copyfile(vtt, target.with_name(f"{target.stem}.{lang}.vtt"))
        if files.thumbnail is not None and files.thumbnail.exists():
            shutil.copyfile(files.thumbnail, target.with_suffix(files.thumbnail.suffix))
        return target

    # -- jobs -------------------------------------------------------------------------------

    def generate(self, project_id: str) -> JobAccepted:
        return jobs.generate(self.studio, self.principal, project_id, GenerateRequest())

    def get_job(self, job_id: str) -> JobPublic:
        return jobs.get_job(self.studio, self.principal, job_id)

    def follow_job(self, job_id: str, on_update: Callable[[JobPublic], None], *,
                   stop: Callable[[], bool] = lambda: False) -> JobPublic:
        """Ask the studio every POLL_SECONDS; `on_update` on each change, until the job ends or `stop()`."""
        import time

        last: JobPublic | None = None
        while True:
            job = self.get_job(job_id)
            if job != last:
                on_update(job)
                last = job
            if job.status in TERMINAL_JOB_STATUSES or stop():
                return job
            time.sleep(POLL_SECONDS)

    def list_jobs(self, status: str | None = None, kind: str | None = None) -> list[JobPublic]:
        return jobs.list_jobs(self.studio, self.principal, per_page=100, status=status, kind=kind).jobs

    # -- storyboard ---------------------------------------------------------------------------

    def storyboard(self, project_id: str) -> StoryboardView:
        from filmstudio.services import assets, clips, storyboard

        board = storyboard.get_storyboard(self.studio, self.principal, project_id)
        folder = assets.project_images_dir(self.studio, project_id)
        return StoryboardView(
            board=board, stills=storyboard.shot_stills(self.studio, self.principal, project_id),
            replacements={s["number"]: folder / s["image"] for s in board["shots"] if s.get("image")},
            clips=clips.shot_clips(self.studio, self.principal, project_id),
        )

    def set_shot_motion(self, project_id: str, number: int, motion: bool | None) -> dict[str, Any]:
        """Animate shot `number` (True), keep it a still (False) or follow the motion budget (None)."""
        from filmstudio.domain.models import ShotUpdate
        from filmstudio.services import storyboard

        return storyboard.update_shot(self.studio, self.principal, project_id, number, ShotUpdate(motion=motion))

    def set_motion_budget(self, project_id: str, budget: str) -> ProjectPublic:
        """Which of the project's shots move: "none", "key" or "all" (its `motion` setting)."""
        return projects.update_project(self.studio, self.principal, project_id,
                                       ProjectUpdate(settings={"motion": budget}))

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
        return script_check(script, settings, self.engines.voices.voices, self.voice_name)

    def voice_name(self, voice: Voice) -> str:
        """What the cast table shows for a cast voice: the engine's own name for it."""
        # A voice shared by several characters, its pitch a shift its engine declares: the treatment in the table.
        shift = f" ({voice.semitones:+g} semitones)" if voice.semitones else ""
        for info in self.engines.voices.voices():
            if info.engine == voice.engine and info.voice_id == voice.engine_voice and info.speaker == voice.speaker_id:
                return info.name + shift
        return voice.label + shift

    def style_preview_png(self, style: str, size: tuple[int, int] = (192, 108)) -> bytes:
        return style_preview_png(style, size)

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
        return music_preview_wav(self.engines.music, genre, seconds, self.scratch_dir)


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


Backend = LocalBackend  # the name the app and its tests have always used


def _meets_the_contract(backend: LocalBackend) -> StudioBackend:
    return backend  # mypy checks LocalBackend against the pages' contract here
