"""doctor: a speech engine that initialises but finds no voices is reported missing, not ok."""

from __future__ import annotations

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
