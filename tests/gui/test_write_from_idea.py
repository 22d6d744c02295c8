"""'Write from an idea' in the editor: the real writer engine on a fake local model server, the real app."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import Qt

from fakewriter import Reply, fake_writer_server, refused_url
from filmstudio.pipeline.providers.writer_server import ServerWriter
from gui.conftest import Desktop

DATA = Path(__file__).resolve().parents[1] / "data" / "writer"
GOOD = (DATA / "good-30.fountain").read_text(encoding="utf-8")
LONG = (DATA / "too-long-30.fountain").read_text(encoding="utf-8")
IDEA = "An old lighthouse keeper hands her lamp to a young engineer on her last night."


def _open(desktop: Desktop, qtbot, url: str) -> object:  # type: ignore[no-untyped-def]
    desktop.backend.engines = dataclasses.replace(desktop.backend.engines, writer=ServerWriter(url, stall_seconds=30))
    qtbot.keyClick(desktop.window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: desktop.window.editor.project is not None, timeout=10_000)
    editor = desktop.window.editor
    editor.duration.setValue(30)
    editor.idea_writer.idea.setText(IDEA)
    return editor


def test_the_screenplay_streams_in_and_is_one_undo_step(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    with fake_writer_server([Reply(LONG, stall_after=8, stall_seconds=1.0), Reply(GOOD)]) as fake:
        editor = _open(desktop, qtbot, fake.url)
        before = editor.script.toPlainText()
        qtbot.mouseClick(editor.idea_writer.write_button, Qt.MouseButton.LeftButton)
        # Part of the first answer is on screen while the model is still writing, Generate held.
        qtbot.waitUntil(lambda: editor.script.toPlainText() == LONG[:96], timeout=10_000)
        assert not editor.generate_button.isEnabled() and editor.idea_writer.stop_button.isEnabled()
        with qtbot.waitSignal(editor.idea_writer.finished, timeout=30_000) as done:
            pass
        assert done.args == ["done"] and len(fake.requests) == 2  # too long: asked again, then it fitted
    assert editor.script.toPlainText().strip() == GOOD.strip()
    assert "Written: \"The Keeper's Last Night\"" in editor.idea_writer.status.text()
    qtbot.waitUntil(lambda: editor.cast.characters() == ["MARA", "THEO"], timeout=10_000)
    qtbot.waitUntil(lambda: editor.save_state.text() == "Saved", timeout=10_000)
    assert desktop.backend.get_project(editor.project.project_id).script.strip() == GOOD.strip()
    editor.script.undo()  # the whole writing, both answers, is one step
    assert editor.script.toPlainText() == before


def test_stop_keeps_what_arrived(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    with fake_writer_server([Reply(GOOD, stall_after=10, stall_seconds=3.0)]) as fake:
        editor = _open(desktop, qtbot, fake.url)
        qtbot.mouseClick(editor.idea_writer.write_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: editor.script.toPlainText() == GOOD[:120], timeout=10_000)
        with qtbot.waitSignal(editor.idea_writer.finished, timeout=30_000) as done:
            qtbot.mouseClick(editor.idea_writer.stop_button, Qt.MouseButton.LeftButton)
    assert done.args == ["stopped"] and editor.script.toPlainText() == GOOD[:120]
    assert "Stopped" in editor.idea_writer.status.text() and editor.generate_button.isEnabled()


def test_no_writer_says_how_and_leaves_the_script(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    editor = _open(desktop, qtbot, refused_url())
    before = editor.script.toPlainText()
    with qtbot.waitSignal(editor.idea_writer.finished, timeout=30_000) as done:
        qtbot.mouseClick(editor.idea_writer.write_button, Qt.MouseButton.LeftButton)
    assert done.args == ["failed"] and editor.script.toPlainText() == before
    assert "ollama serve" in editor.idea_writer.status.text()
