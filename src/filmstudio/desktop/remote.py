"""The pages' backend contract over a studio server's public API (`/api/v1`, a Bearer key).

Everything goes through the API a script would use; what the API has no endpoint for because it
is a pure computation (the style preview PNG, the music preview, the script check's parsing and
casting) is computed here on the laptop with the same code the studio runs. The network side
(timeouts, retries, 429s, TLS, downloads) is `remote_http.StudioConnection`.

Editing is safe against other people: `get_project` remembers the project's `ETag` (its revision
as this client last saw it) and every save sends it as `If-Match`; a stale save raises
`ProjectConflict` carrying the studio's current project, and the remembered version stays the
old one until the app opens the project again (`get_project`), so nothing is overwritten unseen.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

import filmstudio
from filmstudio.desktop.backend_contract import (
    NEW_SCRIPT,
    TERMINAL_JOB_STATUSES,
    EmbeddedServer,
    FilmFiles,
    NoticeFn,
    ProgressFn,
    ProjectConflict,
    SavedForm,
    ScriptCheck,
    StoryboardView,
    StudioBackend,
    StudioIncompatible,
    StudioUnreachable,
    music_preview_wav,
    script_check,
    style_preview_png,
    valid_update,
)
from filmstudio.desktop.remote_http import StudioConnection, sse_events
from filmstudio.domain.errors import BadRequest, FilmStudioError, InvalidSettings, NotFound
from filmstudio.domain.models import (
    AccountOverview,
    ApiKeyCreated,
    ApiKeyPublic,
    DeliveryPublic,
    JobAccepted,
    JobPublic,
    ModelPublic,
    ModelPullAccepted,
    ProjectCreate,
    ProjectPublic,
    ProjectUpdate,
    StudioInfo,
    WebhookCreated,
    WebhookPublic,
)
from filmstudio.domain.settings import parse_settings

API_MAJOR = 1  # the /api/v1 this client speaks
APP_VERSION = filmstudio.__version__  # a studio of another major version is refused
POLL_SECONDS = 1.0  # following a job without server-sent events
SSE_READ_TIMEOUT_S = 75.0  # the events stream sends a keep-alive well within this
RECONNECT_FOR_S = 600.0
LISTED_FRESH_S = 30.0  # film_files(chapters=False) right after list_projects uses the listed project  # a job's progress keeps trying to reach the studio this long


class RemoteBackend:
    """One studio server, as one account's key sees it."""

    def __init__(self, base_url: str, api_key: str, *, ca_file: Path | None = None, cache_dir: Path | None = None,
                 transport: httpx.BaseTransport | None = None, use_events: bool = True,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.http = StudioConnection(base_url, api_key, ca_file=ca_file, transport=transport, sleep=sleep)
        self.base_url = self.http.root
        self.use_events = use_events
        self._sleep = sleep
        if cache_dir is None:
            import platformdirs

            cache_dir = Path(platformdirs.user_cache_dir("filmstudio", appauthor=False)) / "studios"
        # One folder per server, so two studios' projects never share a cached file.
        self.cache_dir = cache_dir / _server_folder(self.base_url)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._scratch = tempfile.TemporaryDirectory(prefix="filmstudio-remote-")
        self.scratch_dir = Path(self._scratch.name)
        self.unlimited = False
        self.account: AccountOverview | None = None
        self.server_version: str | None = None
        self._etags: dict[str, str] = {}  # project -> the version saves are made against
        self._bases: dict[str, tuple[str, str, str]] = {}  # project -> its title, script, settings at that version
        self._lock = threading.Lock()
        self._checked = False
        self._music: Any = None
        self._info: StudioInfo | None = None
        self._listed: dict[str, tuple[float, ProjectPublic]] = {}  # the last list_projects, for its thumbnails

    # -- the contract's properties ---------------------------------------------------------------

    @property
    def server(self) -> EmbeddedServer | None:
        return None

    @property
    def home(self) -> Path | None:
        return None

    @property
    def location(self) -> str:
        return self.base_url

    def set_notice_handler(self, handler: NoticeFn | None) -> None:
        self.http.notice = handler

    def close(self) -> None:
        self.http.close()
        self._scratch.cleanup()

    # -- connecting ----------------------------------------------------------------------------

    def connect(self) -> AccountOverview:
        """Check the server is a FilmStudio of this API's major version and that it takes the key.

        Raises StudioUnreachable, StudioTlsError, StudioIncompatible or Unauthorized (STUDIO_KEY_REFUSED).
        """
        try:
            health = self.http.request("GET", f"{self.http.api}/health").json()
        except NotFound as exc:
            raise StudioIncompatible(f"{self.base_url} answers, but it is no FilmStudio studio (no /api/v1/health)",
                                     details={"url": self.base_url}) from exc
        except ValueError as exc:
            raise StudioIncompatible(f"{self.base_url} answers, but not as a FilmStudio studio",
                                     details={"url": self.base_url}) from exc
        if not isinstance(health, dict) or "version" not in health:
            raise StudioIncompatible(f"{self.base_url} answers, but not as a FilmStudio studio",
                                     details={"url": self.base_url})
        # An explicit API version wins; else the package's major number (0.x studios speak /api/v1 as 0.x apps).
        version = str(health.get("api_version") or health["version"])
        client = str(API_MAJOR) if health.get("api_version") else _major(APP_VERSION)
        if _major(version) != client:
            raise StudioIncompatible(
                f"The studio runs FilmStudio {health['version']}, this app is {APP_VERSION}: their versions differ "
                "in the major number, so they do not speak the same API; update the older of the two.",
                details={"server_version": str(health["version"]), "client_version": APP_VERSION})
        self.server_version = str(health.get("version", version))
        self.account = AccountOverview.model_validate(self.http.get_json("/account"))
        self.unlimited = self.account.credit_balance is None
        self._checked = True
        return self.account

    def _ensure(self) -> None:
        if not self._checked:
            with self._lock:
                if not self._checked:
                    self.connect()

    def _get(self, path: str, **params: Any) -> Any:
        self._ensure()
        return self.http.get_json(path, **params)

    def _send(self, method: str, path: str, body: Any = None, *, idempotency_key: bool = False,
              headers: dict[str, str] | None = None) -> httpx.Response:
        self._ensure()
        return self.http.send_json(method, path, body, idempotency_key=idempotency_key, headers=headers)

    # -- projects ---------------------------------------------------------------------------

    def list_projects(self, status: str | None = None, search: str = "") -> list[ProjectPublic]:
        out: list[ProjectPublic] = []
        page = 1
        while True:
            found = self._get("/projects", page=page, per_page=100, status=status, sort="updated_at")
            out.extend(ProjectPublic.model_validate(p) for p in found["projects"])
            if page >= int(found["total_pages"]):
                break
            page += 1
        listed_at = time.monotonic()
        with self._lock:
            self._listed = {p.project_id: (listed_at, p) for p in out}
        needle = search.strip().lower()
        return [p for p in out if needle in p.title.lower()] if needle else out

    def get_project(self, project_id: str) -> ProjectPublic:
        """The project as the studio has it now; its version becomes the one saves are made against."""
        self._ensure()
        response = self.http.request("GET", f"/projects/{project_id}")
        project = ProjectPublic.model_validate(response.json())
        self._remember(project, response)
        return project

    def _remember(self, project: ProjectPublic, response: httpx.Response) -> None:
        """`project` as this client last saw it: its ETag (saves go against it) and its editable text."""
        etag = response.headers.get("etag")
        with self._lock:
            self._bases[project.project_id] = _content(project)
            if etag:
                self._etags[project.project_id] = etag
            else:  # a studio without ETags: saves go without If-Match (last write wins)
                self._etags.pop(project.project_id, None)

    def project_version(self, project_id: str) -> str | None:
        """The ETag saves of `project_id` are made against (None: not opened, or no ETag from the studio)."""
        return self._etags.get(project_id)

    def create_project(self, title: str = "Untitled film", script: str = NEW_SCRIPT,
                       settings: dict[str, Any] | None = None) -> ProjectPublic:
        data = _project_create(title, script, settings or {})
        created = self._send("POST", "/projects", json.loads(data.model_dump_json()), idempotency_key=True).json()
        return self.get_project(str(created["project_id"]))

    def _patch(self, project_id: str, update: ProjectUpdate) -> ProjectPublic:
        """PATCH with If-Match; a 412 is a conflict only when the text someone edits changed.

        The studio moves a project's version on every write, the render's status and films and
        storyboard edits included; those leave title, script and settings as this client saw them,
        so the save is made again against the new version instead of bothering the user.
        """
        body = json.loads(update.model_dump_json(exclude_none=True))
        for _ in range(2):
            etag = self._etags.get(project_id)
            try:
                response = self._send("PATCH", f"/projects/{project_id}", body,
                                      headers={"If-Match": etag} if etag else None)
            except ProjectConflict as exc:
                current, tag = self._current(project_id)
                if current is not None and tag and _content(current) == self._bases.get(project_id):
                    with self._lock:
                        self._etags[project_id] = tag
                    continue
                raise ProjectConflict("The project was changed on the studio since you opened it: your text is "
                                      "kept here; reload theirs or save yours over it.", current=current,
                                      code=exc.code, details=exc.details) from None
            project = ProjectPublic.model_validate(response.json())
            self._remember(project, response)
            return project
        raise ProjectConflict("The project keeps changing on the studio; try again.", current=None)

    def _current(self, project_id: str) -> tuple[ProjectPublic | None, str | None]:
        """The studio's project and its ETag after a 412, without adopting them as the version saves go against."""
        try:
            response = self.http.request("GET", f"/projects/{project_id}")
        except FilmStudioError:
            return None, None
        return ProjectPublic.model_validate(response.json()), response.headers.get("etag")

    def save_project(self, project_id: str, title: str, script: str, settings: dict[str, Any]) -> ProjectPublic:
        data = _project_create(title, script, settings)
        update = ProjectUpdate(title=data.title, script=data.script,
                               settings=json.loads(data.settings.model_dump_json()))
        return self._patch(project_id, update)

    def save_valid(self, project_id: str, title: str, script: str, settings: dict[str, Any]) -> SavedForm:
        update, problems = valid_update(title, script, settings)
        return SavedForm(self._patch(project_id, update), problems)

    def duplicate_project(self, project_id: str) -> ProjectPublic:
        src = ProjectPublic.model_validate(self._get(f"/projects/{project_id}"))
        return self.create_project(f"{src.title} (copy)"[:200], src.script, src.settings)

    def delete_project(self, project_id: str) -> None:
        self._send("DELETE", f"/projects/{project_id}")
        self._etags.pop(project_id, None)
        self._bases.pop(project_id, None)

    def project_titles(self) -> dict[str, str]:
        return {p.project_id: p.title for p in self.list_projects()}

    def studio_info(self) -> StudioInfo:
        """The server's version, machine, translator and writer (`GET /studio`), asked once per connection."""
        if self._info is None:
            self._info = StudioInfo.model_validate(self._get("/studio"))
        return self._info

    def translation_pairs(self) -> set[tuple[str, str]]:
        return {(str(a), str(b)) for a, b in self.studio_info().translation_pairs}

    # -- the film ------------------------------------------------------------------------------

    def _here_url(self, path: str) -> str:
        """An API path or URL the studio gave, at the address this client reaches it by."""
        return self.http.api + "/" + path.split("/api/v1/", 1)[1] if "/api/v1/" in path else path

    def _here(self, project: ProjectPublic) -> ProjectPublic:
        """`project` with its signed links pointing at the address this client reaches the studio by.

        The studio signs links with the address it knows itself by (often 127.0.0.1 or its own
        name); the signature covers the path and query only, so the same link works from here.
        """
        a = project.assets

        def here(url: str | None) -> str | None:
            if not url or "/api/v1/" not in url:
                return url
            return self.http.api + "/" + url.split("/api/v1/", 1)[1]

        files = a.files.model_copy(update={
            "video": here(a.files.video), "thumbnail": here(a.files.thumbnail),
            "subtitles": {k: here(v) for k, v in a.files.subtitles.items()},
            "subtitles_vtt": {k: here(v) for k, v in a.files.subtitles_vtt.items()},
        }) if a.files is not None else None
        moved = a.model_copy(update={
            "video_url": here(a.video_url), "thumbnail_url": here(a.thumbnail_url),
            "subtitles": {k: here(v) for k, v in a.subtitles.items()},
            "subtitles_vtt": {k: here(v) for k, v in a.subtitles_vtt.items()}, "files": files,
        })
        return project.model_copy(update={"assets": moved})

    def _project_cache(self, project_id: str) -> Path:
        folder = self.cache_dir / "projects" / project_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def film_files(self, project_id: str, *, chapters: bool = True) -> FilmFiles:
        """The film's signed link (the player streams it with Range requests, no key needed), and the
        thumbnail and subtitles in this studio's cache (a conditional GET: unchanged files cost a 304)."""
        seen = self._listed.get(project_id)
        if not chapters and seen is not None and time.monotonic() - seen[0] < LISTED_FRESH_S:
            project = self._here(seen[1])  # a list view's thumbnails: no second GET per project
        else:
            project = self._here(ProjectPublic.model_validate(self._get(f"/projects/{project_id}")))
        assets = project.assets
        if not assets.video_url:
            return FilmFiles(video=None)
        files = _stable(assets)
        folder = self._project_cache(project_id)
        thumb = self.http.cached_get(files["thumbnail"], folder / "thumbnail.jpg") if files.get("thumbnail") else None
        subtitles = {lang: self.http.cached_get(url, folder / f"film.{lang}.srt")
                     for lang, url in files["subtitles"].items()} if chapters else {}
        return FilmFiles(video=None, thumbnail=thumb, subtitles=subtitles,
                         chapters=_chapters(assets.video_url) if chapters else (), video_url=assets.video_url)

    def export_film(self, project_id: str, target: Path, progress: ProgressFn | None = None) -> Path:
        """Download the film to `target` (resumable: an interrupted export continues where it stopped),
        its SRT and VTT subtitles and its thumbnail beside it."""
        project = self._here(ProjectPublic.model_validate(self._get(f"/projects/{project_id}")))
        if not project.assets.video_url:
            raise NotFound("the project has no film yet", code="FILM_NOT_FOUND")
        files = _stable(project.assets)
        self.http.download(files["video"], target, progress)
        for lang, url in files["subtitles"].items():
            self.http.download(url, target.with_name(f"{target.stem}.{lang}.srt"))
        for lang, url in files["subtitles_vtt"].items():
            self.http.download(url, target.with_name(f"{target.stem}.{lang}.vtt"))
        if files.get("thumbnail"):
            self.http.download(files["thumbnail"], target.with_suffix(".jpg"))
        return target

    # -- jobs -------------------------------------------------------------------------------

    def generate(self, project_id: str) -> JobAccepted:
        body = self._send("POST", f"/projects/{project_id}/generate", {}, idempotency_key=True).json()
        return JobAccepted.model_validate(body)

    def get_job(self, job_id: str) -> JobPublic:
        return JobPublic.model_validate(self._get(f"/jobs/{job_id}"))

    def follow_job(self, job_id: str, on_update: Callable[[JobPublic], None], *,
                   stop: Callable[[], bool] = lambda: False) -> JobPublic:
        """Live progress from the job's server-sent events; polling when the studio has none or they fail.

        A dropped connection (the studio restarting, Wi-Fi gone) says "reconnecting to the studio…" and
        keeps trying for RECONNECT_FOR_S; when the studio is back the job is asked for again and
        followed on.
        """
        self._ensure()
        last: list[JobPublic | None] = [None]

        def seen(job: JobPublic) -> JobPublic:
            if job != last[0]:
                last[0] = job
                on_update(job)
            return job

        events = self.use_events
        down_since: float | None = None
        while True:
            try:
                job = seen(self._job_now(job_id))
                if down_since is not None:
                    down_since = None
                    self.http.say("")
                if job.status in TERMINAL_JOB_STATUSES or stop():
                    return job
                if events:
                    try:
                        job = self._follow_events(job_id, seen, stop)
                    except NotFound:
                        events = False  # a studio without the events endpoint: poll
                        continue
                    if job.status in TERMINAL_JOB_STATUSES or stop():
                        return job
                    continue  # the stream ended early: ask again, follow again
                self._sleep(POLL_SECONDS)
            except StudioUnreachable:
                now = time.monotonic()
                down_since = now if down_since is None else down_since
                if now - down_since > RECONNECT_FOR_S or stop():
                    raise
                self.http.say("reconnecting to the studio…")
                self._sleep(POLL_SECONDS)

    def _job_now(self, job_id: str) -> JobPublic:
        """One GET of the job, no retries (follow_job does its own reconnecting)."""
        response = self.http.request("GET", f"/jobs/{job_id}", idempotent=False)
        return JobPublic.model_validate(response.json())

    def _follow_events(self, job_id: str, seen: Callable[[JobPublic], JobPublic],
                       stop: Callable[[], bool]) -> JobPublic:
        job: JobPublic | None = None
        with self.http.stream("GET", f"/jobs/{job_id}/events", headers={"Accept": "text/event-stream"},
                              read_timeout=SSE_READ_TIMEOUT_S) as response:
            if response.status_code >= 400:
                from filmstudio.desktop.remote_http import envelope_error

                response.read()
                raise envelope_error(response)
            if "text/event-stream" not in response.headers.get("content-type", ""):
                raise NotFound("the studio sends no job events", code="NO_JOB_EVENTS")
            def lines() -> Iterator[str]:
                for line in response.iter_lines():  # keepalives too: a stop is seen within 15 s
                    if stop():
                        return
                    yield line

            try:
                for event, data in sse_events(lines()):
                    if event != "job":
                        continue
                    job = seen(JobPublic.model_validate_json(data))
                    if job.status in TERMINAL_JOB_STATUSES or stop():
                        break
            except httpx.TransportError as exc:
                raise StudioUnreachable(f"the studio at {self.base_url} went away", details={"reason": str(exc)}) \
                    from exc
        if job is None:
            return self._job_now(job_id)
        return job

    def list_jobs(self, status: str | None = None, kind: str | None = None) -> list[JobPublic]:
        found = self._get("/jobs", per_page=100, status=status, kind=kind)
        return [JobPublic.model_validate(j) for j in found["jobs"]]

    def cancel_job(self, job_id: str) -> JobPublic:
        # Asking twice to cancel is harmless: the retry of a dropped request may be sent.
        body = self.http.request("POST", f"/jobs/{job_id}/cancel", idempotent=True).json()
        return JobPublic.model_validate(body)

    def retry_job(self, job_id: str) -> JobAccepted:
        project_id = self.get_job(job_id).project_id
        if project_id is None:
            raise BadRequest("only renders can be retried here", code="JOB_NOT_RETRIABLE")
        return self.generate(project_id)

    # -- storyboard ---------------------------------------------------------------------------

    def storyboard(self, project_id: str) -> StoryboardView:
        """The shot list, each shot's still downloaded into the cache (unchanged stills are not fetched again)."""
        board: dict[str, Any] = self._get(f"/projects/{project_id}/storyboard")
        folder = self._project_cache(project_id)
        stills: dict[int, Path] = {}
        for shot in board.get("shots", []):
            number = int(shot["number"])
            path = shot.get("still")  # the still's API path; None until a render drew the shot
            if not path:
                (folder / "stills" / f"shot-{number}.png").unlink(missing_ok=True)
                continue
            try:
                stills[number] = self.http.cached_get(self._here_url(str(path)), folder / "stills" / f"shot-{number}.png")
            except NotFound:  # no render has drawn it yet
                (folder / "stills" / f"shot-{number}.png").unlink(missing_ok=True)
        replacements: dict[int, Path] = {}
        for shot in board.get("shots", []):
            name = shot.get("image")
            if name:
                replacements[int(shot["number"])] = self.http.cached_get(
                    f"/projects/{project_id}/images/{name}", folder / "images" / str(name))
        return StoryboardView(board=board, stills=stills, replacements=replacements)

    def regenerate_shot(self, project_id: str, number: int, *, seed: int | None = None, prompt: str | None = None,
                        locked: bool | None = None) -> dict[str, Any]:
        body = {k: v for k, v in {"seed": seed, "prompt": prompt, "locked": locked}.items() if v is not None}
        answer: dict[str, Any] = self._send("POST", f"/projects/{project_id}/storyboard/shots/{number}/regenerate",
                                            body).json()
        return answer

    def set_shot_motion(self, project_id: str, number: int, motion: bool | None) -> dict[str, Any]:
        answer: dict[str, Any] = self._send("PATCH", f"/projects/{project_id}/storyboard/shots/{number}",
                                            {"motion": motion}).json()
        return answer

    def set_motion_budget(self, project_id: str, budget: str) -> ProjectPublic:
        return self._patch(project_id, ProjectUpdate(settings={"motion": budget}))

    def update_character(self, project_id: str, name: str, *, description: str | None = None,
                         seed: int | None = None) -> dict[str, Any]:
        body = {k: v for k, v in {"description": description, "seed": seed}.items() if v is not None}
        answer: dict[str, Any] = self._send("PATCH", f"/projects/{project_id}/storyboard/characters/{name}",
                                            body).json()
        return answer

    def replace_shot(self, project_id: str, number: int, picture: Path) -> Any:
        """Upload the user's picture as `shot-<n>.png` among the project's images (a PUT: safe to retry)."""
        try:
            data = picture.read_bytes()
        except OSError as exc:
            raise BadRequest(f"could not read {picture.name}: {exc.strerror or exc}", code="IMAGE_UNREADABLE") from exc
        self._ensure()
        return self.http.request("PUT", f"/projects/{project_id}/images/shot-{number}.png", content=data,
                                 headers={"Content-Type": _image_type(data)}).json()

    def use_generated(self, project_id: str, number: int) -> None:
        self._send("DELETE", f"/projects/{project_id}/images/shot-{number}")

    # -- models -------------------------------------------------------------------------------

    def list_models(self) -> list[ModelPublic]:
        return [ModelPublic.model_validate(m) for m in self._get("/models")]

    def recommended_models(self, language: str = "en") -> Any:
        from filmstudio.domain.models import ModelRecommendation

        return ModelRecommendation.model_validate(self._get(f"/models/recommended?language={language}"))

    def pull_models(self, model_ids: list[str]) -> Any:
        from filmstudio.domain.models import ModelSetPullAccepted

        body = self._send("POST", "/models/pull", {"models": model_ids}, idempotency_key=True).json()
        return ModelSetPullAccepted.model_validate(body)

    def models_installed(self) -> bool:
        return any(m.installed for m in self.list_models())

    def hardware_summary(self) -> str:
        return self.studio_info().hardware.summary

    def pull_model(self, model_id: str) -> ModelPullAccepted:
        body = self._send("POST", f"/models/{model_id}/pull", {}, idempotency_key=True).json()
        return ModelPullAccepted.model_validate(body)

    def remove_model(self, model_id: str) -> None:
        self._send("DELETE", f"/models/{model_id}")

    def model_pulls(self) -> list[JobPublic]:
        return [j for j in self.list_jobs(kind="model_pull") if j.status in ("queued", "processing")]

    # -- publishing -------------------------------------------------------------------------------

    def publish(self, project_id: str, privacy: str = "private") -> Any:
        from filmstudio.domain.models import PublishAccepted

        body = self._send("POST", f"/projects/{project_id}/publish",
                          {"target": "youtube", "options": {"privacy": privacy}}, idempotency_key=True).json()
        return PublishAccepted.model_validate(body)

    # The publish dialog: the studio's API publishes to YouTube and checks the request when it is
    # sent (a refusal comes back in the error envelope, shown by the dialog), so nothing is checked here.
    def publish_targets(self) -> list[str]:
        return ["youtube"]

    def publish_target_fields(self, target: str) -> dict[str, str]:
        return {}

    def publish_defaults(self, project_id: str) -> dict[str, Any]:
        project = ProjectPublic.model_validate(self._get(f"/projects/{project_id}"))
        return {"title": project.title, "description": "", "tags": [], "privacy": "private"}

    def check_publish(self, project_id: str, target: str, options: dict[str, Any]) -> list[Any]:
        return []

    def publish_to(self, project_id: str, target: str, options: dict[str, Any]) -> Any:
        from filmstudio.domain.models import PublishAccepted

        body = self._send("POST", f"/projects/{project_id}/publish", {"target": target, "options": options},
                          idempotency_key=True).json()
        return PublishAccepted.model_validate(body)

    def youtube_channels(self) -> list[dict[str, Any]]:
        channels: list[dict[str, Any]] = self._get("/youtube/channels")
        return channels

    def connect_youtube(self, client_secrets: Path) -> dict[str, Any]:
        raise BadRequest("A YouTube channel is connected on the studio's own computer (Settings there, or "
                         "`filmstudio youtube connect`); this app then publishes through it.",
                         code="REMOTE_NOT_SUPPORTED")

    # -- API keys and webhooks -----------------------------------------------------------------

    def list_keys(self) -> list[ApiKeyPublic]:
        raise _owners_only()

    def create_key(self, name: str) -> ApiKeyCreated:
        raise _owners_only()

    def revoke_key(self, key_id: str) -> ApiKeyPublic:
        raise _owners_only()

    def rotate_key(self, key_id: str) -> ApiKeyCreated:
        raise _owners_only()

    def list_webhooks(self) -> list[WebhookPublic]:
        return [WebhookPublic.model_validate(w) for w in self._get("/webhooks")["webhooks"]]

    def create_webhook(self, url: str, events: list[str], secret: str | None = None) -> WebhookCreated:
        body: dict[str, Any] = {"url": url.strip(), "events": events}
        if secret:
            body["secret"] = secret
        return WebhookCreated.model_validate(self._send("POST", "/webhooks", body).json())

    def delete_webhook(self, webhook_id: str) -> None:
        self._send("DELETE", f"/webhooks/{webhook_id}")

    def list_deliveries(self, webhook_id: str, limit: int = 50) -> list[DeliveryPublic]:
        found = self._get(f"/webhooks/{webhook_id}/deliveries", limit=limit)
        return [DeliveryPublic.model_validate(d) for d in found["deliveries"]]

    def send_test_webhook(self, webhook_id: str) -> DeliveryPublic:
        return DeliveryPublic.model_validate(self._send("POST", f"/webhooks/{webhook_id}/test", {}).json())

    # -- script checks and previews -------------------------------------------------------------

    def check_script(self, script: str, settings: dict[str, Any]) -> ScriptCheck:
        """The studio's own check (`POST /scripts/check`: its voices, its fit); bad settings are found here first."""
        try:
            parsed = parse_settings(settings)
        except InvalidSettings as exc:
            return ScriptCheck((), {}, 0, 0, None, exc.code, exc.message)
        body = {"script": script, "settings": json.loads(parsed.model_dump_json(exclude_unset=True))}
        try:
            found = self._send("POST", "/scripts/check", body).json()
        except NotFound:  # a studio without the endpoint: the same code, cast from espeak-ng voices
            return script_check(script, settings, lambda _language: (), lambda voice: str(voice.label))
        except BadRequest as exc:
            return ScriptCheck((), {}, 0, 0, None, exc.code, exc.message)
        error = found.get("error") or {}
        return ScriptCheck(tuple(found["characters"]), dict(found["voices"]), int(found["credits"]),
                           int(found["scenes"]), found.get("speech_seconds"), error.get("code"), error.get("message"),
                           dict(found.get("readings") or {}))

    def style_preview_png(self, style: str, size: tuple[int, int] = (192, 108)) -> bytes:
        """Computed here: the style previews are procedural, the same on every machine."""
        return style_preview_png(style, size)

    def audition(self, script: str, character: str, text: str, settings: dict[str, Any]) -> Path:
        """The line spoken by the studio's voice (`POST /scripts/audition`), as a WAV in the scratch folder."""
        parsed = parse_settings(settings)
        body = {"script": script, "character": character, "text": text,
                "settings": json.loads(parsed.model_dump_json(exclude_unset=True))}
        wav = self._send("POST", "/scripts/audition", body).content
        out = Path(tempfile.mkdtemp(prefix="audition-", dir=self.scratch_dir)) / "line.wav"
        out.write_bytes(wav)
        return out

    def write_screenplay(self, idea: str, settings: dict[str, Any], *, cancel: Any,
                         on_text: Callable[[int, str], None]) -> Any:
        raise BadRequest("Writing from an idea into this editor works on this computer's studio; on a studio "
                         "server it runs as a write job on a project (POST /projects/{id}/write, or "
                         "`filmstudio write` there).", code="REMOTE_NOT_SUPPORTED")

    def music_preview(self, genre: str, seconds: float = 6.0) -> Path:
        """Computed here with the studio's built-in synthesiser (the same notes it scores films with)."""
        if self._music is None:
            from filmstudio.pipeline.providers.music import SynthMusic

            self._music = SynthMusic()
        return music_preview_wav(self._music, genre, seconds, self.scratch_dir)


def _meets_the_contract(backend: RemoteBackend) -> StudioBackend:
    return backend  # mypy checks RemoteBackend against the pages' contract here


def _owners_only() -> BadRequest:
    return BadRequest("API keys of a studio server are made by its owner on that machine (`filmstudio keys "
                      "create`); an API key cannot make more keys.", code="REMOTE_NOT_SUPPORTED")


def _stable(assets: Any) -> dict[str, Any]:
    """The film's files to download: the stable key-authenticated URLs, else the signed ones (older studios)."""
    if assets.files is not None:
        f = assets.files
        return {"video": f.video, "thumbnail": f.thumbnail, "subtitles": f.subtitles, "subtitles_vtt": f.subtitles_vtt}
    return {"video": assets.video_url, "thumbnail": assets.thumbnail_url, "subtitles": assets.subtitles,
            "subtitles_vtt": assets.subtitles_vtt}


def _content(project: ProjectPublic) -> tuple[str, str, str]:
    """What a person edits in a project (a change to it by someone else is a conflict)."""
    return project.title, project.script, json.dumps(project.settings, sort_keys=True)


def _project_create(title: str, script: str, settings: dict[str, Any]) -> ProjectCreate:
    """The form's values as a `ProjectCreate`, or InvalidSettings/BadRequest with stable codes."""
    from pydantic import ValidationError

    parsed = parse_settings(settings)
    try:
        return ProjectCreate.model_validate({"title": title, "script": script, "settings": parsed})
    except ValidationError as exc:
        field_name = str(exc.errors()[0]["loc"][0])
        raise BadRequest(f"{field_name} must not be empty", code="VALIDATION_ERROR",
                         details={"field": field_name}) from None


def _server_folder(base_url: str) -> str:
    """A cache folder name for one server: readable host and port, and a hash of the whole URL."""
    parts = urlsplit(base_url)
    host = f"{parts.hostname or 'studio'}-{parts.port or ('443' if parts.scheme == 'https' else '80')}"
    return f"{host}-{hashlib.sha256(base_url.encode()).hexdigest()[:10]}"


def _major(version: str) -> str:
    return version.split(".")[0].lstrip("v") if version else ""


def _image_type(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"BM"):
        return "image/bmp"
    return "application/octet-stream"


def _chapters(url: str) -> tuple[tuple[float, str], ...]:
    """Chapters read from the streamed MP4 by ffprobe (its moov is at the front); none without ffprobe."""
    import subprocess

    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return ()
    try:
        done = subprocess.run([ffprobe, "-v", "error", "-print_format", "json", "-show_chapters", url],
                              capture_output=True, text=True, timeout=30, check=True)
        chapters = json.loads(done.stdout).get("chapters") or []
    except (OSError, subprocess.SubprocessError, ValueError):
        return ()
    return tuple((float(c.get("start_time", 0.0)), str((c.get("tags") or {}).get("title") or f"Chapter {i + 1}"))
                 for i, c in enumerate(chapters))
