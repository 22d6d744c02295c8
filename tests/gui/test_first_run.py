"""The first launch's question: the recommended models with sizes and licences, Pull or Not now, asked once.

The real app over a temp studio whose catalogue is the fake hub's (a CPU-only machine with 16 GB):
nothing is fetched until Pull; Pull is one model_pull job whose progress the dialog follows per
model; the answer is kept in the app's settings, and the Models page offers the dialog again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from fakehub import FakeHub
from filmstudio.desktop.first_run import ASKED_KEY, RecommendedDialog, offer_first_run, should_offer
from filmstudio.services import models as model_service
from gui.conftest import Desktop
from integration.test_recommended_pull import CATALOGUE, CPU_ONLY, REPOS

TOTAL = sum(len(d) for repo in ("test/voices", "test/small-pictures", "test/adapter") for d in REPOS[repo].values())


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub(repos={repo: dict(files) for repo, files in REPOS.items()}) as fake:
        yield fake


@pytest.fixture
def fresh_desktop(qtbot, tmp_path: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desktop]:  # type: ignore[no-untyped-def]
    """A first launch: the real app, no model installed, the fake hub's catalogue."""
    from filmstudio.app.embedded import EmbeddedApi, next_free_port
    from filmstudio.config import Settings
    from filmstudio.desktop.app import app_settings, build_window
    from filmstudio.desktop.backend import Backend
    from filmstudio.services.secrets import MemorySecrets

    monkeypatch.setattr(model_service, "hardware", lambda: CPU_ONLY)
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text(CATALOGUE, encoding="utf-8")
    home = tmp_path / "studio"
    settings = Settings.model_validate({
        "home": home, "port": next_free_port("127.0.0.1", 22000 + os.getpid() % 20000), "workers": 1,
        "reconcile_seconds": 1.0, "secrets_backend": "file", "model_catalogue": catalogue,
        "model_endpoint": hub.endpoint,
    })
    api = EmbeddedApi(settings, secrets=MemorySecrets(), worker="thread")
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


def _offered(desktop: Desktop, qtbot) -> RecommendedDialog:  # type: ignore[no-untyped-def]
    shown: list[RecommendedDialog] = []
    offer_first_run(desktop.window, desktop.backend, desktop.window.tasks, desktop.window.qsettings, shown)
    qtbot.waitUntil(lambda: bool(shown) and shown[0].plan is not None, timeout=10_000)
    dialog = shown[0]
    qtbot.addWidget(dialog)
    return dialog


def _rows(dialog: RecommendedDialog) -> list[list[str]]:
    t = dialog.table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def test_first_launch_shows_sizes_and_licences_and_not_now_downloads_nothing_and_never_nags(
        fresh_desktop: Desktop, qtbot, hub: FakeHub) -> None:  # type: ignore[no-untyped-def]
    desktop = fresh_desktop
    dialog = _offered(desktop, qtbot)
    assert dialog.isVisible() and not dialog.isModal()
    rows = _rows(dialog)
    assert [r[0] for r in rows] == ["Test voice-mixed", "Test pic-small", "Test adapter-small"]
    assert [r[3] for r in rows] == ["CC-BY-4.0", "LicenseRef-Small", "Apache-2.0"]
    assert all(r[2].endswith("MB") and r[4] and r[5] == "to download" for r in rows)
    assert f"{TOTAL / 1e6:.1f} MB" in dialog.total.text()
    assert CPU_ONLY.summary() in dialog.hardware.text()
    assert dialog.pull_button.isEnabled() and dialog.later_button.text() == "Not now"
    assert hub.requests == []  # shown before any byte

    qtbot.mouseClick(dialog.later_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert hub.requests == [] and desktop.backend.list_jobs(kind="model_pull") == []
    # Remembered in the app's settings (a new launch reads them from the file again).
    again = QSettings(desktop.window.qsettings.fileName(), QSettings.Format.IniFormat)
    assert again.value(ASKED_KEY) in (True, "true")
    assert should_offer(again, desktop.backend) is False
    shown: list[RecommendedDialog] = []
    offer_first_run(desktop.window, desktop.backend, desktop.window.tasks, again, shown)
    qtbot.waitUntil(lambda: desktop.window.tasks.pending == 0, timeout=10_000)
    assert shown == []


def test_pull_from_the_models_page_is_one_job_followed_per_model(fresh_desktop: Desktop, qtbot,
                                                                 hub: FakeHub) -> None:  # type: ignore[no-untyped-def]
    desktop = fresh_desktop
    window = desktop.window
    window.show_page("Models")
    page = window.models
    qtbot.mouseClick(page.recommended_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.recommended is not None and page.recommended.plan is not None, timeout=10_000)
    dialog = page.recommended
    assert dialog is not None
    qtbot.mouseClick(dialog.pull_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.job is not None and dialog.job.status == "completed", timeout=60_000)
    assert dialog.progress.value() == 100 and "Installed" in dialog.message.text()
    jobs = desktop.backend.list_jobs(kind="model_pull")
    assert len(jobs) == 1 and jobs[0].result is not None
    assert jobs[0].result["model_ids"] == ["voice-mixed", "pic-small", "adapter-small"]
    qtbot.waitUntil(lambda: [r[5] for r in _rows(dialog)] == ["installed"] * 3, timeout=10_000)
    assert "Everything recommended is installed" in dialog.total.text() and not dialog.pull_button.isEnabled()
    assert desktop.backend.models_installed()
    # The next launch does not ask: a model is installed, even with the question never answered.
    assert should_offer(QSettings(str(desktop.home / "other.ini"), QSettings.Format.IniFormat), desktop.backend) is False
    # The Models page shows them installed.
    page.refresh()
    qtbot.waitUntil(lambda: sum(page.table.item(r, 5).text() == "installed" for r in range(page.table.rowCount())) == 3,
                    timeout=10_000)
