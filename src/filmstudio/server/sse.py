"""A job's changes as server-sent events (`GET /jobs/{id}/events`): the store polled, never a held connection.

Workers may run in other processes (`filmstudio worker`), so the jobs table is the only place every
change is seen: each poll is one short read on a pool thread (no transaction spans polls), and the
event loop only sleeps between them.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from filmstudio.domain.models import JobPublic

TERMINAL = frozenset({"completed", "failed", "cancelled"})
MEDIA_TYPE = "text/event-stream; charset=utf-8"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # no proxy buffering of the stream
RETRY_MS = 2000  # how long an EventSource waits before it reconnects (with Last-Event-ID)
KEEPALIVE = b": keepalive\n\n"


@dataclass(frozen=True)
class StreamTiming:
    """How often the store is read, how long a quiet stream waits before a keepalive, and its longest life."""

    poll_seconds: float = 0.5
    keepalive_seconds: float = 15.0
    max_seconds: float = 600.0


def first_id(last_event_id: str | None) -> int:
    """The id the stream counts on from: the client's Last-Event-ID when it is one of ours, else 0."""
    value = (last_event_id or "").strip()
    return int(value) if value.isdigit() and len(value) <= 15 else 0


def frame(event_id: int, data: str) -> bytes:
    """One `job` event; `data` is the job's JSON on one line, exactly as GET /jobs/{id} answers it."""
    return f"event: job\nid: {event_id}\ndata: {data}\n\n".encode()


def opening(event_id: int, job: JobPublic) -> bytes:
    """What every stream starts with: the reconnect delay and the job as it is now."""
    return f"retry: {RETRY_MS}\n\n".encode() + frame(event_id, job.model_dump_json())


async def job_events(
    read: Callable[[], Awaitable[JobPublic]],
    first: JobPublic,
    last_id: int,
    timing: StreamTiming,
    stopping: Callable[[], bool],
) -> AsyncIterator[bytes]:
    """The stream after `first` was read: an event per change, keepalives, the end after a terminal status.

    It also ends after `timing.max_seconds` or when the server stops; the client reconnects with
    Last-Event-ID and gets the current state at once.
    """
    event_id = last_id + 1
    yield opening(event_id, first)
    if first.status in TERMINAL:
        return
    sent = first.model_dump_json()
    started = quiet_since = time.monotonic()
    # Streams opened together would read the store together at every beat: each starts at its own phase.
    pause = timing.poll_seconds * random.random()
    while True:
        await asyncio.sleep(pause)
        pause = timing.poll_seconds
        now = time.monotonic()
        if stopping() or now - started >= timing.max_seconds:
            return
        job = await read()
        body = job.model_dump_json()
        if body != sent:
            event_id += 1
            sent, quiet_since = body, now
            yield frame(event_id, body)
            if job.status in TERMINAL:
                return
        elif now - quiet_since >= timing.keepalive_seconds:
            quiet_since = now
            yield KEEPALIVE
