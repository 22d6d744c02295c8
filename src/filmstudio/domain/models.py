"""API models with a Create/Update/Public split; render settings inside use RenderSettings validation."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationInfo, WithJsonSchema, field_validator
from pydantic.json_schema import JsonDict
from pydantic_core import PydanticCustomError

from filmstudio.domain.settings import RenderSettings

ProjectStatus = Literal["draft", "processing", "completed", "failed"]
JobStatus = Literal["queued", "processing", "completed", "failed", "cancelled"]
JobKind = Literal["render", "model_pull", "publish", "write"]
JOB_KINDS: tuple[str, ...] = get_args(JobKind)  # checked by store/jobs.add_job (no CHECK in the table: issue 17)
ModelKind = Literal["voice", "picture", "translation", "video", "writer"]
ProjectSort = Literal["created_at", "updated_at"]
SortOrder = Literal["asc", "desc"]
SCOPES: tuple[str, ...] = ("projects:read", "projects:write", "jobs:read", "jobs:write", "webhooks", "admin",
                           "worker")  # issue #6 (additive): a remote render worker's key, segments only
PLANS: tuple[str, ...] = ("free", "standard", "pro", "enterprise")

_SCRIPT = "INT. LAB - NIGHT\n\nDR. REYES stares at the glowing screen.\n\nDR. REYES\nIt finally works."


def _inline_schema(model: type[BaseModel], title: str, description: str) -> dict[str, Any]:
    """`model`'s JSON schema with its $defs inlined and nothing required: a partial-update body."""
    full = model.model_json_schema()
    defs = full.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    out: dict[str, Any] = inline(full)
    out.pop("required", None)
    out.update(title=title, description=description)
    return out


# Render settings to merge into a project's: any subset of RenderSettings' fields, checked (after
# the merge) by RenderSettings itself. The services take a plain dict; the schema says what it holds.
SettingsPatch = Annotated[dict[str, Any], WithJsonSchema(_inline_schema(
    RenderSettings, "RenderSettingsPatch", "Any subset of the render settings; merged into the project's"))]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# A title has to say something: at least one character that is not whitespace (`_title` checks,
# with its own code; the pattern publishes the rule).
# The whitespace spelled out: JSON Schema's `\s` (ECMA-262) and Python's differ (\x1c-\x1f, \ufeff).
_SPACE = r"\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_SOMETHING = f"[^{_SPACE}]"
_TITLE_SCHEMA: JsonDict = {"pattern": _SOMETHING}


IDEA_MAX_CHARS = 4000  # "a sentence to a page" (pipeline/writer.py MAX_IDEA_CHARS)


def _check_idea(v: str | None) -> str | None:
    if v is not None and not re.search(_SOMETHING, v):
        raise PydanticCustomError("IDEA_EMPTY", "the idea must say something (a sentence or more)", {})
    return v


def _check_title(v: str | None) -> str | None:
    if v is not None and not re.search(_SOMETHING, v):
        raise PydanticCustomError("BLANK_TITLE", "title must contain something other than whitespace", {})
    return v


class ProjectCreate(_Input):
    """Body of POST /projects: a script, or an idea for the studio's writer to write one from."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            # A script, or an idea: one of the two as a string (null for both is refused, as validation does).
            "anyOf": [{"required": ["script"], "properties": {"script": {"type": "string"}}},
                      {"required": ["idea"], "properties": {"idea": {"type": "string"}}}],
            "examples": [
                {
                    "title": "My Video Project",
                    "script": _SCRIPT,
                    "settings": {"duration": 60, "style": "cinematic", "language": "en",
                                 "subtitle_languages": ["en", "es"]},
                }
            ]
        },
    )

    title: str = Field(min_length=1, max_length=200, json_schema_extra=_TITLE_SCHEMA)
    # Instead of a script: the studio's writer writes one from this (`POST /projects/{id}/write`, or the
    # first step of `generate`). Declared before `script`, whose check reads it.
    idea: str | None = Field(default=None, min_length=1, max_length=IDEA_MAX_CHARS, json_schema_extra=_TITLE_SCHEMA)
    # One with nothing to speak (blank, only notes or headings) is refused SCRIPT_EMPTY: the analysis decides.
    script: str | None = Field(default=None, min_length=1, max_length=200_000, validate_default=True)
    settings: RenderSettings = Field(default_factory=RenderSettings)

    _title = field_validator("title")(_check_title)
    _idea = field_validator("idea")(_check_idea)

    @field_validator("script")
    @classmethod
    def _script_or_idea(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None and "idea" in info.data and info.data["idea"] is None:  # (an idea that failed says so itself)
            raise PydanticCustomError("SCRIPT_OR_IDEA_REQUIRED", "give a script, or an idea to write one from", {})
        return v


class ProjectUpdate(_Input):
    """Body of PATCH /projects/{id}: any subset; `settings` merges into the current settings."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"examples": [{"title": "New title", "settings": {"style": "retro"}}]}
    )

    title: str | None = Field(default=None, min_length=1, max_length=200, json_schema_extra=_TITLE_SCHEMA)
    script: str | None = Field(default=None, min_length=1, max_length=200_000)
    idea: str | None = Field(default=None, min_length=1, max_length=IDEA_MAX_CHARS, json_schema_extra=_TITLE_SCHEMA)
    settings: SettingsPatch | None = None

    _title = field_validator("title")(_check_title)
    _idea = field_validator("idea")(_check_idea)


class YouTubeOptions(_Input):
    """How a film is published to YouTube (private unless asked otherwise)."""

    privacy: Literal["private", "unlisted", "public"] = "private"
    title: str | None = Field(default=None, min_length=1, max_length=100)
    # YouTube counts 5,000 UTF-8 bytes with the chapters: services/youtube/rules.py checks that before the upload
    description: str = Field(default="", max_length=5000)
    tags: tuple[str, ...] = Field(default=(), max_length=50)
    category_id: str = Field(default="1", pattern=r"^[0-9]{1,3}$")  # 1: Film & Animation
    made_for_kids: bool = False
    publish_at: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
    channel_id: str | None = None  # when more than one channel is connected


class GenerateRequest(_Input):
    """Body of POST /projects/{id}/generate: settings for this render, merged into the project's."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "settings": {
                        "duration": 60,
                        "style": "cinematic",
                        "characters": [{"name": "narrator", "age": "adult", "gender": "male", "voice": "deep"}],
                        "music_genre": "epic",
                        "include_subtitles": True,
                        "subtitle_languages": ["en", "es"],
                        "youtube_upload": False,
                    },
                    "youtube": {"privacy": "unlisted", "tags": ["short film"]},
                }
            ]
        },
    )

    settings: SettingsPatch | None = None
    youtube: YouTubeOptions | None = None  # with settings.youtube_upload: publish when the render completes


class PublishedAsset(BaseModel):
    """One publish target's copy of the latest film."""

    url: str
    ref: str = Field(description="The target's id for it (a YouTube video id)")
    destination_id: str | None = None
    job_id: str
    published_at: str


class AssetFiles(BaseModel):
    """The latest film's files at stable URLs: fetch them with your API key (`Authorization: Bearer`).

    A URL changes only when a new render replaces the film, so a client may cache and resume by it
    (Range with If-Range, If-None-Match; every answer has an ETag).
    """

    video: str
    thumbnail: str | None = None
    subtitles: dict[str, str] = Field(default_factory=dict)
    subtitles_vtt: dict[str, str] = Field(default_factory=dict)


class Assets(BaseModel):
    """Signed, expiring download URLs for a project's latest film (null until one is rendered).

    `files` has the same files at stable URLs that take the API key instead of a signature.
    """

    video_url: str | None = None
    youtube_url: str | None = None  # where the latest film was published (issue #13)
    youtube_video_id: str | None = None
    published: dict[str, PublishedAsset] = Field(default_factory=dict, description="Where the latest film was "
                                                 "published, by publish target")
    thumbnail_url: str | None = None
    subtitles: dict[str, str] = Field(default_factory=dict)
    subtitles_vtt: dict[str, str] = Field(default_factory=dict)
    expires_at: str | None = None
    files: AssetFiles | None = None


class ScriptCheckRequest(_Input):
    """A script as typed and the settings it is for (merged into the defaults), to check before saving."""

    script: str = Field(max_length=200_000, examples=[_SCRIPT])
    settings: SettingsPatch | None = None


class AuditionRequest(_Input):
    """A line to hear in the voice a character of `script` is cast in, under `settings`."""

    script: str = Field(max_length=200_000, examples=[_SCRIPT])
    character: str = Field(min_length=1, max_length=100, examples=["DR. REYES"])
    text: str = Field(min_length=1, max_length=500, json_schema_extra=_TITLE_SCHEMA, examples=["It finally works."])
    settings: SettingsPatch | None = None

    @field_validator("text")
    @classmethod
    def _something_to_say(cls, v: str) -> str:
        if not re.search(_SOMETHING, v):
            raise PydanticCustomError("BLANK_TEXT", "text must contain something other than whitespace", {})
        return v


class ScriptCheck(BaseModel):
    """What an editor shows while typing: who speaks, in which of the studio's voices, and whether it fits."""

    fits: bool = Field(description="False when `error` says why the script cannot become this film")
    characters: list[str]
    voices: dict[str, str] = Field(description="Character -> the studio's name for the voice cast")
    readings: dict[str, str] = Field(description="Character -> who the script says they are (sex, age, look)")
    credits: int
    scenes: int
    speech_seconds: float | None = Field(description="The spoken length at the rate the render would choose")
    error: ErrorBody | None = Field(default=None, description="SCRIPT_EMPTY, SCRIPT_TOO_LONG, ... as generate "
                                    "would refuse it")


class HardwareGpu(BaseModel):
    name: str
    vram_mb: int


class HardwarePublic(BaseModel):
    """The studio machine, as model fits are judged against it."""

    summary: str
    cpu_cores: int
    ram_mb: int
    gpus: list[HardwareGpu]
    mps: bool


class ChannelPublic(BaseModel):
    """A YouTube channel this account may publish to (its own, or one an admin shared with it)."""

    channel_id: str
    title: str
    connected_at: str
    login_saved: bool = Field(description="False: its sign-in is gone from the studio's keyring; connect it again")


class StudioInfo(BaseModel):
    """The studio server this key talks to: its version and what its machine offers."""

    version: str
    schema_version: int
    hardware: HardwarePublic
    translation_pairs: list[tuple[str, str]] = Field(description="(source, target) languages its translator does")
    writer: bool = Field(description="Whether a screenplay writer is set up (POST /projects/{id}/write)")


class ProjectCreated(BaseModel):
    """Answer of POST /projects (201)."""

    project_id: str
    title: str
    status: ProjectStatus
    estimated_credits: int
    created_at: str


class ProjectPublic(BaseModel):
    """A project as the API shows it."""

    project_id: str
    title: str
    script: str
    idea: str | None = None  # what the writer writes the script from, when the project was started from one
    settings: dict[str, Any]
    status: ProjectStatus
    assets: Assets
    estimated_credits: int
    latest_job_id: str | None = None
    created_at: str
    updated_at: str
    completed_at: str | None = None
    revision: int = Field(default=1, description="Bumped by every change of the project; the ETag is "
                          '`"r<revision>"` (send it as If-Match on PATCH)')


class ProjectList(BaseModel):
    projects: list[ProjectPublic]
    total_count: int
    page: int
    per_page: int
    total_pages: int


class JobAccepted(BaseModel):
    """Answer of POST /projects/{id}/generate (202)."""

    job_id: str
    project_id: str
    status: JobStatus
    estimated_time: str
    credits_deducted: int
    created_at: str


class JobError(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict, description="As in the error envelope: e.g. a quota's "
                                    "`resets_at`, a refused field and its limit")


class JobPublic(BaseModel):
    """A job as the API shows it: a render, a model pull or a publish (`kind`)."""

    job_id: str
    kind: JobKind = "render"
    project_id: str | None
    status: JobStatus
    progress: int
    current_step: str | None
    estimated_time_remaining: str | None
    started_at: str | None
    created_at: str
    completed_at: str | None
    attempts: int
    credits: int
    cancel_requested: bool
    warnings: list[str]
    error: JobError | None = None
    result: dict[str, Any] | None = Field(
        default=None, description="What the job made: a model pull's model id, path and bytes; a publish's video id "
        "and URL. While a pull runs: bytes done, total and per second.")


class JobList(BaseModel):
    jobs: list[JobPublic]
    total_count: int
    page: int
    per_page: int
    total_pages: int


class AccountPublic(BaseModel):
    account_id: str
    name: str
    plan: str
    credit_balance: int | None
    created_at: str


class ApiKeyPublic(BaseModel):
    """A key's metadata; the secret itself is only in `ApiKeyCreated`, once."""

    key_id: str
    account_id: str
    name: str
    prefix: str
    scopes: list[str]
    allowed_ips: list[str]
    created_at: str
    last_used_at: str | None
    expires_at: str | None
    revoked_at: str | None


class ApiKeyCreated(ApiKeyPublic):
    secret: str


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorEnvelope(BaseModel):
    """Every error answer: `{"error": {"code", "message", "details"}}`."""

    error: ErrorBody


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    schema_version: int
    queue: str


# -- issue #4: account, tokens, webhooks, batch (additive) -----------------------------------------

WebhookEvent = Literal["job.queued", "job.started", "job.completed", "job.failed", "job.cancelled"]


class LedgerRow(BaseModel):
    kind: Literal["grant", "deduct", "refund"]
    amount: int
    job_id: str | None
    created_at: str


class RateLimits(BaseModel):
    """Requests allowed per window; null is unlimited."""

    per_minute: int | None
    per_day: int | None


class AccountOverview(BaseModel):
    """Answer of GET /account."""

    account_id: str
    name: str
    plan: str
    limits: RateLimits
    credit_balance: int | None
    usage_today: dict[str, int]
    ledger: list[LedgerRow]


class TokenIssued(BaseModel):
    """Answer of POST /auth/token."""

    access_token: str
    token_type: Literal["bearer"]
    expires_in: int


# An http(s) URI as RFC 3986 spells it (no user info: credentials are refused anyway). The server
# checks it as written here; the target policy (which hosts and addresses) is checked after it.
_URI_CHAR = r"[A-Za-z0-9._~!$&'()*+,;=-]|%[0-9A-Fa-f]{2}"
WEBHOOK_URL_PATTERN = (
    rf"^[Hh][Tt][Tt][Pp][Ss]?://(\[[0-9A-Fa-f:.]+\]|({_URI_CHAR})+)(:[0-9]*)?"
    rf"(/({_URI_CHAR}|[:@])*)*(\?({_URI_CHAR}|[:@/?])*)?(#({_URI_CHAR}|[:@/?])*)?$"
)

WEBHOOK_SECRET_PREFIX = "whsec_"
# Printable ASCII, no space at either end (a pasted secret's stray blank would sign with the wrong key).
WEBHOOK_SECRET_PATTERN = r"^[!-~]([ -~]*[!-~])?$"
WEBHOOK_SECRET_MIN, WEBHOOK_SECRET_MAX = 16, 256


def webhook_secret_bytes(secret: str) -> bytes:
    """The HMAC key a registered secret stands for: base64-decoded after `whsec_`, else its own bytes."""
    if not secret.startswith(WEBHOOK_SECRET_PREFIX):
        return secret.encode()
    try:
        key = base64.b64decode(secret[len(WEBHOOK_SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise PydanticCustomError("INVALID_WEBHOOK_SECRET",
                                  "a whsec_ secret must be whsec_ followed by base64", {}) from None
    if not 24 <= len(key) <= 64:
        raise PydanticCustomError("INVALID_WEBHOOK_SECRET", "a whsec_ secret must encode 24 to 64 bytes", {})
    return key


class WebhookCreate(_Input):
    """Body of POST /webhooks; `secret` is yours (16-256 printable characters) or made for you if omitted.

    A secret starting `whsec_` is read the Standard Webhooks way (base64 key after the prefix, 24-64
    bytes); any other secret is used as it is: its bytes are the HMAC key.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True,
        json_schema_extra={"examples": [{"url": "https://example.com/hooks/filmstudio",
                                         "events": ["job.completed", "job.failed"],
                                         "secret": "your_webhook_secret"}]},
    )

    url: str = Field(min_length=1, max_length=2000, examples=["https://example.com/hooks/filmstudio"],
                     json_schema_extra={"format": "uri", "pattern": WEBHOOK_URL_PATTERN})
    events: list[WebhookEvent] = Field(min_length=1, max_length=5)
    # The bounds are checked by `_secret` (one stable code, INVALID_WEBHOOK_SECRET) and published here.
    secret: str | None = Field(default=None, examples=["your_webhook_secret"], json_schema_extra={
        "minLength": WEBHOOK_SECRET_MIN, "maxLength": WEBHOOK_SECRET_MAX, "pattern": WEBHOOK_SECRET_PATTERN})

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.fullmatch(WEBHOOK_URL_PATTERN, v):
            raise PydanticCustomError("WEBHOOK_TARGET_REFUSED",
                                      "the webhook URL must be an http or https URL (RFC 3986, no spaces)", {})
        return v

    @field_validator("secret")
    @classmethod
    def _secret(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not WEBHOOK_SECRET_MIN <= len(v) <= WEBHOOK_SECRET_MAX or not re.fullmatch(WEBHOOK_SECRET_PATTERN, v):
            raise PydanticCustomError(
                "INVALID_WEBHOOK_SECRET",
                "the webhook secret must be {min} to {max} printable ASCII characters, no space at either end",
                {"min": WEBHOOK_SECRET_MIN, "max": WEBHOOK_SECRET_MAX})
        webhook_secret_bytes(v)
        return v


class WebhookCreated(BaseModel):
    """Answer of POST /webhooks (201); `secret` only when the studio made it (shown once)."""

    webhook_id: str
    url: str
    events: list[str]
    created_at: str
    secret: str | None = None


class WebhookPublic(BaseModel):
    webhook_id: str
    url: str
    events: list[str]
    status: Literal["active", "disabled"]
    disabled_reason: str | None
    created_at: str


class WebhookList(BaseModel):
    webhooks: list[WebhookPublic]


class DeliveryAttempt(BaseModel):
    attempt: int
    status_code: int | None
    error: str | None
    latency_ms: float
    created_at: str


class DeliveryPublic(BaseModel):
    delivery_id: str
    event: str
    status: Literal["pending", "delivered", "failed", "abandoned"]
    attempts: int
    next_attempt_at: str | None
    last_status_code: int | None
    last_error: str | None
    created_at: str
    attempt_log: list[DeliveryAttempt]


class DeliveryList(BaseModel):
    deliveries: list[DeliveryPublic]


class BatchCreate(_Input):
    """Body of POST /projects/batch: 1-100 projects, each a ProjectCreate body validated on its own.

    An invalid item is that item's 400 in the results, not the request's: the items stay free-form here.
    """

    projects: list[dict[str, Any]] = Field(min_length=1, max_length=100)


class BatchGenerate(_Input):
    """Body of POST /projects/batch/generate: 1-100 project ids and settings for every render."""

    project_ids: list[str] = Field(min_length=1, max_length=100)
    settings: dict[str, Any] | None = None


class BatchItem(BaseModel):
    """One item's outcome: `status` is the HTTP status it would have had alone."""

    index: int
    status: int
    project: ProjectCreated | None = None
    job: JobAccepted | None = None
    error: ErrorBody | None = None


class BatchResult(BaseModel):
    results: list[BatchItem]
    succeeded: int
    failed: int


class ModelPublic(BaseModel):
    """A catalogue model as this machine sees it: installed or not, and whether it fits here."""

    id: str
    kind: ModelKind
    engine: str
    title: str
    size_bytes: int = Field(description="Bytes to download (an estimate where the catalogue entry is unverified)")
    installed: bool
    installed_bytes: int | None = None
    licence: str = Field(description="SPDX identifier; read it before downloading")
    licence_url: str
    commercial_use: bool = Field(description="False: the licence forbids commercial use of what you make")
    licence_note: str = ""
    fits: bool = Field(description="Whether this machine has the memory (and GPU) it needs")
    fits_reason: str
    languages: list[str]
    min_ram_mb: int
    min_vram_mb: int
    verified: bool = Field(description="Every size exact and every file with a published checksum")
    repo: str
    revision: str


class ModelPullAccepted(BaseModel):
    """Answer of POST /models/{id}/pull (202): poll the job for progress and bytes per second."""

    job_id: str
    model_id: str
    status: JobStatus
    size_bytes: int
    licence: str
    commercial_use: bool
    created_at: str


class ModelSetPull(_Input):
    """Body of POST /models/pull: several models as one `model_pull` job, either named or the recommended set."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={
        # Named models or the recommended set, one of the two (the service refuses both or neither).
        "oneOf": [{"required": ["models"], "properties": {"models": {"type": "array"}, "recommended": {"const": False}}},
                  {"required": ["recommended"], "properties": {"recommended": {"const": True},
                                                               "models": {"type": "null"}}}],
        "examples": [{"recommended": True, "language": "en"}, {"models": ["piper-en_US-libritts_r-medium", "sd15"]}]})

    models: list[str] | None = Field(default=None, min_length=1, max_length=20,
                                     description="Catalogue ids, pulled in this order (or `recommended`)")
    recommended: bool = Field(default=False, description="The set recommended for this machine (GET /models/recommended)")
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}$", description="Films' language, for `recommended`")


class ModelPick(BaseModel):
    """One model of a recommended or requested set: what it is, its size and licence, and why it is there."""

    id: str
    kind: ModelKind
    title: str
    size_bytes: int
    installed: bool
    licence: str
    licence_url: str
    commercial_use: bool
    licence_note: str = ""
    why: str = ""


class ModelRecommendation(BaseModel):
    """Answer of GET /models/recommended: the set for this machine and language, shown before any byte."""

    language: str
    hardware: str
    models: list[ModelPick]
    total_bytes: int = Field(description="Bytes still to download (installed models count nothing)")
    notes: list[str] = Field(description="What the set lacks here and why (no picture model fits, ...)")


class ModelSetPullAccepted(BaseModel):
    """Answer of POST /models/pull (202): one job; its `result.models` gives each model's bytes while it runs."""

    job_id: str
    status: JobStatus
    models: list[ModelPick]
    total_bytes: int
    created_at: str


class PublishRequest(_Input):
    """Body of POST /projects/{id}/publish: where and how to publish the project's latest film.

    `{"target": NAME, "options": {...}}` names a publish target and its options; `{"youtube": {...}}`
    (or no body) is the same as `{"target": "youtube", "options": {...}}`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={
        "examples": [{"youtube": {"privacy": "unlisted", "title": "The Lighthouse", "tags": ["short film"]}},
                     {"target": "youtube", "options": {"privacy": "unlisted"}}]})

    target: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,39}$",
                               description="A publish target (default youtube)")
    options: dict[str, Any] | None = Field(default=None, description="The target's options (for youtube: as `youtube`)")
    youtube: YouTubeOptions | None = None


class PublishAccepted(BaseModel):
    """Answer of POST /projects/{id}/publish (202): poll the job; its result says where the film went."""

    job_id: str
    project_id: str
    status: JobStatus
    target: str = "youtube"
    channel_id: str = Field(description="Where it goes: the YouTube channel's id (another target's destination id)")
    channel_title: str
    created_at: str


class ShotRegenerate(_Input):
    """Redo one storyboard shot: a new seed (random when neither is given), an edited prompt, a lock."""

    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    prompt: str | None = Field(default=None, min_length=1, max_length=1000)
    locked: bool | None = None


class ShotUpdate(_Input):
    """Edit one storyboard shot: `motion` true (a video model animates it), false (a still), null (as the budget says)."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": [{"motion": True}]})

    motion: StrictBool | None = None


class CharacterLookUpdate(_Input):
    """Edit one character's look on the storyboard: the description used word for word, and the seed."""

    description: str | None = Field(default=None, min_length=1, max_length=500, pattern=r"\S")
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)


class WriteRequest(_Input):
    """Body of POST /projects/{id}/write: the idea (else the project's own) and settings merged for sizing."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": [
        {"idea": "A lighthouse keeper's last night: a storm, a young engineer, a lamp handed on.",
         "settings": {"duration": 60}}]})

    idea: str | None = Field(default=None, min_length=1, max_length=IDEA_MAX_CHARS, json_schema_extra=_TITLE_SCHEMA)
    settings: SettingsPatch | None = None

    _idea = field_validator("idea")(_check_idea)
