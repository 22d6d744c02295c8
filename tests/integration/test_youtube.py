"""Publishing to YouTube against a local fake over TLS: connect, a whole publish, cuts, kill -9, quota, revoked, 5xx."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import webbrowser
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fakeyoutube import CHANNEL_ID, CHANNEL_TITLE, FakeYouTube, wait_for
from filmstudio.domain.errors import YouTubeAuthExpired, YouTubeQuotaExceeded, YouTubeUnavailable
from filmstudio.domain.models import YouTubeOptions
from filmstudio.pipeline.request import RenderRequest
from filmstudio.services.factory import open_studio
from filmstudio.services.secrets import MemorySecrets
from filmstudio.services.studio import Studio
from filmstudio.services.youtube import auth
from filmstudio.services.youtube.publish import publish_file
from integration.conftest_server import SCRIPT, SMALL, FakeRenderer, live_server, server_settings, wait_job

REPO = Path(__file__).resolve().parents[2]
CHUNK = 256 * 1024
SCENES = [  # a title card, then scenes; the 4th starts 6 s after the 3rd, so it joins it
    {"kind": "title", "start": 0.0, "end": 3.0},
    {"kind": "scene", "start": 3.0, "end": 14.0, "location": "LAB", "time_of_day": "NIGHT", "heading": "INT. LAB - NIGHT"},
    {"kind": "scene", "start": 14.0, "end": 30.0, "location": "ROOF", "time_of_day": "DAWN", "heading": "EXT. ROOF"},
    {"kind": "scene", "start": 30.0, "end": 36.0, "location": "STAIRS", "heading": "INT. STAIRS"},
    {"kind": "scene", "start": 36.0, "end": 60.0, "location": "STREET", "heading": "EXT. STREET"},
]


class ChapteredRenderer(FakeRenderer):
    """The fake film plus a manifest with scenes (for chapters), padded to `pad` bytes (for chunks)."""

    def __init__(self, pad: int = 0) -> None:
        super().__init__()
        self.pad = pad

    def __call__(self, request: RenderRequest, **kw: Any) -> dict[str, Any]:
        out = super().__call__(request, **kw)
        with request.output.open("ab") as fh:  # trailing bytes after the moov: players ignore them
            fh.write(os.urandom(max(0, self.pad - request.output.stat().st_size)))
        request.output.with_name("film.manifest.json").write_text(json.dumps({"duration": 60.0, "scenes": SCENES}))
        return out


def make_padded_renderer() -> ChapteredRenderer:
    return ChapteredRenderer(pad=3 * 1024 * 1024)


@pytest.fixture
def yt(tmp_path: Path) -> Iterator[FakeYouTube]:
    with FakeYouTube(tmp_path / "fake-ca") as fake:
        yield fake


def _settings(home: Path, yt: FakeYouTube, **kw: Any) -> Any:
    values = {"secrets_backend": "file", "youtube_api_endpoint": yt.root, "youtube_ca_bundle": yt.ca,
              "youtube_chunk_bytes": CHUNK, **kw}
    return server_settings(home, **values)


def _paste_redirect(yt: FakeYouTube) -> Any:
    """What a user does in the no-browser flow: open the URL, sign in, copy the address it ends on."""
    def read_code(url: str) -> str:
        r = httpx.get(url, verify=ssl.create_default_context(cafile=str(yt.ca)), follow_redirects=False)
        assert r.status_code == 302
        return r.headers["location"]
    return read_code


def connect(studio: Studio, yt: FakeYouTube, tmp_path: Path, account: str | None = None) -> dict[str, Any]:
    """Connect the fake's channel for `account` (a name; default the owner account, as the CLI does)."""
    from filmstudio.services.accounts import account_by_name

    account_id = account_by_name(studio.store, account).account_id if account else None
    return auth.connect(studio, yt.client_secrets(tmp_path / "client_secrets.json"), open_browser=False,
                        read_code=_paste_redirect(yt), account_id=account_id)


@pytest.fixture
def studio(tmp_path: Path, yt: FakeYouTube) -> Studio:
    return open_studio(_settings(tmp_path / "home", yt), secrets=MemorySecrets())


def _film(folder: Path, size: int, langs: tuple[str, ...] = ("en", "fr")) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    film = folder / "film.mp4"
    film.write_bytes(os.urandom(size))
    (folder / "film.jpg").write_bytes(b"\xff\xd8\xff\xe0fake-jpeg")
    for lang in langs:
        (folder / f"film.{lang}.srt").write_text(f"1\n00:00:00,000 --> 00:00:01,000\nHello {lang}\n")
    (folder / "film.manifest.json").write_text(json.dumps({"duration": 60.0, "scenes": SCENES}))
    return film


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- connecting ---------------------------------------------------------------------------------


def test_connect_without_a_browser_keeps_the_token_out_of_sqlite(studio: Studio, yt: FakeYouTube,
                                                                tmp_path: Path) -> None:
    channel = connect(studio, yt, tmp_path)
    assert channel["channel_id"] == CHANNEL_ID and channel["title"] == CHANNEL_TITLE
    saved = json.loads(studio.secrets.get(f"youtube:{CHANNEL_ID}") or "{}")
    assert saved["refresh_token"] in yt.refresh_tokens  # issued after a PKCE-checked code exchange
    studio.store.db.execute("PRAGMA wal_checkpoint(FULL)")
    db_bytes = b"".join(p.read_bytes() for p in studio.store.path.parent.glob("studio.db*"))
    assert saved["refresh_token"].encode() not in db_bytes
    assert [c["title"] for c in auth.status(studio)] == [CHANNEL_TITLE]
    assert auth.disconnect(studio) == [CHANNEL_ID]
    assert auth.status(studio) == [] and studio.secrets.get(f"youtube:{CHANNEL_ID}") is None


def test_connect_with_the_loopback_redirect(studio: Studio, yt: FakeYouTube, tmp_path: Path) -> None:
    class Browser(webbrowser.BaseBrowser):
        def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
            import threading

            # The user signs in; Google sends the browser to our loopback server with the code.
            threading.Thread(target=lambda: httpx.get(url, verify=ssl.create_default_context(cafile=str(yt.ca)), follow_redirects=True)).start()
            return True

    webbrowser.register("filmstudio-test-browser", None, Browser("filmstudio-test-browser"))
    channel = auth.connect(studio, yt.client_secrets(tmp_path / "cs.json"), browser="filmstudio-test-browser")
    assert channel["channel_id"] == CHANNEL_ID
    redirect = next(p for m, p, _ in yt.requests if p == "/o/oauth2/auth")
    assert redirect  # the authorize endpoint came from the client secrets file


# -- publishing a film file in this process -------------------------------------------------------


def test_cut_connection_mid_chunk_resumes_from_the_acknowledged_byte(studio: Studio, yt: FakeYouTube,
                                                                      tmp_path: Path) -> None:
    connect(studio, yt, tmp_path)
    film = _film(tmp_path / "f", 4 * CHUNK + 1234)
    yt.cut_after = 100_000  # in the first chunk after... (the first PUT): 100 kB arrive, then the line drops
    result = publish_file(studio, film, YouTubeOptions(title="Cut"), chunk_bytes=CHUNK)
    video = yt.videos[result["video_id"]]
    assert video["sha256"] == _sha(film)
    assert yt.bytes_received == film.stat().st_size + 100_000  # only the cut chunk's bytes came twice
    assert any(rng == f"bytes */{film.stat().st_size}" for m, _, rng in yt.requests if m == "PUT")


def test_a_5xx_burst_is_retried_in_every_step(studio: Studio, yt: FakeYouTube, tmp_path: Path) -> None:
    connect(studio, yt, tmp_path)
    film = _film(tmp_path / "f", 2 * CHUNK + 7)
    yt.failures = {"start": [500], "put": [503, 502], "thumbnail": [503], "captions": [500, 503]}
    result = publish_file(studio, film, YouTubeOptions(), chunk_bytes=CHUNK)
    assert yt.videos[result["video_id"]]["sha256"] == _sha(film)
    assert result["captions"] == ["en", "fr"] and result["thumbnail"] is True
    assert not any(yt.failures.values())


def test_quota_exceeded_says_when_it_resets(studio: Studio, yt: FakeYouTube, tmp_path: Path) -> None:
    connect(studio, yt, tmp_path)
    yt.quota_exceeded = True
    with pytest.raises(YouTubeQuotaExceeded) as info:
        publish_file(studio, _film(tmp_path / "f", CHUNK), YouTubeOptions(), chunk_bytes=CHUNK)
    resets = info.value.details["resets_at"]
    assert "T00:00:00" in resets and resets[-6:] in ("-08:00", "-07:00")  # midnight Pacific
    assert info.value.details["reason"] == "quotaExceeded"


def test_a_revoked_refresh_token_is_auth_expired(studio: Studio, yt: FakeYouTube, tmp_path: Path) -> None:
    connect(studio, yt, tmp_path)
    yt.revoke()
    with pytest.raises(YouTubeAuthExpired):
        publish_file(studio, _film(tmp_path / "f", CHUNK), YouTubeOptions(), chunk_bytes=CHUNK)
    assert yt.bytes_received == 0


def test_an_unverified_channel_gets_the_video_and_a_clear_thumbnail_warning(studio: Studio, yt: FakeYouTube,
                                                                            tmp_path: Path) -> None:
    connect(studio, yt, tmp_path)
    yt.thumbnails_forbidden = True
    result = publish_file(studio, _film(tmp_path / "f", CHUNK + 1), YouTubeOptions(), chunk_bytes=CHUNK)
    assert result["thumbnail"] is False and "verified" in result["warnings"][0]
    assert result["video_id"] in yt.videos


def test_an_expired_session_starts_again(studio: Studio, yt: FakeYouTube, tmp_path: Path) -> None:
    connect(studio, yt, tmp_path)
    film = _film(tmp_path / "f", 3 * CHUNK)
    yt.failures = {"put": [503]}  # the first chunk fails; meanwhile the session expires
    original = yt.take_failure

    def fail_then_expire(route: str) -> int | None:
        code = original(route)
        if code is not None:
            yt.expire_sessions()
        return code

    yt.take_failure = fail_then_expire  # type: ignore[method-assign]
    result = publish_file(studio, film, YouTubeOptions(), chunk_bytes=CHUNK)
    assert yt.videos[result["video_id"]]["sha256"] == _sha(film)
    assert len(yt.sessions) == 2


def test_a_refused_video_carries_youtubes_reason(studio: Studio, yt: FakeYouTube, tmp_path: Path) -> None:
    from filmstudio.domain.errors import YouTubeUploadRejected

    connect(studio, yt, tmp_path)
    yt.reject = ("invalidDescription", "The request metadata specifies an invalid video description.")
    with pytest.raises(YouTubeUploadRejected) as info:
        publish_file(studio, _film(tmp_path / "f", CHUNK), YouTubeOptions(), chunk_bytes=CHUNK)
    assert info.value.details["reason"] == "invalidDescription" and "invalid video description" in info.value.message


def test_an_access_token_that_runs_out_mid_upload_is_refreshed(studio: Studio, yt: FakeYouTube,
                                                               tmp_path: Path) -> None:
    connect(studio, yt, tmp_path)
    film = _film(tmp_path / "f", 3 * CHUNK)
    original = yt.take_failure

    def expire_on_second_chunk(route: str) -> int | None:
        if route == "put" and sum(1 for m, _, r in yt.requests if m == "PUT" and "*" not in r) == 2:
            yt.expire_access_tokens()
        return original(route)

    yt.take_failure = expire_on_second_chunk  # type: ignore[method-assign]
    result = publish_file(studio, film, YouTubeOptions(), chunk_bytes=CHUNK)
    assert yt.videos[result["video_id"]]["sha256"] == _sha(film)


def test_nothing_is_sent_when_no_channel_is_connected(studio: Studio, yt: FakeYouTube, tmp_path: Path) -> None:
    from filmstudio.domain.errors import YouTubeNotConnected

    with pytest.raises(YouTubeNotConnected):
        publish_file(studio, _film(tmp_path / "f", CHUNK), YouTubeOptions(), chunk_bytes=CHUNK)
    assert yt.requests == []


def test_persistent_5xx_gives_up_with_youtube_unavailable(yt: FakeYouTube, tmp_path: Path) -> None:
    from filmstudio.services.youtube.client import Endpoint
    from filmstudio.services.youtube.upload import ResumableUpload

    yt.access_tokens.add("t")
    yt.failures = {"put": [503] * 20}
    saved: list[dict[str, Any]] = []
    upload = ResumableUpload(_film(tmp_path / "f", 2 * CHUNK), {"snippet": {"title": "x"}}, Endpoint(yt.root, yt.ca),
                             lambda force: "t", saved.append, chunk_bytes=CHUNK, max_tries=3, backoff=0.01)
    with pytest.raises(YouTubeUnavailable) as info:
        upload.run({})
    assert info.value.details["acked_bytes"] == 0 and saved[0]["session_uri"]  # a later publish resumes it


# -- through the API and the job system ----------------------------------------------------------


def test_generate_with_youtube_upload_publishes_everything(tmp_path: Path, yt: FakeYouTube) -> None:
    settings = _settings(tmp_path / "home", yt)
    with live_server(settings, ChapteredRenderer(pad=CHUNK + 5000)) as live:
        key = live.new_key("creator", credits=50, scopes=["admin"])
        connect(live.parts.studio, yt, tmp_path, account="creator")  # channels belong to accounts (issue 25)
        with live.client(key) as c:
            hook = c.post("/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["job.completed"]})
            assert hook.status_code in (200, 201), hook.text
            pid = c.post("/projects", json={"title": "The Lab", "script": SCRIPT,
                                            "settings": {**SMALL, "subtitle_languages": ["en", "es"]}}).json()["project_id"]
            r = c.post(f"/projects/{pid}/generate", json={
                "settings": {"youtube_upload": True},
                "youtube": {"privacy": "unlisted", "description": "A short film.", "tags": ["short", "lab"]}})
            assert r.status_code == 202, r.text
            assert wait_job(c, r.json()["job_id"])["status"] == "completed"
            wait_for(lambda: c.get("/jobs", params={"kind": "publish"}).json()["total_count"] == 1)
            pub = c.get("/jobs", params={"kind": "publish"}).json()["jobs"][0]
            done = wait_job(c, pub["job_id"])
            assert done["status"] == "completed", done
            project = c.get(f"/projects/{pid}").json()
            film = live.parts.studio.media_dir / json.loads(
                live.parts.studio.store.one("SELECT assets FROM projects WHERE id = ?", [pid])["assets"])["video"]
        video = yt.videos[done["result"]["video_id"]]
        assert done["result"]["url"] == f"https://www.youtube.com/watch?v={video['id']}"
        assert project["assets"]["youtube_url"] == done["result"]["url"]
        assert project["status"] == "completed"
        assert video["sha256"] == _sha(film)
        assert video["snippet"]["title"] == "The Lab" and video["snippet"]["tags"] == ["short", "lab"]
        assert video["status"]["privacyStatus"] == "unlisted"
        assert video["snippet"]["description"] == (
            "A short film.\n\n0:00 Lab (Night)\n0:14 Roof (Dawn)\n0:36 Street")
        assert sorted(yt.captions[video["id"]]) == ["en", "es"]
        assert yt.thumbnails[video["id"]].startswith(b"\xff\xd8")
        event = live.parts.studio.store.one(
            "SELECT payload FROM webhook_deliveries WHERE event = 'job.completed' AND payload LIKE '%publish%'")
        assert event is not None and video["id"] in event["payload"]


def test_a_failed_publish_leaves_the_film_and_project_alone(tmp_path: Path, yt: FakeYouTube) -> None:
    settings = _settings(tmp_path / "home", yt)
    with live_server(settings, ChapteredRenderer()) as live:
        key = live.new_key("creator", credits=50, scopes=["admin"])
        with live.client(key) as c:
            pid = c.post("/projects", json={"title": "Q", "script": SCRIPT, "settings": SMALL}).json()["project_id"]
            refused = c.post(f"/projects/{pid}/generate", json={"settings": {"youtube_upload": True}})
            assert refused.status_code == 409 and refused.json()["error"]["code"] == "YOUTUBE_NOT_CONNECTED"
            assert wait_job(c, c.post(f"/projects/{pid}/generate").json()["job_id"])["status"] == "completed"
            connect(live.parts.studio, yt, tmp_path, account="creator")
            before = live.parts.studio.store.one("SELECT status, assets, updated_at FROM projects WHERE id = ?", [pid])
            film = live.parts.studio.media_dir / json.loads(before["assets"])["video"]
            sha = _sha(film)
            yt.quota_exceeded = True
            r = c.post(f"/projects/{pid}/publish", json={"youtube": {"privacy": "public"}})
            assert r.status_code == 202, r.text
            failed = wait_job(c, r.json()["job_id"])
            assert failed["status"] == "failed" and failed["error"]["code"] == "YOUTUBE_QUOTA_EXCEEDED"
            assert "T00:00:00" in failed["error"]["details"]["resets_at"]  # the README's resets_at (issue 24)
            after = live.parts.studio.store.one("SELECT status, assets, updated_at FROM projects WHERE id = ?", [pid])
            assert after == before and _sha(film) == sha
            # The video is up but a caption track is refused: the job fails, and says where the video is.
            assert c.post("/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["job.failed"]}).is_success
            yt.quota_exceeded = False
            yt.failures = {"captions": [400]}
            half = wait_job(c, c.post(f"/projects/{pid}/publish").json()["job_id"])
            assert half["status"] == "failed" and half["error"]["code"] == "YOUTUBE_UPLOAD_REJECTED"
            assert half["result"]["video_id"] in yt.videos
            event = live.parts.studio.store.one("SELECT payload FROM webhook_deliveries WHERE event = 'job.failed'")
            assert event is not None and half["result"]["video_id"] in event["payload"]
            assert live.parts.studio.store.one("SELECT status, assets, updated_at FROM projects WHERE id = ?",
                                               [pid]) == before
            # Publishing again continues that video (the captions only), instead of uploading it twice.
            received = yt.bytes_received
            again = wait_job(c, c.post(f"/projects/{pid}/publish").json()["job_id"])
            assert again["status"] == "completed" and again["result"]["video_id"] == half["result"]["video_id"]
            assert yt.bytes_received == received and len(yt.videos) == 1
            assert c.get(f"/projects/{pid}").json()["assets"]["youtube_video_id"] == again["result"]["video_id"]


def test_cancel_mid_upload_then_publish_again_continues(tmp_path: Path, yt: FakeYouTube) -> None:
    with live_server(_settings(tmp_path / "home", yt), ChapteredRenderer(pad=8 * CHUNK)) as live:
        key = live.new_key("creator", credits=50)
        connect(live.parts.studio, yt, tmp_path, account="creator")
        with live.client(key) as c:
            pid = c.post("/projects", json={"title": "C", "script": SCRIPT, "settings": SMALL}).json()["project_id"]
            assert wait_job(c, c.post(f"/projects/{pid}/generate").json()["job_id"])["status"] == "completed"
            yt.chunk_delay = 0.3
            job_id = c.post(f"/projects/{pid}/publish").json()["job_id"]
            wait_for(lambda: (c.get(f"/jobs/{job_id}").json().get("result") or {}).get("bytes_done", 0) >= 2 * CHUNK)
            assert c.post(f"/jobs/{job_id}/cancel").status_code == 200
            assert wait_job(c, job_id)["status"] == "cancelled"
            assert not yt.videos
            yt.chunk_delay = 0.0
            done = wait_job(c, c.post(f"/projects/{pid}/publish").json()["job_id"])
        assert done["status"] == "completed" and len(yt.sessions) == 1  # the cancelled session, resumed
        assert yt.bytes_received - done["result"]["bytes"] <= CHUNK


def _env(home: Path, yt: FakeYouTube) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "FILMSTUDIO_HOME": str(home), "FILMSTUDIO_LEASE_SECONDS": "2", "FILMSTUDIO_RECONCILE_SECONDS": "0.5",
        "FILMSTUDIO_SECRETS_BACKEND": "file", "FILMSTUDIO_YOUTUBE_API_ENDPOINT": yt.root,
        "FILMSTUDIO_YOUTUBE_CA_BUNDLE": str(yt.ca), "FILMSTUDIO_YOUTUBE_CHUNK_BYTES": str(CHUNK),
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO / "tests")]),
    })
    return env


def _worker(home: Path, yt: FakeYouTube) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "filmstudio.cli_studio", "worker"], env=_env(home, yt),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)


@pytest.mark.slow
def test_kill_9_mid_upload_then_the_reconciler_resumes_without_resending(tmp_path: Path, yt: FakeYouTube) -> None:
    home = tmp_path / "home"
    with live_server(_settings(home, yt), make_padded_renderer()) as live:  # render the film first
        key = live.new_key("creator", credits=50)
        with live.client(key) as c:
            pid = c.post("/projects", json={"title": "K", "script": SCRIPT, "settings": SMALL}).json()["project_id"]
            assert wait_job(c, c.post(f"/projects/{pid}/generate").json()["job_id"])["status"] == "completed"
        connect(live.parts.studio, yt, tmp_path, account="creator")
    with live_server(_settings(home, yt, workers=0)) as live, live.client(key) as c:
        store = live.parts.studio.store
        film = live.parts.studio.media_dir / json.loads(store.one("SELECT assets FROM projects")["assets"])["video"]
        size = film.stat().st_size
        yt.stall_after = 3 * CHUNK + 1000  # hang inside the 4th chunk
        job_id = c.post(f"/projects/{pid}/publish").json()["job_id"]
        first = _worker(home, yt)
        try:
            wait_for(lambda: yt.stall_after is None, timeout=60)  # the worker is mid-chunk now
            def upload_state() -> dict[str, Any]:
                params = json.loads(store.one("SELECT params FROM jobs WHERE id = ?", [job_id])["params"])
                return dict(params.get("state", {}).get("upload", {}))

            wait_for(lambda: upload_state().get("acked") == 3 * CHUNK, timeout=10)  # saved as acknowledged
            assert upload_state()["session_uri"]
            first.send_signal(signal.SIGKILL)
            assert first.wait(timeout=10) == -signal.SIGKILL
        finally:
            if first.poll() is None:
                first.kill()
        yt.released.set()
        second = _worker(home, yt)
        try:
            done = wait_job(c, job_id, timeout=120)
        finally:
            second.send_signal(signal.SIGINT)
            second.wait(timeout=20)
    assert done["status"] == "completed", done
    assert done["attempts"] == 2
    video = yt.videos[done["result"]["video_id"]]
    assert video["sha256"] == _sha(film) and len(yt.sessions) == 1  # the same session, resumed
    resent = yt.bytes_received - size
    assert 0 < resent <= CHUNK, resent  # only the chunk in flight at the kill came again
    time.sleep(0)


def test_the_refresh_token_lives_in_the_real_keyring(tmp_path: Path, yt: FakeYouTube) -> None:
    """Needs a Secret Service (run under dbus-run-session + gnome-keyring, like the other keyring tests)."""
    import keyring

    from filmstudio.services.secrets import KeyringSecrets

    home = tmp_path / "home"
    studio = open_studio(_settings(home, yt, secrets_backend="keyring"), secrets=KeyringSecrets(home))
    assert "fail" not in type(keyring.get_keyring()).__module__
    connect(studio, yt, tmp_path)
    again = KeyringSecrets(home)  # a new process's view: the token is in the keyring, not in memory
    token = json.loads(again.get(f"youtube:{CHANNEL_ID}") or "{}")["refresh_token"]
    assert token in yt.refresh_tokens
    assert not (home / "secrets.json").exists()
    assert auth.status(studio)[0]["login_saved"] is True
    auth.disconnect(studio, CHANNEL_ID)
    assert KeyringSecrets(home).get(f"youtube:{CHANNEL_ID}") is None


def test_cli_connect_status_publish_disconnect(tmp_path: Path, yt: FakeYouTube) -> None:
    home = tmp_path / "home"
    env = _env(home, yt)
    secrets_file = yt.client_secrets(tmp_path / "client_secrets.json")

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "filmstudio", *args], env=env, input=stdin, text=True,
                              capture_output=True, timeout=120, cwd=REPO)

    # The no-browser form: the printed URL is opened elsewhere; the address it ends on is pasted back.
    proc = subprocess.Popen([sys.executable, "-m", "filmstudio", "youtube", "connect", "--client-secrets",
                             str(secrets_file), "--no-browser"], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    assert proc.stdout is not None and proc.stdin is not None
    url = next(line.strip() for line in proc.stdout if line.strip().startswith("https://"))
    proc.stdin.write(_paste_redirect(yt)(url) + "\n")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert f"Connected YouTube channel {CHANNEL_TITLE}" in out
    status = json.loads(cli("youtube", "status", "--json").stdout)
    assert [c["channel_id"] for c in status] == [CHANNEL_ID] and "refresh" not in json.dumps(status)
    film = _film(tmp_path / "out", CHUNK + 99, langs=("en",))
    published = cli("publish", str(film), "--youtube", "--privacy", "unlisted", "--title", "From the CLI", "--json")
    assert published.returncode == 0, published.stderr
    result = json.loads(published.stdout)
    assert yt.videos[result["video_id"]]["snippet"]["title"] == "From the CLI" and result["captions"] == ["en"]
    assert "Disconnected 1" in cli("youtube", "disconnect").stdout
    refused = cli("publish", str(film), "--youtube")
    assert refused.returncode == 2 and "YOUTUBE_NOT_CONNECTED" in refused.stderr


def test_cli_publishes_a_project_as_a_job_in_its_own_process(tmp_path: Path, yt: FakeYouTube) -> None:
    home = tmp_path / "home"
    with live_server(_settings(home, yt), ChapteredRenderer()) as live:
        key = live.new_key("creator", credits=50)
        with live.client(key) as c:
            pid = c.post("/projects", json={"title": "CLI film", "script": SCRIPT, "settings": SMALL}).json()["project_id"]
            assert wait_job(c, c.post(f"/projects/{pid}/generate").json()["job_id"])["status"] == "completed"
        connect(live.parts.studio, yt, tmp_path, account="creator")
    done = subprocess.run([sys.executable, "-m", "filmstudio", "publish", pid, "--youtube", "--privacy", "public",
                           "--tags", "a,b", "--json"], env=_env(home, yt), text=True, capture_output=True,
                          timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    video = yt.videos[result["video_id"]]
    assert video["snippet"]["title"] == "CLI film" and video["status"]["privacyStatus"] == "public"
    assert video["snippet"]["tags"] == ["a", "b"] and "0:00 Lab (Night)" in video["snippet"]["description"]
    with live_server(_settings(home, yt, workers=0)) as live, live.client(key) as c:
        assert c.get(f"/projects/{pid}").json()["assets"]["youtube_video_id"] == video["id"]
        jobs = c.get("/jobs", params={"kind": "publish"}).json()["jobs"]
        assert [(j["status"], j["result"]["video_id"]) for j in jobs] == [("completed", video["id"])]
