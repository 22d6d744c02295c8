"""Issue 10, "the desktop's first hour": work never lost, errors in words, languages that work, a laptop screen."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from filmstudio.desktop.subtitles import MISSING, READY_GIVEN, READY_SCRIPT
from gui.conftest import SCRIPT, SCRIPT_ES, SMALL, Desktop


def _open(desktop: Desktop, qtbot, title: str = "First hour", settings: dict | None = None):  # type: ignore[no-untyped-def,type-arg]
    made = desktop.backend.create_project(title, SCRIPT, settings or SMALL)
    desktop.window.open_project(made.project_id)
    editor = desktop.window.editor
    qtbot.waitUntil(lambda: editor.project is not None and editor.project.project_id == made.project_id,
                    timeout=10_000)
    return editor


def test_editor_without_project_is_off_with_a_call_to_action(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    window = desktop.window
    window.show_page("Editor")
    editor = window.editor
    assert not editor.script.isEnabled() and not editor.title.isEnabled()  # nothing typed is thrown away
    assert editor.no_project.isVisible() and editor.new_button.isVisible()
    qtbot.mouseClick(editor.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: editor.project is not None, timeout=10_000)
    assert editor.script.isEnabled() and not editor.no_project.isVisible()


def test_close_with_unsaved_work_asks_and_cancel_keeps_the_window(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    window = desktop.window
    editor = _open(desktop, qtbot)
    editor.script.clear()  # cannot be saved
    qtbot.waitUntil(lambda: "script" in editor.problems, timeout=10_000)
    asked: list[str] = []

    def cancel(text: str) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.Cancel

    window.ask_unsaved = cancel  # type: ignore[method-assign]
    window.close()
    assert asked and "Script" in asked[0]
    assert window.isVisible()
    # Save: what is valid was written, the window closes.
    window.ask_unsaved = lambda _t: QMessageBox.StandardButton.Save  # type: ignore[method-assign]
    window.close()
    assert not window.isVisible()
    assert desktop.backend.get_project(editor.project.project_id).script == SCRIPT  # the stored one stays


def test_subtitle_checklist_says_which_languages_will_work(desktop: Desktop, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    editor = _open(desktop, qtbot, settings={**SMALL, "subtitle_languages": ["en", "fr"]})
    subs = editor.subtitles
    qtbot.waitUntil(lambda: subs.states.get("en") == READY_SCRIPT, timeout=10_000)
    assert subs.checked() == ["en", "fr"]
    assert subs.states["fr"] == MISSING and "fr" in subs.hint.text()
    # Add a translation from a file: Spanish is ticked, ready, and saved into settings.translations.
    translated = tmp_path / "la-llave.fountain"
    translated.write_text(SCRIPT_ES, encoding="utf-8")
    editor.add_translation_file("es", translated)
    qtbot.waitUntil(lambda: subs.states.get("es") == READY_GIVEN, timeout=10_000)
    assert "es" in subs.checked()
    qtbot.waitUntil(lambda: editor.save_state.text() == "Saved", timeout=10_000)
    saved = desktop.backend.get_project(editor.project.project_id).settings
    assert saved["translations"] == {"es": SCRIPT_ES} and saved["subtitle_languages"] == ["en", "es", "fr"]


def test_fits_a_laptop_screen_and_has_menus(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    window = desktop.window
    editor = _open(desktop, qtbot)
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 640, hint
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: editor.cast.rowCount() == 2, timeout=10_000)
    qtbot.wait(50)
    row = editor.cast.rowHeight(0)
    shown = editor.cast.viewport().visibleRegion().boundingRect().height()  # on screen, not scrolled away
    assert shown >= 3 * row, (shown, row)
    window.resize(1024, 640)
    qtbot.wait(50)
    assert window.width() <= 1024 and window.height() <= 640
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["File", "Film", "View"]
    shortcuts = {name: a.shortcut().toString() for name, a in window.actions_by_name.items()}
    assert shortcuts["New project"] == "Ctrl+N" and shortcuts["Save"] == "Ctrl+S"
    assert shortcuts["Generate"] == "Ctrl+Return" and shortcuts["Quit"] == "Ctrl+Q"
    assert shortcuts["Preview"] == "Ctrl+3"


def test_honest_numbers_for_the_owner(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    one = "Title: Solo\n\nINT. ROOM - DAY\n\nMAYA\nAlone at last.\n"
    made = desktop.backend.create_project("Solo", one, SMALL)
    desktop.window.open_project(made.project_id)
    editor = desktop.window.editor
    qtbot.waitUntil(lambda: "scene" in editor.estimate.text(), timeout=10_000)
    assert editor.estimate.text() == "1 scene · 1 character"  # no credits for the unlimited owner
    jobs = desktop.window.jobs
    assert jobs.table.isColumnHidden(6)


def test_jobs_table_words_and_refunds(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    from filmstudio.desktop.progress import step_words

    assert step_words("voice_synthesis") == "voice synthesis"
    desktop.backend.unlimited = False  # as a metered account would see it
    made = desktop.backend.create_project("Refunded", SCRIPT, SMALL)
    job = desktop.backend.generate(made.project_id)
    desktop.backend.cancel_job(job.job_id)
    qtbot.waitUntil(lambda: desktop.backend.get_job(job.job_id).status == "cancelled", timeout=60_000)
    jobs = desktop.window.jobs
    jobs.refresh()
    qtbot.waitUntil(lambda: bool(jobs.jobs) and jobs.jobs[0].status == "cancelled", timeout=10_000)
    assert jobs.table.item(0, 1).text() == "cancelled, refunded"
    step = jobs.table.item(0, 2).text()
    assert "_" not in step


def test_revoke_asks_and_revoked_keys_have_no_buttons(desktop: Desktop, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    window = desktop.window
    page = window.api
    window.show_page("API")
    desktop.backend.create_key("laptop")
    page.refresh()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=10_000)
    page.table.selectRow(0)
    assert page.revoke_button.isEnabled() and page.rotate_button.isEnabled()
    asked: list[str] = []

    def no(*args: object, **_: object) -> QMessageBox.StandardButton:
        asked.append(str(args[2]))
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", no)
    page.revoke()
    assert asked and "laptop" in asked[0]
    assert not desktop.backend.list_keys()[0].revoked_at
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    page.revoke()
    qtbot.waitUntil(lambda: page.table.item(0, 5) is not None and page.table.item(0, 5).text() == "revoked",
                    timeout=10_000)
    page.table.selectRow(0)
    assert not page.revoke_button.isEnabled() and not page.rotate_button.isEnabled()
