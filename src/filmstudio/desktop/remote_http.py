"""The wire under `RemoteBackend`: one httpx client to a studio's `/api/v1`, made for a real network.

- Timeouts: a short connect, a longer read; downloads stream with no total limit (a read timeout
  per chunk only).
- Retries with backoff of the calls that may be repeated: GET, HEAD, PUT, DELETE, and POSTs that
  carry an `Idempotency-Key` (the studio replays its first answer). A 429 waits for `Retry-After`
  and says so ("rate limited, waiting 5 s") through the notice handler; so does a reconnect.
- Every refusal becomes the exception the pages already show: the envelope's code, message and
  details in a `FilmStudioError` subclass chosen by status; a refused host, a TLS failure and a
  wrong key get their own codes.
- TLS: the system's certificates (and certifi's, which httpx uses), or only the CA file a
  studio gives for its own certificate.
"""

from __future__ import annotations

import email.utils
import os
import random
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from filmstudio.desktop.backend_contract import (
    NoticeFn,
    ProgressFn,
    ProjectConflict,
    StudioTlsError,
    StudioUnreachable,
)
from filmstudio.domain.errors import (
    BadRequest,
    Conflict,
    FilmStudioError,
    Forbidden,
    InsufficientCredits,
    NotFound,
    Unauthorized,
)

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 30.0
DOWNLOAD_READ_TIMEOUT_S = 60.0  # per chunk: a whole film has no time limit
RETRIES = 4  # after the first try, for calls that may be repeated
BACKOFF_S = 0.5  # doubled per retry, capped at MAX_BACKOFF_S, with jitter
MAX_BACKOFF_S = 8.0
MAX_RATE_WAITS = 6  # 429s in a row before giving up
MAX_RETRY_AFTER_S = 120.0
REPEATABLE = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRIED_STATUSES = frozenset({502, 503, 504})
CHUNK = 256 * 1024

_BY_STATUS: dict[int, type[FilmStudioError]] = {
    400: BadRequest, 401: Unauthorized, 402: InsufficientCredits, 403: Forbidden, 404: NotFound, 409: Conflict,
}

Sleep = Callable[[float], None]


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """The system's trust store plus certifi's bundle, or only the studio's own CA file."""
    try:
        if ca_file is not None:
            return ssl.create_default_context(cafile=str(ca_file))
        ctx = ssl.create_default_context()
        try:
            import certifi

            ctx.load_verify_locations(certifi.where())
        except (ImportError, OSError):  # the system's certificates alone
            pass
        return ctx
    except (OSError, ssl.SSLError) as exc:
        raise StudioTlsError(f"The CA file {ca_file} could not be read as PEM certificates ({exc}).",
                             code="STUDIO_CA_FILE_INVALID", details={"ca_file": str(ca_file)}) from exc


def new_idempotency_key() -> str:
    return f"desktop-{uuid.uuid4()}"


def retry_after_seconds(value: str | None, default: float = 1.0) -> float:
    """`Retry-After` as seconds (a number, or an HTTP date), within [0, MAX_RETRY_AFTER_S]."""
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return default
        seconds = when.timestamp() - time.time()
    return max(0.0, min(seconds, MAX_RETRY_AFTER_S))


def _ssl_cause(exc: BaseException) -> BaseException | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def network_error(url: str, exc: httpx.HTTPError) -> FilmStudioError:
    """The exception for a request that got no answer: TLS, a timeout, or nothing there."""
    reason = _ssl_cause(exc)
    if reason is not None:
        text = str(reason)
        if "CERTIFICATE_VERIFY_FAILED" in text:
            hint = "its certificate is not trusted here: choose the CA file the studio gave you"
        elif "WRONG_VERSION_NUMBER" in text or "record layer" in text:
            hint = "the server there does not speak TLS: if it is on plain HTTP, use http://"
        else:
            hint = "the secure connection could not be set up"
        return StudioTlsError(f"TLS error with {url}: {hint} ({text}).", details={"url": url})
    if isinstance(exc, httpx.TimeoutException):
        return StudioUnreachable(f"The studio at {url} did not answer in time: check the network and that the "
                                 "studio's computer is on.", code="STUDIO_TIMEOUT", details={"url": url})
    return StudioUnreachable(f"Nothing answers at {url} (connection refused or no such host): check the address "
                             "and that `filmstudio serve` runs there.", details={"url": url, "reason": str(exc)})


def envelope_error(response: httpx.Response) -> FilmStudioError:
    """The studio's error envelope as the exception the pages show (code, message, details kept)."""
    try:
        body = response.json()
        err = body.get("error") if isinstance(body, dict) else None
    except ValueError:
        err = None
    status = response.status_code
    if not isinstance(err, dict):
        return FilmStudioError(f"the studio answered HTTP {status} ({response.reason_phrase})",
                               code=f"HTTP_{status}", http_status=status)
    code, message = str(err.get("code") or f"HTTP_{status}"), str(err.get("message") or response.reason_phrase)
    found = err.get("details")
    details: dict[str, Any] = found if isinstance(found, dict) else {}
    if status == 401:
        return Unauthorized(f"The studio refused the API key: {message}", code="STUDIO_KEY_REFUSED",
                            details={**details, "server_code": code})
    if status == 412:
        return ProjectConflict(message, code=code, details=details)
    cls = _BY_STATUS.get(status, FilmStudioError)
    return cls(message, code=code, details=details, http_status=status)


class StudioConnection:
    """Requests to one studio with its key: retried, rate-limit aware, errors as domain exceptions."""

    def __init__(self, base_url: str, api_key: str, *, ca_file: Path | None = None,
                 transport: httpx.BaseTransport | None = None, sleep: Sleep = time.sleep) -> None:
        root = base_url.rstrip("/")
        self.root = root[: -len("/api/v1")] if root.endswith("/api/v1") else root
        self.api = f"{self.root}/api/v1"
        self.notice: NoticeFn | None = None
        self._sleep = sleep
        self._noticed = False
        import filmstudio

        self.client = httpx.Client(
            base_url=self.api, verify=tls_context(ca_file) if self.root.startswith("https:") else True,
            headers={"Authorization": f"Bearer {api_key}",
                     "User-Agent": f"FilmStudio-desktop/{getattr(filmstudio, '__version__', '0')}"},
            timeout=httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S), transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self.client.close()

    def say(self, text: str) -> None:
        """Tell the app a network state ("" once all is well again)."""
        self._noticed = bool(text)
        if self.notice is not None:
            self.notice(text)

    def _calm(self) -> None:
        if self._noticed:
            self.say("")

    def backoff(self, attempt: int) -> float:
        return min(MAX_BACKOFF_S, BACKOFF_S * 2 ** attempt) * (0.75 + random.random() / 2)

    def wait_rate_limit(self, response: httpx.Response) -> None:
        seconds = retry_after_seconds(response.headers.get("retry-after"))
        self.say(f"rate limited, waiting {max(1, round(seconds))} s")
        self._sleep(seconds)

    def request(self, method: str, path: str, *, json_body: Any = None, params: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None, content: bytes | None = None,
                idempotent: bool | None = None, ok: tuple[int, ...] = ()) -> httpx.Response:
        """Send, retrying what may be repeated; the response, or the envelope's exception (`ok`: statuses
        below 400 are always fine, these too)."""
        headers = dict(headers or {})
        repeatable = idempotent if idempotent is not None else (
            method in REPEATABLE or "Idempotency-Key" in headers)
        attempt = rate_waits = 0
        while True:
            try:
                response = self.client.request(method, path, json=json_body, params=_clean(params), headers=headers,
                                               content=content)
            except httpx.TransportError as exc:
                failure = network_error(self.root, exc)
                if isinstance(failure, StudioTlsError) or not repeatable or attempt >= RETRIES:
                    raise failure from exc
                self.say("reconnecting to the studio…")
                self._sleep(self.backoff(attempt))
                attempt += 1
                continue
            if response.status_code == 429 and rate_waits < MAX_RATE_WAITS:
                rate_waits += 1  # refused before it ran: any method may be sent again
                self.wait_rate_limit(response)
                continue
            if response.status_code in RETRIED_STATUSES and repeatable and attempt < RETRIES:
                self.say("the studio is busy, trying again…")
                self._sleep(self.backoff(attempt))
                attempt += 1
                continue
            self._calm()
            if response.status_code >= 400 and response.status_code not in ok:
                raise envelope_error(response)
            return response

    def get_json(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params).json()

    def send_json(self, method: str, path: str, body: Any = None, *, idempotency_key: bool = False,
                  headers: dict[str, str] | None = None) -> httpx.Response:
        extra = dict(headers or {})
        if idempotency_key:
            extra["Idempotency-Key"] = new_idempotency_key()  # one key for every retry of this call
        return self.request(method, path, json_body=body, headers=extra)

    @contextmanager
    def stream(self, method: str, url: str, *, headers: dict[str, str] | None = None,
               read_timeout: float | None = DOWNLOAD_READ_TIMEOUT_S) -> Iterator[httpx.Response]:
        """A streamed response (no retry: the caller resumes); errors as above."""
        timeout = httpx.Timeout(read_timeout, connect=CONNECT_TIMEOUT_S)
        try:
            with self.client.stream(method, url, headers=headers, timeout=timeout) as response:
                yield response
        except httpx.TransportError as exc:
            raise network_error(self.root, exc) from exc

    # -- files ----------------------------------------------------------------------------------

    def download(self, url: str, target: Path, progress: ProgressFn | None = None) -> Path:
        """`url` into `target`: via `<target>.part`, resumed with Range after a drop or a failed earlier
        try (If-Range keeps a changed file from being spliced), renamed into place when whole."""
        part = target.with_name(target.name + ".part")
        tag_file = target.with_name(target.name + ".part-etag")
        attempt = 0
        while True:
            have = part.stat().st_size if part.exists() else 0
            etag = tag_file.read_text() if have and tag_file.exists() else None
            headers = {"Range": f"bytes={have}-"} if have else {}
            if have and etag:
                headers["If-Range"] = etag
            try:
                with self.stream("GET", url, headers=headers) as response:
                    if response.status_code == 416 and have:  # the part is already whole
                        break
                    if response.status_code == 429:
                        self.wait_rate_limit(response)
                        continue
                    if response.status_code >= 400:
                        response.read()
                        raise envelope_error(response)
                    resumed = response.status_code == 206
                    done = have if resumed else 0
                    total = _total(response, done)
                    if response.headers.get("etag"):
                        tag_file.write_text(response.headers["etag"])
                    with part.open("ab" if resumed else "wb") as out:
                        if progress is not None:
                            progress(done, total)
                        for chunk in response.iter_bytes(CHUNK):
                            out.write(chunk)
                            done += len(chunk)
                            if progress is not None:
                                progress(done, total)
                    if total is not None and done < total:
                        raise StudioUnreachable("the download stopped early", details={"bytes": done, "total": total})
                    self._calm()
                    break
            except StudioUnreachable:
                if attempt >= RETRIES:
                    raise
                self.say("reconnecting to the studio…")
                self._sleep(self.backoff(attempt))
                attempt += 1
        os.replace(part, target)
        tag_file.unlink(missing_ok=True)
        return target

    def cached_get(self, url: str, target: Path) -> Path:
        """A small file (a still, a thumbnail) kept in the cache: a conditional GET (If-None-Match), so an
        unchanged file costs a 304 and no bytes."""
        tag_file = target.with_name(target.name + ".etag")
        known = tag_file.read_text() if target.exists() and tag_file.exists() else None
        response = self.request("GET", url, headers={"If-None-Match": known} if known else None, ok=(304,))
        if response.status_code == 304:
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(response.content)
        os.replace(tmp, target)
        if response.headers.get("etag"):
            tag_file.write_text(response.headers["etag"])
        else:
            tag_file.unlink(missing_ok=True)
        return target


def _total(response: httpx.Response, start: int) -> int | None:
    """The whole file's size from Content-Range (206) or Content-Length (200)."""
    crange = response.headers.get("content-range", "")
    if "/" in crange and not crange.endswith("/*"):
        return int(crange.rsplit("/", 1)[1])
    length = response.headers.get("content-length")
    return start + int(length) if length and length.isdigit() else None


def _clean(params: dict[str, Any] | None) -> dict[str, Any] | None:
    return {k: v for k, v in params.items() if v is not None} if params else None


def sse_events(lines: Iterator[str]) -> Iterator[tuple[str, str]]:
    """(event, data) pairs of a server-sent event stream (comments and ids skipped)."""
    event, data = "message", list[str]()
    for line in lines:
        if line == "":
            if data:
                yield event, "\n".join(data)
            event, data = "message", list[str]()
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
    if data:
        yield event, "\n".join(data)
