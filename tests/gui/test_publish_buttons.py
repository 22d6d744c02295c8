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
    qtbot.waitUntil(lambda: "YOUTUBE_NOT_CONNECTED" in preview.message.text(), timeout=10_000)
    assert desktop.backend.list_jobs(kind="publish") == []


def test_settings_offers_connect_youtube(desktop: Desktop) -> None:
    page = desktop.window.settings_page
    assert page.youtube_button.isEnabled() and page.youtube_button.text().startswith("Connect YouTube")
    assert desktop.backend.youtube_channels() == []
