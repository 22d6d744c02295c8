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
        queue=queue if queue is not None else NoQueue(),
        settings=settings,
    )
