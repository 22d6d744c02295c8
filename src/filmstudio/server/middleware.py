"""Pure ASGI guards that answer in the error envelope: Host header check and request body limit."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "details": {}}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def host_name(raw: str) -> str:
    """`Host` header without its port: `[::1]:8000` -> `[::1]`; anything malformed comes back whole.

    A malformed header then matches no allowed name (`[::1].evil` must not pass as `[::1]`).
    """
    raw = raw.strip().lower()
    if raw.startswith("["):
        end = raw.find("]")
        name, rest = (raw[: end + 1], raw[end + 1 :]) if end > 0 else (raw, "")
    elif raw.count(":") == 1:
        name, rest = raw.split(":")[0], raw[raw.index(":") :]
    else:
        name, rest = raw, ""
    if rest and not (rest.startswith(":") and rest[1:].isdigit()):
        return raw
    return name


class HostCheck:
    """Refuse requests whose Host is not one of ours (DNS rebinding from a browser page)."""

    def __init__(self, app: ASGIApp, allowed: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = frozenset(h.lower() for h in allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            hosts = [v for k, v in scope.get("headers") or [] if k.lower() == b"host"]
            if len(hosts) > 1:
                # RFC 9112 3.2: a request with more than one Host is answered 400; proxies and we
                # could otherwise disagree on which one names the site.
                await _send_error(send, 400, "DUPLICATE_HOST", "send exactly one Host header")
                return
            host = host_name((hosts[0] if hosts else b"").decode("latin-1"))
            if host not in self.allowed:
                await _send_error(send, 400, "INVALID_HOST", "this studio does not answer to that host name")
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """413 for bodies over `limit` bytes, by Content-Length or while streaming (chunked uploads)."""

    def __init__(self, app: ASGIApp, limit: int, *, uploads: tuple[tuple[str, int], ...] = ()) -> None:
        self.app = app
        self.default = limit
        # (path regex, limit): routes that take larger bodies (a project's pictures).
        self.uploads = tuple((re.compile(pattern), size) for pattern, size in uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = next((size for pattern, size in self.uploads if pattern.match(scope.get("path", ""))), self.default)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _send_error(send, 413, "PAYLOAD_TOO_LARGE", f"request bodies are limited to {limit} bytes")
            return
        seen = 0
        too_large = False

        async def counted_receive() -> Message:
            nonlocal seen, too_large
            if too_large:
                return {"type": "http.request", "body": b"", "more_body": False}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # End the body here; whatever the app answers to the stump is replaced by a 413.
                    too_large = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def guarded_send(message: Message) -> None:
            if not too_large:
                await send(message)
            elif message["type"] == "http.response.start":
                await _send_error(send, 413, "PAYLOAD_TOO_LARGE", f"request bodies are limited to {limit} bytes")

        await self.app(scope, counted_receive, guarded_send)


class RateLimitHeaders:
    """Add X-RateLimit-* (and Retry-After on 429) to every answer the auth dependency counted.

    A middleware rather than the dependency, so error answers and raw Responses carry them too.
    """

    def __init__(self, app: ASGIApp, state_key: str = "ratelimit") -> None:
        self.app = app
        self.state_key = state_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                decision = state.get(self.state_key)
                if decision is not None:
                    extra = [(k.lower().encode(), v.encode()) for k, v in decision.headers().items()]
                    message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


class HeadAsGet:
    """Answer HEAD wherever GET is served (RFC 9110 9.3.2): the GET's status and headers, no body.

    `has_get(path)` says whether the path has a GET route without a HEAD route of its own (`/files`
    has one, which skips reading the file). The inner app sees a GET; uvicorn's scope keeps HEAD.
    """

    def __init__(self, app: ASGIApp, has_get: Callable[[str], bool]) -> None:
        self.app = app
        self.has_get = has_get

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or not self.has_get(scope.get("path", "")):
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
