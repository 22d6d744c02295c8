"""The app's known studios: addresses, folders, the recent list and each studio's key."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from filmstudio.desktop.studios import (
    KEYRING_USER,
    LOCAL,
    MAX_RECENT,
    RecentStudio,
    RecentStudios,
    StudioKeys,
    keyring_service,
    normalize_url,
    studio_folder,
    studio_name,
)
from filmstudio.domain.errors import BadRequest


def test_addresses_are_normalised() -> None:
    assert normalize_url("studio.lan:8765") == "https://studio.lan:8765"
    assert normalize_url(" HTTP://Studio.LAN:8765/api/v1/ ") == "http://studio.lan:8765"
    assert normalize_url("https://films.example/studio/api") == "https://films.example/studio"
    assert normalize_url("http://[::1]:9000") == "http://[::1]:9000"
    for bad in ("", "   ", "ftp://x", "https://"):
        with pytest.raises(BadRequest) as caught:
            normalize_url(bad)
        assert caught.value.code == "STUDIO_URL_INVALID"


def test_names_and_folders() -> None:
    assert studio_name(LOCAL) == "This computer"
    assert studio_name("https://studio.lan:8765") == "studio.lan:8765"
    a, b = studio_folder("https://studio.lan:8765"), studio_folder("http://studio.lan:8765")
    assert a != b and a.startswith("studio.lan_8765-") and "/" not in a
    assert studio_folder(LOCAL) == "local"
    assert keyring_service("https://studio.lan:8765") == "filmstudio-studio:https://studio.lan:8765"


class Settings:
    """QSettings' value/setValue/sync, in a dict."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def value(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def setValue(self, key: str, value: Any) -> None:
        self.values[key] = value

    def sync(self) -> None:
        return


def test_recent_studios_newest_first_without_keys() -> None:
    settings = Settings()
    recent = RecentStudios(settings)
    assert recent.all() == []
    recent.remember(RecentStudio("https://a.lan"))
    recent.remember(RecentStudio("https://b.lan", "/ca.pem"))
    recent.remember(RecentStudio("https://a.lan"))
    assert [s.url for s in recent.all()] == ["https://a.lan", "https://b.lan"]
    assert recent.get("https://b.lan") == RecentStudio("https://b.lan", "/ca.pem")
    assert "fs_" not in str(settings.values)  # keys never go to the settings file
    for i in range(MAX_RECENT + 3):
        recent.remember(RecentStudio(f"https://s{i}.lan"))
    assert len(recent.all()) == MAX_RECENT
    recent.forget(f"https://s{MAX_RECENT + 2}.lan")
    assert f"https://s{MAX_RECENT + 2}.lan" not in [s.url for s in recent.all()]
    settings.values["studios/recent"] = "{not json"
    assert recent.all() == []


class Ring:
    """The keyring module's three calls, recording (service, user) pairs."""

    def __init__(self, fail: bool = False) -> None:
        self.stored: dict[tuple[str, str], str] = {}
        self.fail = fail

    def get_password(self, service: str, user: str) -> str | None:
        return self.stored.get((service, user))

    def set_password(self, service: str, user: str, value: str) -> None:
        if self.fail:
            raise RuntimeError("locked")
        self.stored[(service, user)] = value

    def delete_password(self, service: str, user: str) -> None:
        del self.stored[(service, user)]


def test_keys_go_to_the_keyring_one_entry_per_studio() -> None:
    ring = Ring()
    keys = StudioKeys(keyring_module=ring)
    assert keys.put("https://a.lan", "fs_live_a") is True
    keys.put("https://b.lan", "fs_live_b")
    assert ring.stored == {("filmstudio-studio:https://a.lan", KEYRING_USER): "fs_live_a",
                           ("filmstudio-studio:https://b.lan", KEYRING_USER): "fs_live_b"}
    assert keys.get("https://a.lan") == "fs_live_a" and keys.get("https://c.lan") is None
    keys.delete("https://a.lan")
    keys.delete("https://a.lan")  # twice is fine
    assert keys.get("https://a.lan") is None


def test_a_locked_keyring_keeps_the_key_for_the_session_only() -> None:
    keys = StudioKeys(keyring_module=Ring(fail=True))
    assert keys.put("https://a.lan", "fs_live_a") is False
    assert "keyring refused" in keys.problem
    assert keys.get("https://a.lan") == "fs_live_a"  # still usable until the app quits
    assert StudioKeys(keyring_module=Ring()).get("https://a.lan") is None


def test_the_opted_in_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "client" / "studio-keys.json"
    keys = StudioKeys("file", path)
    assert keys.put("https://a.lan", "fs_live_a") is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert StudioKeys("file", path).get("https://a.lan") == "fs_live_a"
    keys.delete("https://a.lan")
    assert StudioKeys("file", path).get("https://a.lan") is None
    with pytest.raises(ValueError):
        StudioKeys("file")


def test_real_keyring_round_trip() -> None:
    """Needs a Secret Service (CI runs the suite under dbus-run-session + gnome-keyring)."""
    import keyring

    url = "https://test-studio.invalid:8765"
    keys = StudioKeys()
    try:
        assert keys.put(url, "fs_live_real") is True, keys.problem
        assert keyring.get_password(f"filmstudio-studio:{url}", KEYRING_USER) == "fs_live_real"
        assert StudioKeys().get(url) == "fs_live_real"
    finally:
        keys.delete(url)
    assert StudioKeys().get(url) is None
