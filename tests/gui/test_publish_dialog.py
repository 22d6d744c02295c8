"""The Publish dialog with the real studio: a real film, the fake YouTube over TLS and the test folder target.

Defaults come from the film's manifest; YouTube's rules refuse at the field while typing (nothing is
queued); without a channel the publish says so; with one, the job's progress and the video's address;
the folder target gets its own form and copies the film.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QDateTime, Qt

from fakeyoutube import FakeYouTube
from filmstudio.desktop.publish_dialog import PublishDialog
from folder_target import FolderTarget
from gui.conftest import SMALL, Desktop
from integration.test_youtube import connect

SCRIPT = """Title: The Lighthouse

EXT. LIGHTHOUSE - NIGHT

MARA (60s), a keeper in her sixties, climbs the stairs with a lantern.

MARA
The light stays on tonight.
"""


@pytest.fixture
def yt(tmp_path: Path) -> Iterator[FakeYouTube]:
    with FakeYouTube(tmp_path / "fake-ca") as fake:
        yield fake


@pytest.fixture
def publishing_desktop(qtbot, tmp_path: Path, yt: FakeYouTube) -> Iterator[Desktop]:  # type: ignore[no-untyped-def]
    """The real app (real pipeline, in-process worker), YouTube pointed at the fake, and a folder target."""
    from filmstudio.app.embedded import EmbeddedApi, next_free_port
    from filmstudio.config import Settings
    from filmstudio.desktop.app import app_settings, build_window
    from filmstudio.desktop.backend import Backend
    from filmstudio.services.secrets import MemorySecrets

    home = tmp_path / "studio"
    settings = Settings.model_validate({
        "home": home, "port": next_free_port("127.0.0.1", 23000 + os.getpid() % 20000), "workers": 1,
        "reconcile_seconds": 1.0, "secrets_backend": "file", "youtube_api_endpoint": yt.root,
        "youtube_ca_bundle": yt.ca, "youtube_chunk_bytes": 256 * 1024,
    })
    api = EmbeddedApi(settings, secrets=MemorySecrets(), worker="thread",
                      targets={"folder": FolderTarget(tmp_path / "shelf")})
    api.start()
    backend = Backend(api.studio, api, api.engines)
    window = build_window(backend, app_settings(tmp_path / "app.ini"))
    qtbot.addWidget(window)
    from PySide6.QtWidgets import QMessageBox
    window.ask_unsaved = lambda _text: QMessageBox.StandardButton.Discard  # type: ignore[method-assign]
    window.show()
    try:
        yield Desktop(window, backend, api, home)
    finally:
        window.close()
        window.tasks.shutdown()
        api.stop(finish_jobs=False, timeout=5)
        backend.close()


def _rendered(desktop: Desktop) -> str:
    project = desktop.backend.create_project("The Lighthouse", SCRIPT, {**SMALL, "style": "documentary"})
    job = desktop.backend.generate(project.project_id)
    deadline = time.monotonic() + 240
    while desktop.backend.get_job(job.job_id).status not in ("completed", "failed", "cancelled"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert desktop.backend.get_job(job.job_id).status == "completed"
    return project.project_id


def _open(desktop: Desktop, qtbot, project_id: str) -> PublishDialog:  # type: ignore[no-untyped-def]
    preview = desktop.window.preview
    preview.project_id = project_id
    preview.publish_button.setEnabled(True)
    qtbot.mouseClick(preview.publish_button, Qt.MouseButton.LeftButton)
    dialog = preview.publish_dialog
    assert dialog is not None and dialog.isVisible() and not dialog.isModal()
    qtbot.waitUntil(lambda: dialog.target.count() > 0 and dialog.checked, timeout=15_000)
    return dialog


def _checked(dialog: PublishDialog, qtbot) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: dialog.checked and dialog.tasks.pending == 0, timeout=15_000)


@pytest.mark.slow
def test_the_publish_dialog_prefills_refuses_at_the_field_and_publishes(publishing_desktop: Desktop, qtbot,
                                                                        yt: FakeYouTube, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    desktop = publishing_desktop
    pid = _rendered(desktop)
    dialog = _open(desktop, qtbot, pid)
    # The targets the studio registered, YouTube first; the film's own values; private by default.
    assert [dialog.target.itemText(i) for i in range(dialog.target.count())] == ["youtube", "folder"]
    assert dialog.title.text() == "The Lighthouse"
    assert dialog.description.toPlainText().startswith("The Lighthouse: a documentary short film (")
    assert "Mara" in dialog.description.toPlainText()
    assert dialog.tags.text() == "short film, documentary, calm"
    assert dialog.privacy.currentText() == "private" and not dialog.schedule.isChecked()
    assert "No YouTube channel is connected" in dialog.channel.text()
    assert dialog.problems == {} and dialog.publish_button.isEnabled()

    # YouTube's rules, at their fields, while typing: nothing is sent.
    dialog.title.setText("L" * 101)
    _checked(dialog, qtbot)
    assert "100" in dialog.errors["title"].text() and dialog.errors["title"].isVisible()
    assert not dialog.publish_button.isEnabled()
    dialog.title.setText("The Lighthouse")
    dialog.tags.setText(", ".join(f"a long tag number {i:02d}" for i in range(30)))  # 689 as YouTube counts
    _checked(dialog, qtbot)
    assert "500" in dialog.errors["tags"].text() and not dialog.errors["title"].isVisible()
    dialog.tags.setText("short film, lighthouse")
    dialog.schedule.setChecked(True)
    dialog.publish_at.setDateTime(QDateTime.currentDateTime().addDays(-2))
    _checked(dialog, qtbot)
    assert "not in the future" in dialog.errors["publish_at"].text()
    dialog.publish_at.setDateTime(QDateTime.currentDateTime().addDays(3))
    dialog.privacy.setCurrentText("unlisted")
    _checked(dialog, qtbot)
    assert dialog.problems == {} and dialog.publish_button.isEnabled()
    assert yt.videos == {} and desktop.backend.list_jobs(kind="publish") == []

    # No channel: the publish says so, in words (the code in the tooltip), and queues nothing.
    qtbot.mouseClick(dialog.publish_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "YOUTUBE_NOT_CONNECTED" in dialog.message.toolTip(), timeout=10_000)
    assert "YouTube" in dialog.message.text() and desktop.backend.list_jobs(kind="publish") == []

    # Connected: the job's progress, then the video's address; YouTube got what the dialog showed.
    connect(desktop.api.studio, yt, tmp_path)
    dialog.schedule.setChecked(False)
    _checked(dialog, qtbot)
    description = dialog.description.toPlainText()
    qtbot.mouseClick(dialog.publish_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.progress.isVisible(), timeout=10_000)
    qtbot.waitUntil(lambda: bool(dialog.url), timeout=120_000)
    assert dialog.progress.value() == 100 and dialog.url in dialog.published.text()
    (video,) = yt.videos.values()
    assert dialog.url == f"https://www.youtube.com/watch?v={video['id']}"
    assert video["snippet"]["title"] == "The Lighthouse" and video["snippet"]["tags"] == ["short film", "lighthouse"]
    assert video["status"]["privacyStatus"] == "unlisted"
    assert video["snippet"]["description"] == description  # one scene: no chapters (YouTube needs three)
    dialog.close()

    # Another target: its own options (a folder name), the film copied there.
    dialog = _open(desktop, qtbot, pid)
    dialog.target.setCurrentText("folder")
    assert dialog.forms.currentIndex() == dialog._pages["folder"]
    name = dialog.fields["folder"]["name"]
    assert name.text() == "published"
    name.setText("bad name!")
    _checked(dialog, qtbot)
    assert dialog.errors["folder.name"].isVisible() and not dialog.publish_button.isEnabled()
    name.setText("festival")
    _checked(dialog, qtbot)
    qtbot.mouseClick(dialog.publish_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(dialog.url), timeout=60_000)
    copied = Path(dialog.url.removeprefix("file://"))
    film = desktop.backend.film_files(pid, chapters=False).video
    assert film is not None and copied.parent.name == "festival"
    assert hashlib.sha256(copied.read_bytes()).digest() == hashlib.sha256(film.read_bytes()).digest()
