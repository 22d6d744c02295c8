"""An idea over the API: a project from an idea, a `write` job that fills its script, generate → a film;
generate on an idea-only project writes first in the same job; a failed writing refunds and keeps the script."""

from __future__ import annotations

from pathlib import Path

from fakewriter import Reply, fake_writer_server
from filmstudio.app.compose import pipeline_renderer
from integration.conftest_server import live_server, server_settings, wait_job
from media_checks import ffprobe
from studio_engines import real_engines

DATA = Path(__file__).resolve().parents[1] / "data" / "writer"
GOOD = (DATA / "good-30.fountain").read_text(encoding="utf-8")
IDEA = "An old lighthouse keeper hands her lamp to a young engineer on her last night."
SMALL = {"duration": 30, "resolution": "320x180", "fps": 12, "music_genre": "calm"}


def _balance(live: object, account_id: str) -> int | None:
    row = live.parts.studio.store.one("SELECT credit_balance FROM accounts WHERE id = ?", [account_id])  # type: ignore[attr-defined]
    return None if row is None else row["credit_balance"]


def test_idea_to_write_job_to_script_to_film(tmp_path: Path) -> None:
    with fake_writer_server([Reply("```\n" + GOOD + "```"), Reply(GOOD)]) as fake:
        settings = server_settings(tmp_path / "home", secrets_backend="file", writer_url=fake.url)
        with live_server(settings, renderer=pipeline_renderer(real_engines())) as live, \
                live.client(live.new_key("writer", credits=100)) as c:
            neither = c.post("/projects", json={"title": "Nothing"})
            assert neither.status_code == 400 and neither.json()["error"]["details"]["errors"][0]["code"] == "SCRIPT_OR_IDEA_REQUIRED"
            blank = c.post("/projects", json={"title": "Blank", "idea": " \t"})
            assert blank.status_code == 400 and blank.json()["error"]["code"] == "IDEA_EMPTY"

            made = c.post("/projects", json={"title": "Keeper", "idea": IDEA, "settings": SMALL})
            assert made.status_code == 201, made.text
            pid = made.json()["project_id"]
            project = c.get(f"/projects/{pid}").json()
            assert project["idea"] == IDEA and project["script"] == ""

            queued = c.post(f"/projects/{pid}/write")
            assert queued.status_code == 202 and queued.json()["credits_deducted"] == 1, queued.text
            job = wait_job(c, queued.json()["job_id"])
            assert job["status"] == "completed" and job["kind"] == "write", job
            assert job["result"]["title"] == "The Keeper's Last Night" and job["result"]["rounds"] == 1
            assert c.get(f"/projects/{pid}").json()["script"].strip() == GOOD.strip()

            film = wait_job(c, c.post(f"/projects/{pid}/generate").json()["job_id"], timeout=300)
            assert film["status"] == "completed", film
            video = next(live.parts.studio.media_dir.glob(f"{pid}/*/film.mp4"))
            assert abs(float(ffprobe(video)["format"]["duration"]) - 30) <= 1.0

            # An idea-only project: generate writes first, in the same render job.
            other = c.post("/projects", json={"title": "Second", "idea": IDEA, "settings": SMALL}).json()["project_id"]
            one = wait_job(c, c.post(f"/projects/{other}/generate").json()["job_id"], timeout=300)
            assert one["status"] == "completed" and one["kind"] == "render", one
            assert c.get(f"/projects/{other}").json()["script"].strip() == GOOD.strip()
            assert next(live.parts.studio.media_dir.glob(f"{other}/*/film.mp4")).stat().st_size > 0


def test_a_failed_writing_refunds_and_keeps_the_script(tmp_path: Path) -> None:
    with fake_writer_server([Reply(status=500, error="out of memory")]) as fake:
        settings = server_settings(tmp_path / "home", secrets_backend="file", writer_url=fake.url)
        with live_server(settings) as live, live.client(live.new_key("writer", credits=10)) as c:
            pid = c.post("/projects", json={"title": "Kept", "script": GOOD, "settings": SMALL}).json()["project_id"]
            account = live.parts.studio.store.one("SELECT account_id FROM projects WHERE id = ?", [pid])["account_id"]
            before = _balance(live, account)
            too_long = c.post(f"/projects/{pid}/write", json={"idea": "x" * 4001})
            assert too_long.status_code == 400 and too_long.json()["error"]["code"] in ("IDEA_TOO_LONG", "INVALID_VALUE")
            queued = c.post(f"/projects/{pid}/write", json={"idea": IDEA})
            assert queued.status_code == 202, queued.text
            job = wait_job(c, queued.json()["job_id"])
            assert job["status"] == "failed" and job["error"]["code"] == "WRITER_FAILED", job
            assert "out of memory" in job["error"]["message"]
            assert _balance(live, account) == before  # the credit came back
            project = c.get(f"/projects/{pid}").json()
            assert project["script"] == GOOD and project["idea"] == IDEA and project["status"] == "draft"
