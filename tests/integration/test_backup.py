"""`filmstudio backup` while a real server writes, and `filmstudio restore` back: consistent, whole, equal."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from filmstudio.domain.errors import FilmStudioError
from filmstudio.services.backup import backup_home, holding_home, home_in_use, read_manifest, restore_home
from integration.conftest_server import SCRIPT, SMALL, live_server, server_settings, wait_job

REPO = Path(__file__).resolve().parents[2]
TABLES = ("accounts", "api_keys", "projects", "jobs", "credit_ledger")


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FILMSTUDIO_HOME": str(home), "FILMSTUDIO_SECRETS_BACKEND": "file"}
    return subprocess.run([sys.executable, "-m", "filmstudio.cli_studio", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def _rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(db) as conn:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}


def _integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def test_backup_while_serving_then_restore_brings_the_same_studio_back(tmp_path: Path) -> None:
    home = tmp_path / "studio"
    settings = server_settings(home, secrets_backend="file")
    backup = tmp_path / "backups" / "monday"
    created: list[str] = []
    with live_server(settings) as live:
        key = live.new_key("alice", credits=10)
        with live.client(key) as c:
            pid = c.post("/projects", json={"title": "kept", "script": SCRIPT, "settings": SMALL}).json()["project_id"]
            job = wait_job(c, c.post(f"/projects/{pid}/generate").json()["job_id"])
            assert job["status"] == "completed"
        stop = threading.Event()

        def keep_writing() -> None:  # the API keeps committing while the backup runs
            with live.client(key) as w:
                while not stop.is_set():
                    r = w.post("/projects", json={"title": f"p{len(created)}", "script": SCRIPT})
                    assert r.status_code == 201, r.text
                    created.append(r.json()["project_id"])

        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            while len(created) < 3:
                threading.Event().wait(0.02)
            done = _cli(home, "backup", str(backup))
            during = len(created)
        finally:
            stop.set()
            writer.join(timeout=30)
        assert done.returncode == 0, done.stderr
        assert "backup:" in done.stdout
        # A server holds the home: restore refuses, with a code, and changes nothing.
        refused = _cli(home, "restore", str(backup))
        assert refused.returncode == 2 and "STORE_IN_USE" in refused.stderr
        assert home_in_use(home)
        before_restore = _rows(settings.db_path)
    assert not home_in_use(home)

    assert _integrity(backup / "studio.db") == "ok" and _integrity(backup / "queue.db") == "ok"
    saved = _rows(backup / "studio.db")
    titles = {r[0] for r in sqlite3.connect(backup / "studio.db").execute("SELECT id FROM projects")}
    # A snapshot: everything committed before the backup started, nothing invented, nothing torn.
    assert pid in titles and set(created[:3]) <= titles and titles <= {pid, *created}
    assert 3 <= len(titles) - 1 <= during + 1
    manifest = json.loads((backup / "backup.json").read_text())
    assert set(manifest["databases"]) == {"studio.db", "queue.db"} and manifest["media_files"] >= 2
    films = sorted(p.relative_to(backup / "media") for p in (backup / "media").rglob("*.mp4"))
    assert films == [Path(pid) / job["job_id"] / "film.mp4"]
    assert len(before_restore["projects"]) > len(saved["projects"])  # more was written after the backup

    restored = _cli(home, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert _rows(settings.db_path) == saved
    assert _integrity(settings.db_path) == "ok"
    aside = [p for p in home.iterdir() if p.name.startswith("pre-restore-")]
    assert len(aside) == 1 and _rows(aside[0] / "studio.db") == before_restore  # nothing was thrown away

    # The restored studio serves: the old key works, the film downloads, later projects are gone.
    with live_server(server_settings(home, secrets_backend="file")) as live, live.client(key) as c:
        project = c.get(f"/projects/{pid}").json()
        assert project["status"] == "completed"
        film = httpx.get(project["assets"]["video_url"])
        assert film.status_code == 200 and film.content == (home / "media" / pid / job["job_id"] / "film.mp4").read_bytes()
        assert c.get(f"/projects/{created[-1]}").status_code == 404


def test_backup_refuses_an_existing_folder_and_restore_a_changed_backup(tmp_path: Path) -> None:
    home = tmp_path / "studio"
    with pytest.raises(FilmStudioError) as missing:
        backup_home(home, tmp_path / "b0")
    assert missing.value.code == "STORE_NOT_FOUND"
    home.mkdir()
    with sqlite3.connect(home / "studio.db") as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE t (x)")
        conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(100)])
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("x")
    with pytest.raises(FilmStudioError) as taken:
        backup_home(home, tmp_path / "taken")
    assert taken.value.code == "BACKUP_EXISTS"

    made = backup_home(home, tmp_path / "b1")
    assert made.databases == ("studio.db",) and read_manifest(made.path)["databases"]["studio.db"]["bytes"] > 0
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]
    with (made.path / "studio.db").open("r+b") as fh:  # one flipped byte in the middle
        fh.seek(1500)
        byte = fh.read(1)
        fh.seek(1500)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(FilmStudioError) as corrupt:
        restore_home(made.path, tmp_path / "elsewhere")
    assert corrupt.value.code == "BACKUP_CORRUPT"
    with pytest.raises(FilmStudioError) as invalid:
        restore_home(tmp_path / "taken", tmp_path / "elsewhere")
    assert invalid.value.code == "BACKUP_INVALID"


def test_restore_into_an_empty_home_and_the_lock_both_ways(tmp_path: Path) -> None:
    home = tmp_path / "studio"
    home.mkdir()
    with sqlite3.connect(home / "studio.db") as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES ('film')")
    (home / "media" / "p1").mkdir(parents=True)
    (home / "media" / "p1" / "film.mp4").write_bytes(b"\x00" * 10)
    (home / "media" / "p1" / ".film.1.partial.mp4").write_bytes(b"half")  # a render still writing
    made = backup_home(home, tmp_path / "b")
    assert made.media_files == 1

    fresh = tmp_path / "new-machine"
    with holding_home(fresh):
        with pytest.raises(FilmStudioError) as busy:
            restore_home(made.path, fresh)
        assert busy.value.code == "STORE_IN_USE"
    done = restore_home(made.path, fresh)
    assert done.previous is None and done.media_files == 1
    assert sqlite3.connect(fresh / "studio.db").execute("SELECT x FROM t").fetchall() == [("film",)]
    assert (fresh / "media" / "p1" / "film.mp4").read_bytes() == b"\x00" * 10
    assert not (fresh / "media" / "p1" / ".film.1.partial.mp4").exists()
