"""The SQL lives in `store/`: no module outside it holds an SQL statement (an AST scan of string literals)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import filmstudio

# An SQL statement as the code writes one: an upper-case keyword first, then its body.
_SQL = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|PRAGMA|BEGIN|COMMIT|ROLLBACK|WITH)\s"
                  r"[\s\S]*\b(FROM|INTO|SET|TABLE|INDEX|IMMEDIATE|=|AS|journal_mode|integrity_check|busy_timeout)\b")
_ALLOWED: dict[str, str] = {}  # module -> why it may hold SQL (none today)


def sql_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of each string literal (f-string parts joined) that reads as an SQL statement."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if _SQL.match(text):
            found.append((node.lineno, text.strip()[:60]))
    return found


def test_no_sql_outside_the_store() -> None:
    root = Path(filmstudio.__file__).parent
    outside = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("store/") or rel in _ALLOWED:
            continue
        if found := sql_literals(path.read_text(encoding="utf-8")):
            outside[rel] = found
    assert outside == {}


@pytest.mark.parametrize("source", [
    'q = "SELECT id FROM jobs WHERE kind = ?"\n',
    'q = ("UPDATE accounts SET plan = ? " "WHERE id = ?")\n',
    'q = f"SELECT * FROM {table} WHERE id = ?"\n',
    'q = """\n    INSERT INTO webhooks (id) VALUES (?)\n"""\n',
    'db.execute("PRAGMA integrity_check")\n',
    'db.execute("DELETE FROM idempotency_keys WHERE created_at < ?")\n',
])
def test_the_scan_finds_sql(source: str) -> None:
    assert sql_literals(source)


@pytest.mark.parametrize("source", [
    'm = "Select a voice from the list"\n', 'm = "UPDATE the app to see this"\n', 'h = "DELETE"\n',
    'm = "the update failed"\n',
])
def test_the_scan_leaves_prose_alone(source: str) -> None:
    assert sql_literals(source) == []
