"""doctor: a speech engine that initialises but finds no voices is reported missing, not ok."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from filmstudio.app import doctor
from filmstudio.pipeline.providers import tts


def _info(voices: int) -> dict[str, Any]:
    return {"engine": "pyttsx3+espeak-ng", "library_path": "/x/libespeak-ng.so", "data_path": "/x/data",
            "voices": voices, "languages": ["en"] if voices else [], "sample_rate": 22050}


@pytest.mark.parametrize(("voices", "ok"), [(0, False), (131, True)])
def test_tts_without_voices_is_missing(monkeypatch: pytest.MonkeyPatch, voices: int, ok: bool) -> None:
    monkeypatch.setattr(tts, "tts_info", lambda: _info(voices))
    got = doctor._tts()
    assert got["ok"] is ok and got["required"] is True
    assert f"with {voices} voices" in got["summary"]
    if not ok:
        assert any("do not match" in line for line in got["install"])


def test_keyring_with_the_packages_installed_but_no_secret_service_says_how_to_start_one() -> None:
    from keyring.backends import fail

    from filmstudio.app.doctor import _keyring

    info = _keyring(fail.Keyring(), which=lambda name: f"/usr/bin/{name}")
    assert info["ok"] is False and info["install"] == []  # nothing to install: it is installed
    assert "no Secret Service is running" in info["summary"]
    assert any("gnome-keyring-daemon --unlock" in hint for hint in info["start"])
    missing = _keyring(fail.Keyring(), which=lambda name: None)
    assert any("apt-get install gnome-keyring" in hint for hint in missing["install"]) and "start" not in missing


def test_doctor_names_the_catalogues_translation_models(tmp_path: Path) -> None:
    from filmstudio.app.doctor import report

    info = report(models_dir=tmp_path)["translation"]
    assert "opus-mt-en-es" in info["models"] and info["installed"] == []
    assert "opus-mt-en-es" in info["summary"] and "models pull" in info["summary"]
