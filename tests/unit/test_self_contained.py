"""The repository tests itself: nothing in tests/, bench/, scripts/ or the entry points reads outside it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECKED = ["tests", "bench", "scripts", "studio", ".ci", "packaging"]
# A path built from the checkout's location that climbs out of it: a sibling folder, `REPO.parent`,
# `Path(__file__).parents[N]` with N past the repository's root.
SIBLING = re.compile(r"\.\./shared|REPO\.parent|ROOT\.parent|/work/shared")
PARENTS = re.compile(r"Path\(__file__\)(?:\.resolve\(\))?\.parents\[(\d+)\]")


def _files() -> list[Path]:
    out: list[Path] = []
    for name in CHECKED:
        root = REPO / name
        if root.is_file():
            out.append(root)
        elif root.is_dir():
            out += [p for p in root.rglob("*") if p.is_file() and p.suffix in {".py", ".sh", ""} and ".venv" not in p.parts]
    return out


def test_no_file_builds_a_path_outside_the_repository() -> None:
    offenders = []
    for path in _files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        depth = len(path.relative_to(REPO).parts) - 1  # parents[depth] is the repository's root
        for number, line in enumerate(text.splitlines(), 1):
            if path.name == "test_self_contained.py":
                continue
            if SIBLING.search(line) and "startswith" not in line:
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
            for match in PARENTS.finditer(line):
                if int(match.group(1)) > depth:
                    offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not offenders, "paths outside the repository:\n" + "\n".join(offenders)


def test_the_audit_hook_refuses_a_read_beside_the_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import self_contained  # type: ignore[import-not-found]

    outside = tmp_path / "shared"
    outside.mkdir()
    (outside / "sample.txt").write_text("x")
    monkeypatch.setattr(self_contained, "roots", [*self_contained.roots, str(outside) + os.sep])
    with pytest.raises(PermissionError, match="outside the repository"):
        (outside / "sample.txt").read_text()
    (tmp_path / "inside.txt").write_text("fine")  # a test's own temp folder is never refused
    assert (tmp_path / "inside.txt").read_text() == "fine"


@pytest.mark.slow
def test_a_bare_clone_collects_every_test(tmp_path: Path) -> None:
    """`git clone` alone, no sibling folders beside it: the whole suite collects with no error."""
    if subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True).returncode:
        pytest.skip("not a git checkout")
    clone = tmp_path / "alone" / "filmstudio"
    clone.parent.mkdir()
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(clone)], check=True)
    # The working tree's uncommitted test files travel too, so a developer checks what they will commit.
    for path in (REPO / "tests").rglob("*"):
        target = clone / path.relative_to(REPO)
        if path.is_file() and "__pycache__" not in path.parts and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    env = {**os.environ, "PYTHONPATH": str(clone / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=clone, env=env, capture_output=True, text=True, timeout=300,
    )
    tail = done.stdout[-3000:] + done.stderr[-2000:]
    assert done.returncode == 0, tail
    assert re.search(r"\b\d{3,} tests collected", done.stdout), tail
    assert "error" not in done.stdout.splitlines()[-1].lower(), tail


def test_the_guard_refuses_the_folders_beside_the_checkout_but_not_the_temp_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from self_contained import beside

    work = tmp_path / "work"
    (work / "main").mkdir(parents=True)
    (work / "shared").mkdir()
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path / "elsewhere"))
    assert beside((work / "main").resolve()) == [f"{(work / 'shared').resolve()}{os.sep}"]
    # A checkout inside the temp folder (a clone in /tmp): its siblings there are scratch space,
    # pytest's own basetemp among them.
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(work))
    assert beside((work / "main").resolve()) == []
