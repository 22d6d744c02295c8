"""The model catalogue: what can be downloaded, from where, how big, under which licence.

The catalogue ships in the package (`filmstudio/assets/models.toml`); a mirror or a test can
load another file with `load_catalogue(path)`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from filmstudio.domain.errors import ModelNotFound

KINDS = ("voice", "picture", "translation", "video", "writer")
DEVICES = ("cpu", "cuda", "mps")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MD5 = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class ModelFile:
    """One file of a model repo. `size` is exact when the entry is verified, else an estimate."""

    path: str
    size: int
    sha256: str | None = None
    md5: str | None = None
    optional: bool = False  # a side file some exports lack: skipped when the hub has no such file


@dataclass(frozen=True)
class Licence:
    spdx: str
    url: str
    commercial_use: bool
    note: str = ""


@dataclass(frozen=True)
class ModelEntry:
    """A downloadable model: one revision-pinned repo on a Hugging Face-compatible hub."""

    id: str
    kind: str
    engine: str
    title: str
    repo: str
    revision: str
    files: tuple[ModelFile, ...]
    licence: Licence
    min_ram_mb: int
    min_vram_mb: int
    suits: tuple[str, ...]
    languages: tuple[str, ...] = ()
    verified: bool = False  # every size exact and every file with a published checksum
    repo_type: str = "model"
    sample_rate: int | None = None
    speakers: int | None = None
    gender: str | None = None
    notes: str = ""
    addon_for: tuple[str, ...] = ()  # an add-on (IP-Adapter, LoRA) for these picture models, not one itself

    @property
    def size(self) -> int:
        """Bytes to download (an estimate for unverified entries)."""
        return sum(f.size for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "engine": self.engine, "title": self.title,
            "repo": self.repo, "revision": self.revision, "size_bytes": self.size,
            "verified": self.verified, "languages": list(self.languages),
            "licence": {"spdx": self.licence.spdx, "url": self.licence.url,
                        "commercial_use": self.licence.commercial_use, "note": self.licence.note},
            "min_ram_mb": self.min_ram_mb, "min_vram_mb": self.min_vram_mb, "suits": list(self.suits),
            "sample_rate": self.sample_rate, "speakers": self.speakers, "gender": self.gender,
            "addon_for": list(self.addon_for),
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256, "md5": f.md5, "optional": f.optional}
                      for f in self.files],
        }


class Catalogue:
    """Entries by id, in catalogue order."""

    def __init__(self, entries: list[ModelEntry]) -> None:
        self._entries: dict[str, ModelEntry] = {}
        for entry in entries:
            if entry.id in self._entries:
                raise ValueError(f"model catalogue: duplicate id {entry.id!r}")
            self._entries[entry.id] = entry

    def __iter__(self) -> Iterator[ModelEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._entries

    def get(self, model_id: str) -> ModelEntry:
        """The entry for `model_id`, or ModelNotFound (MODEL_NOT_FOUND)."""
        try:
            return self._entries[model_id]
        except KeyError:
            raise ModelNotFound(f"no model {model_id!r} in the catalogue", details={"id": model_id}) from None

    def of_kind(self, kind: str) -> list[ModelEntry]:
        return [e for e in self if e.kind == kind]


def valid_id(model_id: str) -> bool:
    """A model id is also a folder name: letters, digits, `.`, `_`, `-`, not starting with `.`."""
    return bool(_ID.match(model_id))


def default_catalogue_path() -> Path:
    return Path(str(resources.files("filmstudio.assets") / "models.toml"))


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Parse and validate a catalogue TOML (default: the one shipped in the package)."""
    raw = tomllib.loads((path or default_catalogue_path()).read_text(encoding="utf-8"))
    return Catalogue([_entry(item) for item in raw.get("model", [])])


def _entry(item: dict[str, Any]) -> ModelEntry:
    model_id = str(item.get("id", ""))
    if not _ID.match(model_id):
        raise ValueError(f"model catalogue: bad id {model_id!r}")

    def need(key: str) -> Any:
        if key not in item:
            raise ValueError(f"model catalogue: {model_id}: missing {key!r}")
        return item[key]

    kind = need("kind")
    if kind not in KINDS:
        raise ValueError(f"model catalogue: {model_id}: kind {kind!r} is not one of {KINDS}")
    suits = tuple(need("suits"))
    if not suits or any(s not in DEVICES for s in suits):
        raise ValueError(f"model catalogue: {model_id}: suits {suits!r} must be some of {DEVICES}")
    lic = need("licence")
    licence = Licence(spdx=str(lic["spdx"]), url=str(lic["url"]), commercial_use=bool(lic["commercial_use"]),
                      note=str(lic.get("note", "")))
    files = tuple(_file(model_id, f) for f in need("files"))
    if not files:
        raise ValueError(f"model catalogue: {model_id}: no files")
    verified = bool(item.get("verified", False))
    if verified and any(f.sha256 is None and f.md5 is None for f in files):
        raise ValueError(f"model catalogue: {model_id}: verified, but a file has no checksum")
    return ModelEntry(
        id=model_id, kind=kind, engine=str(need("engine")), title=str(need("title")),
        repo=str(need("repo")), revision=str(need("revision")), files=files, licence=licence,
        min_ram_mb=int(need("min_ram_mb")), min_vram_mb=int(item.get("min_vram_mb", 0)), suits=suits,
        languages=tuple(item.get("languages", ())), verified=verified,
        repo_type=str(item.get("repo_type", "model")), sample_rate=item.get("sample_rate"),
        speakers=item.get("speakers"), gender=item.get("gender"), notes=str(item.get("notes", "")),
        addon_for=tuple(str(a) for a in item.get("addon_for", ())),
    )


def _file(model_id: str, f: dict[str, Any]) -> ModelFile:
    path = str(f.get("path", ""))
    if not path or path.startswith("/") or ".." in path.split("/") or "\\" in path:
        raise ValueError(f"model catalogue: {model_id}: bad file path {path!r}")
    size = int(f.get("size", 0))
    if size <= 0:
        raise ValueError(f"model catalogue: {model_id}: {path}: size must be positive")
    sha256, md5 = f.get("sha256"), f.get("md5")
    if sha256 is not None and not _SHA256.match(sha256):
        raise ValueError(f"model catalogue: {model_id}: {path}: sha256 must be 64 lowercase hex digits")
    if md5 is not None and not _MD5.match(md5):
        raise ValueError(f"model catalogue: {model_id}: {path}: md5 must be 32 lowercase hex digits")
    return ModelFile(path=path, size=size, sha256=sha256, md5=md5, optional=bool(f.get("optional", False)))
