"""The Models page lists the catalogue and asks, with the licence, before a download."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

from gui.conftest import Desktop


def test_models_table_lists_catalogue_and_download_asks_with_licence(desktop: Desktop, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    window = desktop.window
    page = window.models
    window.show_page("Models")
    catalogue = desktop.backend.list_models()
    assert catalogue, "the catalogue is never empty"
    qtbot.waitUntil(lambda: page.table.rowCount() == len(catalogue), timeout=10_000)
    assert [page.table.item(r, 0).text() for r in range(page.table.rowCount())] == [m.title for m in catalogue]
    page.table.selectRow(0)
    asked: list[str] = []

    def no(*args: object, **_: object) -> QMessageBox.StandardButton:
        asked.append(str(args[2]))
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", no)
    pulls_before = desktop.backend.model_pulls()
    page.download()
    model = catalogue[0]
    assert asked and model.licence in asked[0] and model.title in asked[0]
    assert desktop.backend.model_pulls() == pulls_before  # answering No downloads nothing
