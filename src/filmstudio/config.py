"""Studio server settings: read once from FILMSTUDIO_* variables by an entry point, then passed down."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from filmstudio.domain.errors import FilmStudioError

LOOPBACK_HOSTS: tuple[str, ...] = ("localhost", "127.0.0.1", "[::1]", "::1")


def _default_home() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("filmstudio", appauthor=False))


class Settings(BaseSettings):
    """Everything the studio server and its workers need to know about this machine.

    Every field reads `FILMSTUDIO_<NAME>`; list fields take JSON or comma-separated names.
    `secrets_backend="file"` is the opt-in for machines without an OS keyring: secrets then
    live in `<home>/secrets.json` (mode 0600) — readable by anyone who can read your home.
    """

    model_config = SettingsConfigDict(env_prefix="FILMSTUDIO_", frozen=True, extra="ignore")

    home: Path = Field(default_factory=_default_home)
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    workers: int = Field(default=1, ge=0, le=32)
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    docs_enabled: bool | None = None
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    queue_url: str = "sqlite"  # "sqlite" (queue.db beside studio.db) or redis://host:port/db
    secrets_backend: str = Field(default="keyring", pattern="^(keyring|file)$")
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    lease_seconds: float = Field(default=30.0, gt=0.5)
    reconcile_seconds: float = Field(default=15.0, gt=0.1)
    max_attempts: int = Field(default=3, ge=1)
    signed_url_seconds: int = Field(default=3600, ge=10)
    public_url: str | None = None  # base for absolute asset URLs; default http://host:port
    # -- issue #4 (additive) --
    rate_limits: bool = True  # per-plan request limits; off only for single-user setups and benches
    # Webhook targets beyond the default policy, like Gitea's ALLOWED_HOST_LIST: "loopback", "private",
    # "external", "*", CIDR ranges, or exact host names (default: external, plus loopback on loopback).
    webhook_allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_lease_seconds: float = Field(default=60.0, gt=0.5)  # > timeout: no second send while in flight
    token_seconds: int = Field(default=900, ge=30, le=86_400)
    # -- issue #6 (additive) --
    segment_farm: bool = False  # send segment encodes to render workers on other machines (needs Redis)
    # -- issue 21 (additive): a job's server-sent events: the quiet time before a keepalive comment,
    # and the longest a stream stays open before the client reconnects (Last-Event-ID).
    event_keepalive_seconds: float = Field(default=15.0, gt=0)
    event_stream_seconds: float = Field(default=600.0, gt=0)

    @field_validator("allowed_hosts", "cors_origins", "webhook_allowed_hosts", mode="before")
    @classmethod
    def _name_list(cls, v: Any) -> Any:
        """Accept JSON (`'["a.example"]'`) or a comma-separated list from the environment."""
        if isinstance(v, str):
            if v.strip().startswith("["):
                return tuple(json.loads(v))
            return tuple(p.strip() for p in v.split(",") if p.strip())
        return v

    # -- derived paths ----------------------------------------------------------------------

    @property
    def db_path(self) -> Path:
        return self.home / "studio.db"

    @property
    def queue_path(self) -> Path:
        return self.home / "queue.db"

    @property
    def media_dir(self) -> Path:
        return self.home / "media"

    @property
    def work_dir(self) -> Path:
        return self.home / "work"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    # Another model catalogue (a mirror's, or a test's); default: the one shipped in the package.
    model_catalogue: Path | None = None
    # Where model pulls download from (a mirror); default: HF_ENDPOINT (`hf_endpoint`), else the public hub.
    model_endpoint: str | None = None
    # YouTube's API root (a proxy, or the tests' fake) and a CA bundle for it; default: Google's.
    youtube_api_endpoint: str = "https://www.googleapis.com/"
    youtube_ca_bundle: Path | None = None
    youtube_chunk_bytes: int = Field(default=8 * 1024 * 1024, ge=256 * 1024, multiple_of=256 * 1024)
    # The installed picture model to draw with (default: the catalogue's first installed one) and the
    # device for it (default: CUDA, else Apple MPS, else the CPU).
    picture_model: str | None = None
    pictures_device: str | None = None

    # The screenplay writer: an OpenAI-compatible local server (Ollama, LM Studio, llama-server,
    # vLLM) at `writer_url` (default Ollama's loopback address; None = that default, not "set"), or
    # the built-in model pulled with `filmstudio models pull` ("builtin"); "auto": the built-in one
    # when it is pulled and no server address was set, else the server. Its key, if the server wants
    # one, lives in the secret store as `writer-key:<url>`.
    writer: str = Field(default="auto", pattern="^(auto|server|builtin)$")
    writer_url: str | None = None
    writer_model: str | None = None  # None: the server's first model (`GET /models`), or the built-in one
    writer_seed: int = 0
    writer_temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    writer_stall_seconds: float = Field(default=60.0, gt=0)

    # The tools and switches the layers below would otherwise look up in the environment themselves:
    # read here once and handed down by the composition root (`app/compose.py`).
    ffmpeg: str | None = None  # the ffmpeg to run (default: the one on PATH, else imageio-ffmpeg's)
    ffprobe: str | None = None  # the ffprobe to run (default: beside that ffmpeg, else on PATH)
    no_hwenc: bool = False  # FILMSTUDIO_NO_HWENC=1: libx264 even where a hardware H.264 encoder works
    # The hub's own variable (a mirror); FILMSTUDIO_MODEL_ENDPOINT wins over it (`pull_endpoint`).
    hf_endpoint: str | None = Field(default=None, validation_alias=AliasChoices("hf_endpoint", "HF_ENDPOINT"))
    quit_after_ms: int | None = Field(default=None, ge=0)  # the desktop app quits after this (the bundle's smoke test)

    @property
    def pull_endpoint(self) -> str | None:
        """Where model pulls download from: FILMSTUDIO_MODEL_ENDPOINT, else HF_ENDPOINT (None: the public hub)."""
        return self.model_endpoint or self.hf_endpoint

    @property
    def models_dir(self) -> Path:
        """Downloaded AI models (voices, picture models, translation packages)."""
        return self.home / "models"

    @property
    def secrets_file(self) -> Path:
        return self.home / "secrets.json"

    @property
    def loopback_only(self) -> bool:
        """True when the server listens only on this machine."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False

    @property
    def trusted_hosts(self) -> tuple[str, ...]:
        """Host header names the server answers to (ports are stripped before comparing)."""
        return (*LOOPBACK_HOSTS, *(h.lower() for h in self.allowed_hosts))

    @property
    def show_docs(self) -> bool:
        """Docs are on by default on loopback and off beyond it unless enabled."""
        return self.docs_enabled if self.docs_enabled is not None else self.loopback_only

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"http://{host}:{self.port}"


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build Settings from `environ` (default: the process environment) plus explicit overrides."""
    if environ is None:
        return Settings(**overrides)
    prefix = "FILMSTUDIO_"
    values: dict[str, Any] = {}
    for key, raw in environ.items():
        if key.startswith(prefix):
            name = key[len(prefix) :].lower()
            if name in Settings.model_fields:
                values[name] = raw
    if "HF_ENDPOINT" in environ:  # the hub's own name, without our prefix
        values.setdefault("hf_endpoint", environ["HF_ENDPOINT"])
    values.update(overrides)
    return Settings.model_validate(values)


def check_exposure(settings: Settings) -> None:
    """Refuse to bind beyond loopback without explicit allowed hosts."""
    if not settings.loopback_only and not settings.allowed_hosts:
        raise FilmStudioError(
            f"binding to {settings.host} exposes the studio beyond this machine; set "
            "FILMSTUDIO_ALLOWED_HOSTS (or serve --allowed-host NAME) to the host names clients will use",
            code="ALLOWED_HOSTS_REQUIRED",
        )
