"""/files: signed links, Range (206/416), HEAD, and traversal attempts, against a live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from integration.conftest_server import SCRIPT, SMALL, LiveServer, live_server, server_settings, wait_job


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str, dict]]:
    with live_server(server_settings(tmp_path_factory.mktemp("files"))) as live:
        key = live.new_key("filer")
        with live.client(key) as c:
            pid = c.post("/projects", json={"title": "f", "script": SCRIPT, "settings": SMALL}).json()["project_id"]
            job = c.post(f"/projects/{pid}/generate").json()["job_id"]
            assert wait_job(c, job)["status"] == "completed"
            project = c.get(f"/projects/{pid}").json()
        yield live, key, project


def _raw_get(live: LiveServer, raw_path: str) -> httpx.Response:
    """Send a path exactly as written (httpx would normalise `..`)."""
    with httpx.Client() as c:
        req = c.build_request("GET", live.base)
        req.url = req.url.copy_with(raw_path=raw_path.encode())
        return c.send(req)


def test_range_head_and_full(rendered: tuple[LiveServer, str, dict]) -> None:
    _live, _, project = rendered
    url = project["assets"]["video_url"]
    full = httpx.get(url)
    size = len(full.content)
    assert full.status_code == 200 and size > 1000 and full.headers["accept-ranges"] == "bytes"
    part = httpx.get(url, headers={"Range": "bytes=10-99"})
    assert part.status_code == 206 and part.content == full.content[10:100]
    assert part.headers["content-range"] == f"bytes 10-99/{size}"
    tail = httpx.get(url, headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == full.content[-50:]
    bad = httpx.get(url, headers={"Range": f"bytes={size + 10}-"})
    assert bad.status_code == 416 and bad.json()["error"]["code"] == "RANGE_NOT_SATISFIABLE"
    assert bad.headers["content-range"] == f"bytes */{size}"
    head = httpx.head(url)
    assert head.status_code == 200 and int(head.headers["content-length"]) == size and head.content == b""


def test_signed_links_expire_and_bind_the_path(rendered: tuple[LiveServer, str, dict]) -> None:
    live, key, project = rendered
    url = project["assets"]["video_url"]
    parts = urlsplit(url)
    q = parse_qs(parts.query)
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    tampered = httpx.get(base, params={"expires": int(q["expires"][0]) + 1, "signature": q["signature"][0]})
    assert tampered.status_code == 404 and tampered.json()["error"]["code"] == "LINK_EXPIRED"
    thumb_path = urlsplit(project["assets"]["thumbnail_url"]).path
    moved = httpx.get(f"{parts.scheme}://{parts.netloc}{thumb_path}",
                      params={"expires": q["expires"][0], "signature": q["signature"][0]})
    assert moved.status_code == 404
    from filmstudio.services import assets

    rel = parts.path.removeprefix("/api/v1/files/")
    old = assets.signed_url(live.parts.studio, rel, 1_000)  # expired in 1970
    assert httpx.get(old).status_code == 404
    # Without a signature: the owner's key works, no key is 401, another account's key is 404.
    assert httpx.get(base, headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert httpx.get(base).status_code == 401
    other = live.new_key("stranger")
    assert httpx.get(base, headers={"Authorization": f"Bearer {other}"}).status_code == 404


@pytest.mark.parametrize("raw", [
    "/api/v1/files/..%2f..%2fstudio.db",
    "/api/v1/files/%2e%2e/%2e%2e/studio.db",
    "/api/v1/files/../../studio.db",
    "/api/v1/files//etc/passwd",
    "/api/v1/files/%2fetc%2fpasswd",
    "/api/v1/files/..%5c..%5cstudio.db",
])
def test_traversal_refused(rendered: tuple[LiveServer, str, dict], raw: str) -> None:
    live, key, _ = rendered
    r = _raw_get(live, raw)
    assert r.status_code in (400, 401, 404), r.text
    assert "error" in r.json() and b"SQLite" not in r.content and b"root:" not in r.content
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}) as c:
        req = c.build_request("GET", live.base)
        req.url = req.url.copy_with(raw_path=raw.encode())
        r = c.send(req)
    assert r.status_code in (400, 404) and b"SQLite" not in r.content and b"root:" not in r.content


def test_symlink_in_media_refused(rendered: tuple[LiveServer, str, dict]) -> None:
    live, _key, project = rendered
    media = live.parts.settings.media_dir
    rel = urlsplit(project["assets"]["video_url"]).path.removeprefix("/api/v1/files/")
    pid, job, _ = rel.split("/")
    link = media / pid / job / "film.en.vtt"
    os.symlink(live.parts.settings.db_path, link)
    from filmstudio.services import assets

    signed = assets.signed_url(live.parts.studio, f"{pid}/{job}/film.en.vtt", 2_000_000_000)
    r = httpx.get(signed)
    assert r.status_code == 404 and b"SQLite" not in r.content
    # A symlinked job folder is refused too.
    os.symlink(media / pid / job, media / pid / "alias")
    r = httpx.get(assets.signed_url(live.parts.studio, f"{pid}/alias/film.mp4", 2_000_000_000))
    assert r.status_code == 404


@pytest.mark.parametrize("header", [
    "items=0-10", "bytes", "bytes=", "bytes=abc", "bytes=10", "bytes=-", "bytes=20-10", "bytes=0-1,junk",
    "bytes=1--2", "bytes=+1-2", "bytes=0x10-20", "bytes=\u00b2-5", "bytes=" + ",".join(["0-1"] * 101),
])
def test_unknown_or_malformed_range_is_ignored(rendered: tuple[LiveServer, str, dict], header: str) -> None:
    """RFC 9110 14.2: a Range that is not a valid byte-range set is ignored: 200 and the whole file."""
    _live, _, project = rendered
    url = project["assets"]["video_url"]
    full = httpx.get(url).content
    r = httpx.get(url, headers={"Range": header.encode("utf-8")})
    assert r.status_code == 200 and r.content == full, (header, r.status_code, r.text[:200])


def test_satisfiable_parts_served_unsatisfiable_sets_are_416(rendered: tuple[LiveServer, str, dict]) -> None:
    _live, _, project = rendered
    url = project["assets"]["video_url"]
    full = httpx.get(url).content
    size = len(full)
    for header in (f"bytes={size}-", f"bytes={size}-{size + 5}", "bytes=-0", f"bytes={size + 1}-,-0"):
        r = httpx.get(url, headers={"Range": header})
        assert r.status_code == 416 and r.json()["error"]["code"] == "RANGE_NOT_SATISFIABLE", header
        assert r.headers["content-range"] == f"bytes */{size}"
    # One good range among bad ones: the good one is served.
    r = httpx.get(url, headers={"Range": f"bytes={size + 10}-, 5-9"})
    assert r.status_code == 206 and r.content == full[5:10] and r.headers["content-range"] == f"bytes 5-9/{size}"
    r = httpx.get(url, headers={"Range": f"bytes=0-{size * 2}"})
    assert r.status_code == 206 and r.content == full
