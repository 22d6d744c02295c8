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
    qtbot.waitUntil(lambda: "3 credits" in editor.estimate.text(), timeout=10_000)
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
    qtbot.waitUntil(lambda: "SCRIPT_TOO_LONG" in editor.fit.text(), timeout=10_000)
    assert editor.fit.text().startswith("✗")
    editor.duration.setValue(300)
    qtbot.waitUntil(lambda: editor.fit.text().startswith("✓"), timeout=10_000)


def test_bad_setting_shows_readable_error_with_code(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    _new_project(desktop, qtbot)
    editor = desktop.window.editor
    qtbot.keyClicks(editor.subtitles, "en, xx")
    qtbot.waitUntil(lambda: "UNKNOWN_LANGUAGE" in editor.error.text(), timeout=10_000)
    assert "xx" in editor.error.text()
    assert editor.save_state.text() == "Not saved"
    # Generate refuses too, with the same code, and queues nothing.
    editor.generate()
    qtbot.waitUntil(lambda: editor.generate_button.isEnabled(), timeout=10_000)
    assert "UNKNOWN_LANGUAGE" in editor.error.text()
    assert desktop.backend.list_jobs() == []
