"""Segments rendered on other machines: the order board on the main server and the rendering stage that uses it.

Off by default (`serve --farm-segments`, a Redis queue). The job itself still runs on the main
machine, which stays the only writer of studio.db; only the segment encodes go out. The board is a
folder beside the segment cache (`<cache>/segments/`), so the API process and a local job worker
agree on it without the database:

- `<key>.order.json`  an open order (its spec): the server accepts an upload for `key` only then;
- `<key>.beat`        rewritten by the server on each worker heartbeat: {"worker", "frames"};
- `<key>.by`          who delivered the segment; `<key>.mp4` the segment, put there atomically.

A segment whose worker stops beating (killed, unplugged) for a lease is dispatched again; the
segment path is its content key, so a late duplicate upload is identical and harmless. After
`max_dispatches` the main machine renders it itself, as the single-machine path would.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from filmstudio.domain.errors import BadRequest, FilmStudioError, NotFound
from filmstudio.pipeline.context import CancelToken, ProgressFn, StageContext, atomic_output, content_key
from filmstudio.pipeline.engines import Engines
from filmstudio.pipeline.media.ffmpeg import ffprobe_exe, probe
from filmstudio.pipeline.plan import RenderPlan
from filmstudio.pipeline.providers.backdrops import MEDIA_NAME, Clip, MediaRef, Painted, Source, Still
from filmstudio.pipeline.providers.visuals import (
    CUT,
    FADE,
    Camera,
    Cut,
    Dissolve,
    FadeBlack,
    Overlay,
    SegmentSpec,
    spec_key,
)
from filmstudio.pipeline.request import RenderRequest
from filmstudio.pipeline.stages.base import Stage

log = logging.getLogger(__name__)

KEY = re.compile(r"^[0-9a-f]{64}$")
MAX_SEGMENT_BYTES = 4 << 30
SEGMENTS_FILE = "segments.json"  # in the job's work folder: which worker rendered each segment


# -- specs over the wire ------------------------------------------------------------------------


MediaFetcher = Callable[[MediaRef], Path]
"""Brings a source's file here by its content (a remote worker downloads it, checked by its hash)."""

SPEC_FIELDS = ("kind", "style", "fps", "duration", "seed", "title", "credit", "heading", "int_ext", "location",
               "time_of_day", "language", "shot")


def spec_to_json(spec: SegmentSpec) -> dict[str, Any]:
    """A SegmentSpec as plain JSON, field by field; a file travels by its content address."""
    data: dict[str, Any] = {name: getattr(spec, name) for name in SPEC_FIELDS}
    data["size"] = list(spec.size)
    data["overlays"] = [dataclasses.asdict(o) for o in spec.overlays]
    data["source"] = _source_to_json(spec.source)
    data["camera"] = spec.camera.framing
    data["opening"] = ({"kind": "dissolve", "before": spec_to_json(spec.opening.before)}
                       if isinstance(spec.opening, Dissolve) else {"kind": _TRANSITIONS[type(spec.opening)]})
    data["closing"] = {"kind": _TRANSITIONS[type(spec.closing)]}
    return data


_TRANSITIONS: dict[type, str] = {FadeBlack: "fade", Cut: "cut"}


def _source_to_json(source: Source) -> dict[str, Any]:
    if isinstance(source, Painted):
        return {"kind": "painted", "props": list(source.props)}
    return {"kind": "still" if isinstance(source, Still) else "clip", "media": source.media.name}


def spec_from_json(data: dict[str, Any], fetch: MediaFetcher | None = None) -> SegmentSpec:
    """The inverse of spec_to_json; equal specs give equal content keys on every machine.

    A spec with a file needs `fetch` to bring its bytes here; without one (the server checking a
    delivery) the source keeps its content address and no local file.
    """
    try:
        values: dict[str, Any] = {name: data[name] for name in SPEC_FIELDS if name in data}
        values["size"] = tuple(data["size"])
        values["overlays"] = tuple(Overlay(**o) for o in data.get("overlays", ()))
        values["source"] = _source_from_json(data.get("source") or {"kind": "painted"}, fetch)
        values["camera"] = Camera(data.get("camera") or "")
        opening = data.get("opening") or {"kind": "fade"}
        values["opening"] = (Dissolve(spec_from_json(opening["before"], fetch)) if opening["kind"] == "dissolve"
                             else _transition(opening["kind"]))
        values["closing"] = _transition((data.get("closing") or {"kind": "fade"})["kind"])
    except (KeyError, TypeError) as exc:
        raise BadRequest("a malformed segment order", code="INVALID_ARGUMENT", details={"error": str(exc)}) from exc
    return SegmentSpec(**values)


def _transition(kind: str) -> FadeBlack | Cut:
    if kind == "cut":
        return CUT
    if kind == "fade":
        return FADE
    raise BadRequest("bad transition in a segment order", code="INVALID_ARGUMENT", details={"transition": kind})


def _source_from_json(data: dict[str, Any], fetch: MediaFetcher | None) -> Source:
    kind = data.get("kind")
    if kind == "painted":
        return Painted(tuple(data.get("props", ())))
    if kind not in ("still", "clip"):
        raise BadRequest("bad backdrop source in a segment order", code="INVALID_ARGUMENT", details={"source": kind})
    try:
        media = MediaRef.parse(str(data.get("media")))
    except ValueError as exc:
        raise BadRequest("bad media name in a segment order", code="INVALID_ARGUMENT",
                         details={"media": data.get("media")}) from exc
    path = fetch(media) if fetch is not None else Path(media.name)
    return Still(media, path) if kind == "still" else Clip(media, path)


def segment_key(spec: SegmentSpec, encoder: str) -> str:
    """The segment's cache name: exactly what the rendering stage looks for."""
    return content_key(spec_key(spec), encoder)


@dataclass(frozen=True)
class SegmentOrder:
    """One segment to render somewhere: what travels on the segment queue."""

    job_id: str
    key: str
    spec: dict[str, Any]
    encoder: str
    chunk_bytes: int  # upload part size: below the server's request body limit

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SegmentOrder:
        return cls(**data)


class SegmentDispatch(Protocol):
    """Puts segment orders where remote workers pick them up (huey on Redis, or a test double)."""

    def dispatch(self, order: SegmentOrder) -> None: ...


# -- the board (server side) ------------------------------------------------------------------


def _bad_key(key: str) -> FilmStudioError:
    return NotFound("no open order for that segment", code="SEGMENT_NOT_ORDERED", details={"key": key})


class SegmentBoard:
    """Open orders, heartbeats and deliveries as files in `<cache>/segments/`."""

    def __init__(self, cache_dir: Path) -> None:
        self.root = cache_dir / "segments"

    def _path(self, key: str, suffix: str) -> Path:
        if not KEY.match(key):
            raise _bad_key(key)
        return self.root / f"{key}{suffix}"

    def open(self, order: SegmentOrder) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with atomic_output(self._path(order.key, ".order.json")) as tmp:
            tmp.write_text(json.dumps(order.to_json()), encoding="utf-8")

    def close(self, key: str) -> None:
        for suffix in (".order.json", ".beat"):
            self._path(key, suffix).unlink(missing_ok=True)
        for folder in self.root.glob(f".{key}.*.upload"):
            shutil.rmtree(folder, ignore_errors=True)

    def is_open(self, key: str) -> bool:
        return self._path(key, ".order.json").exists()

    def order(self, key: str) -> SegmentOrder:
        try:
            return SegmentOrder.from_json(json.loads(self._path(key, ".order.json").read_text(encoding="utf-8")))
        except FileNotFoundError as exc:
            raise _bad_key(key) from exc

    def done(self, key: str) -> bool:
        return self._path(key, ".mp4").exists()

    # -- user images, by content address, for the workers that render their segments ----------

    def publish_media(self, media: MediaRef, path: Path) -> str:
        """Make a source's file (a picture or a clip) fetchable by its content name; returns the name."""
        target = self.root / "images" / media.name
        if not target.exists():
            with atomic_output(target) as tmp:
                shutil.copyfile(path, tmp)
        return media.name

    def publish_image(self, path: Path) -> str:
        """Make a user image fetchable by its content name; returns the name."""
        return self.publish_media(MediaRef.of(path), path)

    def image(self, name: str) -> Path:
        """A published file by its content name (`<sha256>.<ext>`)."""
        target = self.root / "images" / name
        if not MEDIA_NAME.match(name) or not target.is_file():
            raise NotFound("no such image for a segment", code="SEGMENT_IMAGE_NOT_FOUND", details={"image": name})
        return target

    def beat(self, key: str, worker: str, frames: int) -> bool:
        """Record a heartbeat; False when the order is closed (the worker should stop)."""
        if not self.is_open(key) or self.done(key):
            return False
        with atomic_output(self._path(key, ".beat")) as tmp:
            tmp.write_text(json.dumps({"worker": worker, "frames": int(frames)}), encoding="utf-8")
        return True

    def last_beat(self, key: str) -> tuple[float, dict[str, Any]] | None:
        """(time, {"worker", "frames"}) of the last heartbeat, or None."""
        path = self._path(key, ".beat")
        try:
            return path.stat().st_mtime, json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def delivered_by(self, key: str) -> str | None:
        try:
            return self._path(key, ".by").read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    # -- uploads in parts: each below the API's request body limit --------------------------

    def _upload_dir(self, key: str, worker: str) -> Path:
        # One folder per worker: two workers delivering the same re-dispatched segment never mix parts.
        return self.root / f".{key}.{hashlib.sha256(worker.encode()).hexdigest()[:16]}.upload"

    def put_part(self, key: str, index: int, data: bytes, worker: str) -> None:
        order = self.order(key)
        if not 0 <= index < MAX_SEGMENT_BYTES // max(1, order.chunk_bytes) + 1:
            raise BadRequest("part index out of range", code="INVALID_ARGUMENT", details={"index": index})
        folder = self._upload_dir(key, worker)
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_output(folder / f"{index:06d}.part") as tmp:
            tmp.write_bytes(data)

    def complete(self, key: str, parts: int, sha256: str, worker: str) -> None:
        """Join the parts, check them (hash, then the frames by ffprobe) and publish the segment."""
        order = self.order(key)
        if self.done(key):
            return  # a duplicate delivery of a content-addressed file: nothing to do
        folder = self._upload_dir(key, worker)
        digest = hashlib.sha256()
        final = self._path(key, ".mp4")
        with atomic_output(final) as tmp:
            with tmp.open("wb") as out:
                for i in range(parts):
                    try:
                        chunk = (folder / f"{i:06d}.part").read_bytes()
                    except FileNotFoundError as exc:
                        raise BadRequest(f"part {i} was not uploaded", code="SEGMENT_INCOMPLETE") from exc
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != sha256:
                raise BadRequest("the segment does not match its checksum", code="SEGMENT_CORRUPT")
            _check_segment(tmp, spec_from_json(order.spec))
            (self.root / f"{key}.by").write_text(worker, encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)


def _check_segment(path: Path, spec: SegmentSpec) -> None:
    """Refuse anything that is not the H.264 segment the order asked for."""
    if ffprobe_exe() is None:
        if path.read_bytes()[4:8] != b"ftyp":
            raise BadRequest("the upload is not an MP4", code="SEGMENT_INVALID")
        return
    try:
        streams = probe(path)["streams"]
    except (FilmStudioError, subprocess.CalledProcessError, ValueError, KeyError) as exc:
        raise BadRequest("the upload is not a readable video", code="SEGMENT_INVALID") from exc
    video = [s for s in streams if s.get("codec_type") == "video"]
    if len(video) != 1 or video[0].get("codec_name") != "h264" or (video[0]["width"], video[0]["height"]) != spec.size:
        raise BadRequest("the upload is not the ordered segment", code="SEGMENT_INVALID",
                              details={"expected_size": list(spec.size)})
    frames = int(video[0].get("nb_frames") or 0)
    if frames and frames != spec.frames:
        raise BadRequest(f"the upload has {frames} frames, the order {spec.frames}", code="SEGMENT_INVALID")


# -- the coordinator: a rendering stage that farms the encodes out first ----------------------


@dataclass(frozen=True)
class FarmedRendering:
    """`rendering`, with the segment encodes sent to other machines and the join done here."""

    name: ClassVar[str] = "rendering"
    weight: ClassVar[float] = 0.64
    inner: Stage
    dispatch: SegmentDispatch
    job_id: str
    chunk_bytes: int = 900_000
    lease_seconds: float = 30.0
    max_dispatches: int = 3
    claim_seconds: float = 300.0  # an order no worker has started by then is rendered here
    poll_seconds: float = 0.2
    clock: Callable[[], float] = field(default=time.time, compare=False)

    def run(self, plan: RenderPlan, ctx: StageContext) -> RenderPlan:
        encoder = ctx.engines.encoder.video_encoder(ctx.encoder)
        board = SegmentBoard(ctx.cache.root)
        wanted: dict[str, SegmentSpec] = {}
        for spec in plan.segment_specs:
            key = segment_key(spec, encoder)
            if not board.done(key):
                wanted[key] = spec
        try:
            self._farm(wanted, encoder, board, ctx)
        finally:
            for key in wanted:
                board.close(key)
        # Every farmed segment is now in the cache: the inner stage encodes only what is left and joins.
        plan = self.inner.run(plan, ctx)
        rows = [{"index": i, "key": p.stem, "worker": board.delivered_by(p.stem) or "main"}
                for i, p in enumerate(plan.segments)]
        (plan.work_dir / SEGMENTS_FILE).write_text(json.dumps(rows), encoding="utf-8")
        return plan

    def _farm(self, wanted: dict[str, SegmentSpec], encoder: str, board: SegmentBoard, ctx: StageContext) -> None:
        sent: dict[str, tuple[float, int]] = {}  # key -> (dispatched at, times dispatched)
        for key, spec in wanted.items():
            for media, path in spec.media():
                board.publish_media(media, path)  # the worker fetches it by content before rendering
            order = SegmentOrder(self.job_id, key, spec_to_json(spec), encoder, self.chunk_bytes)
            board.open(order)
            self.dispatch.dispatch(order)
            sent[key] = (self.clock(), 1)
        total = sum(spec.frames for spec in wanted.values()) or 1
        pending = set(wanted)
        shown = 0.0  # a re-dispatched segment starts over; the progress shown does not go back
        while pending:
            ctx.cancel.raise_if_cancelled()
            frames = 0
            for key in sorted(pending):
                if board.done(key):
                    pending.discard(key)
                    continue
                at, count = sent[key]
                beat = board.last_beat(key)
                started = beat is not None and beat[0] >= at  # a worker took this dispatch (not an older one)
                if started:
                    assert beat is not None
                    frames += int(beat[1].get("frames", 0))
                now = self.clock()
                if started and beat is not None and now - beat[0] > self.lease_seconds and count < self.max_dispatches:
                    # Its worker died or lost the network mid-segment: the next free worker re-runs it.
                    log.info("segment %s: worker %s went quiet; dispatching it again", key[:12], beat[1].get("worker"))
                    self.dispatch.dispatch(board.order(key))
                    sent[key] = (now, count + 1)
                elif (started and beat is not None and now - beat[0] > self.lease_seconds) or (
                        not started and now - at > self.claim_seconds):
                    log.warning("segment %s: no worker delivered it (%d dispatches); rendering it here", key[:12], count)
                    board.close(key)
                    pending.discard(key)
            done_frames = sum(wanted[k].frames for k in wanted if k not in pending)
            shown = max(shown, 0.9 * min(1.0, (done_frames + frames) / total))
            ctx.report(self.name, shown)
            if pending:
                time.sleep(self.poll_seconds)


def farmed_stages(stages: Sequence[Stage], make: Callable[[Stage], Stage]) -> tuple[Stage, ...]:
    """The pipeline with its rendering stage wrapped by `make` (everything else unchanged)."""
    return tuple(make(s) if s.name == "rendering" else s for s in stages)


@dataclass(frozen=True)
class FarmRenderer:
    """A Renderer (services.render) that runs the pipeline with FarmedRendering in place of rendering."""

    engines: Engines
    dispatch: SegmentDispatch
    chunk_bytes: int
    lease_seconds: float

    def __call__(self, request: RenderRequest, *, progress: ProgressFn | None = None,
                 cancel: CancelToken | None = None) -> dict[str, Any]:
        from filmstudio.pipeline.runner import default_stages, render

        job_id = request.job_id or request.work_dir.name
        stages = farmed_stages(default_stages(), lambda inner: FarmedRendering(
            inner, self.dispatch, job_id, chunk_bytes=self.chunk_bytes, lease_seconds=self.lease_seconds))
        manifest = render(request, self.engines, progress=progress, cancel=cancel, stages=stages)
        return record_workers(manifest, request.work_dir)


def record_workers(manifest: dict[str, Any], work_dir: Path) -> dict[str, Any]:
    """Add `segments: [{index, key, worker}]` (who rendered each segment) to the manifest, file and dict."""
    try:
        rows = json.loads((work_dir / SEGMENTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return manifest
    manifest = {**manifest, "segments": rows}
    with atomic_output(Path(manifest["outputs"]["manifest"])) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return manifest


def chunked(path: Path, size: int) -> Sequence[bytes]:
    """A file's bytes in parts of `size` (segments are small enough to hold at once)."""
    data = path.read_bytes()
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


def worker_name() -> str:
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"
