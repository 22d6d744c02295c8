"""A job's progress as server-sent events (issue 21), read with httpx streaming from a real uvicorn on loopback."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from filmstudio.app.compose import pipeline_renderer
from integration.conftest_server import SCRIPT, SMALL, FakeRenderer, LiveServer, live_server, server_settings
from studio_engines import real_engines

E2E = {"duration": 6, "resolution": "320x180", "fps": 12}


@dataclass
class Stream:
    """What one SSE response carried, parsed as the WHATWG EventSource does (fields up to a blank line)."""

    status: int
    headers: httpx.Headers
    events: list[dict[str, Any]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    retry: int | None = None


def read_stream(client: httpx.Client, path: str, headers: dict[str, str] | None = None,
                stop_after: int | None = None, on_event: Callable[[dict[str, Any]], None] | None = None) -> Stream:
    with client.stream("GET", path, headers=headers) as r:
        out = Stream(r.status_code, r.headers)
        if r.status_code != 200:
            r.read()
            out.events.append(r.json())
            return out
        fields: dict[str, str] = {}
        for line in r.iter_lines():
            if line.startswith(":"):
                out.comments.append(line[1:].strip())
            elif line:
                name, _, value = line.partition(":")
                fields[name] = value[1:] if value.startswith(" ") else value
            else:
                if "retry" in fields:
                    out.retry = int(fields.pop("retry"))
                if fields:
                    out.events.append({"event": fields.get("event"), "id": fields.get("id"),
                                       "data": json.loads(fields["data"])})
                    fields = {}
                    if on_event is not None:
                        on_event(out.events[-1]["data"])
                if stop_after is not None and len(out.events) >= stop_after:
                    break
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = server_settings(tmp_path_factory.mktemp("events"), event_keepalive_seconds=0.4)
    with live_server(settings, renderer=FakeRenderer(step_seconds=0.3)) as live:
        yield live


@pytest.fixture(scope="module")
def key(server: LiveServer) -> str:
    return server.new_key("listener")


def _generate(c: httpx.Client) -> str:
    pid = c.post("/projects", json={"title": "Live", "script": SCRIPT, "settings": SMALL}).json()["project_id"]
    r = c.post(f"/projects/{pid}/generate")
    assert r.status_code == 202, r.text
    return str(r.json()["job_id"])


def test_a_render_streams_each_change_until_it_completes(server: LiveServer, key: str) -> None:
    with server.client(key) as c:
        job_id = _generate(c)
        got = read_stream(c, f"/jobs/{job_id}/events")
        assert got.status == 200 and got.headers["content-type"].startswith("text/event-stream")
        assert got.headers["cache-control"] == "no-cache" and got.retry == 2000
        events = got.events
        assert all(e["event"] == "job" for e in events)
        assert [int(e["id"]) for e in events] == list(range(1, len(events) + 1))
        statuses = [e["data"]["status"] for e in events]
        assert statuses[-1] == "completed" and "completed" not in statuses[:-1]  # ends after the final one
        progress = [e["data"]["progress"] for e in events]
        assert progress == sorted(progress) and progress[-1] == 100 and len(set(progress)) >= 4, progress
        # The store is read twice a second: a 0.3 s step may pass unseen, most are seen.
        steps = {e["data"]["current_step"] for e in events} - {None}
        assert len(steps) >= 3, steps
        # Each event is the job exactly as GET /jobs/{id} shows it (the last one: as it stays).
        assert events[-1]["data"] == c.get(f"/jobs/{job_id}").json()
        assert all(json.dumps(a["data"]) != json.dumps(b["data"]) for a, b in itertools.pairwise(events))


def test_keepalives_while_nothing_changes_and_last_event_id_counts_on(tmp_path: Path) -> None:
    """No worker: the job stays queued, so only keepalive comments come, until the stream's time is up."""
    settings = server_settings(tmp_path / "idle", workers=0, event_keepalive_seconds=0.3, event_stream_seconds=2.5)
    with live_server(settings) as live, live.client(live.new_key("idle")) as c:
        job_id = _generate(c)
        started = time.monotonic()
        got = read_stream(c, f"/jobs/{job_id}/events", headers={"Last-Event-ID": "41"})
        assert time.monotonic() - started >= 2.5  # it ended on its own once its time was up
        assert [e["id"] for e in got.events] == ["42"] and got.events[0]["data"]["status"] == "queued"
        assert got.comments.count("keepalive") >= 3, got.comments
        # An id that is not ours starts the count again; the current state still comes at once.
        again = read_stream(c, f"/jobs/{job_id}/events", headers={"Last-Event-ID": "not-a-number"}, stop_after=1)
        assert again.events[0]["id"] == "1" and again.events[0]["data"]["job_id"] == job_id


def test_a_finished_job_answers_one_event_whole(server: LiveServer, key: str) -> None:
    with server.client(key) as c:
        job_id = _generate(c)
        read_stream(c, f"/jobs/{job_id}/events")  # follow it to the end
        done = c.get(f"/jobs/{job_id}/events", headers={"Last-Event-ID": "7"})
        assert done.status_code == 200 and int(done.headers["content-length"]) == len(done.content)
        assert done.text == (f"retry: 2000\n\nevent: job\nid: 8\ndata: "
                             f"{c.get(f'/jobs/{job_id}').text}\n\n")


def test_errors_are_the_envelope_and_scoped_like_get_job(server: LiveServer, key: str) -> None:
    with server.client(key) as c:
        job_id = _generate(c)
        missing = c.get("/jobs/00000000-0000-0000-0000-000000000000/events")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "JOB_NOT_FOUND"
    other = server.new_key("stranger")
    with server.client(other) as c:  # another account's job is simply not found
        assert c.get(f"/jobs/{job_id}/events").json()["error"]["code"] == "JOB_NOT_FOUND"
    no_jobs = server.new_key("listener", scopes=["projects:read"])
    with server.client(no_jobs) as c:
        r = c.get(f"/jobs/{job_id}/events")
        assert r.status_code == 403 and r.json()["error"] == {
            "code": "INSUFFICIENT_SCOPE", "message": "this key lacks the 'jobs:read' scope",
            "details": {"required": "jobs:read"}}
    with server.client() as c:
        assert c.get(f"/jobs/{job_id}/events").json()["error"]["code"] == "MISSING_API_KEY"


def test_streams_do_not_hold_up_the_server(server: LiveServer, key: str) -> None:
    """While streams are open, the event loop still answers other requests at once."""
    with server.client(key) as c:
        job_ids = [_generate(c) for _ in range(3)]
        results: list[Stream] = []
        threads = [threading.Thread(target=lambda j=j: results.append(read_stream(server.client(key), f"/jobs/{j}/events")))
                   for j in job_ids]
        for t in threads:
            t.start()
        time.sleep(0.5)
        for _ in range(10):
            assert c.get("/health").status_code == 200
            assert c.get(f"/jobs/{job_ids[0]}").status_code == 200
        for t in threads:
            t.join(timeout=120)
        assert sorted(s.events[-1]["data"]["status"] for s in results) == ["completed"] * 3


def test_stopping_the_server_ends_open_streams(tmp_path: Path) -> None:
    settings = server_settings(tmp_path / "stop", workers=0)
    got: list[Stream] = []
    with live_server(settings) as live:
        key = live.new_key("stopper")
        with live.client(key) as c:
            job_id = _generate(c)
        reader = threading.Thread(target=lambda: got.append(read_stream(live.client(key), f"/jobs/{job_id}/events")))
        reader.start()
        time.sleep(1.0)
        stopped = time.monotonic()
    # live_server's exit asked uvicorn to stop; the open stream did not keep it waiting.
    reader.join(timeout=30)
    assert not reader.is_alive() and time.monotonic() - stopped < 15
    assert got and got[0].events[0]["data"]["status"] == "queued"


def iter_subsequence(part: list[str], whole: list[str]) -> bool:
    """Whether `part` appears in `whole` in order (not necessarily next to each other)."""
    rest = iter(whole)
    return all(any(x == y for y in rest) for x in part)


@dataclass
class HeldStep:
    """The real renderer, held at the first report of `step` until the client's stream has shown it.

    The stream reads the store every 0.5 s, so a step shorter than that may never appear in it; the
    hold makes "the stream shows the pipeline's steps as they happen" testable on any machine speed.
    """

    inner: Any
    step: str
    seen: threading.Event = field(default_factory=threading.Event)
    reported: list[str] = field(default_factory=list)

    def __call__(self, request: Any, *, progress: Any = None, cancel: Any = None) -> dict[str, Any]:
        def report(step: str, fraction: float) -> None:
            if not self.reported or self.reported[-1] != step:
                self.reported.append(step)
            progress(step, fraction)
            if step == self.step:
                self.seen.wait(30)

        return self.inner(request, progress=report if progress is not None else None, cancel=cancel)

    def watch(self, data: dict[str, Any]) -> None:
        if data.get("current_step") == self.step:
            self.seen.set()


@pytest.mark.slow
def test_follows_a_real_render_to_completed(tmp_path: Path) -> None:
    """The real pipeline (espeak-ng, ffmpeg) rendering; the stream alone tells the client it is done."""
    settings = server_settings(tmp_path / "real", lease_seconds=10.0)
    renderer = HeldStep(pipeline_renderer(real_engines()), "voice_synthesis")
    with live_server(settings, renderer=renderer) as live, live.client(live.new_key()) as c:
        pid = c.post("/projects", json={"title": "Streamed", "script": SCRIPT, "settings": E2E}).json()["project_id"]
        job_id = c.post(f"/projects/{pid}/generate").json()["job_id"]
        got = read_stream(c, f"/jobs/{job_id}/events", on_event=renderer.watch)
        statuses = [e["data"]["status"] for e in got.events]
        assert statuses[0] in ("queued", "processing") and statuses[-1] == "completed", statuses
        assert renderer.seen.is_set(), "the stream never showed the step the render was held at"
        # What the stream showed is the pipeline's own steps, in the order it ran them, never going back.
        steps = [s for s in (e["data"]["current_step"] for e in got.events) if s is not None]
        shown = [s for s, _ in itertools.groupby(steps)]
        assert "voice_synthesis" in shown and iter_subsequence(shown, renderer.reported), (shown, renderer.reported)
        progress = [e["data"]["progress"] for e in got.events]
        assert progress == sorted(progress), progress
        assert got.events[-1]["data"] == c.get(f"/jobs/{job_id}").json()
        film = c.get(c.get(f"/projects/{pid}").json()["assets"]["video_url"])
        assert film.status_code == 200 and film.content[4:8] == b"ftyp"
