"""Projects page: list, search, status filter, duplicate, delete with confirmation, refusal while rendering."""

from __future__ import annotations

from gui.conftest import SCRIPT, SMALL, Desktop


def test_search_filter_duplicate_delete(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    page = desktop.window.projects
    qtbot.waitUntil(lambda: page.empty.isVisible(), timeout=5_000)
    assert "No projects yet" in page.empty.text()
    desktop.backend.create_project("Harbour lights", SCRIPT, SMALL)
    desktop.backend.create_project("Desert road", SCRIPT, SMALL)
    page.refresh()
    qtbot.waitUntil(lambda: page.table.rowCount() == 2, timeout=5_000)

    qtbot.keyClicks(page.search, "harb")
    qtbot.waitUntil(lambda: [p.title for p in page.projects] == ["Harbour lights"], timeout=5_000)
    page.status.setCurrentIndex(page.status.findData("completed"))
    qtbot.waitUntil(lambda: page.projects == [] and page.empty.isVisible(), timeout=5_000)
    assert "matches" in page.empty.text()
    page.status.setCurrentIndex(0)
    qtbot.waitUntil(lambda: len(page.projects) == 1, timeout=5_000)

    page.table.selectRow(0)
    page.duplicate()
    qtbot.waitUntil(lambda: sorted(p.title for p in page.projects) == ["Harbour lights", "Harbour lights (copy)"],
                    timeout=5_000)

    asked: list[str] = []
    page.confirm_delete = lambda title: asked.append(title) or False  # type: ignore[method-assign]
    page.table.selectRow(0)
    target = page.selected()
    assert target is not None
    page.delete()
    assert asked == [target.title]
    assert len(desktop.backend.list_projects()) == 3  # the user said no
    page.confirm_delete = lambda title: True  # type: ignore[method-assign]
    page.delete()
    qtbot.waitUntil(lambda: len(desktop.backend.list_projects()) == 2, timeout=5_000)
    assert target.project_id not in [p.project_id for p in desktop.backend.list_projects()]


def test_delete_refused_while_processing(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    page = desktop.window.projects
    made = desktop.backend.create_project("Busy", SCRIPT, SMALL)
    desktop.backend.generate(made.project_id)  # the project is now processing (or queued)
    page.refresh()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5_000)
    page.table.selectRow(0)
    assert page.selected() is not None and page.selected().status == "processing"
    page.confirm_delete = lambda title: True  # type: ignore[method-assign]
    page.delete()
    assert "PROJECT_BUSY" in page.message.text()
    assert [p.project_id for p in desktop.backend.list_projects()] == [made.project_id]
