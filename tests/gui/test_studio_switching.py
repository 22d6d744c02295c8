"""Switching studios (File -> Connect, Recent studios, This computer) and two people editing one project."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from filmstudio.desktop.drafts import ConflictBar
from filmstudio.desktop.studios import LOCAL, studio_folder
from gui.conftest import SCRIPT, SMALL, type_text
from gui.studio_server import StudioServer, studio_server  # noqa: F401  (the fixture)
from gui.test_both_backends import close_window, remote_window
from gui.test_connect import Studios, make_session


def open_remote(url: str, key: str, ca_file: Path | None, cache: Path) -> Any:
    from filmstudio.desktop.remote import RemoteBackend

    return RemoteBackend(url, key, ca_file=ca_file, cache_dir=cache)


@pytest.fixture
def switching(qtbot, tmp_path: Path) -> Iterator[Studios]:  # type: ignore[no-untyped-def]
    session, local, api = make_session(qtbot, tmp_path, open_remote=open_remote)
    try:
        yield Studios(session, local, api, tmp_path / "client")
    finally:
        session.window.close()
        session.tasks.shutdown()
        session.close()
        api.stop(finish_jobs=False, timeout=5)
        local.close()


def _titles(qtbot, studios: Studios) -> list[str]:  # type: ignore[no-untyped-def]
    window = studios.session.window
    window.show_page("Projects")
    window.projects.refresh()
    qtbot.waitUntil(lambda: studios.session.window.projects.tasks.pending == 0, timeout=20_000)
    return sorted(p.title for p in window.projects.projects)


def test_switching_studios_never_mixes_their_projects(qtbot, switching: Studios, studio_server: StudioServer) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    session = switching.session
    local_made = switching.local.create_project("Only on this computer", SCRIPT, SMALL)
    with studio_server.client() as api:
        remote_id = api.post("/projects", json={"title": "Only on the studio", "script": SCRIPT,
                                                "settings": SMALL}).json()["project_id"]
    first_window = session.window
    first_window.open_project(local_made.project_id)
    qtbot.waitUntil(lambda: first_window.editor.project is not None, timeout=10_000)

    dialog = session.connect_dialog()
    dialog.url.setText(studio_server.url)
    dialog.key.setText(studio_server.key)
    dialog.connect_button.click()
    qtbot.waitUntil(lambda: session.url == studio_server.url, timeout=30_000)
    window = session.window
    assert window is not first_window and not first_window.isVisible()
    host = studio_server.url.removeprefix("http://")
    assert window.windowTitle() == f"FilmStudio — {host}"
    assert re.fullmatch(rf"{re.escape(host)} · alice · enterprise plan · \d+ credits", window.studio_label.text())
    assert window.editor.project is None  # the other studio's open project did not come along
    assert window._timer.interval() == 5_000 and first_window._timer.interval() == 1_000
    titles = _titles(qtbot, switching)
    assert "Only on the studio" in titles and "Only on this computer" not in titles
    assert session.keys.get(studio_server.url) == studio_server.key  # kept (here: the opted-in file)
    assert [s.url for s in session.recent.all()] == [studio_server.url]
    assert "fs_" not in (Path(session.settings.fileName()).read_text())  # the key is not in the settings
    window.open_project(remote_id)
    qtbot.waitUntil(lambda: window.editor.project is not None, timeout=20_000)
    assert window.editor.drafts is not None
    assert window.editor.drafts.folder.name == studio_folder(studio_server.url)

    # This computer again: its own projects only, no remote project open.
    window.actions_by_name["This computer"].trigger()
    qtbot.waitUntil(lambda: session.url == LOCAL, timeout=10_000)
    assert session.window.windowTitle() == "FilmStudio — This computer"
    assert session.window.studio_label.text() == "This computer"
    assert session.window.editor.project is None
    titles = _titles(qtbot, switching)
    assert "Only on this computer" in titles and "Only on the studio" not in titles

    # Recent studios: back without typing the key again.
    recent = session.window.recent_menu  # type: ignore[attr-defined]
    session._fill_recent(session.window, recent)
    entries = [a for a in recent.actions() if a.data() == studio_server.url]
    assert [a.text() for a in entries] == [host]
    entries[0].trigger()
    qtbot.waitUntil(lambda: session.url == studio_server.url, timeout=30_000)
    assert session.dialog is dialog  # no new dialog was needed
    assert "Only on the studio" in _titles(qtbot, switching)


def test_two_clients_editing_one_project(qtbot, studio_server: StudioServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Both open it; A saves; B's save gets the conflict message and keeps B's text; Overwrite keeps B's."""
    from filmstudio.desktop.drafts import DraftStore

    a_window, a_backend = remote_window(qtbot, studio_server, tmp_path, "a")
    b_window, b_backend = remote_window(qtbot, studio_server, tmp_path, "b")
    b_window.editor.drafts = DraftStore(tmp_path / "b-drafts")
    try:
        made = a_backend.create_project("Shared film", SCRIPT, SMALL)
        for window in (a_window, b_window):
            window.open_project(made.project_id)
            qtbot.waitUntil(lambda w=window: w.editor.project is not None, timeout=20_000)
        a, b = a_window.editor, b_window.editor
        a.script.moveCursor(a.script.textCursor().MoveOperation.End)
        type_text(qtbot, a.script, "\nOLD TOM\nA was here first.")
        a.save()
        qtbot.waitUntil(lambda: a.save_state.text() == "Saved", timeout=20_000)

        b.script.moveCursor(b.script.textCursor().MoveOperation.End)
        type_text(qtbot, b.script, "\nMAYA\nB typed this.")
        b.save()
        qtbot.waitUntil(lambda: b.conflict_bar.isVisible(), timeout=20_000)
        assert b.conflict_bar.text.text() == ConflictBar.MESSAGE
        assert b.script.toPlainText().endswith("MAYA\nB typed this.")  # B's text is kept
        assert b.save_state.text() == "Not saved: changed on the studio"
        stored = a_backend.get_project(made.project_id).script
        assert stored.endswith("A was here first.") and "B typed this." not in stored
        draft = b.drafts.read(made.project_id)  # type: ignore[union-attr]
        assert draft is not None and draft.script.endswith("B typed this.")

        b.conflict_bar.overwrite_button.click()
        qtbot.waitUntil(lambda: b.save_state.text() == "Saved", timeout=20_000)
        assert a_backend.get_project(made.project_id).script.endswith("MAYA\nB typed this.")
        assert b.drafts.read(made.project_id) is None  # type: ignore[union-attr]
    finally:
        close_window(a_window, a_backend)
        close_window(b_window, b_backend)


def _connect_to(qtbot, session: Any, server: StudioServer) -> None:  # type: ignore[no-untyped-def]
    dialog = session.connect_dialog()
    dialog.url.setText(server.url)
    dialog.key.setText(server.key)
    dialog.connect_button.click()
    qtbot.waitUntil(lambda: session.url == server.url, timeout=30_000)


def test_a_rate_limited_key_says_it_waits(qtbot, switching: Studios, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from gui.studio_server import served_studio

    with served_studio(tmp_path / "limited", per_minute=4, workers=0) as server:
        session = switching.session
        _connect_to(qtbot, session, server)
        label = session.window.connection_label
        # The window's own refreshes (projects, jobs) pass four requests a minute within seconds.
        qtbot.waitUntil(lambda: re.fullmatch(r"Rate limited, waiting \d+ s", label.text()) is not None,
                        timeout=30_000)
        session.window.close()  # its waiting threads end with the session's task pool at teardown


def test_a_restarted_studio_shows_reconnecting_then_carries_on(qtbot, switching: Studios, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from gui.studio_server import served_studio, start_serve, stop_serve, wait_up

    with served_studio(tmp_path / "restarted", workers=0) as server:
        session = switching.session
        _connect_to(qtbot, session, server)
        made = session.backend.create_project("Across a restart", SCRIPT, SMALL)
        label = session.window.connection_label
        stop_serve(server.proc)
        qtbot.waitUntil(lambda: label.text() == "Reconnecting to the studio…", timeout=30_000)
        server.proc = start_serve(server.home, server.env, server.port, 0)
        wait_up(server.url, server.proc, server.home)
        qtbot.waitUntil(lambda: label.text() == "", timeout=60_000)  # all well again
        assert "Across a restart" in _titles(qtbot, switching)
        assert session.backend.get_project(made.project_id).title == "Across a restart"


@pytest.mark.slow
def test_the_studio_killed_mid_render_the_app_reconnects_and_shows_the_film(qtbot, switching: Studios,  # type: ignore[no-untyped-def]
                                                                            tmp_path: Path) -> None:
    """kill -9 of `filmstudio serve` while it renders; restarted, it resumes the job; the app shows the film."""
    from gui.studio_server import served_studio, start_serve, wait_up

    # A short lease: the restarted server's reconciler takes the dead one's job back within seconds.
    with served_studio(tmp_path / "killed", env={"FILMSTUDIO_LEASE_SECONDS": "2"}) as server:
        session = switching.session
        _connect_to(qtbot, session, server)
        made = session.backend.create_project("Survives a crash", SCRIPT, SMALL)
        window = session.window
        window.open_project(made.project_id)
        qtbot.waitUntil(lambda: window.editor.project is not None, timeout=20_000)
        editor = window.editor
        editor.generate()
        qtbot.waitUntil(lambda: editor.job is not None and editor.job.status == "processing"
                        and editor.job.progress > 0, timeout=120_000)
        server.proc.kill()
        server.proc.wait(timeout=30)
        label = window.connection_label
        qtbot.waitUntil(lambda: label.text() == "Reconnecting to the studio…", timeout=30_000)
        server.proc = start_serve(server.home, server.env, server.port, 1)
        wait_up(server.url, server.proc, server.home)
        qtbot.waitUntil(lambda: editor.job is not None and editor.job.status in ("completed", "failed", "cancelled"),
                        timeout=300_000)
        assert editor.job is not None and editor.job.status == "completed", editor.job
        preview = window.preview
        qtbot.waitUntil(lambda: preview.player.duration() > 0, timeout=60_000)
        assert abs(preview.player.duration() / 1000 - SMALL["duration"]) < 0.5
        qtbot.waitUntil(lambda: label.text() == "", timeout=30_000)
