"""ModelLibrary on a temp folder: install, installed, verify, remove; the disk check before a pull."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import namedtuple
from pathlib import Path

import pytest

from filmstudio.domain.errors import DiskFull, ModelCorrupt, ModelNotFound
from filmstudio.pipeline.models import download
from filmstudio.pipeline.models.catalogue import Catalogue, Licence, ModelEntry, ModelFile
from filmstudio.pipeline.models.library import MANIFEST, ModelLibrary

FILES = {"voice/a.onnx": b"onnx bytes" * 100, "voice/a.onnx.json": b'{"audio": {"sample_rate": 22050}}'}


def _entry(*, sha: bool = True, size_factor: int = 1) -> ModelEntry:
    files = tuple(ModelFile(p, len(d) * size_factor, hashlib.sha256(d).hexdigest() if sha else None)
                  for p, d in FILES.items())
    return ModelEntry(id="voice-a", kind="voice", engine="piper", title="Voice A", repo="t/voice",
                      revision="c" * 40, files=files, licence=Licence("CC0-1.0", "https://x", True),
                      min_ram_mb=1, min_vram_mb=0, suits=("cpu",), verified=sha)


def _install(library: ModelLibrary, entry: ModelEntry) -> Path:
    staging = library.staging_dir(entry.id)
    for rel, data in FILES.items():
        (staging / rel).parent.mkdir(parents=True, exist_ok=True)
        (staging / rel).write_bytes(data)
    return library.install(entry, staging, {p: hashlib.sha256(d).hexdigest() for p, d in FILES.items()})


def test_install_is_a_rename_of_a_complete_folder(tmp_path: Path) -> None:
    library = ModelLibrary(tmp_path / "models")
    assert library.installed() == [] and library.path("voice-a") is None
    path = _install(library, _entry())
    assert path == tmp_path / "models" / "voice-a" and not library.staging_dir("voice-a").exists()
    [model] = library.installed()
    assert model.id == "voice-a" and model.size_bytes == sum(map(len, FILES.values()))
    assert library.path("voice-a") == path and (path / "voice" / "a.onnx").read_bytes() == FILES["voice/a.onnx"]
    manifest = json.loads((path / MANIFEST).read_text())
    assert manifest["revision"] == "c" * 40 and set(manifest["files"]) == set(FILES)


def test_a_folder_without_manifest_is_not_installed(tmp_path: Path) -> None:
    library = ModelLibrary(tmp_path)
    (tmp_path / "half" / "voice").mkdir(parents=True)
    (tmp_path / "half" / "voice" / "a.onnx").write_bytes(b"x")
    assert library.installed() == [] and library.path("half") is None


def test_verify_finds_a_changed_file(tmp_path: Path) -> None:
    library = ModelLibrary(tmp_path)
    catalogue = Catalogue([_entry()])
    path = _install(library, _entry())
    assert [r.code for r in library.verify(catalogue=catalogue)] == ["OK"]
    (path / "voice" / "a.onnx").write_bytes(b"flipped")
    [result] = library.verify("voice-a", catalogue=catalogue)
    assert result.code == "MODEL_CORRUPT" and "voice/a.onnx" in result.problems[0]
    with pytest.raises(ModelCorrupt) as err:
        library.check("voice-a")
    assert err.value.code == "MODEL_CORRUPT"
    (path / "voice" / "a.onnx").unlink()
    assert "missing" in library.verify("voice-a")[0].problems[0]


def test_verify_and_check_an_absent_model(tmp_path: Path) -> None:
    library = ModelLibrary(tmp_path)
    assert library.verify("nope")[0].code == "MODEL_NOT_FOUND"
    assert library.verify() == []
    with pytest.raises(ModelNotFound):
        library.check("nope")


def test_remove_keeps_the_first_download_hashes(tmp_path: Path) -> None:
    library = ModelLibrary(tmp_path)
    entry = _entry(sha=False)
    _install(library, entry)
    assert library.remove("voice-a") and not (tmp_path / "voice-a").exists()
    assert not library.remove("voice-a")
    assert library.recorded_hashes(entry) == {p: hashlib.sha256(d).hexdigest() for p, d in FILES.items()}


_Usage = namedtuple("_Usage", "total used free")


def test_disk_full_is_refused_before_any_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda path: _Usage(10_000, 9_900, 100))
    library = ModelLibrary(tmp_path / "models" / "not-yet")
    # Port 9 (discard) on loopback: reaching the network at all would fail differently.
    with pytest.raises(DiskFull) as err:
        download.pull(_entry(), library, endpoint="http://127.0.0.1:9")
    assert err.value.code == "DISK_FULL"
    assert err.value.details["needed_bytes"] == sum(map(len, FILES.values()))
    assert err.value.details["available_bytes"] == 100
    assert not (tmp_path / "models").exists()  # not even a staging folder


def test_disk_check_counts_bytes_already_downloaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    library = ModelLibrary(tmp_path)
    entry = _entry()
    part = library.staging_dir(entry.id) / "voice" / "a.onnx.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(FILES["voice/a.onnx"][:600])
    need = sum(map(len, FILES.values())) - 600
    monkeypatch.setattr(shutil, "disk_usage", lambda path: _Usage(10**9, 0, need))
    download.check_disk_space(entry, library)  # exactly enough
    monkeypatch.setattr(shutil, "disk_usage", lambda path: _Usage(10**9, 0, need - 1))
    with pytest.raises(DiskFull):
        download.check_disk_space(entry, library)


@pytest.mark.parametrize("bad", ["../outside", "a/b", ".staging", "", "x" * 200])
def test_ids_never_name_a_path_outside_the_library(tmp_path: Path, bad: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / MANIFEST).write_text("{}")
    library = ModelLibrary(tmp_path / "models")
    assert library.path(bad) is None and not library.is_installed(bad)
    with pytest.raises(ModelNotFound):
        library.remove(bad)
    assert (outside / MANIFEST).exists()
