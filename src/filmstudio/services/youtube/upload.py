"""The resumable upload of a video (`videos.insert`, `uploadType=resumable`) as a small httpx loop.

google-api-python-client's MediaFileUpload keeps the session URI inside one HttpRequest object, so a
new process (after `kill -9`) cannot pick it up; this loop keeps it, and the last byte YouTube
acknowledged, in a state dict that `save` writes durably after every acknowledged chunk. A start
with a saved session asks YouTube how much arrived (an empty PUT, `Content-Range: bytes */SIZE`)
and sends only the rest. 5xx answers and cut connections are retried with backoff; an expired
session (404/410) starts a new one.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from filmstudio.domain.errors import YouTubeUnavailable
from filmstudio.pipeline.context import CancelToken
from filmstudio.services.youtube.client import Endpoint, error_for

CHUNK_QUANTUM = 256 * 1024  # YouTube wants every chunk but the last to be a multiple of this
DEFAULT_CHUNK = 32 * CHUNK_QUANTUM  # 8 MiB


class _Saver:
    """Writes the latest state from a background thread, so the next chunk is on the wire while the last
    acknowledgement commits (an fsync per chunk would otherwise cost a fifth of loopback throughput).

    Safe because a resume always asks YouTube how much it holds: a saved byte one chunk old costs
    nothing. The session URI itself is flushed before the first chunk is sent.
    """

    def __init__(self, save: Callable[[dict[str, Any]], None], closing: Callable[[], None]) -> None:
        self._save, self._closing = save, closing
        self._cond = threading.Condition()
        self._pending: dict[str, Any] | None = None
        self._busy = self._stop = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="upload-state", daemon=True)
        self._thread.start()

    def submit(self, state: dict[str, Any], *, wait: bool = False) -> None:
        with self._cond:
            self._pending = dict(state)
            self._cond.notify_all()
        if wait:
            self.flush()

    def flush(self) -> None:
        with self._cond:
            while (self._pending is not None or self._busy) and self._thread.is_alive():
                self._cond.wait(0.5)
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join()

    def _loop(self) -> None:
        try:
            while True:
                with self._cond:
                    while self._pending is None and not self._stop:
                        self._cond.wait()
                    if self._pending is None:
                        return
                    state, self._pending, self._busy = self._pending, None, True
                try:
                    self._save(state)
                except BaseException as exc:
                    self._error = exc
                finally:
                    with self._cond:
                        self._busy = False
                        self._cond.notify_all()
        finally:
            self._closing()


class _Transient(Exception):
    """A 5xx (or 429 without a quota reason): worth another try."""


def _acked(response: httpx.Response) -> int:
    """Bytes YouTube holds, from a 308's `Range: bytes=0-N` (no header: nothing yet)."""
    value = response.headers.get("range", "")
    if not value.startswith("bytes="):
        return 0
    return int(value.split("-")[-1]) + 1


@dataclass
class ResumableUpload:
    """Uploads `path` with `metadata`; `token(force)` gives an access token (a new one when force)."""

    path: Path
    metadata: dict[str, Any]
    endpoint: Endpoint
    token: Callable[[bool], str]
    save: Callable[[dict[str, Any]], None]  # the state, after each acknowledged chunk (from a background thread)
    report: Callable[[int, int, float], None] = lambda done, total, rate: None
    cancel: CancelToken = field(default_factory=CancelToken)
    chunk_bytes: int = DEFAULT_CHUNK
    max_tries: int = 8
    backoff: float = 0.5  # seconds, doubled per try, at most 30
    client: httpx.Client | None = None
    closing: Callable[[], None] = lambda: None  # the saving thread's last act (close its SQLite connection)

    def __post_init__(self) -> None:
        if self.chunk_bytes <= 0 or self.chunk_bytes % CHUNK_QUANTUM:
            raise ValueError(f"chunk size must be a multiple of {CHUNK_QUANTUM} bytes")
        self.size = self.path.stat().st_size
        self.http = self.client or httpx.Client(verify=self.endpoint.ssl_context(),
                                                timeout=httpx.Timeout(120, connect=15))
        self.sent = 0  # bytes put on the wire by this process (the bench's re-send count)

    def run(self, state: dict[str, Any]) -> dict[str, Any]:
        """Upload to the end; `state` (session_uri, acked, size) is resumed and kept current. Returns the video."""
        self._saver = _Saver(self.save, self.closing)
        try:
            return self._run(state)
        finally:
            self._saver.flush()
            self._saver.close()

    def _run(self, state: dict[str, Any]) -> dict[str, Any]:
        tries = 0
        force_token = False
        with self.path.open("rb") as fh:
            while True:
                self.cancel.raise_if_cancelled()
                try:
                    video = self._attempt(fh, state, force_token)
                    if video is not None:
                        return video
                    force_token = False
                except _Transient as exc:
                    last = str(exc)
                except httpx.TransportError as exc:  # a cut connection, a timeout, a refused connect
                    last = f"{type(exc).__name__}: {exc}"
                except _TokenExpired:
                    if force_token:
                        raise error_for(401, b"", action="the upload") from None
                    force_token = True
                    continue
                tries += 1
                if tries >= self.max_tries:
                    raise YouTubeUnavailable(f"YouTube kept failing during the upload ({last}); publishing again "
                                             "resumes from the bytes it already has",
                                             details={"acked_bytes": state.get("acked", 0)})
                self._sleep(min(30.0, self.backoff * 2 ** (tries - 1)))

    # -- one try: (re)open the session, then chunks until an error or the end ------------------

    def _attempt(self, fh: Any, state: dict[str, Any], force_token: bool) -> dict[str, Any] | None:
        headers = {"Authorization": f"Bearer {self.token(force_token)}"}
        offset: int | None = None
        if state.get("session_uri") and state.get("size") == self.size:
            offset, video = self._query(state["session_uri"], headers)
            if video is not None:
                return video
        if offset is None:  # no session, or it expired
            state.clear()
            state.update(session_uri=self._start(headers), acked=0, size=self.size)
            self._saver.submit(state, wait=True)  # durable before a byte of the film is sent
            offset = 0
        started, base = time.monotonic(), offset
        while True:
            self.cancel.raise_if_cancelled()
            fh.seek(offset)
            data = fh.read(self.chunk_bytes)
            end = offset + len(data) - 1
            put = {**headers, "Content-Range": f"bytes {offset}-{end}/{self.size}", "Content-Type": "video/*"}
            self.sent += len(data)
            r = self.http.put(state["session_uri"], content=data, headers=put)
            if r.status_code in (200, 201):
                state["acked"] = self.size
                self._saver.submit(state, wait=True)
                self.report(self.size, self.size, self._rate(self.size - base, started))
                resource: dict[str, Any] = r.json()
                return resource
            if r.status_code == 308:
                offset = _acked(r)
                state["acked"] = offset
                self._saver.submit(state)  # commits while the next chunk goes out
                self.report(offset, self.size, self._rate(offset - base, started))
                continue
            if r.status_code in (404, 410):  # the session expired: a new one, from byte 0
                state.pop("session_uri", None)
                return self._attempt(fh, state, force_token)
            self._raise(r, "the upload")

    def _start(self, headers: dict[str, str]) -> str:
        url = f"{self.endpoint.root}upload/youtube/v3/videos"
        params = {"uploadType": "resumable", "part": ",".join(k for k in ("snippet", "status") if k in self.metadata)}
        r = self.http.post(url, params=params, content=json.dumps(self.metadata).encode(), headers={
            **headers, "Content-Type": "application/json; charset=UTF-8",
            "X-Upload-Content-Length": str(self.size), "X-Upload-Content-Type": "video/*",
        })
        if r.status_code == 200 and r.headers.get("location"):
            return r.headers["location"]
        self._raise(r, "the video's details")
        raise AssertionError("unreachable")

    def _query(self, session: str, headers: dict[str, str]) -> tuple[int | None, dict[str, Any] | None]:
        """How much of the session YouTube holds: (offset, None), (None, None) when expired, or the video."""
        r = self.http.put(session, content=b"", headers={**headers, "Content-Range": f"bytes */{self.size}"})
        if r.status_code == 308:
            return _acked(r), None
        if r.status_code in (200, 201):
            return self.size, r.json()
        if r.status_code in (404, 410):
            return None, None
        self._raise(r, "the upload")
        raise AssertionError("unreachable")

    def _raise(self, r: httpx.Response, action: str) -> None:
        if r.status_code >= 500:
            raise _Transient(f"HTTP {r.status_code}")
        if r.status_code == 401:
            raise _TokenExpired()
        err = error_for(r.status_code, r.content, action=action)
        if r.status_code == 429 and err.code != "YOUTUBE_QUOTA_EXCEEDED":
            raise _Transient("HTTP 429")
        raise err

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.cancel.raise_if_cancelled()
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))

    @staticmethod
    def _rate(done: int, started: float) -> float:
        return done / max(1e-6, time.monotonic() - started)


class _TokenExpired(Exception):
    """A 401: the access token ran out; one refresh, then YOUTUBE_AUTH_EXPIRED."""
