"""The app's main flows on both backends: this computer's studio, and a `filmstudio serve` on loopback.

Open a project, edit its script, save it (the studio has the text), generate a small film with the
real pipeline, see it in the preview, load the storyboard page. The remote run talks to a real
server process over HTTP (its own home folder and file secrets, a key made for it); nothing is shared
with the local run but the test code.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from filmstudio.desktop.app import app_settings, build_window
from filmstudio.desktop.window import MainWindow
from gui.conftest import SCRIPT, SMALL, Desktop, type_text
from gui.studio_server import StudioServer, studio_server  # noqa: F401  (the fixture)


@dataclass
class Studio:
    kind: str  # "local" or "remote"
    window: MainWindow
    backend: Any


def remote_window(qtbot, server: StudioServer, tmp_path: Path, name: str = "app") -> tuple[MainWindow, Any]:  # type: ignore[no-untyped-def]
    from filmstudio.desktop.remote import RemoteBackend

    backend = RemoteBackend(server.url, server.key, cache_dir=tmp_path / f"{name}-cache")
    window = build_window(backend, app_settings(tmp_path / f"{name}.ini"))
    qtbot.addWidget(window)
    window.ask_unsaved = lambda _text: QMessageBox.StandardButton.Discard  # type: ignore[method-assign]
    window.show()
    return window, backend


def close_window(window: MainWindow, backend: Any) -> None:
    window.close()
    window.tasks.shutdown()
    backend.close()


@pytest.fixture(params=["local", "remote"])
def studio(request: pytest.FixtureRequest, qtbot, tmp_path: Path) -> Iterator[Studio]:  # type: ignore[no-untyped-def]
    if request.param == "local":
        desktop: Desktop = request.getfixturevalue("desktop")
        yield Studio("local", desktop.window, desktop.backend)
        return
    server: StudioServer = request.getfixturevalue("studio_server")
    window, backend = remote_window(qtbot, server, tmp_path)
    try:
        yield Studio("remote", window, backend)
    finally:
        close_window(window, backend)


def _open(qtbot, studio: Studio, project_id: str) -> None:  # type: ignore[no-untyped-def]
    studio.window.show_page("Projects")
    projects = studio.window.projects
    qtbot.waitUntil(lambda: project_id in [p.project_id for p in projects.projects], timeout=20_000)
    studio.window.open_project(project_id)
    editor = studio.window.editor
    qtbot.waitUntil(lambda: editor.project is not None and editor.project.project_id == project_id, timeout=20_000)


def test_open_edit_save(qtbot, studio: Studio) -> None:  # type: ignore[no-untyped-def]
    made = studio.backend.create_project(f"Edited {studio.kind}", SCRIPT, SMALL)
    _open(qtbot, studio, made.project_id)
    editor = studio.window.editor
    assert editor.title.text() == f"Edited {studio.kind}" and editor.script.toPlainText() == SCRIPT
    qtbot.waitUntil(lambda: editor.cast.characters() == ["MAYA", "OLD TOM"], timeout=20_000)
    editor.script.moveCursor(editor.script.textCursor().MoveOperation.End)
    type_text(qtbot, editor.script, "\nMAYA\nThen we go tonight.")
    studio.window.actions_by_name["Save"].trigger()
    qtbot.waitUntil(lambda: editor.save_state.text() == "Saved", timeout=20_000)
    assert studio.backend.get_project(made.project_id).script.endswith("MAYA\nThen we go tonight.")
    assert studio.window.studio_label.text().startswith("This computer" if studio.kind == "local" else "127.0.0.1")


@pytest.mark.slow
def test_generate_and_preview(qtbot, studio: Studio, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    made = studio.backend.create_project(f"Rendered {studio.kind}", SCRIPT, SMALL)
    _open(qtbot, studio, made.project_id)
    editor = studio.window.editor
    editor.generate()
    qtbot.waitUntil(lambda: editor.job is not None and editor.job.status in ("completed", "failed", "cancelled"),
                    timeout=300_000)
    assert editor.job is not None and editor.job.status == "completed", editor.job
    preview = studio.window.preview
    qtbot.waitUntil(lambda: studio.window.stack.currentWidget() is preview, timeout=20_000)
    qtbot.waitUntil(lambda: preview.player.duration() > 0, timeout=60_000)
    assert abs(preview.player.duration() / 1000 - SMALL["duration"]) < 0.5
    source = preview.player.source()
    assert source.isLocalFile() == (studio.kind == "local")  # remote: streamed from the signed link
    target = tmp_path / "exported.mp4"
    preview.export_to(target)
    qtbot.waitUntil(lambda: "Exported" in preview.message.text(), timeout=60_000)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                            str(target)], capture_output=True, text=True, check=True)
    assert abs(float(probe.stdout) - SMALL["duration"]) < 0.5
    # The storyboard page loads the project's shots from the same studio.
    studio.window.show_page("Storyboard")
    board = studio.window.storyboard
    qtbot.waitUntil(lambda: board.project_id == made.project_id and len(board.cards) >= 1, timeout=30_000)
