"""Issue 25: a YouTube channel belongs to the account that connected it; others publish only when shared."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fakeyoutube import CHANNEL_ID, CHANNEL_TITLE, FakeYouTube
from filmstudio.services.accounts import account_by_name
from filmstudio.services.studio import Studio
from filmstudio.services.youtube import auth
from integration.conftest_server import SCRIPT, SMALL, live_server, wait_job
from integration.test_youtube import ChapteredRenderer, _settings, connect


@pytest.fixture
def yt(tmp_path: Path) -> Iterator[FakeYouTube]:
    with FakeYouTube(tmp_path / "fake-ca") as fake:
        yield fake


def test_another_account_cannot_publish_to_the_owners_channel_until_it_is_shared(tmp_path: Path,
                                                                                 yt: FakeYouTube) -> None:
    with live_server(_settings(tmp_path / "home", yt), ChapteredRenderer()) as live:
        studio = live.parts.studio
        alice, bob = live.new_key("alice", credits=50), live.new_key("bob", credits=50, scopes=["admin"])
        connect(studio, yt, tmp_path, account="alice")
        with live.client(bob) as c:
            pid = c.post("/projects", json={"title": "Bob's", "script": SCRIPT, "settings": SMALL}).json()["project_id"]
            assert wait_job(c, c.post(f"/projects/{pid}/generate").json()["job_id"])["status"] == "completed"
            # Alice's channel, named: as if it did not exist (even for a key with the admin scope).
            named = c.post(f"/projects/{pid}/publish", json={"youtube": {"channel_id": CHANNEL_ID}})
            assert named.status_code == 404, named.text
            assert named.json()["error"]["code"] == "YOUTUBE_CHANNEL_NOT_FOUND"
            # Not named: bob has no channel of his own.
            mine = c.post(f"/projects/{pid}/publish")
            assert mine.status_code == 409 and mine.json()["error"]["code"] == "YOUTUBE_NOT_CONNECTED"
            upload = c.post(f"/projects/{pid}/generate", json={"settings": {"youtube_upload": True}})
            assert upload.status_code == 409 and upload.json()["error"]["code"] == "YOUTUBE_NOT_CONNECTED"
            assert c.get("/jobs", params={"kind": "publish"}).json()["total_count"] == 0 and not yt.sessions
            # An admin shares the studio channel with bob: now he may.
            assert auth.share(studio, CHANNEL_ID, "bob") is True
            assert auth.status(studio, bob_id := _account(studio, "bob"))[0]["account"] == "alice"
            accepted = c.post(f"/projects/{pid}/publish", json={"target": "youtube", "options": {"privacy": "unlisted"}})
            assert accepted.status_code == 202, accepted.text
            assert (accepted.json()["channel_id"], accepted.json()["channel_title"]) == (CHANNEL_ID, CHANNEL_TITLE)
            done = wait_job(c, accepted.json()["job_id"])
            assert done["status"] == "completed", done
            assert yt.videos[done["result"]["video_id"]]["status"]["privacyStatus"] == "unlisted"
            published = c.get(f"/projects/{pid}").json()["assets"]["published"]["youtube"]
            assert published["ref"] == done["result"]["video_id"] and published["destination_id"] == CHANNEL_ID
            assert auth.share(studio, CHANNEL_ID, "bob", undo=True) is True
            assert auth.status(studio, bob_id) == []
            again = c.post(f"/projects/{pid}/publish")
            assert again.status_code == 409 and again.json()["error"]["code"] == "YOUTUBE_NOT_CONNECTED"
        with live.client(alice) as c:  # alice's own project and channel: as before
            pid = c.post("/projects", json={"title": "Alice's", "script": SCRIPT, "settings": SMALL}).json()["project_id"]
            assert wait_job(c, c.post(f"/projects/{pid}/generate").json()["job_id"])["status"] == "completed"
            assert c.post(f"/projects/{pid}/publish").status_code == 202


def test_a_second_account_connecting_the_same_channel_gets_it_shared(tmp_path: Path, yt: FakeYouTube) -> None:
    with live_server(_settings(tmp_path / "home", yt), ChapteredRenderer()) as live:
        studio = live.parts.studio
        live.new_key("alice")
        live.new_key("bob")
        connect(studio, yt, tmp_path, account="alice")
        connect(studio, yt, tmp_path, account="bob")  # bob signed in to the same Google channel
        [channel] = auth.status(studio)
        assert channel["account"] == "alice" and channel["shared_with"] == ["bob"]


def _account(studio: Studio, name: str) -> str:
    return account_by_name(studio.store, name).account_id
