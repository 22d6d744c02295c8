"""`filmstudio models ...` as a user runs it: a real process, FILMSTUDIO_HOME in a temp dir, HF_ENDPOINT at a fake hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakehub import FakeHub, model_toml

REPO_ROOT = Path(__file__).resolve().parents[2]
FILES = {"v/x.onnx": os.urandom(300_000), "v/x.onnx.json": b"{}"}


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub(repos={"test/voice": dict(FILES)}) as fake:
        yield fake


def _run(tmp_path: Path, hub: FakeHub, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FILMSTUDIO_HOME": str(tmp_path / "home"), "HF_ENDPOINT": hub.endpoint,
           "PYTHONPATH": str(REPO_ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "filmstudio", "models", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


def test_list_json_shows_the_bundled_catalogue_without_any_request(tmp_path: Path, hub: FakeHub) -> None:
    proc = _run(tmp_path, hub, "list", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["hardware"]["cpu_cores"] >= 1 and "gpus" in data["hardware"]
    rows = {r["id"]: r for r in data["models"]}
    assert "piper-en_US-libritts_r-medium" in rows and "sdxl-base-1.0" in rows
    for row in (r for r in rows.values() if not r.get("bundled")):  # the bundled voice: its own test
        assert row["installed"] is False and isinstance(row["fits"], bool) and row["fits_reason"]
        assert row["licence"]["spdx"] and row["size_bytes"] > 0
    assert hub.requests == []  # listing never touches the network


def test_pull_yes_then_list_verify_remove(tmp_path: Path, hub: FakeHub) -> None:
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text(model_toml("test-voice", "test/voice", FILES), encoding="utf-8")
    proc = _run(tmp_path, hub, "--catalogue", str(catalogue), "pull", "test-voice", "--yes", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "CC0-1.0" in proc.stdout and "size:" in proc.stdout  # the licence is shown before downloading
    installed = tmp_path / "home" / "models" / "test-voice"
    assert (installed / "v" / "x.onnx").read_bytes() == FILES["v/x.onnx"]

    rows = json.loads(_run(tmp_path, hub, "--catalogue", str(catalogue), "list", "--json").stdout)["models"]
    row = next(r for r in rows if r["id"] == "test-voice")
    assert row["installed"] is True and row["installed_bytes"] == sum(map(len, FILES.values()))

    assert _run(tmp_path, hub, "--catalogue", str(catalogue), "verify").returncode == 0
    (installed / "v" / "x.onnx.json").write_bytes(b"[]")
    proc = _run(tmp_path, hub, "--catalogue", str(catalogue), "verify", "--json")
    assert proc.returncode == 1 and json.loads(proc.stdout)[0]["code"] == "MODEL_CORRUPT"

    assert _run(tmp_path, hub, "remove", "test-voice").returncode == 0
    assert not installed.exists()
    proc = _run(tmp_path, hub, "remove", "test-voice")
    assert proc.returncode == 2 and "MODEL_NOT_FOUND" in proc.stderr


def test_pull_without_yes_asks_and_fetches_nothing_when_not_confirmed(tmp_path: Path, hub: FakeHub) -> None:
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text(model_toml("test-voice", "test/voice", FILES), encoding="utf-8")
    proc = _run(tmp_path, hub, "--catalogue", str(catalogue), "pull", "test-voice", stdin="y\n")
    assert proc.returncode == 1 and "--yes" in proc.stderr  # stdin is not a terminal
    assert hub.requests == [] and not (tmp_path / "home" / "models" / "test-voice").exists()


def test_unknown_model_id(tmp_path: Path, hub: FakeHub) -> None:
    proc = _run(tmp_path, hub, "pull", "no-such-model", "--yes")
    assert proc.returncode == 2 and "MODEL_NOT_FOUND" in proc.stderr and hub.requests == []


def test_pull_recommended_shows_the_plan_for_this_machine_and_asks_first(tmp_path: Path, hub: FakeHub) -> None:
    proc = _run(tmp_path, hub, "pull", "--recommended")
    assert proc.returncode == 1 and "--yes" in proc.stderr  # not a terminal: nothing without --yes
    assert "recommended for this machine" in proc.stdout and "piper-en_US-libritts_r-medium" in proc.stdout
    assert "licence: CC-BY-4.0" in proc.stdout and "total to download:" in proc.stdout
    assert hub.requests == []
    proc = _run(tmp_path, hub, "pull")
    assert proc.returncode == 2 and "--recommended" in proc.stderr


def test_list_names_the_bundled_voice_that_speaks_every_film(tmp_path: Path, hub: FakeHub) -> None:
    rows = json.loads(_run(tmp_path, hub, "list", "--json").stdout)["models"]
    bundled = [r for r in rows if r.get("bundled")]
    assert [(r["id"], r["kind"], r["installed"]) for r in bundled] == [("en_US-joe-medium", "voice", True)]
    assert bundled[0]["size_bytes"] > 1_000_000 and bundled[0]["gender"] == "male"
    table = _run(tmp_path, hub, "list").stdout
    line = next(ln for ln in table.splitlines() if "en_US-joe-medium" in ln)
    assert "bundled" in line
