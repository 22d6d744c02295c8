"""The models on this machine: `<home>/models/<id>/`, each complete and checked, or absent.

A model folder exists only once every file was downloaded and matched its checksum: pulls
write into `<root>/.staging/<id>/` and rename the whole folder into place, with a manifest
(`.filmstudio-model.json`) recording each file's sha256. `<root>/.hashes.json` keeps the
sha256 seen at a model's first download (trust on first use) even after `remove`, so a
re-download of an unverified model is checked against what was seen the first time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filmstudio.domain.errors import ModelCorrupt, ModelNotFound
from filmstudio.pipeline.models.catalogue import Catalogue, ModelEntry, valid_id

MANIFEST = ".filmstudio-model.json"
LEDGER = ".hashes.json"
STAGING = ".staging"
_BLOCK = 1024 * 1024


@dataclass(frozen=True)
class InstalledModel:
    id: str
    path: Path
    size_bytes: int
    revision: str
    files: dict[str, str]  # path in the repo -> sha256
    kind: str = ""  # the catalogue entry's kind and engine when it was pulled ("" in manifests older than that)
    engine: str = ""


@dataclass(frozen=True)
class VerifyResult:
    """`code` is "OK", "MODEL_CORRUPT" (see `problems`) or "MODEL_NOT_FOUND" (not installed)."""

    id: str
    code: str
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.code == "OK"


def file_digests(path: Path) -> tuple[str, str]:
    """(sha256, md5) of a file, read once."""
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            sha.update(block)
            md5.update(block)
    return sha.hexdigest(), md5.hexdigest()


class ModelLibrary:
    """Installed models under `root` (normally `Settings.models_dir`)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- reading ------------------------------------------------------------------------------

    def installed(self) -> list[InstalledModel]:
        """Every complete model folder, by id."""
        if not self.root.is_dir():
            return []
        found = []
        for child in sorted(self.root.iterdir()):
            model = self._read(child)
            if model is not None:
                found.append(model)
        return found

    def state(self) -> tuple[tuple[str, int, int], ...]:
        """What is installed, cheaply (a stat per model, no file read): changes with every install or removal.

        A pull renames a whole folder into place and a removal renames it away, in any process, so
        comparing two states tells whether the engines built from this library are out of date.
        """
        if not self.root.is_dir():
            return ()
        found = []
        for child in sorted(self.root.iterdir()):
            if child.name.startswith("."):
                continue
            try:
                st = (child / MANIFEST).stat()
            except OSError:
                continue
            found.append((child.name, st.st_ino, st.st_mtime_ns))
        return tuple(found)

    def get(self, model_id: str) -> InstalledModel | None:
        return self._read(self._folder(model_id)) if valid_id(model_id) else None

    def path(self, model_id: str) -> Path | None:
        """The folder of an installed model (the repo's layout inside), or None."""
        model = self.get(model_id)
        return model.path if model else None

    def is_installed(self, model_id: str) -> bool:
        return self.get(model_id) is not None

    def _read(self, folder: Path) -> InstalledModel | None:
        if folder.name.startswith(".") or not (folder / MANIFEST).is_file():
            return None
        try:
            data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            files = {str(k): str(v["sha256"]) for k, v in data["files"].items()}
            size = sum(int(v["size"]) for v in data["files"].values())
            return InstalledModel(id=str(data["id"]), path=folder, size_bytes=size,
                                  revision=str(data.get("revision", "")), files=files,
                                  kind=str(data.get("kind") or ""), engine=str(data.get("engine") or ""))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    # -- checking -----------------------------------------------------------------------------

    def verify(self, model_id: str | None = None, *, catalogue: Catalogue | None = None) -> list[VerifyResult]:
        """Re-hash installed files against the catalogue's sha256, else the recorded one."""
        if model_id is None:
            return [self._verify_one(m.id, catalogue) for m in self.installed()]
        return [self._verify_one(model_id, catalogue)]

    def check(self, model_id: str, *, catalogue: Catalogue | None = None) -> None:
        """Like `verify` for one model, raising ModelCorrupt / ModelNotFound instead."""
        result = self._verify_one(model_id, catalogue)
        if result.code == "MODEL_NOT_FOUND":
            raise ModelNotFound(f"model {model_id!r} is not installed", details={"id": model_id})
        if not result.ok:
            raise ModelCorrupt(f"model {model_id!r} failed verification", details={
                "id": model_id, "problems": list(result.problems)})

    def _verify_one(self, model_id: str, catalogue: Catalogue | None) -> VerifyResult:
        model = self.get(model_id)
        if model is None:
            return VerifyResult(model_id, "MODEL_NOT_FOUND", ("not installed",))
        expected = dict(model.files)
        if catalogue is not None and model_id in catalogue:
            for f in catalogue.get(model_id).files:
                if f.sha256 and (f.path in expected or not f.optional):
                    expected[f.path] = f.sha256
        problems = []
        for rel, sha in sorted(expected.items()):
            path = model.path / rel
            if not path.is_file():
                problems.append(f"{rel}: missing")
            elif file_digests(path)[0] != sha:
                problems.append(f"{rel}: sha256 differs from {sha}")
        return VerifyResult(model_id, "MODEL_CORRUPT" if problems else "OK", tuple(problems))

    # -- changing -----------------------------------------------------------------------------

    def remove(self, model_id: str) -> bool:
        """Delete an installed model (and any half-finished pull of it); False if there was none."""
        folder = self._folder(model_id)
        existed = (folder / MANIFEST).is_file()
        self._discard(folder)
        shutil.rmtree(self.staging_dir(model_id), ignore_errors=True)
        return existed

    def _folder(self, model_id: str) -> Path:
        if not valid_id(model_id):  # an id from a command line must never name a path outside root
            raise ModelNotFound(f"{model_id!r} is not a model id", details={"id": model_id})
        return self.root / model_id

    def _discard(self, folder: Path) -> None:
        if not folder.is_dir() or folder.name.startswith("."):
            return
        # Rename first so a crash mid-delete never leaves a folder that looks installed.
        trash = self.root / STAGING / f"{folder.name}.removing"
        shutil.rmtree(trash, ignore_errors=True)
        trash.parent.mkdir(parents=True, exist_ok=True)
        os.replace(folder, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def staging_dir(self, model_id: str) -> Path:
        """Where a pull of `model_id` downloads (kept across processes so pulls resume)."""
        return self.root / STAGING / self._folder(model_id).name

    def recorded_hashes(self, entry: ModelEntry) -> dict[str, str]:
        """sha256 per file seen at this model revision's first download (empty if never pulled)."""
        record = self._ledger().get(entry.id, {})
        return dict(record.get("files", {})) if record.get("revision") == entry.revision else {}

    def recorded_commit(self, entry: ModelEntry) -> str | None:
        """The commit a branch revision ("main") resolved to at this model's first download."""
        record = self._ledger().get(entry.id, {})
        return record.get("commit") if record.get("revision") == entry.revision else None

    def install(self, entry: ModelEntry, staging: Path, hashes: dict[str, str], *, commit: str | None = None) -> Path:
        """Write the manifest into a fully downloaded, checked `staging` folder and rename it in.

        `hashes` holds every file the model has (optional files the hub lacked are left out).
        """
        files = {path: {"sha256": sha, "size": (staging / path).stat().st_size} for path, sha in hashes.items()}
        manifest = {"id": entry.id, "repo": entry.repo, "revision": entry.revision, "commit": commit,
                    "kind": entry.kind, "engine": entry.engine, "installed_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "files": files}
        _write_json(staging / MANIFEST, manifest)
        final = self._folder(entry.id)
        self._discard(final)  # a stale or corrupt copy: never merged with the new one
        os.replace(staging, final)
        self._record(entry, hashes, commit)
        return final

    def _ledger(self) -> dict[str, Any]:
        try:
            data = json.loads((self.root / LEDGER).read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _record(self, entry: ModelEntry, hashes: dict[str, str], commit: str | None) -> None:
        ledger = self._ledger()
        if ledger.get(entry.id, {}).get("revision") == entry.revision:
            return  # first use wins: later downloads are checked against it, never overwrite it
        ledger[entry.id] = {"revision": entry.revision, "commit": commit, "files": dict(sorted(hashes.items()))}
        _write_json(self.root / LEDGER, ledger)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def serving(library: ModelLibrary, catalogue: Catalogue, *, kind: str, engine: str) -> list[InstalledModel]:
    """The installed models that serve the `kind` seam through `engine`, in the library's order.

    The catalogue's entry decides (else the kind and engine recorded when the model was pulled from
    another catalogue); the files never do: a video model's folder has a `model_index.json` too,
    and it must never be loaded as a picture model.
    """
    found = []
    for model in library.installed():
        entry = catalogue.get(model.id) if model.id in catalogue else None
        kind_of, engine_of = (entry.kind, entry.engine) if entry is not None else (model.kind, model.engine)
        if kind_of == kind and engine_of == engine:
            found.append(model)
    return found
