"""The code checks run with the tests: ruff, mypy and the import layers (import-linter)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = BIN / name
    if found.exists():
        return str(found)
    exe = shutil.which(name)
    assert exe, f"{name} is a test dependency (pip install -e '.[test]')"
    return exe


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)


def test_ruff() -> None:
    proc = _run(_tool("ruff"), "check", "--output-format", "concise", "src", "tests", "bench")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_mypy() -> None:
    proc = _run(_tool("mypy"), "--no-error-summary", "src/filmstudio")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_import_layers() -> None:
    """Layers point down and the core never imports Qt or FastAPI (DESIGN §1)."""
    proc = _run(_tool("lint-imports"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
