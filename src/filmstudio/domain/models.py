"""API models with a Create/Update/Public split; render settings inside use RenderSettings validation."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from filmstudio.domain.settings import RenderSettings

ProjectStatus = Literal["draft", "processing", "completed", "failed"]
JobStatus = Literal["queued", "processing", "completed", "failed", "cancelled"]
JobKind = Literal["render", "model_pull", "publish"]
ModelKind = Literal["voice", "picture", "translation", "video"]
SCOPES: tuple[str, ...] = ("projects:read", "projects:write", "jobs:read", "jobs:write", "webhooks", "admin",
                           "worker")  # issue #6 (additive): a remote render worker's key, segments only
PLANS: tuple[str, ...] = ("free", "standard", "pro", "enterprise")

_SCRIPT = "INT. LAB - NIGHT\n\nDR. REYES stares at the glowing screen.\n\nDR. REYES\nIt finally works."


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectCreate(_Input):
    """Body of POST /projects."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
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

    title: str = Field(min_length=1, max_length=200)
    script: str = Field(min_length=1, max_length=200_000)
    settings: RenderSettings = Field(default_factory=RenderSettings)


class ProjectUpdate(_Input):
    """Body of PATCH /projects/{id}: any subset; `settings` merges into the current settings."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"examples": [{"title": "New title", "settings": {"style": "retro"}}]}
    )

    title: str | None = Field(default=None, min_length=1, max_length=200)
    script: str | None = Field(default=None, min_length=1, max_length=200_000)
    settings: dict[str, Any] | None = None


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
                    }
                }
            ]
        },
    )

    settings: dict[str, Any] | None = None


class Assets(BaseModel):
    """Signed, expiring download URLs for a project's latest film (null until one is rendered)."""

    video_url: str | None = None
    thumbnail_url: str | None = None
    subtitles: dict[str, str] = Field(default_factory=dict)
    subtitles_vtt: dict[str, str] = Field(default_factory=dict)
    expires_at: str | None = None


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
    settings: dict[str, Any]
    status: ProjectStatus
    assets: Assets
    estimated_credits: int
    latest_job_id: str | None = None
    created_at: str
    updated_at: str
    completed_at: str | None = None


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


class WebhookCreate(_Input):
    """Body of POST /webhooks; `secret` is `whsec_` + base64 (24-64 bytes), made for you if omitted."""

    model_config = ConfigDict(
        extra="forbid", frozen=True,
        json_schema_extra={"examples": [{"url": "https://example.com/hooks/filmstudio",
                                         "events": ["job.completed", "job.failed"]}]},
    )

    url: str = Field(min_length=1, max_length=2000)
    events: list[WebhookEvent] = Field(min_length=1, max_length=5)
    secret: str | None = Field(default=None, min_length=1, max_length=200)


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
    """Body of POST /projects/batch: 1-100 projects, each validated on its own."""

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


class ShotRegenerate(_Input):
    """Redo one storyboard shot: a new seed (random when neither is given), an edited prompt, a lock."""

    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    prompt: str | None = Field(default=None, min_length=1, max_length=1000)
    locked: bool | None = None
