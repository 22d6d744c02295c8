"""Nothing typed is lost: the local draft until the studio has the save, and a stale save's conflict bar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from filmstudio.desktop.drafts import ConflictBar, Draft, DraftStore
from filmstudio.desktop.studios import LOCAL
from filmstudio.domain.errors import FilmStudioError
from gui.conftest import SCRIPT, SMALL, Desktop, type_text


def test_draft_store_round_trip(tmp_path: Path) -> None:
    store = DraftStore.for_studio(tmp_path, "https://studio.lan:8765")
    other = DraftStore.for_studio(tmp_path, LOCAL)
    assert store.folder != other.folder
    store.write(Draft("p1", "T", "INT. X\n\nHello.", {"duration": 8}, base_updated_at="2026-01-01"))
    got = store.read("p1")
    assert got is not None and (got.title, got.script, got.settings) == ("T", "INT. X\n\nHello.", {"duration": 8})
    assert got.saved_at > 0 and other.read("p1") is None
    assert store.projects() == ["p1"]
    (store.folder / "p1.json").write_text("{broken")
    assert store.read("p1") is None
    store.clear("p1")
    store.clear("p1")
    assert store.projects() == []


def _open(qtbot, desktop: Desktop, project_id: str) -> None:  # type: ignore[no-untyped-def]
    desktop.window.open_project(project_id)
    qtbot.waitUntil(lambda: desktop.window.editor.project is not None
                    and desktop.window.editor.project.project_id == project_id, timeout=10_000)


def test_a_failed_save_keeps_a_draft_offered_on_reopen(qtbot, desktop: Desktop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    editor = desktop.window.editor
    editor.drafts = DraftStore.for_studio(tmp_path / "client", LOCAL)
    made = desktop.backend.create_project("Drafted", SCRIPT, SMALL)
    _open(qtbot, desktop, made.project_id)
    real_save = desktop.backend.save_valid

    def dropped(*_a: Any, **_k: Any) -> Any:
        raise FilmStudioError("the studio did not answer", code="STUDIO_UNREACHABLE")

    desktop.backend.save_valid = dropped  # type: ignore[method-assign]
    editor.script.moveCursor(editor.script.textCursor().MoveOperation.End)
    type_text(qtbot, editor.script, "\nMAYA\nNobody will read this twice.")
    editor.save()
    qtbot.waitUntil(lambda: editor.save_state.text() == "Not saved", timeout=10_000)
    draft = editor.drafts.read(made.project_id)
    assert draft is not None and draft.script.endswith("Nobody will read this twice.")
    assert "Nobody" not in desktop.backend.get_project(made.project_id).script

    # "The app died": the next time the project is opened, the draft is offered back.
    desktop.backend.save_valid = real_save  # type: ignore[method-assign]
    editor.discard()
    editor.load(desktop.backend.get_project(made.project_id))
    assert editor.draft_bar.isVisible() and "never reached the studio" in editor.draft_bar.text.text()
    assert "Nobody" not in editor.script.toPlainText()
    editor.draft_bar.restore_button.click()
    assert editor.script.toPlainText().endswith("Nobody will read this twice.")
    qtbot.waitUntil(lambda: "Nobody will read this twice." in desktop.backend.get_project(made.project_id).script,
                    timeout=10_000)
    qtbot.waitUntil(lambda: editor.drafts.read(made.project_id) is None, timeout=10_000)  # type: ignore[union-attr]
    editor.load(desktop.backend.get_project(made.project_id))
    assert not editor.draft_bar.isVisible()


class Stale(FilmStudioError):
    """What the remote backend raises on HTTP 412: the studio's current project rides along."""

    code = "PRECONDITION_FAILED"

    def __init__(self, current: Any) -> None:
        super().__init__("changed on the studio")
        self.current = current


def test_a_stale_save_keeps_the_text_and_offers_reload_or_overwrite(qtbot, desktop: Desktop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    backend = desktop.backend
    editor = desktop.window.editor
    editor.drafts = DraftStore.for_studio(tmp_path / "client", LOCAL)
    made = backend.create_project("Shared", SCRIPT, SMALL)
    _open(qtbot, desktop, made.project_id)
    theirs = backend.save_project(made.project_id, "Shared", SCRIPT + "\nOLD TOM\nTheir line.\n", SMALL)
    real_save = backend.save_valid
    backend.save_valid = lambda *_a, **_k: (_ for _ in ()).throw(Stale(theirs))  # type: ignore[method-assign]
    editor.script.moveCursor(editor.script.textCursor().MoveOperation.End)
    type_text(qtbot, editor.script, "\nMAYA\nMy line.")
    editor.save()
    qtbot.waitUntil(lambda: editor.conflict_bar.isVisible(), timeout=10_000)
    assert editor.conflict_bar.text.text() == ConflictBar.MESSAGE
    assert "changed on the studio by someone else since you opened it: your text is kept" in ConflictBar.MESSAGE
    assert editor.script.toPlainText().endswith("My line.")
    assert editor.save_state.text() == "Not saved: changed on the studio"
    # More typing while in conflict goes to the draft, not to the studio.
    type_text(qtbot, editor.script, " Really.")
    editor.save()
    assert editor.drafts.read(made.project_id).script.endswith("My line. Really.")  # type: ignore[union-attr]

    # Reload shows theirs; mine stays as a draft, offered back.
    backend.save_valid = real_save  # type: ignore[method-assign]
    editor.conflict_bar.reload_button.click()
    qtbot.waitUntil(lambda: editor.script.toPlainText().endswith("Their line.\n"), timeout=10_000)
    assert not editor.conflict_bar.isVisible() and editor.draft_bar.isVisible()

    # Restore mine and Overwrite: the studio has my text.
    editor.draft_bar.restore_button.click()
    assert editor.script.toPlainText().endswith("My line. Really.")
    editor.save()
    qtbot.waitUntil(lambda: backend.get_project(made.project_id).script.endswith("My line. Really."), timeout=10_000)


def test_overwrite_saves_mine_over_theirs(qtbot, desktop: Desktop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    backend = desktop.backend
    editor = desktop.window.editor
    editor.drafts = DraftStore.for_studio(tmp_path / "client", LOCAL)
    made = backend.create_project("Shared", SCRIPT, SMALL)
    _open(qtbot, desktop, made.project_id)
    theirs = backend.save_project(made.project_id, "Shared", SCRIPT + "\nOLD TOM\nTheir line.\n", SMALL)
    real_save = backend.save_valid
    backend.save_valid = lambda *_a, **_k: (_ for _ in ()).throw(Stale(theirs))  # type: ignore[method-assign]
    editor.script.moveCursor(editor.script.textCursor().MoveOperation.End)
    type_text(qtbot, editor.script, "\nMAYA\nMine wins.")
    editor.save()
    qtbot.waitUntil(lambda: editor.conflict_bar.isVisible(), timeout=10_000)
    backend.save_valid = real_save  # type: ignore[method-assign]
    editor.conflict_bar.overwrite_button.click()
    qtbot.waitUntil(lambda: backend.get_project(made.project_id).script.endswith("Mine wins."), timeout=10_000)
    qtbot.waitUntil(lambda: editor.save_state.text() == "Saved", timeout=10_000)
    assert not editor.conflict_bar.isVisible()
    qtbot.waitUntil(lambda: editor.drafts.read(made.project_id) is None, timeout=10_000)  # type: ignore[union-attr]
