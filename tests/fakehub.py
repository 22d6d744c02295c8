"""A local stand-in for the Hugging Face Hub: enough of it for huggingface_hub's file downloads.

huggingface_hub (2.x) resolves a file with `HEAD /{repo}/resolve/{revision}/{path}` and
reads `X-Repo-Commit`, `ETag` (or `X-Linked-Etag` / `X-Linked-Size` for LFS files) and
`Content-Length`; then `GET`s the same URL, with `Range: bytes=N-` when it continues a file,
expecting `206` and `Content-Range`. Errors carry `X-Error-Code` (RepoNotFound, EntryNotFound,
RevisionNotFound). The fake serves files held in memory and can misbehave on purpose: cut the
connection after N bytes (`cut_after`), stall after N bytes (`stall_after`), answer like the
Hub does for LFS files (`lfs_via_cdn`: a 302 to another host with X-Linked-Size/-Etag), and it
records every request with the bytes it sent and whether it carried a token.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

COMMIT = "0123456789abcdef0123456789abcdef01234567"
_CDN = re.compile(r"^/cdn/(?P<repo>[^/]+/[^/]+)/(?P<path>.+)$")
_RESOLVE = re.compile(r"^/(?:(?P<kind>datasets|spaces)/)?(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")


@dataclass
class Served:
    method: str
    path: str
    range: str | None
    bytes_sent: int = 0
    status: int = 0
    revision: str = ""
    authorized: bool = False  # an Authorization header came with it


@dataclass
class FakeHub:
    """`repos[repo][path] = bytes`; start() binds 127.0.0.1 on a free port."""

    repos: dict[str, dict[str, bytes]] = field(default_factory=dict)
    commit: str = COMMIT
    cut_after: dict[str, int] = field(default_factory=dict)  # path -> bytes, first GET only
    stall_after: dict[str, int] = field(default_factory=dict)  # path -> bytes, first GET only
    stall_seconds: float = 30.0
    lfs_via_cdn: bool = False  # answer files with a 302 to http://localhost:PORT/cdn/... like the Hub's LFS
    requests: list[Served] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _released: threading.Event = field(default_factory=threading.Event)

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeHub:
        hub = self

        class Handler(_Handler):
            fake = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._released.set()  # end any stall
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def gets(self, path: str) -> list[Served]:
        return [r for r in self.requests if r.method == "GET" and r.path == path]

    def bytes_sent(self, path: str | None = None) -> int:
        return sum(r.bytes_sent for r in self.requests if r.method == "GET" and (path is None or r.path == path))

    def _record(self, served: Served) -> None:
        with self._lock:
            self.requests.append(served)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        return None

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _serve(self, *, body: bool) -> None:
        served = Served(self.command, "", self.headers.get("Range"), authorized="Authorization" in self.headers)
        self.fake._record(served)
        path = unquote(self.path.split("?", 1)[0])
        cdn = _CDN.match(path)
        match = cdn or _RESOLVE.match(path)
        if not match:
            return self._error(served, 404, "EntryNotFound")
        files = self.fake.repos.get(match["repo"])
        if files is None:
            return self._error(served, 404, "RepoNotFound")
        if not cdn and match["rev"] not in (self.fake.commit, "main"):
            return self._error(served, 404, "RevisionNotFound")
        served.path, served.revision = match["path"], "" if cdn else match["rev"]
        data = files.get(match["path"])
        if data is None:
            return self._error(served, 404, "EntryNotFound")
        if self.fake.lfs_via_cdn and not cdn:
            return self._redirect_to_cdn(served, match["repo"], match["path"], data)
        start = 0
        if served.range:
            start = int(re.match(r"bytes=(\d+)-", served.range)[1])  # type: ignore[index]
        status = 206 if start else 200
        served.status = status
        self.send_response(status)
        self.send_header("X-Repo-Commit", self.fake.commit)
        self.send_header("ETag", f'"{sha256(data)}"')
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(data) - start))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if not body:
            return
        first = len(self.fake.gets(served.path)) == 1
        limit = len(data)
        cut = self.fake.cut_after.get(served.path) if first else None
        stall = self.fake.stall_after.get(served.path) if first else None
        if cut is not None:
            limit = min(limit, start + cut)
        if stall is not None:
            limit = min(limit, start + stall)
        try:
            pos = start
            while pos < limit:
                chunk = data[pos:min(pos + 65536, limit)]
                self.wfile.write(chunk)
                pos += len(chunk)
                served.bytes_sent += len(chunk)
            self.wfile.flush()
            if stall is not None and limit < len(data):
                self.fake._released.wait(self.fake.stall_seconds)
            if limit < len(data):
                self.close_connection = True
                self.connection.shutdown(2)
                return
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    def _redirect_to_cdn(self, served: Served, repo: str, path: str, data: bytes) -> None:
        served.status = 302
        port = self.server.server_address[1]
        self.send_response(302)
        self.send_header("Location", f"http://localhost:{port}/cdn/{repo}/{path}?signature=abc")
        self.send_header("X-Repo-Commit", self.fake.commit)
        self.send_header("X-Linked-Etag", f'"{sha256(data)}"')
        self.send_header("X-Linked-Size", str(len(data)))
        self.send_header("ETag", '"git-blob-of-the-pointer"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _error(self, served: Served, status: int, code: str) -> None:
        served.status = status
        body = f'{{"error": "{code}"}}'.encode()
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def model_toml(model_id: str, repo: str, files: dict[str, bytes], *, checksums: bool = True,
               revision: str = COMMIT, size_override: dict[str, int] | None = None) -> str:
    """A one-entry catalogue TOML for `files` (sha256 listed when `checksums`)."""
    sizes = size_override or {}
    rows = []
    for path, data in files.items():
        digest = f', sha256 = "{sha256(data)}"' if checksums else ""
        rows.append(f'  {{ path = "{path}", size = {sizes.get(path, len(data))}{digest} }},')
    listed = "\n".join(rows)
    return f'''[[model]]
id = "{model_id}"
kind = "voice"
engine = "piper"
title = "Test voice {model_id}"
repo = "{repo}"
revision = "{revision}"
languages = ["en"]
sample_rate = 22050
speakers = 1
min_ram_mb = 1
min_vram_mb = 0
suits = ["cpu"]
verified = {"true" if checksums else "false"}
licence = {{ spdx = "CC0-1.0", url = "https://creativecommons.org/publicdomain/zero/1.0/", commercial_use = true }}
files = [
{listed}
]
'''
