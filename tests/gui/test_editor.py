"""The editor against the real studio: Fountain typed in, cast table, credits, fit check, autosave, errors."""

from __future__ import annotations

from PySide6.QtCore import Qt

from gui.conftest import SCRIPT, Desktop, type_text


def _new_project(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(desktop.window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: desktop.window.editor.project is not None, timeout=10_000)
    assert desktop.window.stack.currentWidget() is desktop.window.editor


def test_typed_script_fills_cast_table_and_autosaves(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    _new_project(desktop, qtbot)
    editor = desktop.window.editor
    editor.title.clear()
    qtbot.keyClicks(editor.title, "The Key")
    editor.script.clear()
    editor.script.setFocus()
    type_text(qtbot, editor.script, SCRIPT)

    qtbot.waitUntil(lambda: editor.cast.characters() == ["MAYA", "OLD TOM"], timeout=10_000)
    # Each row has a voice cast from the real casting code.
    assert all(editor.cast.item(r, 4).text() for r in range(2))
    editor.duration.setValue(45)
    qtbot.waitUntil(lambda: editor.last_check is not None and editor.last_check.credits == 3, timeout=10_000)
    qtbot.waitUntil(lambda: editor.fit.text().startswith("✓"), timeout=10_000)

    # A choice in the cast table becomes a characters[] spec in the saved settings.
    age_box = editor.cast.cellWidget(1, 1)
    age_box.setCurrentText("elderly")
    pid = editor.project.project_id
    qtbot.waitUntil(lambda: editor.save_state.text() == "Saved", timeout=10_000)
    saved = desktop.backend.get_project(pid)
    assert saved.title == "The Key"
    assert saved.script == SCRIPT
    assert saved.settings["duration"] == 45
    assert [(c["name"], c["age"]) for c in saved.settings["characters"]] == [("OLD TOM", "elderly")]


def test_too_long_script_says_so_before_generate(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    _new_project(desktop, qtbot)
    editor = desktop.window.editor
    editor.duration.setValue(5)
    long_speech = " ".join(["The tide came in over the old stones and nobody saw it."] * 20)
    editor.script.setPlainText(f"INT. PIER - DAWN\n\nMAYA\n{long_speech}\n")
    qtbot.waitUntil(lambda: editor.fit.text().startswith("✗"), timeout=10_000)
    assert "SCRIPT_TOO_LONG" not in editor.fit.text() and editor.fit.toolTip() == "Details: SCRIPT_TOO_LONG"
    editor.duration.setValue(300)
    qtbot.waitUntil(lambda: editor.fit.text().startswith("✓"), timeout=10_000)


def test_invalid_field_is_marked_the_rest_saved(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    """An empty script no longer blocks the title from saving; the problem is said once, in words."""
    _new_project(desktop, qtbot)
    editor = desktop.window.editor
    pid = editor.project.project_id
    editor.title.clear()
    qtbot.keyClicks(editor.title, "Kept title")
    editor.script.clear()
    qtbot.waitUntil(lambda: editor.save_state.text() == "Saved, except the marked fields", timeout=10_000)
    assert desktop.backend.get_project(pid).title == "Kept title"
    assert "script" in editor.problems and editor.script.styleSheet() != ""
    # The fit line says the script is empty; the error line does not repeat it.
    qtbot.waitUntil(lambda: editor.fit.text().startswith("✗"), timeout=10_000)
    assert "SCRIPT_EMPTY" not in editor.fit.text() and editor.error.text() == ""
    # Generate refuses and queues nothing.
    editor.generate()
    qtbot.waitUntil(lambda: editor.progress.step.text().startswith("Not started"), timeout=10_000)
    assert editor.generate_button.isEnabled()
    assert desktop.backend.list_jobs() == []
