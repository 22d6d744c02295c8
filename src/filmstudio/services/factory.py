"""Building a Studio from Settings: open and migrate studio.db, open the secret store."""

from __future__ import annotations

from filmstudio.config import Settings
from filmstudio.services.secrets import SecretStore, open_secrets
from filmstudio.services.studio import JobQueue, NoQueue, Studio
from filmstudio.store.db import Store
from filmstudio.store.migrations import migrate


def open_studio(settings: Settings, queue: JobQueue | None = None, secrets: SecretStore | None = None) -> Studio:
    """A ready Studio for `settings` (raises SecretsUnavailable with what to do when no keyring)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    store = Store(settings.db_path)
    migrate(store)
    return Studio(
        store=store,
        secrets=secrets if secrets is not None else open_secrets(settings.secrets_backend, settings.home),
        media_dir=settings.media_dir,
        work_dir=settings.work_dir,
        cache_dir=settings.cache_dir,
        models_dir=settings.models_dir,
        model_catalogue=settings.model_catalogue,
        model_endpoint=settings.model_endpoint,
        queue=queue if queue is not None else NoQueue(),
        base_url=settings.base_url,
        signed_url_seconds=settings.signed_url_seconds,
        lease_seconds=settings.lease_seconds,
        max_attempts=settings.max_attempts,
        loopback_only=settings.loopback_only,
        webhook_allowed_hosts=settings.webhook_allowed_hosts,
        webhook_timeout_seconds=settings.webhook_timeout_seconds,
        webhook_lease_seconds=settings.webhook_lease_seconds,
        token_seconds=settings.token_seconds,
        youtube_api_endpoint=settings.youtube_api_endpoint,
        youtube_ca_bundle=settings.youtube_ca_bundle,
        youtube_chunk_bytes=settings.youtube_chunk_bytes,
    )
