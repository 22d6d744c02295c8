"""The content-addressed cache: keys over JSON-able parts and files, and outputs renamed into place when complete."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def content_key(*parts: Any) -> str:
    """A stable SHA-256 over JSON-able parts (paths hash by content)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            h.update(b"file:")
            with part.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
        elif isinstance(part, bytes):
            h.update(b"bytes:" + part)
        else:
            h.update(json.dumps(part, sort_keys=True, default=str, ensure_ascii=False).encode())
        h.update(b"\x00")
    return h.hexdigest()


@contextmanager
def atomic_output(final: Path) -> Iterator[Path]:
    """Yield a temp path beside `final`; on success fsync and rename it into place, else remove it."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.stem}.{os.getpid()}.{threading.get_ident()}.partial{final.suffix}")
    try:
        yield tmp
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


class Cache:
    """A content-addressed folder: `kind/<key><suffix>`. A present file is a finished file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, kind: str) -> Path:
        """The folder of one kind of entry (made if missing), for code that names its own files."""
        folder = self.root / kind
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def path(self, kind: str, key: str, suffix: str) -> Path:
        return self.folder(kind) / f"{key}{suffix}"
