"""Shared fixtures: sample scripts, a small render helper, ffprobe access."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def samples_dir() -> Path:
    """`../shared/samples` beside the checkout (CI lays shared/ there too)."""
    for candidate in (REPO.parent / "shared" / "samples", REPO / "shared" / "samples"):
        if candidate.is_dir():
            return candidate
    raise RuntimeError("the shared sample scripts were not found beside the checkout (../shared/samples)")


@pytest.fixture(scope="session")
def samples() -> Path:
    return samples_dir()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the user's real data or cache folders."""
    home = tmp_path_factory.getbasetemp() / "filmstudio-home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("FILMSTUDIO_HOME", str(home))
