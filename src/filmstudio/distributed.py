"""Render workers on other machines: the segment queue on Redis and the remote worker that serves it.

The main server keeps the jobs (and studio.db) to itself; with `serve --farm-segments --queue redis://…`
its rendering stage puts one order per segment on the `filmstudio-segments` huey queue. A remote
`filmstudio worker --queue redis://… --server URL --key KEY` pulls orders, encodes the segment with
the same code as a single machine would, heartbeats its progress and uploads the file over HTTP with
a `worker`-scoped key. It needs no studio.db and no access to the server's disk.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
from pathlib import Path
from typing import Any

import httpx
from huey import Huey, RedisHuey

from filmstudio.domain.errors import FilmStudioError
from filmstudio.pipeline.context import CancelToken, atomic_output
from filmstudio.pipeline.providers.backdrops import MediaRef
from filmstudio.pipeline.providers.visuals import render_segment
from filmstudio.services.farm import SegmentOrder, chunked, spec_from_json

log = logging.getLogger(__name__)

SEGMENT_QUEUE = "filmstudio-segments"


def make_segment_huey(queue_url: str, *, immediate: bool = False) -> Huey:
    """The segment queue: Redis only, since remote machines must reach it."""
    if not queue_url.startswith(("redis://", "rediss://", "unix://")):
        raise FilmStudioError("render workers on other machines need a Redis queue (--queue redis://host:6379/0)",
                              code="REDIS_QUEUE_REQUIRED", details={"queue": queue_url})
    return RedisHuey(SEGMENT_QUEUE, url=queue_url, immediate=immediate, results=False)


class SegmentQueue:
    """The SegmentDispatch the farm uses, and the task a remote worker runs."""

    def __init__(self, huey: Huey) -> None:
        self.huey = huey
        self.worker: RemoteSegmentWorker | None = None
        # No huey retries: the coordinator re-dispatches a segment whose worker went quiet.
        self._task = huey.task(name="render_segment", retries=0)(self._run)

    def _run(self, order: dict[str, Any]) -> str:
        if self.worker is None:
            raise RuntimeError("this process renders no segments; start `filmstudio worker --server URL`")
        return self.worker.run(SegmentOrder.from_json(order))

    def dispatch(self, order: SegmentOrder) -> None:
        self._task(order.to_json())


class SegmentClient:
    """The main server's /api/v1/segments endpoints, called with a worker-scoped key."""

    def __init__(self, server: str, key: str, *, timeout: float = 60.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.http = httpx.Client(base_url=server.rstrip("/") + "/api/v1", timeout=timeout, transport=transport,
                                 headers={"Authorization": f"Bearer {key}"})

    def beat(self, key: str, worker: str, frames: int) -> bool:
        """Report progress; False when the server no longer wants this segment."""
        r = self.http.post(f"/segments/{key}/beat", json={"worker": worker, "frames": frames})
        if r.status_code == 404:
            return False
        _raise_for(r)
        return bool(r.json()["proceed"])

    def upload(self, key: str, path: Path, worker: str, chunk_bytes: int) -> None:
        parts = chunked(path, chunk_bytes)
        for i, part in enumerate(parts):
            _raise_for(self.http.put(f"/segments/{key}/parts/{i}", content=part, params={"worker": worker},
                                     headers={"Content-Type": "application/octet-stream"}))
        digest = hashlib.sha256(b"".join(parts)).hexdigest()
        _raise_for(self.http.post(f"/segments/{key}/complete",
                                  json={"worker": worker, "parts": len(parts), "sha256": digest}))

    def fetch_image(self, name: str, folder: Path) -> Path:
        """A source's file (picture or clip) by content name, downloaded once into `folder` and
        checked against its hash."""
        media = MediaRef.parse(name)
        target = folder / media.name
        if target.is_file():
            return target
        r = self.http.get(f"/segments/images/{name}")
        _raise_for(r)
        if hashlib.sha256(r.content).hexdigest() != media.sha256:
            raise FilmStudioError("a segment image arrived damaged", code="SEGMENT_IMAGE_CORRUPT",
                                  details={"image": name})
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_output(target) as tmp:
            tmp.write_bytes(r.content)
        return target

    def close(self) -> None:
        self.http.close()


def _raise_for(r: httpx.Response) -> None:
    if r.is_success:
        return
    try:
        err = r.json()["error"]
    except (ValueError, KeyError):
        err = {"code": f"HTTP_{r.status_code}", "message": r.text[:200]}
    raise FilmStudioError(f"the studio server refused: {err.get('message')}", code=err.get("code", "HTTP_ERROR"),
                          details={"status": r.status_code})


class RemoteSegmentWorker:
    """Renders one order into its own work folder, heartbeating, then uploads it."""

    def __init__(self, client: SegmentClient, work_dir: Path, name: str, *, beat_seconds: float = 1.0) -> None:
        self.client = client
        self.work_dir = work_dir
        self.name = name
        self.beat_seconds = beat_seconds

    def run(self, order: SegmentOrder) -> str:
        """"delivered", or "dropped" when the server no longer wanted it."""
        if not self.client.beat(order.key, self.name, 0):
            return "dropped"
        spec = spec_from_json(order.spec, lambda media: self.client.fetch_image(media.name, self.work_dir / "images"))
        cancel = CancelToken()
        frames = [0]
        stop = threading.Event()
        beats = threading.Thread(target=self._beat, args=(order.key, frames, cancel, stop), daemon=True,
                                 name=f"beat-{order.key[:8]}")
        beats.start()
        folder = self.work_dir / order.key
        try:
            out = render_segment(spec, folder / "segment.mp4", encoder=order.encoder, cancel=cancel,
                                 on_frame=lambda n: frames.__setitem__(0, n))
            frames[0] = spec.frames
            self.client.upload(order.key, out, self.name, order.chunk_bytes)
            log.info("segment %s delivered (%d frames)", order.key[:12], spec.frames)
            return "delivered"
        except FilmStudioError as exc:
            if cancel.cancelled:
                log.info("segment %s no longer wanted", order.key[:12])
                return "dropped"
            log.error("segment %s failed: %s [%s]", order.key[:12], exc.message, exc.code)
            raise
        finally:
            stop.set()
            beats.join(timeout=10)
            shutil.rmtree(folder, ignore_errors=True)

    def _beat(self, key: str, frames: list[int], cancel: CancelToken, stop: threading.Event) -> None:
        while not stop.wait(self.beat_seconds):
            try:
                if not self.client.beat(key, self.name, frames[0]):
                    cancel.cancel()
                    return
            except (httpx.HTTPError, FilmStudioError) as exc:  # the server may restart: keep rendering
                log.warning("heartbeat for %s failed: %s", key[:12], exc)
