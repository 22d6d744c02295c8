"""Backing up and restoring a studio's data folder while (backup) or only while not (restore) it is served.

A backup is a folder: `studio.db` and `queue.db` copied with SQLite's online backup API (one read
transaction each, so a consistent snapshot even while the server writes: WAL readers never block
writers), the films under `media/`, `secrets.json` when the file secrets backend is used, and
`backup.json` listing every database with its size and sha256. Restore checks all of that first,
moves the current data aside into `<home>/pre-restore-<time>/` (nothing is deleted) and copies
the backup in. Processes that serve a home (serve, worker, the app) hold a shared lock on
`<home>/studio.lock`; restore takes it exclusively, so it refuses while any of them runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from filmstudio.domain.errors import FilmStudioError
from filmstudio.store.db import integrity, snapshot

DATABASES: tuple[str, ...] = ("studio.db", "queue.db")
SECRETS_FILE = "secrets.json"
MEDIA_DIR = "media"
MANIFEST = "backup.json"
LOCK_FILE = "studio.lock"
FORMAT = 1


@dataclass(frozen=True)
class BackupReport:
    """What a backup holds."""

    path: Path
    databases: tuple[str, ...]
    media_files: int
    total_bytes: int


@dataclass(frozen=True)
class RestoreReport:
    """What a restore brought back, and where the data it replaced went."""

    home: Path
    databases: tuple[str, ...]
    media_files: int
    previous: Path | None  # the replaced data, moved aside; None when the home was empty


# -- the home lock -----------------------------------------------------------------------------


def _flock(fh: IO[str], exclusive: bool) -> bool:
    """Try to lock `fh` without waiting; True when taken (always True where flock does not exist)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory flock; restore's docs say to stop the studio first
        return True
    try:
        fcntl.flock(fh.fileno(), (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def holding_home(home: Path) -> Iterator[None]:
    """Held by every process that serves `home` for its whole life, so restore can see it is in use."""
    home.mkdir(parents=True, exist_ok=True)
    with (home / LOCK_FILE).open("a") as fh:
        if not _flock(fh, exclusive=False):
            raise FilmStudioError(f"{home} is being restored; start the studio again when that is done",
                                  code="STORE_RESTORING", details={"home": str(home)})
        yield  # closing the file releases the lock, also when the process dies


@contextlib.contextmanager
def _owning_home(home: Path) -> Iterator[None]:
    home.mkdir(parents=True, exist_ok=True)
    with (home / LOCK_FILE).open("a") as fh:
        if not _flock(fh, exclusive=True):
            raise FilmStudioError(
                f"a FilmStudio server, worker or app is using {home}; stop it, then restore",
                code="STORE_IN_USE", details={"home": str(home)},
            )
        yield


def home_in_use(home: Path) -> bool:
    """True while a serve, worker or app process holds `home`."""
    if not (home / LOCK_FILE).exists():
        return False
    try:
        with _owning_home(home):
            return False
    except FilmStudioError:
        return True


# -- backup ----------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _copy_media(source: Path, target: Path) -> int:
    """Copy finished files only: `.name.partial` temp files are renders still being written."""
    count = 0
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.name.startswith(".") or ".partial" in path.name:
            continue
        dest = target / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
        count += 1
    return count


def backup_home(home: Path, dest: Path, *, media: bool = True) -> BackupReport:
    """Write a consistent backup of `home` to the new folder `dest` (safe while the studio runs)."""
    if not (home / DATABASES[0]).exists():
        raise FilmStudioError(f"no studio database in {home}", code="STORE_NOT_FOUND", details={"home": str(home)})
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise FilmStudioError(f"{dest} already exists; name a new folder", code="BACKUP_EXISTS",
                              details={"path": str(dest)})
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Built beside `dest` and renamed at the end: a backup folder that exists is a complete one.
    partial = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    try:
        files: dict[str, dict[str, Any]] = {}
        # studio.db first: the jobs table is the truth, and queued jobs are re-enqueued at start anyway.
        for name in DATABASES:
            if (home / name).exists():
                snapshot(home / name, partial / name)
                if (status := integrity(partial / name)) != "ok":
                    raise FilmStudioError(f"the copy of {name} is damaged: {status}", code="BACKUP_FAILED")
                files[name] = {"bytes": (partial / name).stat().st_size, "sha256": _sha256(partial / name)}
        media_files = _copy_media(home / MEDIA_DIR, partial / MEDIA_DIR) if media and (home / MEDIA_DIR).is_dir() else 0
        if (home / SECRETS_FILE).exists():
            shutil.copy2(home / SECRETS_FILE, partial / SECRETS_FILE)
            os.chmod(partial / SECRETS_FILE, 0o600)
        manifest = {
            "format": FORMAT, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": str(home), "databases": files, "media_files": media_files,
            "secrets_file": (partial / SECRETS_FILE).exists(),
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if dest.exists():
            dest.rmdir()
        os.replace(partial, dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    total = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    return BackupReport(dest, tuple(files), media_files, total)


# -- restore ---------------------------------------------------------------------------------


def read_manifest(backup: Path) -> dict[str, Any]:
    """The backup's manifest after checking every database in it is whole and unchanged."""
    try:
        manifest: dict[str, Any] = json.loads((backup / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FilmStudioError(f"{backup} is not a FilmStudio backup (no readable {MANIFEST})",
                              code="BACKUP_INVALID", details={"path": str(backup)}) from exc
    if manifest.get("format") != FORMAT or DATABASES[0] not in manifest.get("databases", {}):
        raise FilmStudioError(f"{backup} has an unknown backup format", code="BACKUP_INVALID",
                              details={"path": str(backup), "format": manifest.get("format")})
    for name, info in manifest["databases"].items():
        path = backup / name
        if not path.exists() or _sha256(path) != info["sha256"]:
            raise FilmStudioError(f"{name} in {backup} is missing or changed since the backup",
                                  code="BACKUP_CORRUPT", details={"file": name})
        if (status := integrity(path)) != "ok":
            raise FilmStudioError(f"{name} in {backup} is damaged: {status}", code="BACKUP_CORRUPT",
                                  details={"file": name})
    return manifest


def _move_aside(home: Path) -> Path | None:
    """Move the current databases (with their -wal/-shm), media and secrets file into one folder."""
    names = [f"{db}{suffix}" for db in DATABASES for suffix in ("", "-wal", "-shm")] + [MEDIA_DIR, SECRETS_FILE]
    present = [n for n in names if (home / n).exists()]
    if not present:
        return None
    aside = home / f"pre-restore-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}"
    aside.mkdir()
    for name in present:
        os.replace(home / name, aside / name)
    return aside


def restore_home(backup: Path, home: Path) -> RestoreReport:
    """Bring `backup` back into `home`; refuses while the studio runs. The replaced data is kept aside."""
    manifest = read_manifest(backup)
    home.mkdir(parents=True, exist_ok=True)
    with _owning_home(home):
        previous = _move_aside(home)
        for name in manifest["databases"]:
            tmp = home / f".{name}.restore"
            shutil.copy2(backup / name, tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, home / name)
        media_files = _copy_media(backup / MEDIA_DIR, home / MEDIA_DIR) if (backup / MEDIA_DIR).is_dir() else 0
        if (backup / SECRETS_FILE).exists():
            shutil.copy2(backup / SECRETS_FILE, home / SECRETS_FILE)
            os.chmod(home / SECRETS_FILE, 0o600)
    return RestoreReport(home, tuple(manifest["databases"]), media_files, previous)
