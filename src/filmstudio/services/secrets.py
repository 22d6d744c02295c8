"""Server secrets (URL signing, later webhook/token secrets) in the OS keyring, or an opt-in file."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from pathlib import Path
from typing import Protocol

from filmstudio.domain.errors import SecretsUnavailable

KEYRING_SERVICE = "filmstudio"

NO_KEYRING_MESSAGE = (
    "No OS keyring is available to hold the studio's secrets ({reason}). Start a Secret Service "
    "(e.g. gnome-keyring, KWallet) or opt into the file backend with FILMSTUDIO_SECRETS_BACKEND=file, "
    "which stores secrets in {path} (mode 0600, readable by anyone who can read that file)."
)


class SecretStore(Protocol):
    """Where the server keeps its own secrets."""

    name: str

    def get_or_create(self, key: str) -> str:
        """The secret named `key`, made (random, 256 bits) and saved on first use."""
        ...

    def put(self, key: str, value: str) -> None:
        """Save a secret another party chose (a webhook's signing secret, a YouTube refresh token)."""
        ...

    def get(self, key: str) -> str | None: ...

    def delete(self, key: str) -> None: ...


class KeyringSecrets:
    """Secrets in the OS keyring; one keyring entry per (studio home, secret name)."""

    name = "keyring"

    def __init__(self, home: Path) -> None:
        import keyring
        import keyring.backends.fail

        backend = keyring.get_keyring()
        if isinstance(backend, keyring.backends.fail.Keyring) or _is_null(backend):
            raise SecretsUnavailable(
                NO_KEYRING_MESSAGE.format(reason=f"backend {type(backend).__name__}", path=home / "secrets.json")
            )
        self._keyring = keyring
        # Several studios (tests, profiles) on one machine must not share secrets.
        self._user_prefix = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:12]
        self._lock = threading.Lock()
        self._cache: dict[str, str] = {}

    def get_or_create(self, key: str) -> str:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            user = f"{self._user_prefix}:{key}"
            try:
                value = self._keyring.get_password(KEYRING_SERVICE, user)
                if value is None:
                    value = secrets.token_urlsafe(32)
                    self._keyring.set_password(KEYRING_SERVICE, user, value)
            except Exception as exc:  # the backend exists but cannot be reached (locked, no D-Bus)
                raise SecretsUnavailable(
                    NO_KEYRING_MESSAGE.format(reason=f"{type(exc).__name__}: {exc}", path="<home>/secrets.json")
                ) from exc
            self._cache[key] = value
            return value

    # -- named secrets other parties chose (webhook signing secrets); additive --------------------

    def put(self, key: str, value: str) -> None:
        with self._lock:
            try:
                self._keyring.set_password(KEYRING_SERVICE, f"{self._user_prefix}:{key}", value)
            except Exception as exc:
                raise SecretsUnavailable(
                    NO_KEYRING_MESSAGE.format(reason=f"{type(exc).__name__}: {exc}", path="<home>/secrets.json")
                ) from exc
            self._cache[key] = value

    def get(self, key: str) -> str | None:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            value: str | None = self._keyring.get_password(KEYRING_SERVICE, f"{self._user_prefix}:{key}")
            if value is not None:
                self._cache[key] = value
            return value

    def delete(self, key: str) -> None:
        with self._lock:
            self._cache.pop(key, None)
            try:
                self._keyring.delete_password(KEYRING_SERVICE, f"{self._user_prefix}:{key}")
            except Exception:  # already gone
                return


class FileSecrets:
    """The opt-in fallback: a 0600 JSON file. Chosen explicitly, never silently."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def get_or_create(self, key: str) -> str:
        with self._lock:
            data: dict[str, str] = json.loads(self.path.read_text()) if self.path.exists() else {}
            if key not in data:
                data[key] = secrets.token_urlsafe(32)
                self._write(data)
            return data[key]

    def _read(self) -> dict[str, str]:
        data: dict[str, str] = json.loads(self.path.read_text()) if self.path.exists() else {}
        return data

    def _write(self, data: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def put(self, key: str, value: str) -> None:
        with self._lock:
            self._write({**self._read(), key: value})

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._read().get(key)

    def delete(self, key: str) -> None:
        with self._lock:
            data = self._read()
            if data.pop(key, None) is not None:
                self._write(data)


class MemorySecrets:
    """Secrets for unit tests: in memory only."""

    name = "memory"

    def __init__(self) -> None:
        self._data: dict[str, str] = {}

    def get_or_create(self, key: str) -> str:
        return self._data.setdefault(key, secrets.token_urlsafe(32))

    def put(self, key: str, value: str) -> None:
        self._data[key] = value

    def get(self, key: str) -> str | None:
        return self._data.get(key)

    def delete(self, key: str) -> None:
        self._data.pop(key, None)


def open_secrets(backend: str, home: Path) -> SecretStore:
    """The configured secret store; raises SecretsUnavailable (with what to do) when the keyring is missing."""
    if backend == "file":
        return FileSecrets(home / "secrets.json")
    store = KeyringSecrets(home)
    store.get_or_create("probe")  # fail at start, not on the first signed URL
    return store


def _is_null(backend: object) -> bool:
    name = type(backend).__module__ + "." + type(backend).__name__
    if name == "keyring.backends.chainer.ChainerBackend":
        return not getattr(backend, "backends", [])
    return name.endswith("null.Keyring")
