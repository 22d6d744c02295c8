"""A second publish target (tests/folder_target.py) through the real API: one module, one registration."""

from __future__ import annotations

import hashlib
from pathlib import Path

from filmstudio.config import Settings
from folder_target import FolderTarget
from integration.conftest_server import SCRIPT, SMALL, live_server, server_settings, wait_job


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_folder_target_publishes_the_film_and_its_sidecars(tmp_path: Path) -> None:
    settings: Settings = server_settings(tmp_path / "home", secrets_backend="file")
    shelf = tmp_path / "shelf"
    with live_server(settings, targets={"folder": FolderTarget(shelf)}) as live, live.client(live.new_key("a")) as c:
        pid = c.post("/projects", json={"title": "Shelf", "script": SCRIPT,
                                        "settings": {**SMALL, "subtitle_languages": ["en"]}}).json()["project_id"]
        assert wait_job(c, c.post(f"/projects/{pid}/generate").json()["job_id"])["status"] == "completed"
        bad = c.post(f"/projects/{pid}/publish", json={"target": "folder", "options": {"name": "../up"}})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "INVALID_PUBLISH_OPTIONS"
        assert bad.json()["error"]["details"]["field"] == "name"
        unknown = c.post(f"/projects/{pid}/publish", json={"target": "vimeo"})
        assert unknown.status_code == 400 and unknown.json()["error"]["details"]["allowed"] == ["folder", "youtube"]
        r = c.post(f"/projects/{pid}/publish", json={"target": "folder", "options": {"name": "cut-1"}})
        assert r.status_code == 202, r.text
        assert r.json()["target"] == "folder" and r.json()["channel_title"] == "cut-1"
        done = wait_job(c, r.json()["job_id"])
        assert done["status"] == "completed", done
        media = live.parts.studio.media_dir
        film = next(media.glob(f"{pid}/*/film.mp4"))
        folder = Path(done["result"]["ref"])
        assert folder.parent.parent == shelf and folder.name == "cut-1"
        assert sorted(p.name for p in folder.iterdir()) == ["film.en.srt", "film.jpg", "film.mp4"]
        assert _sha(folder / "film.mp4") == _sha(film)
        assert (folder / "film.en.srt").read_text() == film.with_name("film.en.srt").read_text()
        published = c.get(f"/projects/{pid}").json()["assets"]["published"]
        assert list(published) == ["folder"] and published["folder"]["url"] == done["result"]["url"]
        assert published["folder"]["job_id"] == done["job_id"]
