"""rendering: encode the segments in parallel (cached by content), join by stream copy, mux the film.

A segment whose opening GOPs do not depend on its length is encoded in two pieces (`pieces.py`):
its head is cached apart, so an edit that only lengthens or shortens it encodes the tail again.
What each segment shows (the manifest's `sets`: its set, props and the layers of its middle frame)
is cached with it: a cached segment's layout is never drawn again.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from filmstudio.pipeline.context import StageContext, atomic_output, content_key
from filmstudio.pipeline.media.mux import Chapter, SubtitleTrack, encode_aac, mux_film
from filmstudio.pipeline.plan import RenderPlan
from filmstudio.pipeline.providers.pieces import head_frames, head_key, render_pieces
from filmstudio.pipeline.providers.visuals import SegmentSpec, render_segment, set_records, spec_key
from filmstudio.pipeline.script.delivery import names_as_written
from filmstudio.pipeline.stages.music_generation import wait_for_mix

AAC_CACHE_VERSION = "aac-2"  # 2: the fast coder
SETS_CACHE_VERSION = "sets-1"  # bump when what `visuals.set_records` says about a segment changes


@dataclass(frozen=True)
class Rendering:
    name: ClassVar[str] = "rendering"
    weight: ClassVar[float] = 0.64

    def run(self, plan: RenderPlan, ctx: StageContext) -> RenderPlan:
        assert plan.script is not None and plan.mix_track is not None
        encoder = ctx.engines.encoder.video_encoder(ctx.encoder)
        specs: tuple[SegmentSpec, ...] = plan.segment_specs
        paths = [ctx.cache.path("segments", content_key(spec_key(spec), encoder), ".mp4") for spec in specs]
        todo = [(spec, path) for spec, path in zip(specs, paths, strict=True) if not path.exists()]
        records = [ctx.cache.path("sets", content_key(SETS_CACHE_VERSION, spec_key(spec)), ".json") for spec in specs]
        unrecorded = {path: record for path, record in zip(paths, records, strict=True) if not record.exists()}
        frames_total = sum(round(spec.duration * spec.fps) for spec, _ in todo) or 1
        done: dict[Path, int] = {}
        lock = threading.Lock()

        def report(path: Path, frames: int) -> None:
            with lock:
                done[path] = frames
                ctx.report(self.name, 0.93 * sum(done.values()) / frames_total)

        mix = plan.mix_track

        def soundtrack() -> Path:
            # The mix (made in the background since the music stage) and its AAC encode (one core,
            # ~1 s per minute of film) run beside the segments, off the frames' critical path.
            wait_for_mix(ctx)
            aac = ctx.cache.path("audio", content_key(AAC_CACHE_VERSION, mix), ".m4a")
            return aac if aac.exists() else encode_aac(mix, aac, cancel=ctx.cancel)

        # Longest first: the last segment to finish then is a short one, with the other cores busy.
        todo.sort(key=lambda item: -item[0].frames)
        with ThreadPoolExecutor(max_workers=1 + max(1, min(len(todo), ctx.jobs)), thread_name_prefix="render") as pool:
            audio = pool.submit(soundtrack)
            futures = [audio]
            futures += [pool.submit(self._segment, spec, path, encoder, ctx, functools.partial(report, path),
                                    unrecorded.get(path)) for spec, path in todo]
            making = {path for _, path in todo}
            futures += [pool.submit(_record, spec, unrecorded[path], _plates(ctx))  # a segment cached before its record was
                        for spec, path in zip(specs, paths, strict=True) if path in unrecorded and path not in making]
            finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for fut in finished:
                if fut.exception() is not None:
                    ctx.cancel.cancel()  # stop the other ffmpegs before re-raising
                    for other in futures:
                        other.cancel()
                    raise fut.exception()  # type: ignore[misc]
            for fut in futures:
                fut.result()
        ctx.cancel.raise_if_cancelled()
        chapters = []
        for seg in plan.timeline:
            if seg.kind == "title":
                chapters.append(Chapter(plan.script.title, seg.start, seg.end))
            elif seg.kind == "end":
                chapters.append(Chapter("End credits", seg.start, seg.end))
            else:
                scene = plan.script.scenes[seg.scene_index]
                title = _chapter_title(scene.heading, scene.location, seg.scene_index)
                chapters.append(Chapter(names_as_written(title, plan.script.characters), seg.start, seg.end))
        tracks = [SubtitleTrack(lang, files["srt"]) for lang, files in plan.subtitle_files.items()]
        film = plan.work_dir / "film.mp4"
        settings = plan.settings
        # Karaoke captions are burned in too: the soft track is offered, never on by default.
        burned = settings.subtitle_langs[0] if ((settings.burn_subtitles or settings.captions == "karaoke")
                                                and settings.subtitle_langs) else None
        mux_film(film, segments=paths, audio=audio.result(), subtitles=tracks, chapters=chapters,
                 title=plan.script.title, duration=plan.duration, work_dir=plan.work_dir,
                 language=settings.language, burned=burned, cancel=ctx.cancel)
        ctx.report(self.name, 1.0)
        return replace(plan, segments=tuple(paths), video=film, encoder=encoder, sets=_sets(specs, records))


    @staticmethod
    def _segment(spec: SegmentSpec, path: Path, encoder: str, ctx: StageContext,
                 on_frame: Callable[[int], None], record: Path | None = None) -> Path:
        """One segment: whole, or as its head (cached apart, reused when only its length changed) and tail.

        With `record`, what it shows is recorded there too (its painted layers are still in memory).
        """
        plates = _plates(ctx)
        made = Rendering._encode(spec, path, encoder, ctx, on_frame, plates)
        if record is not None:
            _record(spec, record, plates)
        return made

    @staticmethod
    def _encode(spec: SegmentSpec, path: Path, encoder: str, ctx: StageContext,
                on_frame: Callable[[int], None], plates: Path) -> Path:
        n = head_frames(spec)
        if n == 0:
            return render_segment(spec, path, encoder=encoder, cancel=ctx.cancel, on_frame=on_frame, plates=plates)
        head = ctx.cache.path("segments", content_key(head_key(spec, n), encoder), ".mp4")
        made = 0 if head.exists() else n  # frames counted from the tail's start when the head is reused
        return render_pieces(spec, path, head, encoder=encoder, cancel=ctx.cancel,
                             on_frame=lambda frames: on_frame(frames + n - made), plates=plates)


def _plates(ctx: StageContext) -> Path:
    """Where the painted sets are kept (`visuals._painting`): an edited shot is re-made over its set as painted before."""
    return ctx.cache.folder("plates")


def _record(spec: SegmentSpec, out: Path, plates: Path | None = None) -> Path:
    """What the segment shows (`visuals.set_records`, less its start in the film), kept in the cache."""
    found = set_records((spec,), plates)[0]
    found.pop("start")
    with atomic_output(out) as tmp:
        tmp.write_text(json.dumps(found), encoding="utf-8")
    return out


def _sets(specs: tuple[SegmentSpec, ...], records: list[Path]) -> tuple[dict[str, Any], ...]:
    """The manifest's `sets` from the cached records: each with its start in the film, as `set_records` gives."""
    out, start = [], 0.0
    for spec, record in zip(specs, records, strict=True):
        found = json.loads(record.read_text(encoding="utf-8"))
        out.append({**{k: v for k, v in found.items() if k not in ("frame_at", "frame_layers")},
                    "start": round(start, 4), "frame_at": found["frame_at"], "frame_layers": found["frame_layers"]})
        start += spec.frames / spec.fps
    return tuple(out)


def _chapter_title(heading: str | None, location: str, index: int) -> str:
    if heading:
        return heading
    return location.title() if location else f"Scene {index + 1}"
