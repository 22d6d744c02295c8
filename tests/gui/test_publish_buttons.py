"""The Publish button on the preview and Connect YouTube in Settings call the publish services."""

from __future__ import annotations

from PySide6.QtCore import Qt

from gui.conftest import Desktop


def test_publish_without_a_film_says_so_in_its_dialog(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Publish opens the dialog (issue 18: title, description, privacy, schedule first); a project with no
    film yet gets its reason there. The publish itself, without and with a channel: test_publish_dialog.py."""
    project = desktop.backend.create_project("To publish")
    preview = desktop.window.preview
    preview.project_id = project.project_id
    preview.publish_button.setEnabled(True)
    qtbot.mouseClick(preview.publish_button, Qt.MouseButton.LeftButton)
    dialog = preview.publish_dialog
    assert dialog is not None and dialog.isVisible()
    # In words in the dialog, the code in the details tooltip (issue 10: errors in words, once).
    qtbot.waitUntil(lambda: "PROJECT_NOT_RENDERED" in dialog.message.toolTip(), timeout=10_000)
    assert "film" in dialog.message.text() and "PROJECT_NOT_RENDERED" not in dialog.message.text()
    assert not dialog.publish_button.isEnabled()
    assert desktop.backend.list_jobs(kind="publish") == []
    dialog.close()


def test_settings_offers_connect_youtube(desktop: Desktop) -> None:
    page = desktop.window.settings_page
    assert page.youtube_button.isEnabled() and page.youtube_button.text().startswith("Connect YouTube")
    assert desktop.backend.youtube_channels() == []
