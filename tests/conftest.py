"""Shared fixtures: sample scripts, a small render helper, ffprobe access."""

from __future__ import annotations

from pathlib import Path

import pytest

import self_contained

REPO = Path(__file__).resolve().parents[1]

self_contained.install(REPO)


def samples_dir() -> Path:
    """The sample scripts, kept in the repository (`tests/data/samples`) so a bare clone tests itself."""
    return REPO / "tests" / "data" / "samples"


@pytest.fixture(scope="session")
def samples() -> Path:
    return samples_dir()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the user's real data or cache folders."""
    home = tmp_path_factory.getbasetemp() / "filmstudio-home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("FILMSTUDIO_HOME", str(home))
