"""The Publish button on the preview and Connect YouTube in Settings call the publish services."""

from __future__ import annotations

from PySide6.QtCore import Qt

from gui.conftest import Desktop


def test_publish_without_a_channel_says_so(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    project = desktop.backend.create_project("To publish")
    preview = desktop.window.preview
    preview.project_id = project.project_id
    preview.publish_button.setEnabled(True)
    qtbot.mouseClick(preview.publish_button, Qt.MouseButton.LeftButton)
    # In words on the page, the code in the details tooltip (issue 10: errors in words, once).
    qtbot.waitUntil(lambda: "YOUTUBE_NOT_CONNECTED" in preview.message.toolTip(), timeout=10_000)
    assert "YouTube" in preview.message.text() and "YOUTUBE_NOT_CONNECTED" not in preview.message.text()
    assert desktop.backend.list_jobs(kind="publish") == []


def test_settings_offers_connect_youtube(desktop: Desktop) -> None:
    page = desktop.window.settings_page
    assert page.youtube_button.isEnabled() and page.youtube_button.text().startswith("Connect YouTube")
    assert desktop.backend.youtube_channels() == []
