"""Render settings: defaults, every bad value gets its stable code and the allowed values."""

from __future__ import annotations

from typing import Any

import pytest

from filmstudio.domain.errors import InvalidSettings
from filmstudio.domain.settings import RESOLUTIONS, STYLES, estimated_credits, parse_settings


def test_defaults_follow_the_public_reference() -> None:
    s = parse_settings({})
    assert (s.duration, s.style, s.language) == (60, "cinematic", "en")
    assert s.subtitle_langs == ("en",)
    assert s.size == (1920, 1080)
    assert s.estimated_credits == 3


@pytest.mark.parametrize(
    ("data", "code", "allowed"),
    [
        ({"style": "vaporwave"}, "UNKNOWN_STYLE", list(STYLES)),
        ({"duration": 4}, "DURATION_OUT_OF_RANGE", None),
        ({"duration": 601}, "DURATION_OUT_OF_RANGE", None),
        ({"duration": 12.5}, "INVALID_DURATION", None),
        ({"duration": "long"}, "INVALID_DURATION", None),
        ({"language": "xx"}, "UNKNOWN_LANGUAGE", None),
        ({"subtitle_languages": ["en", "klingon"]}, "UNKNOWN_LANGUAGE", None),
        ({"music_genre": "polka"}, "UNKNOWN_MUSIC_GENRE", None),
        ({"resolution": "4000x3000"}, "UNSUPPORTED_RESOLUTION", list(RESOLUTIONS)),
        ({"fps": 29}, "UNSUPPORTED_FPS", None),
        ({"characters": [{"name": "A", "gender": "robot"}]}, "UNKNOWN_GENDER", None),
        ({"characters": [{"name": "A", "age": "ancient"}]}, "UNKNOWN_AGE", None),
        ({"characters": [{"name": "A", "voice": "squeaky"}]}, "UNKNOWN_VOICE", None),
        ({"translations": {"zz": "text"}}, "UNKNOWN_LANGUAGE", None),
        ({"aspect_ratio": "4:3"}, "UNSUPPORTED_ASPECT_RATIO", None),
        ({"credits": 100}, "UNKNOWN_FIELD", None),
    ],
)
def test_bad_values_have_stable_codes(data: dict[str, Any], code: str, allowed: list[str] | None) -> None:
    with pytest.raises(InvalidSettings) as info:
        parse_settings(data)
    err = info.value
    assert err.code == code
    assert err.http_status == 400
    assert err.details["errors"][0]["code"] == code
    if allowed is not None:
        assert err.details["errors"][0]["allowed"] == allowed
    body = err.to_dict()["error"]
    assert set(body) == {"code", "message", "details"}
    assert "{" not in body["message"]  # the message is formatted, not a template


def test_several_errors_are_all_reported() -> None:
    with pytest.raises(InvalidSettings) as info:
        parse_settings({"style": "x", "fps": 1})
    assert info.value.code == "INVALID_SETTINGS"
    assert {e["field"] for e in info.value.details["errors"]} == {"style", "fps"}


def test_aspect_ratio_picks_the_resolution_and_subtitles_can_be_off() -> None:
    assert parse_settings({"aspect_ratio": "9:16"}).size == (1080, 1920)
    assert parse_settings({"aspect_ratio": "1:1", "resolution": "320x320"}).size == (320, 320)
    assert parse_settings({"include_subtitles": False}).subtitle_langs == ()
    assert parse_settings({"subtitle_languages": "en, es"}).subtitle_langs == ("en", "es")


@pytest.mark.parametrize(("duration", "credits"), [(5, 1), (20, 1), (21, 2), (60, 3), (600, 30)])
def test_estimated_credits(duration: int, credits: int) -> None:
    assert estimated_credits(duration) == credits


@pytest.mark.parametrize(("data", "code"), [
    ({"include_subtitles": 0}, "INVALID_TYPE"),
    ({"burn_subtitles": "yes"}, "INVALID_TYPE"),
    ({"youtube_upload": 1}, "INVALID_TYPE"),
    ({"subtitle_languages": ["en"] * 21}, "LIST_TOO_LONG"),
    ({"subtitle_languages": "en," * 40}, "LIST_TOO_LONG"),
    ({"characters": [{"name": "A"}] * 51}, "LIST_TOO_LONG"),
])
def test_booleans_are_strict_and_lists_bounded(data: dict[str, Any], code: str) -> None:
    with pytest.raises(InvalidSettings) as err:
        parse_settings(data)
    assert err.value.code == code, err.value.details


def test_machine_settings_are_read_once_and_passed_to_the_engines(tmp_path: Any, monkeypatch: Any) -> None:
    """FILMSTUDIO_PICTURE_MODEL / _PICTURES_DEVICE land in Settings; the composition root hands them on."""
    from filmstudio.app import compose
    from filmstudio.config import load_settings

    settings = load_settings({"FILMSTUDIO_HOME": str(tmp_path), "FILMSTUDIO_PICTURE_MODEL": "sd15",
                              "FILMSTUDIO_PICTURES_DEVICE": "cpu"})
    assert (settings.picture_model, settings.pictures_device) == ("sd15", "cpu")
    asked: list[tuple[Any, ...]] = []
    monkeypatch.setattr(compose, "picture_engine", lambda models_dir, model_id=None, *, device=None:
                        asked.append((models_dir, model_id, device)))
    monkeypatch.setenv("FILMSTUDIO_PICTURE_MODEL", "not-this-one")  # the process environment is not read here
    compose.engines_for(settings, jobs=1)
    assert asked == [(settings.models_dir, "sd15", "cpu")]


# Environment reads still below the entry points (cli*, __main__): each a later step of issue 17.
_ENV_READS_LEFT = {
    "app/embedded.py",  # copies the environment for the desktop's worker child process
    "desktop/app.py",  # FILMSTUDIO_QUIT_AFTER_MS, the bundle's smoke test
    "pipeline/media/ffmpeg.py",  # FILMSTUDIO_FFMPEG / _FFPROBE / _NO_HWENC, behind functools.cache
    "pipeline/models/download.py",  # HF_ENDPOINT, and the hub client's own switches
    "pipeline/providers/tts.py",  # ESPEAK_DATA_PATH for the bundled espeak-ng
}


def test_no_new_environment_reads_below_the_entry_points() -> None:
    import re
    from pathlib import Path

    import filmstudio

    root = Path(filmstudio.__file__).parent
    found = {str(p.relative_to(root)) for p in root.rglob("*.py")
             if re.search(r"os\.(environ|getenv)", p.read_text(encoding="utf-8"))}
    below = {f for f in found if not re.fullmatch(r"cli\w*\.py|__main__\.py", f)}
    assert below <= _ENV_READS_LEFT, below - _ENV_READS_LEFT
