"""RemoteBackend over a real studio server on loopback: projects, conflicts, jobs, files, failures.

Each test starts its own uvicorn (`live_server`) over its own home folder with the file secrets
backend, and drives it only through `RemoteBackend`, as the desktop app on a laptop would.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from filmstudio.desktop.backend_contract import (
    ProjectConflict,
    StudioIncompatible,
    StudioUnreachable,
    error_text,
)
from filmstudio.desktop.remote import RemoteBackend
from filmstudio.domain.errors import Unauthorized
from filmstudio.domain.models import JobPublic
from integration.conftest_server import (
    SCRIPT,
    SMALL,
    FakeRenderer,
    LiveServer,
    free_port,
    live_server,
    server_settings,
)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(server_settings(tmp_path / "home", secrets_backend="file")) as live:
        yield live


def remote(live: LiveServer, tmp_path: Path, key: str | None = None, **kw: object) -> RemoteBackend:
    return RemoteBackend(live.base, key or live.new_key(), cache_dir=tmp_path / "cache", **kw)  # type: ignore[arg-type]


def test_projects_round_trip(served: LiveServer, tmp_path: Path) -> None:
    backend = remote(served, tmp_path)
    try:
        account = backend.connect()
        assert account.name == "alice" and backend.unlimited == (account.credit_balance is None)
        made = backend.create_project("Night lab", SCRIPT, SMALL)
        assert made.title == "Night lab" and made.settings["resolution"] == "320x180"
        assert [p.project_id for p in backend.list_projects()] == [made.project_id]
        assert backend.list_projects(search="lab")[0].project_id == made.project_id
        assert backend.list_projects(search="nothing like it") == []
        saved = backend.save_valid(made.project_id, "Night lab II", SCRIPT + "\n\nDR. REYES\nAgain.", {**SMALL, "fps": 7})
        assert saved.project.title == "Night lab II" and "Again." in saved.project.script
        assert set(saved.problems) == {"fps"} and saved.project.settings["fps"] == 12  # the stored fps stayed
        again = backend.get_project(made.project_id)
        assert again.title == "Night lab II"
        # A second save from the same client goes against the version its first save made.
        assert backend.save_valid(made.project_id, "Night lab III", again.script, SMALL).project.title == "Night lab III"
        copy = backend.duplicate_project(made.project_id)
        assert copy.title == "Night lab III (copy)" and copy.script == again.script
        backend.delete_project(copy.project_id)
        assert [p.project_id for p in backend.list_projects()] == [made.project_id]
        assert backend.project_titles() == {made.project_id: "Night lab III"}
    finally:
        backend.close()


def test_a_second_clients_save_is_a_conflict_that_keeps_the_text(served: LiveServer, tmp_path: Path) -> None:
    key = served.new_key()
    first, second = remote(served, tmp_path / "a", key), remote(served, tmp_path / "b", key)
    try:
        pid = first.create_project("Shared", SCRIPT, SMALL).project_id
        second.get_project(pid)  # both opened it
        first.save_valid(pid, "Shared — first", SCRIPT, SMALL)
        mine = SCRIPT + "\n\nDR. REYES\nMy own line."
        with pytest.raises(ProjectConflict) as caught:
            second.save_valid(pid, "Shared — second", mine, SMALL)
        conflict = caught.value
        assert conflict.code == "PRECONDITION_FAILED" and conflict.http_status == 412
        assert conflict.current is not None and conflict.current.title == "Shared — first"
        assert "changed on the studio" in error_text(conflict)
        stored = first.get_project(pid)
        assert stored.title == "Shared — first" and "My own line." not in stored.script  # nothing overwritten
        # The conflict holds until the second client opens the studio's version again: then it may save over it.
        with pytest.raises(ProjectConflict):
            second.save_valid(pid, "Shared — second", mine, SMALL)
        second.get_project(pid)
        assert second.save_valid(pid, "Shared — second", mine, SMALL).project.title == "Shared — second"
    finally:
        first.close()
        second.close()


def test_wrong_key_refused_port_and_another_version(served: LiveServer, tmp_path: Path) -> None:
    wrong = remote(served, tmp_path, key="fs_not_a_real_key")
    with pytest.raises(Unauthorized) as caught:
        wrong.connect()
    assert caught.value.code == "STUDIO_KEY_REFUSED" and "refused the API key" in error_text(caught.value)
    with pytest.raises(Unauthorized):
        wrong.list_projects()  # every call checks the connection first
    wrong.close()

    nobody = RemoteBackend(f"http://127.0.0.1:{free_port()}", "fs_x", cache_dir=tmp_path / "c2",
                           sleep=lambda _s: None)
    notices: list[str] = []
    nobody.set_notice_handler(notices.append)
    with pytest.raises(StudioUnreachable) as refused:
        nobody.connect()
    assert refused.value.code == "STUDIO_UNREACHABLE" and "Nothing answers" in error_text(refused.value)
    assert "reconnecting to the studio…" in notices  # the GET was retried before giving up
    nobody.close()


def test_a_server_of_another_major_version_is_refused(served: LiveServer, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import filmstudio

    monkeypatch.setattr(filmstudio, "__version__", "7.0.0")  # this app, as if it were far newer
    backend = remote(served, tmp_path)
    with pytest.raises(StudioIncompatible) as caught:
        backend.connect()
    assert caught.value.code == "STUDIO_VERSION_MISMATCH" and "update the older" in error_text(caught.value)
    backend.close()


def _follow(backend: RemoteBackend, job_id: str) -> tuple[JobPublic, list[JobPublic], list[str]]:
    seen: list[JobPublic] = []
    notices: list[str] = []
    backend.set_notice_handler(notices.append)
    final = backend.follow_job(job_id, seen.append)
    return final, seen, notices


@pytest.mark.parametrize("events", [True, False], ids=["sse", "polling"])
def test_generate_and_follow_then_download_the_film(tmp_path: Path, events: bool) -> None:
    settings = server_settings(tmp_path / "home", secrets_backend="file")
    with live_server(settings, FakeRenderer(step_seconds=0.3)) as live:
        backend = remote(live, tmp_path, use_events=events)
        try:
            pid = backend.create_project("Rendered", SCRIPT, SMALL).project_id
            accepted = backend.generate(pid)
            final, seen, _ = _follow(backend, accepted.job_id)
            assert final.status == "completed", final
            assert len({j.progress for j in seen}) >= 3 and seen[-1].status == "completed"
            assert [j.progress for j in seen] == sorted(j.progress for j in seen)
            files = backend.film_files(pid)
            assert files.has_film and files.video is None and files.video_url is not None
            assert files.thumbnail is not None and files.thumbnail.read_bytes()[:2] == b"\xff\xd8"
            target = tmp_path / "out" / "film.mp4"
            target.parent.mkdir()
            backend.export_film(pid, target)
            probe = json.loads(subprocess.run(
                ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", str(target)],
                capture_output=True, text=True, check=True).stdout)
            assert {s["codec_type"] for s in probe["streams"]} == {"video", "audio"}
            assert probe["streams"][0]["width"] == 320
        finally:
            backend.close()


def test_export_resumes_after_an_interruption(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from filmstudio.desktop import remote_http

    settings = server_settings(tmp_path / "home", secrets_backend="file")
    with live_server(settings) as live:
        backend = remote(live, tmp_path)
        try:
            project = backend.create_project("Resumed", SCRIPT, SMALL)
            assert backend.follow_job(backend.generate(project.project_id).job_id, lambda _j: None).status == "completed"
            served_file = next(live.parts.studio.media_dir.rglob("*.mp4"))
            target = tmp_path / "film.mp4"
            part = target.with_name("film.mp4.part")
            monkeypatch.setattr(remote_http, "CHUNK", 4096)  # many chunks from a small test film

            class Dropped(Exception):
                pass

            def drop(done: int, _total: int | None) -> None:
                if done >= 8192:
                    raise Dropped  # the laptop's export stops mid-file (the app quit, the Wi-Fi went)

            with pytest.raises(Dropped):
                backend.export_film(project.project_id, target, drop)
            kept = part.stat().st_size
            assert 0 < kept < served_file.stat().st_size and not target.exists()
            resumed: list[tuple[int, int | None]] = []
            backend.export_film(project.project_id, target, lambda done, total: resumed.append((done, total)))
            assert resumed[0] == (kept, served_file.stat().st_size)  # it went on from the kept bytes
            assert target.read_bytes() == served_file.read_bytes() and not part.exists()
        finally:
            backend.close()
