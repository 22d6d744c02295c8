"""The desktop's door into services: script checks, readable errors, film files, previews."""

from __future__ import annotations

import wave

import pytest

from filmstudio.desktop.backend import Backend, error_code, error_text
from filmstudio.domain.errors import FilmStudioError, InvalidSettings
from filmstudio.domain.settings import parse_settings
from gui.conftest import SCRIPT, SMALL, Desktop


def test_error_text_is_words_and_the_code_is_apart() -> None:
    with pytest.raises(InvalidSettings) as caught:
        parse_settings({"style": "vaporwave"})
    text = error_text(caught.value)
    assert "UNKNOWN_STYLE" not in text and "vaporwave" in text
    assert error_code(caught.value) == "UNKNOWN_STYLE"
    assert error_text(FilmStudioError("x broke", code="X_BROKE")) == "x broke"
    assert "INTERNAL_ERROR" not in error_text(ValueError("odd"))
    assert error_code(ValueError("odd")) == "INTERNAL_ERROR"


def test_check_script(desktop: Desktop) -> None:
    backend: Backend = desktop.backend
    ok = backend.check_script(SCRIPT, SMALL)
    assert ok.fits and ok.characters == ("MAYA", "OLD TOM") and ok.scenes == 1 and ok.credits == 1
    assert set(ok.voices) >= {"MAYA", "OLD TOM"} and ok.voices["MAYA"] != ok.voices["OLD TOM"]
    empty = backend.check_script("   ", SMALL)
    assert empty.error_code == "SCRIPT_EMPTY" and not empty.fits
    bad = backend.check_script(SCRIPT, {**SMALL, "fps": 7})
    assert bad.error_code == "UNSUPPORTED_FPS" and bad.error is not None and "12, 15, 24" in bad.error
    assert backend.film_files(backend.create_project("t", SCRIPT, SMALL).project_id).video is None


@pytest.mark.slow
def test_audition_and_previews_are_real_media(desktop: Desktop) -> None:
    backend = desktop.backend
    wav = backend.audition(SCRIPT, "OLD TOM", "Keep it hidden.", SMALL)
    with wave.open(str(wav)) as w:
        assert w.getnframes() / w.getframerate() > 0.3
    music = backend.music_preview("calm", seconds=3.0)
    with wave.open(str(music)) as w:
        assert abs(w.getnframes() / w.getframerate() - 3.0) < 0.1
    png = backend.style_preview_png("retro")
    assert png.startswith(b"\x89PNG") and png != backend.style_preview_png("minimal")


@pytest.mark.slow
def test_preview_files_go_with_the_backend(desktop: Desktop) -> None:
    """Auditions and music previews live in one scratch folder per Backend, removed on close."""
    backend = desktop.backend
    wav = backend.audition(SCRIPT, "MAYA", "It opens everything.", SMALL)
    music = backend.music_preview("calm", seconds=1.0)
    assert wav.is_relative_to(backend.scratch_dir) and music.is_relative_to(backend.scratch_dir)
    backend.close()
    assert not wav.exists() and not music.exists() and not backend.scratch_dir.exists()
