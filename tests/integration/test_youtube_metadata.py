"""Issue 24: metadata YouTube accepts the first time, against the fake that enforces Google's rules.

Each test sends what FilmStudio used to send and would have been refused by YouTube (the fake
refuses it the same way: 400 invalidTitle / invalidDescription / invalidTags, uploadLimitExceeded).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from fakeyoutube import FakeYouTube, google_tags_length
from filmstudio.domain.errors import YouTubeMetadataInvalid, YouTubeQuotaExceeded
from filmstudio.domain.models import YouTubeOptions
from filmstudio.services.factory import open_studio
from filmstudio.services.secrets import MemorySecrets
from filmstudio.services.studio import Studio
from filmstudio.services.youtube.publish import publish_file
from integration.conftest_server import SCRIPT, SMALL, live_server, wait_job
from integration.test_youtube import CHUNK, ChapteredRenderer, _film, _settings, connect

SALT = "Salt and Signal \u2014 Harbour Cut"


@pytest.fixture
def yt(tmp_path: Path) -> Iterator[FakeYouTube]:
    with FakeYouTube(tmp_path / "fake-ca") as fake:
        yield fake


@pytest.fixture
def studio(tmp_path: Path, yt: FakeYouTube) -> Studio:
    return open_studio(_settings(tmp_path / "home", yt), secrets=MemorySecrets())


def _scenes(*locations: str) -> list[dict[str, Any]]:
    return [{"kind": "scene", "start": 20.0 * i, "end": 20.0 * (i + 1), "location": loc, "heading": f"INT. {loc}"}
            for i, loc in enumerate(locations)]


def _manifest(film: Path, **data: Any) -> None:
    film.with_name("film.manifest.json").write_text(json.dumps({"duration": 20.0 * len(data.get("scenes", [])) or 60.0,
                                                                **data}), encoding="utf-8")


def _starts(yt: FakeYouTube) -> int:
    return sum(1 for m, p, _ in yt.requests if m == "POST" and p == "/upload/youtube/v3/videos")


def test_a_film_file_is_titled_from_its_manifest(studio: Studio, yt: FakeYouTube, tmp_path: Path) -> None:
    connect(studio, yt, tmp_path)
    film = _film(tmp_path / "out", CHUNK + 1)
    _manifest(film, title=SALT, scenes=_scenes("LAB", "ROOF", "STREET"))
    result = publish_file(studio, film, YouTubeOptions(), chunk_bytes=CHUNK)
    assert yt.videos[result["video_id"]]["snippet"]["title"] == SALT  # not "film"


def test_a_film_file_without_a_manifest_is_titled_from_its_mp4_title_tag(studio: Studio, yt: FakeYouTube,
                                                                       tmp_path: Path) -> None:
    connect(studio, yt, tmp_path)
    folder = tmp_path / "tagged"
    folder.mkdir()
    film = folder / "film.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x36:rate=5:duration=1",
                    "-metadata", f"title={SALT}", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(film)], check=True)
    result = publish_file(studio, film, YouTubeOptions(), chunk_bytes=CHUNK)
    assert yt.videos[result["video_id"]]["snippet"]["title"] == SALT


def test_the_description_is_counted_in_bytes_with_its_chapters_before_a_byte_moves(
        studio: Studio, yt: FakeYouTube, tmp_path: Path) -> None:
    connect(studio, yt, tmp_path)
    film = _film(tmp_path / "f", CHUNK)
    _manifest(film, scenes=_scenes("LAB", "ROOF", "STREET"))
    japanese = "\u6d77" * 1950  # 1,950 characters (under 4,500) but 5,850 bytes
    with pytest.raises(YouTubeMetadataInvalid) as info:
        publish_file(studio, film, YouTubeOptions(description=japanese), chunk_bytes=CHUNK)
    d = info.value.details
    assert d["field"] == "snippet.description" and d["limit"] == 5000 and d["unit"] == "bytes"
    assert d["bytes"] == 5850 and d["text_bytes"] == 5850
    assert _starts(yt) == 0 and yt.bytes_received == 0


def test_chapters_that_do_not_fit_get_shorter_names(studio: Studio, yt: FakeYouTube, tmp_path: Path) -> None:
    connect(studio, yt, tmp_path)
    film = _film(tmp_path / "f", CHUNK)
    long = ["HARBOUR MASTER'S OFFICE " + "X" * 56, "LIGHTHOUSE GALLERY " + "Y" * 61, "QUAY " + "Z" * 75]
    _manifest(film, scenes=_scenes(*long))
    text = "a" * 4850  # fits alone; with the three 80-character chapter names it would be 5,109 bytes
    result = publish_file(studio, film, YouTubeOptions(description=text), chunk_bytes=CHUNK)
    sent = yt.videos[result["video_id"]]["snippet"]["description"]
    assert len(sent.encode("utf-8")) <= 5000 and sent.startswith(text)
    lines = sent[len(text):].strip().splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["0:00", "0:20", "0:40"]
    assert lines[0].startswith("0:00 Harbour Master's Office") and lines[0].endswith("\u2026")
    assert any("shortened" in w for w in result["warnings"])


def test_angle_brackets_become_guillemets(studio: Studio, yt: FakeYouTube, tmp_path: Path) -> None:
    connect(studio, yt, tmp_path)
    film = _film(tmp_path / "f", CHUNK)
    result = publish_file(studio, film, YouTubeOptions(title="Signal <3 > noise", description="a <b> c",
                                                       tags=("x<y",)), chunk_bytes=CHUNK)
    snippet = yt.videos[result["video_id"]]["snippet"]
    assert snippet["title"] == "Signal \u20393 \u203a noise"
    assert snippet["description"].startswith("a \u2039b\u203a c") and snippet["tags"] == ["x\u2039y"]


def test_tags_are_counted_as_google_counts_them(studio: Studio, yt: FakeYouTube, tmp_path: Path) -> None:
    connect(studio, yt, tmp_path)
    tags = tuple(f"short film {i:04d}" for i in range(30))  # 15 characters each, 479 naively, 539 Google's way
    assert sum(map(len, tags)) + 29 < 500 < google_tags_length(list(tags)) == 539
    with pytest.raises(YouTubeMetadataInvalid) as info:
        publish_file(studio, _film(tmp_path / "f", CHUNK), YouTubeOptions(tags=tags), chunk_bytes=CHUNK)
    assert info.value.details == {"field": "snippet.tags", "limit": 500, "unit": "characters", "length": 539}
    assert _starts(yt) == 0
    ok = publish_file(studio, _film(tmp_path / "g", CHUNK), YouTubeOptions(tags=tags[:27]), chunk_bytes=CHUNK)
    assert len(yt.videos[ok["video_id"]]["snippet"]["tags"]) == 27  # 485 Google's way: accepted


def test_upload_limit_exceeded_as_a_400_is_the_quota_error(studio: Studio, yt: FakeYouTube, tmp_path: Path) -> None:
    connect(studio, yt, tmp_path)
    yt.upload_limit_exceeded = True
    with pytest.raises(YouTubeQuotaExceeded) as info:
        publish_file(studio, _film(tmp_path / "f", CHUNK), YouTubeOptions(), chunk_bytes=CHUNK)
    assert info.value.details["reason"] == "uploadLimitExceeded" and "T00:00:00" in info.value.details["resets_at"]


def test_a_vertical_film_sends_its_1280x720_thumbnail(studio: Studio, yt: FakeYouTube, tmp_path: Path) -> None:
    connect(studio, yt, tmp_path)
    film = _film(tmp_path / "v", CHUNK)
    Image.new("RGB", (720, 1280), (200, 0, 0)).save(film.with_suffix(".jpg"), "JPEG")
    Image.new("RGB", (1280, 720), (0, 0, 200)).save(film.with_name("film.youtube.jpg"), "JPEG")
    result = publish_file(studio, film, YouTubeOptions(), chunk_bytes=CHUNK)
    sent = tmp_path / "sent.jpg"
    sent.write_bytes(yt.thumbnails[result["video_id"]])
    with Image.open(sent) as img:
        assert img.size == (1280, 720)
        r, _g, b = img.convert("RGB").getpixel((640, 360))  # type: ignore[misc]
        assert b > 150 and r < 60


def test_the_api_refuses_bad_metadata_up_front_and_a_failed_job_carries_resets_at(tmp_path: Path,
                                                                                  yt: FakeYouTube) -> None:
    with live_server(_settings(tmp_path / "home", yt), ChapteredRenderer()) as live:
        key = live.new_key("creator", credits=50)
        connect(live.parts.studio, yt, tmp_path, account="creator")
        with live.client(key) as c:
            pid = c.post("/projects", json={"title": "Q", "script": SCRIPT, "settings": SMALL}).json()["project_id"]
            assert wait_job(c, c.post(f"/projects/{pid}/generate").json()["job_id"])["status"] == "completed"
            tags = [f"short film {i:04d}" for i in range(30)]
            r = c.post(f"/projects/{pid}/publish", json={"youtube": {"tags": tags}})
            assert r.status_code == 400, r.text
            err = r.json()["error"]
            assert err["code"] == "YOUTUBE_METADATA_INVALID"
            assert err["details"] == {"field": "snippet.tags", "limit": 500, "unit": "characters", "length": 539}
            past = c.post(f"/projects/{pid}/publish", json={"target": "youtube",
                                                             "options": {"publish_at": "2001-01-01T00:00:00Z"}})
            assert past.status_code == 400 and past.json()["error"]["details"]["field"] == "status.publishAt"
            assert c.get("/jobs", params={"kind": "publish"}).json()["total_count"] == 0 and _starts(yt) == 0
            yt.upload_limit_exceeded = True
            failed = wait_job(c, c.post(f"/projects/{pid}/publish").json()["job_id"])
            assert failed["status"] == "failed" and failed["error"]["code"] == "YOUTUBE_QUOTA_EXCEEDED"
            details = failed["error"]["details"]
            assert details["reason"] == "uploadLimitExceeded" and "T00:00:00" in details["resets_at"]
