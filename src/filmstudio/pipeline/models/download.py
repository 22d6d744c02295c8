"""`pull`: download one catalogue model into a ModelLibrary, resumably and checked.

Uses huggingface_hub's own HTTP pieces (`hf_hub_url`, `get_hf_file_metadata`, `http_get`) at
the entry's pinned revision, against the endpoint the caller gives (the settings' `pull_endpoint`:
FILMSTUDIO_MODEL_ENDPOINT, then HF_ENDPOINT), else the public hub. Not `hf_hub_download`:
since huggingface_hub 1.x it downloads into a process-unique temporary file that it deletes on
any failure, so a pull cut by a crash or `kill -9` would start again from byte 0. Here each
file streams into `<root>/.staging/<id>/<path>.part`, which the next pull (any process)
continues with an HTTP Range request. Nothing is fetched unless `pull` is called.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from filmstudio.domain.errors import (
    DiskFull,
    FilmStudioError,
    ModelCorrupt,
    ModelDownloadFailed,
    ModelPullInProgress,
)
from filmstudio.pipeline.models.catalogue import ModelEntry, ModelFile
from filmstudio.pipeline.models.library import ModelLibrary, file_digests
from filmstudio.pipeline.models.progress import (
    REPORT_SECONDS,
    Cancel,
    CancelFlag,
    Meter,
    Progress,
    check_cancel,
)

__all__ = ["CHUNK_BYTES", "Cancel", "CancelFlag", "Progress", "check_disk_space", "pull"]

CHUNK_BYTES = 256 * 1024  # progress and cancel granularity (huggingface_hub's default is 10 MiB)
DEFAULT_ENDPOINT = "https://huggingface.co"
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_PULL_STATE = ".pull.json"


@dataclass(frozen=True)
class RemoteFile:
    spec: ModelFile
    url: str  # where the bytes are (the hub's redirect target for large files)
    size: int
    etag: str
    commit: str | None  # the commit the hub served it from (X-Repo-Commit)
    same_host: bool  # False: a CDN, which must not receive the hub token


@dataclass(frozen=True)
class _Hub:
    build_hf_headers: Callable[..., dict[str, str]]
    hf_hub_url: Callable[..., str]
    get_hf_file_metadata: Callable[..., Any]
    http_get: Callable[..., None]


def pull(
    entry: ModelEntry,
    library: ModelLibrary,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    endpoint: str | None = None,
    token: str | bool | None = None,
    report_seconds: float = REPORT_SECONDS,
) -> Path:
    """Download, check and install `entry`; return its folder. Resumes a pull cut short before.

    Raises DiskFull before any byte is fetched, ModelCorrupt (the bad file deleted, nothing
    installed), Cancelled (partial files kept for the next pull), ModelPullInProgress,
    ModelDownloadFailed (network or hub errors).
    """
    done = library.path(entry.id)
    if done is not None:
        return done
    staging = library.staging_dir(entry.id)
    check_disk_space(entry, library)  # catalogue sizes: refuse before touching the network
    staging.mkdir(parents=True, exist_ok=True)
    with _PullLock(staging, entry.id):
        hub = _hub()
        base = (endpoint or DEFAULT_ENDPOINT).rstrip("/")
        headers = hub.build_hf_headers(token=token, library_name="filmstudio")
        # A branch name is resolved to a commit by the first answer, then every file comes from
        # that commit (and later pulls from the commit seen the first time).
        revision = entry.revision if _COMMIT.match(entry.revision) else (
            library.recorded_commit(entry) or entry.revision)
        remote: list[RemoteFile] = []
        for spec in entry.files:
            check_cancel(cancel)
            found = _metadata(hub, entry, spec, base, revision, headers)
            if found is not None:
                remote.append(found)
                revision = found.commit or revision
        _reset_if_other_revision(staging, revision)
        sizes = {f.path: 0 for f in entry.files} | {r.spec.path: r.size for r in remote}
        check_disk_space(entry, library, sizes=sizes)
        meter = Meter(total=sum(r.size for r in remote), progress=progress, cancel=cancel,
                      every=report_seconds)
        expected = library.recorded_hashes(entry)
        hashes: dict[str, str] = {}
        for item in remote:
            check_cancel(cancel)
            dest = staging / item.spec.path
            if not dest.is_file():
                _fetch(hub, entry, item, dest, headers, meter)
            hashes[item.spec.path] = _checked(entry, item.spec, dest, expected.get(item.spec.path))
            meter.file_done(item.size)
        (staging / _PULL_STATE).unlink(missing_ok=True)
        return library.install(entry, staging, hashes, commit=revision)


def _reset_if_other_revision(staging: Path, revision: str) -> None:
    """Bytes staged for another revision are never mixed into this one."""
    state = staging / _PULL_STATE
    try:
        seen = json.loads(state.read_text(encoding="utf-8")).get("revision")
    except (OSError, ValueError):
        seen = None
    if seen not in (None, revision) or (seen is None and any(staging.iterdir())):
        shutil.rmtree(staging)
        staging.mkdir(parents=True)
    state.write_text(json.dumps({"revision": revision}), encoding="utf-8")


def check_disk_space(entry: ModelEntry, library: ModelLibrary, *, sizes: dict[str, int] | None = None) -> None:
    """DiskFull unless the bytes still to download fit on the library's disk."""
    staging = library.staging_dir(entry.id)
    needed = 0
    for f in entry.files:
        size = (sizes or {}).get(f.path, f.size)
        have = _size(staging / f.path) if (staging / f.path).is_file() else _size(_part(staging / f.path))
        needed += max(size - have, 0)
    probe = library.root
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed:
        raise DiskFull(
            f"{entry.title} needs {needed / 1e6:,.1f} MB more; {probe} has {free / 1e6:,.1f} MB free",
            details={"id": entry.id, "needed_bytes": needed, "available_bytes": free, "path": str(probe)},
        )


def _hub() -> _Hub:
    # Plain HTTP to the endpoint only: no Xet transfer protocol, no telemetry.
    os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers

    if constants.DOWNLOAD_CHUNK_SIZE > CHUNK_BYTES:
        constants.DOWNLOAD_CHUNK_SIZE = CHUNK_BYTES
    return _Hub(build_hf_headers, hf_hub_url, get_hf_file_metadata, http_get)


def _metadata(hub: _Hub, entry: ModelEntry, spec: ModelFile, base: str, revision: str,
              headers: dict[str, str]) -> RemoteFile | None:
    """What the hub says about one file; None for an optional file it does not have."""
    url = hub.hf_hub_url(entry.repo, spec.path, repo_type=entry.repo_type, revision=revision, endpoint=base)
    try:
        meta = hub.get_hf_file_metadata(url, headers=headers, endpoint=base, retry_on_errors=True)
    except Exception as exc:
        if spec.optional and type(exc).__name__ == "RemoteEntryNotFoundError":
            return None
        raise _download_error(entry, spec.path, exc) from exc
    size = meta.size if meta.size is not None else spec.size
    if entry.verified and size != spec.size:
        raise ModelCorrupt(f"{spec.path}: the hub says {size} bytes, the catalogue {spec.size}",
                           details={"id": entry.id, "file": spec.path, "expected_size": spec.size,
                                    "actual_size": size})
    location = str(meta.location or url)
    commit = meta.commit_hash if _COMMIT.match(str(meta.commit_hash or "")) else None
    if commit and commit != revision and location == url:  # fetch the bytes of the commit just named
        location = hub.hf_hub_url(entry.repo, spec.path, repo_type=entry.repo_type, revision=commit, endpoint=base)
    return RemoteFile(spec=spec, url=location, size=int(size), etag=str(meta.etag or ""), commit=commit,
                      same_host=urlparse(location).netloc == urlparse(url).netloc)


def _fetch(hub: _Hub, entry: ModelEntry, item: RemoteFile, dest: Path, headers: dict[str, str],
           meter: Meter) -> None:
    part, tag = _part(dest), dest.with_name(dest.name + ".etag")
    part.parent.mkdir(parents=True, exist_ok=True)
    if part.exists() and (not tag.exists() or tag.read_text(encoding="utf-8") != item.etag):
        part.unlink()  # a different file version: its bytes cannot be continued
    tag.write_text(item.etag, encoding="utf-8")
    if _size(part) > item.size:
        part.unlink()
    get_headers = {k: v for k, v in headers.items() if item.same_host or k.lower() != "authorization"}
    try:
        with part.open("ab") as fh:
            resume = fh.tell()
            hub.http_get(item.url, fh, resume_size=resume, headers=get_headers, expected_size=item.size,
                         tqdm_class=meter.bar_class(), displayed_filename=item.spec.path)
    except FilmStudioError:
        raise
    except Exception as exc:
        raise _download_error(entry, item.spec.path, exc) from exc
    os.replace(part, dest)
    tag.unlink(missing_ok=True)


def _checked(entry: ModelEntry, spec: ModelFile, dest: Path, recorded: str | None) -> str:
    """The file's sha256 once it matches what is known; else delete it and raise ModelCorrupt."""
    sha, md5 = file_digests(dest)
    want_sha = spec.sha256 or recorded
    if (want_sha and sha != want_sha) or (spec.md5 and md5 != spec.md5):
        dest.unlink(missing_ok=True)
        expected = {"sha256": want_sha} if want_sha else {"md5": spec.md5}
        raise ModelCorrupt(f"{spec.path} does not match its checksum; it was deleted and nothing installed",
                           details={"id": entry.id, "file": spec.path, "expected": expected, "sha256": sha,
                                    "md5": md5})
    return sha


def _download_error(entry: ModelEntry, path: str, exc: Exception) -> FilmStudioError:
    name = type(exc).__name__
    return ModelDownloadFailed(f"could not download {entry.repo}@{entry.revision}/{path}: {name}: {exc}",
                               details={"id": entry.id, "file": path, "error": name})


def _part(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class _PullLock:
    """One pull per model folder at a time, across processes (released by the OS on kill -9)."""

    def __init__(self, staging: Path, model_id: str) -> None:
        self._path, self._id = staging.with_name(staging.name + ".lock"), model_id
        self._lock: Any = None

    def __enter__(self) -> None:
        from filelock import FileLock, Timeout

        self._lock = FileLock(str(self._path), timeout=0)
        try:
            self._lock.acquire()
        except Timeout:
            raise ModelPullInProgress(f"model {self._id!r} is being pulled by another process",
                                      details={"id": self._id}) from None

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.release()  # the file stays: unlinking it would let two pullers hold two inodes
