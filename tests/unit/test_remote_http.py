"""The remote backend's wire: which calls are retried, how a 429 waits, errors, the SSE reader."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from filmstudio.desktop.backend_contract import ProjectConflict, StudioUnreachable
from filmstudio.desktop.remote_http import (
    MAX_RETRY_AFTER_S,
    RETRIES,
    StudioConnection,
    envelope_error,
    retry_after_seconds,
    sse_events,
)
from filmstudio.domain.errors import InsufficientCredits, NotFound, Unauthorized


class Flaky:
    """A transport that fails the first `failures` requests with `error`, then answers 200 {"ok": true}."""

    def __init__(self, failures: int, error: Exception | httpx.Response) -> None:
        self.failures = failures
        self.error = error
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if len(self.requests) <= self.failures:
            if isinstance(self.error, httpx.Response):
                return self.error
            raise self.error
        return httpx.Response(200, json={"ok": True})


def connection(handler: Flaky) -> tuple[StudioConnection, list[float], list[str]]:
    sleeps: list[float] = []
    notices: list[str] = []
    conn = StudioConnection("http://studio.test:8000", "fs_k", transport=httpx.MockTransport(handler),
                            sleep=sleeps.append)
    conn.notice = notices.append
    return conn, sleeps, notices


def test_a_get_is_retried_through_dropped_connections_and_says_reconnecting() -> None:
    flaky = Flaky(2, httpx.ConnectError("refused"))
    conn, sleeps, notices = connection(flaky)
    assert conn.request("GET", "/projects").json() == {"ok": True}
    assert len(flaky.requests) == 3 and len(sleeps) == 2 and sleeps[1] > sleeps[0]  # backoff grows
    assert notices == ["reconnecting to the studio…", "reconnecting to the studio…", ""]
    assert flaky.requests[0].headers["authorization"] == "Bearer fs_k"
    assert str(flaky.requests[0].url) == "http://studio.test:8000/api/v1/projects"


def test_a_get_gives_up_after_the_retries() -> None:
    flaky = Flaky(100, httpx.ConnectError("refused"))
    conn, _, _ = connection(flaky)
    with pytest.raises(StudioUnreachable) as caught:
        conn.request("GET", "/projects")
    assert len(flaky.requests) == RETRIES + 1 and caught.value.code == "STUDIO_UNREACHABLE"


def test_a_post_without_an_idempotency_key_is_sent_once() -> None:
    flaky = Flaky(1, httpx.ReadError("reset"))
    conn, sleeps, _ = connection(flaky)
    with pytest.raises(StudioUnreachable):
        conn.request("POST", "/webhooks", json_body={})
    assert len(flaky.requests) == 1 and sleeps == []


def test_a_post_with_an_idempotency_key_is_retried_with_the_same_key() -> None:
    flaky = Flaky(2, httpx.ReadError("reset"))
    conn, _, _ = connection(flaky)
    conn.send_json("POST", "/projects/p/generate", {}, idempotency_key=True)
    keys = {r.headers["idempotency-key"] for r in flaky.requests}
    assert len(flaky.requests) == 3 and len(keys) == 1 and next(iter(keys)).startswith("desktop-")


def test_busy_studio_answers_are_retried_for_repeatable_calls_only() -> None:
    busy = httpx.Response(503, json={"error": {"code": "SERVICE_UNAVAILABLE", "message": "busy", "details": {}}})
    flaky = Flaky(1, busy)
    conn, _, notices = connection(flaky)
    assert conn.request("DELETE", "/projects/p").status_code == 200 and "the studio is busy, trying again…" in notices
    once = Flaky(1, busy)
    conn2, _, _ = connection(once)
    with pytest.raises(Exception) as caught:
        conn2.request("POST", "/webhooks", json_body={})
    assert len(once.requests) == 1 and getattr(caught.value, "code", "") == "SERVICE_UNAVAILABLE"


def test_a_429_waits_retry_after_for_any_method_and_says_so() -> None:
    limited = httpx.Response(429, headers={"Retry-After": "7"},
                             json={"error": {"code": "RATE_LIMIT_EXCEEDED", "message": "slow down", "details": {}}})
    flaky = Flaky(1, limited)
    conn, sleeps, notices = connection(flaky)
    assert conn.request("POST", "/webhooks", json_body={}).status_code == 200  # refused before it ran
    assert sleeps == [7.0] and notices == ["rate limited, waiting 7 s", ""]


def test_retry_after_as_seconds_or_a_date() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) == 1.0 and retry_after_seconds("soon") == 1.0
    assert retry_after_seconds("100000") == MAX_RETRY_AFTER_S and retry_after_seconds("-5") == 0.0
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= retry_after_seconds(later) <= 31


def _answer(status: int, code: str, details: dict[str, object] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": f"{code} said", "details": details or {}}})


def test_the_envelope_becomes_the_pages_exceptions() -> None:
    key = envelope_error(_answer(401, "INVALID_API_KEY"))
    assert isinstance(key, Unauthorized) and key.code == "STUDIO_KEY_REFUSED"
    assert key.details["server_code"] == "INVALID_API_KEY" and "refused the API key" in key.message
    stale = envelope_error(_answer(412, "PRECONDITION_FAILED", {"etag": '"r4"'}))
    assert isinstance(stale, ProjectConflict) and stale.details == {"etag": '"r4"'} and stale.current is None
    broke = envelope_error(_answer(402, "INSUFFICIENT_CREDITS", {"needed": 3}))
    assert isinstance(broke, InsufficientCredits) and broke.details == {"needed": 3} and broke.http_status == 402
    gone = envelope_error(_answer(404, "PROJECT_NOT_FOUND"))
    assert isinstance(gone, NotFound) and gone.code == "PROJECT_NOT_FOUND" and gone.message == "PROJECT_NOT_FOUND said"
    odd = envelope_error(httpx.Response(502, text="<html>bad gateway</html>"))
    assert odd.code == "HTTP_502" and "502" in odd.message


def test_server_sent_events_are_read_as_the_spec_says() -> None:
    stream = ["retry: 2000", "", ": keepalive", "", "event: job", "id: 1", 'data: {"a":', "data: 1}", "",
              "data: plain", "", "event: job", "data:no-space"]
    assert list(sse_events(iter(stream))) == [("job", '{"a":\n1}'), ("message", "plain"), ("job", "no-space")]


def test_the_api_suffix_is_optional_in_the_address() -> None:
    for given in ("http://studio.test:8000", "http://studio.test:8000/", "http://studio.test:8000/api/v1"):
        conn = StudioConnection(given, "k", transport=httpx.MockTransport(Flaky(0, httpx.ConnectError("x"))))
        assert conn.root == "http://studio.test:8000" and conn.api == "http://studio.test:8000/api/v1"
