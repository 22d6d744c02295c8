"""Which studios the app knows: the recent list (in the app's settings) and each one's key (in the keyring).

No Qt widgets here: `RecentStudios` reads and writes a `QSettings`, `StudioKeys` the OS keyring
(service `filmstudio-studio:<url>`), or, where the entry point opted into the file backend
(`secrets_backend="file"`, as services/secrets.py does for the server), a 0600 JSON file in the
app's data folder. A keyring that exists but cannot be reached keeps the key for this session only
and says so (`remembered` is False): the key is never written anywhere silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from filmstudio.domain.errors import BadRequest

LOCAL = "local"  # the studio inside this app (today's `Backend`)
LOCAL_NAME = "This computer"
KEYRING_PREFIX = "filmstudio-studio:"
KEYRING_USER = "api-key"
MAX_RECENT = 8
RECENT_KEY = "studios/recent"


def normalize_url(text: str) -> str:
    """`studio.lan:8765/api/v1/` -> `https://studio.lan:8765`; BadRequest STUDIO_URL_INVALID otherwise.

    No scheme means https (a studio beyond loopback is served over TLS); `http://` is kept as typed.
    """
    raw = text.strip().rstrip("/")
    if not raw:
        raise BadRequest("Enter the studio's address, e.g. https://studio.lan:8765", code="STUDIO_URL_INVALID")
    if "://" not in raw and not raw.lower().startswith(("http:", "https:")):
        raw = f"https://{raw}"
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest(f"{text.strip()!r} is not a studio address: use https://host:port",
                         code="STUDIO_URL_INVALID")
    path = parts.path.rstrip("/")
    for tail in ("/api/v1", "/api"):
        if path.endswith(tail):
            path = path[: -len(tail)]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host.lower()}{port}{path}"


def studio_name(url: str) -> str:
    """What the title bar and the status line call a studio: its host (and port), or "This computer"."""
    if url == LOCAL:
        return LOCAL_NAME
    parts = urlsplit(url)
    return parts.netloc or url


def studio_folder(url: str) -> str:
    """A folder name for one studio's caches and drafts: readable, and never shared by two URLs."""
    if url == LOCAL:
        return LOCAL
    parts = urlsplit(url)
    readable = "".join(c if c.isalnum() or c in "-." else "_" for c in (parts.netloc or "studio"))
    return f"{readable}-{hashlib.sha256(url.encode()).hexdigest()[:10]}"


def keyring_service(url: str) -> str:
    return f"{KEYRING_PREFIX}{url}"


@dataclass(frozen=True)
class RecentStudio:
    """One studio in File -> Recent studios (the key is not here: it is in the keyring)."""

    url: str
    ca_file: str = ""

    @property
    def name(self) -> str:
        return studio_name(self.url)


class RecentStudios:
    """The recent studios, newest first, as JSON in the app's settings."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings  # a QSettings (anything with value/setValue/sync)

    def all(self) -> list[RecentStudio]:
        raw = self.settings.value(RECENT_KEY, "")
        try:
            rows = json.loads(str(raw)) if raw else []
        except ValueError:
            return []
        return [RecentStudio(str(r["url"]), str(r.get("ca_file", ""))) for r in rows
                if isinstance(r, dict) and r.get("url")]

    def get(self, url: str) -> RecentStudio | None:
        return next((s for s in self.all() if s.url == url), None)

    def remember(self, studio: RecentStudio) -> None:
        rows = [studio, *(s for s in self.all() if s.url != studio.url)][:MAX_RECENT]
        self._write(rows)

    def forget(self, url: str) -> None:
        self._write([s for s in self.all() if s.url != url])

    def _write(self, rows: list[RecentStudio]) -> None:
        self.settings.setValue(RECENT_KEY, json.dumps([{"url": s.url, "ca_file": s.ca_file} for s in rows]))
        self.settings.sync()


class StudioKeys:
    """Each studio's API key: in the OS keyring, or the opted-in file; in memory when neither works."""

    def __init__(self, backend: str = "keyring", file_path: Path | None = None, keyring_module: Any = None) -> None:
        if backend not in ("keyring", "file"):
            raise ValueError(f"unknown key store {backend!r}")
        if backend == "file" and file_path is None:
            raise ValueError("the file key store needs a path")
        self.backend = backend
        self.file_path = file_path
        self._keyring = keyring_module
        self._session: dict[str, str] = {}
        self._lock = threading.Lock()
        self.problem = ""  # why the last key could not be remembered, in words

    @property
    def kind(self) -> str:
        return self.backend

    def get(self, url: str) -> str | None:
        with self._lock:
            if url in self._session:
                return self._session[url]
            if self.backend == "file":
                return self._read().get(url)
            ring = self._ring()
            if ring is None:
                return None
            try:
                value: str | None = ring.get_password(keyring_service(url), KEYRING_USER)
            except Exception:  # a locked or unreachable keyring: as if nothing were stored
                return None
            return value

    def put(self, url: str, key: str) -> bool:
        """Keep `key` for `url`; True when it will still be there after a restart."""
        with self._lock:
            self.problem = ""
            if self.backend == "file":
                self._write({**self._read(), url: key})
                return True
            ring = self._ring()
            if ring is not None:
                try:
                    ring.set_password(keyring_service(url), KEYRING_USER, key)
                    self._session.pop(url, None)
                    return True
                except Exception as exc:
                    self.problem = f"the keyring refused it ({type(exc).__name__}: {exc})"
            else:
                self.problem = "this computer has no keyring (Secret Service, KWallet)"
            self._session[url] = key
            return False

    def delete(self, url: str) -> None:
        with self._lock:
            self._session.pop(url, None)
            if self.backend == "file":
                data = self._read()
                if data.pop(url, None) is not None:
                    self._write(data)
                return
            ring = self._ring()
            if ring is not None:
                try:
                    ring.delete_password(keyring_service(url), KEYRING_USER)
                except Exception:  # already gone
                    return

    def _ring(self) -> Any:
        if self._keyring is None:
            import keyring
            import keyring.backends.fail

            backend = keyring.get_keyring()
            if isinstance(backend, keyring.backends.fail.Keyring) or type(backend).__module__.endswith(".null"):
                return None
            self._keyring = keyring
        return self._keyring

    def _read(self) -> dict[str, str]:
        assert self.file_path is not None
        if not self.file_path.exists():
            return {}
        data: dict[str, str] = json.loads(self.file_path.read_text(encoding="utf-8"))
        return data

    def _write(self, data: dict[str, str]) -> None:
        assert self.file_path is not None
        self.file_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.file_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, self.file_path)
