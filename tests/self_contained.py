"""Nothing the tests run may read the folders beside the checkout (the shared design folder): a bare clone has none."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

roots: list[str] = []  # the folders refused, each ending in os.sep


def beside(repo: Path) -> list[str]:
    """The folders beside the checkout, less any that hold it or the temp folder, and any inside the temp
    folder (a checkout in /tmp: its siblings there are scratch space, pytest's own basetemp among them)."""
    parent = repo.parent
    if parent == Path(parent.anchor):  # a checkout at the root: its siblings are the system's folders
        return []
    temp = Path(tempfile.gettempdir()).resolve()
    out = []
    for entry in parent.iterdir():
        resolved = entry.resolve()
        if resolved == repo or temp.is_relative_to(resolved) or repo.is_relative_to(resolved) \
                or resolved.is_relative_to(temp):
            continue
        out.append(str(resolved) + os.sep)
    return out


def _refuse(event: str, args: tuple[object, ...]) -> None:
    # An audit hook, so a test (or the code it drives) that opens a sibling folder fails where it does,
    # exactly as it would in a bare clone where that folder does not exist.
    if event != "open" or not roots or not isinstance(args[0], str | bytes | os.PathLike):
        return
    path = os.path.abspath(os.fsdecode(args[0]))
    if path.startswith(tuple(roots)):
        raise PermissionError(f"a test read outside the repository: {path} (copy what it needs into tests/data/)")


def install(repo: Path) -> None:
    roots[:] = beside(repo)
    sys.addaudithook(_refuse)
