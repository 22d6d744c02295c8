"""docs/architecture.md's "Studio client" audit names every public method of the desktop's Backend,
so the remote client's author sees which endpoint serves each (or why it stays on the laptop)."""

from __future__ import annotations

import inspect
from pathlib import Path

from filmstudio.desktop.backend import Backend

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def test_every_backend_method_is_in_the_studio_client_audit() -> None:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## Studio client")
    section = text[start:text.index("\n## ", start + 1)]
    table = [line for line in section.splitlines() if line.startswith("| `")]
    named = {part.strip().strip("`").split("(")[0] for line in table for part in line.split("|")[1].split(",")}
    public = {name for name, _ in inspect.getmembers(Backend) if not name.startswith("_")}
    assert len(table) >= 25
    assert public - named == set(), "add these to the audit table in docs/architecture.md"
