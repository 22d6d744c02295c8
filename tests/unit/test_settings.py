"""Render settings: defaults, every bad value gets its stable code and the allowed values."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

import filmstudio
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


# The entry points, which read the environment (through `config.load_settings`) and pass it down: the
# CLI modules, `__main__`, the composition root `app/` (its `worker_env` hands the environment to the
# desktop's worker child), and `config.py`, whose Settings are the reading.
_ENTRY_POINTS = re.compile(r"cli\w*\.py|__main__\.py|app/\w+\.py|config\.py")


def _environment_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """Where a module reads the environment: os.environ / os.getenv, or building Settings (which reads it).

    Telling a library through its own variables (`os.environ[NAME] = value`, `os.environ.setdefault`)
    is a write, not a read, and allowed: espeak-ng's data folder, huggingface_hub's switches.
    """
    writes: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            writes |= {id(t.value) for t in node.targets if isinstance(t, ast.Subscript)}
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "setdefault":
            writes.add(id(node.func.value))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb") \
                and isinstance(node.value, ast.Name) and node.value.id == "os" and id(node) not in writes:
            found.append((node.lineno, f"os.{node.attr}"))
        elif isinstance(node, ast.ImportFrom) and node.module == "os" \
                and {a.name for a in node.names} & {"environ", "getenv", "environb"}:
            found.append((node.lineno, "from os import environ/getenv"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if name in ("load_settings", "Settings"):
                found.append((node.lineno, f"{name}()"))
    return found


def test_the_environment_is_read_only_at_the_entry_points() -> None:
    """Below the CLI, `__main__`, the composition root and config, nothing reads the environment."""
    root = Path(filmstudio.__file__).parent
    below = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if not _ENTRY_POINTS.fullmatch(rel):
            reads = _environment_reads(ast.parse(path.read_text(encoding="utf-8")))
            if reads:
                below[rel] = reads
    assert below == {}


@pytest.mark.parametrize("source", [
    "import os\nx = os.environ.get('A')\n", "import os\nx = os.getenv('A')\n", "import os\nenv = dict(os.environ)\n",
    "import os\nok = 'A' in os.environ\n", "from os import environ\n", "s = load_settings()\n",
    "import filmstudio.config as c\ns = c.Settings()\n",
])
def test_the_scan_finds_every_kind_of_read(source: str) -> None:
    assert _environment_reads(ast.parse(source))


def test_the_scan_lets_a_module_tell_a_library() -> None:
    assert _environment_reads(ast.parse("import os\nos.environ['ESPEAK_DATA_PATH'] = 'x'\n"
                                        "os.environ.setdefault('HF_HUB_DISABLE_XET', '1')\n")) == []


def test_tools_and_switches_come_from_settings(tmp_path: Path) -> None:
    """FILMSTUDIO_FFMPEG / _FFPROBE / _NO_HWENC, HF_ENDPOINT and FILMSTUDIO_QUIT_AFTER_MS are Settings fields."""
    from filmstudio.config import load_settings

    s = load_settings({"FILMSTUDIO_HOME": str(tmp_path), "FILMSTUDIO_FFMPEG": "/opt/ff/ffmpeg",
                       "FILMSTUDIO_FFPROBE": "/opt/ff/ffprobe", "FILMSTUDIO_NO_HWENC": "1",
                       "HF_ENDPOINT": "http://mirror.invalid", "FILMSTUDIO_QUIT_AFTER_MS": "4000"})
    assert (s.ffmpeg, s.ffprobe, s.no_hwenc, s.quit_after_ms) == ("/opt/ff/ffmpeg", "/opt/ff/ffprobe", True, 4000)
    assert s.pull_endpoint == "http://mirror.invalid"
    both = load_settings({"HF_ENDPOINT": "http://mirror.invalid", "FILMSTUDIO_MODEL_ENDPOINT": "http://ours.invalid"})
    assert both.pull_endpoint == "http://ours.invalid"  # ours wins over the hub's own variable
    plain = load_settings({"FILMSTUDIO_HOME": str(tmp_path)})
    assert (plain.ffmpeg, plain.ffprobe, plain.no_hwenc, plain.pull_endpoint, plain.quit_after_ms) == (
        None, None, False, None, None)


def test_the_composition_root_hands_the_tools_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings' ffmpeg is the one the media layer runs; no_hwenc keeps the engines' encoder on libx264."""
    import shutil

    from filmstudio.app import compose
    from filmstudio.config import load_settings
    from filmstudio.pipeline.media import ffmpeg

    real = ffmpeg.ffmpeg_exe()
    mine = tmp_path / "bin" / "ffmpeg"
    mine.parent.mkdir()
    mine.symlink_to(shutil.which(real) or real)
    settings = load_settings({"FILMSTUDIO_HOME": str(tmp_path), "FILMSTUDIO_FFMPEG": str(mine),
                              "FILMSTUDIO_NO_HWENC": "1"})
    monkeypatch.setattr(compose, "picture_engine", lambda *a, **k: None)
    monkeypatch.setenv("FILMSTUDIO_FFMPEG", "/not/this/one")  # the process environment is not read below
    try:
        engines = compose.engines_for(settings, jobs=1)
        assert ffmpeg.ffmpeg_exe() == str(mine)
        assert "libx264" in ffmpeg.encoders()  # listed by running the settings' ffmpeg
        assert engines.encoder.video_encoder() == "libx264"
        assert engines.encoder.video_encoder("h264_nvenc") == "h264_nvenc"  # a forced encoder still wins
    finally:
        ffmpeg.use_tools(ffmpeg.Tools())
    assert ffmpeg.ffmpeg_exe() == real
