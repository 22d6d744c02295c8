"""The one-folder app bundle: packaging/smoke.sh builds it with PyInstaller and runs the bundled binary."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_smoke_builds_the_bundle_and_runs_it(tmp_path: Path) -> None:
    """About a minute on the 2-core CI machine: build (~40 s) plus --version, doctor, render, serve, GUI."""
    env = {**os.environ, "FILMSTUDIO_BUNDLE_DIR": str(tmp_path / "bundle")}
    done = subprocess.run(["bash", str(REPO / "packaging" / "smoke.sh")], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=540)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    for step in ("--version", "doctor", "render: h264,video,320,180", "serve answered /health", "GUI started"):
        assert f"smoke: ok: {step}" in done.stdout, done.stdout
    assert (tmp_path / "bundle" / "dist" / "filmstudio" / "_internal" / "espeakng_loader").is_dir()
