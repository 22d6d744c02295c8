"""The render runner: a plain loop over stages with cache, progress and cancel."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from filmstudio import __version__
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.context import (
    Cache,
    CancelToken,
    ProgressFn,
    RenderProgress,
    StageContext,
    atomic_output,
)
from filmstudio.pipeline.engines import Engines, VoiceInfo
from filmstudio.pipeline.fit import choose_rate
from filmstudio.pipeline.plan import RenderPlan, Script
from filmstudio.pipeline.providers.visuals import set_records
from filmstudio.pipeline.request import RenderRequest
from filmstudio.pipeline.stages.base import Stage

# glibc's malloc raises its mmap threshold (up to 32 MB) each time a big block is freed, after
# which frame-sized numpy buffers come from the heap and its holes are never given back: peak RSS
# grew with the film's length in the rendering stage (1080p30: 387/476/604 MB at 60/300/600 s).
# A fixed 4 MB threshold keeps frame-sized buffers in their own mappings, returned when freed
# (348/374 MB at 60/300 s, about the same speed; 256 kB was flatter still but ~10 % slower).
MMAP_THRESHOLD = 4 << 20
_M_MMAP_THRESHOLD = -3  # mallopt parameter number in glibc's malloc.h


def fix_mmap_threshold() -> bool:
    """Pin glibc's mmap threshold (process-wide, idempotent); False where there is no glibc."""
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl without mallopt)
        return False


STEPS: tuple[str, ...] = (
    "script_analysis",
    "voice_synthesis",
    "subtitles",
    "music_generation",
    "visual_generation",
    "rendering",
    "thumbnail",
)


def default_stages() -> tuple[Stage, ...]:
    """The pipeline in order (DESIGN §4); step names are API. Engines come with the StageContext."""
    from filmstudio.pipeline.stages.music_generation import MusicGeneration
    from filmstudio.pipeline.stages.rendering import Rendering
    from filmstudio.pipeline.stages.script_analysis import ScriptAnalysis
    from filmstudio.pipeline.stages.subtitles import Subtitles
    from filmstudio.pipeline.stages.thumbnail import Thumbnail
    from filmstudio.pipeline.stages.visual_generation import VisualGeneration
    from filmstudio.pipeline.stages.voice_synthesis import VoiceSynthesis

    return (
        ScriptAnalysis(),
        VoiceSynthesis(),
        Subtitles(),
        MusicGeneration(),
        VisualGeneration(),
        Rendering(),
        Thumbnail(),
    )


class _Progress:
    """Maps each stage's own 0..1 onto the whole render by stage weights; never goes backwards.

    A stage that learns it has extra work (the stills to draw) says how long it will take
    (`expect`): the rest of the bar is shared again between that stage and the ones after it by
    their expected seconds (the later stages at the pace the render has gone so far), so the
    stills get their real share and each drawn still moves the bar.
    """

    def __init__(self, stages: Sequence[Stage], sink: ProgressFn | None) -> None:
        total = sum(s.weight for s in stages)
        self._offsets: dict[str, tuple[float, float]] = {}
        acc = 0.0
        for s in stages:
            self._offsets[s.name] = (acc / total, s.weight / total)
            acc += s.weight
        self._sink = sink
        self._last = 0.0
        self._started = time.monotonic()

    def expect(self, step: str, seconds: float) -> None:
        if step not in self._offsets or seconds <= 0:
            return
        names = list(self._offsets)
        start, share = self._offsets[step]
        done = max(start, 1e-3)
        pace = max(1e-3, time.monotonic() - self._started) / done  # seconds per unit of the bar so far
        later = names[names.index(step) + 1:]
        rest = sum(self._offsets[n][1] for n in later) * pace
        own = share * pace + seconds
        left = 1.0 - start
        self._offsets[step] = (start, left * own / (own + rest))
        at = start + self._offsets[step][1]
        for n in later:
            part = left * self._offsets[n][1] * pace / (own + rest)
            self._offsets[n] = (at, part)
            at += part

    def __call__(self, step: str, fraction: float) -> None:
        start, share = self._offsets.get(step, (self._last, 0.0))
        overall = max(self._last, min(1.0, start + share * fraction))
        self._last = overall
        if self._sink is not None:
            self._sink(step, overall)

    def note(self, **detail: Any) -> None:
        if isinstance(self._sink, RenderProgress):  # a plain (step, fraction) callable takes no notes
            self._sink.note(**detail)


def render(
    request: RenderRequest,
    engines: Engines,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    stages: Sequence[Stage] | None = None,
) -> dict[str, Any]:
    """Render `request.script` into the MP4 at `request.output`; return the manifest (also written beside it).

    Writes beside `output`: `<stem>.jpg` thumbnail, `<stem>.<lang>.srt/.vtt`, `<stem>.manifest.json`.
    progress(step, overall_fraction_0_to_1) is called often; raises FilmStudioError subclasses
    (ScriptError SCRIPT_EMPTY/SCRIPT_TOO_LONG, InvalidSettings, Cancelled, RenderFailed).
    Nothing is left at `output` unless the render completed.
    """
    output = Path(request.output).resolve()
    cancel = cancel or CancelToken()
    fix_mmap_threshold()
    stages = tuple(stages) if stages is not None else default_stages()
    tracker = _Progress(stages, progress)
    ctx = StageContext(
        cache=Cache(Path(request.cache_dir)), progress=tracker, cancel=cancel, engines=engines,
        jobs=request.jobs or max(1, os.cpu_count() or 2), encoder=request.encoder, overlap=True,
    )
    work_dir = Path(request.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    plan = RenderPlan(settings=request.settings, script_text=request.script, work_dir=work_dir, output=output,
                      images=request.images, title=request.title, continuity=request.continuity,
                      fallback_title=request.fallback_title, storyboard_edits=request.storyboard,
                      duration_from_script=request.duration_from_script)
    started = time.monotonic()
    # Which H.264 encoder works here is asked of ffmpeg once per process (a few test encodes,
    # ~0.5 s): asked beside the voices, not when the frames are due (`rendering` then finds the
    # answer, or waits for the probe under way). Nothing waits for it when the render ends early.
    threading.Thread(target=_probe_encoder, args=(engines, request.encoder), name="encoder-probe", daemon=True).start()
    try:
        for stage in stages:
            cancel.raise_if_cancelled()
            tracker(stage.name, 0.0)
            t0 = time.monotonic()
            plan = stage.run(plan, ctx)
            plan = replace(plan, stage_seconds={**plan.stage_seconds, stage.name: round(time.monotonic() - t0, 3)})
    except BaseException:
        ctx.background.close(stop=True)  # a stage's background work never outlives the render
        raise
    ctx.background.close()
    cancel.raise_if_cancelled()
    manifest = _finish(plan, time.monotonic() - started, ctx.background.seconds)
    tracker("thumbnail", 1.0)
    return manifest


def _probe_encoder(engines: Engines, forced: str | None) -> None:
    with contextlib.suppress(Exception):  # no ffmpeg: the rendering stage raises it where it is needed
        engines.encoder.video_encoder(forced)


def _place(src: Path, final: Path) -> Path:
    """Copy or move a finished artifact to its final path atomically."""
    with atomic_output(final) as tmp:
        shutil.copyfile(src, tmp)
    return final


def _finish(plan: RenderPlan, seconds: float, background: dict[str, float] | None = None) -> dict[str, Any]:
    """Put the film and its sidecars at their final paths (film last but one, manifest last)."""
    assert plan.video is not None and plan.script is not None
    out = plan.output
    stem = out.with_suffix("")
    subs: dict[str, dict[str, str]] = {}
    for lang, files in plan.subtitle_files.items():
        subs[lang] = {kind: str(_place(path, Path(f"{stem}.{lang}.{kind}"))) for kind, path in files.items()}
    thumb = _place(plan.thumbnail, Path(f"{stem}.jpg")) if plan.thumbnail else None
    youtube = thumb
    if plan.youtube_thumbnail is not None and plan.youtube_thumbnail != plan.thumbnail:
        youtube = _place(plan.youtube_thumbnail, Path(f"{stem}.youtube.jpg"))
    with atomic_output(out) as tmp:
        try:
            os.replace(plan.video, tmp)  # same filesystem: no copy of a large film
        except OSError:
            shutil.copyfile(plan.video, tmp)
    manifest = build_manifest(plan, seconds, thumb, subs, youtube)
    # Work made beside the stages (the mix, while the frames encode): its own seconds, not a stage's.
    manifest["background_seconds"] = dict(background or {})
    manifest_path = Path(f"{stem}.manifest.json")
    with atomic_output(manifest_path) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return manifest


def build_manifest(
    plan: RenderPlan, seconds: float, thumb: Path | None, subs: dict[str, dict[str, str]],
    youtube: Path | None = None,
) -> dict[str, Any]:
    assert plan.script is not None
    stem = plan.output.with_suffix("")
    scenes = []
    for seg in plan.timeline:
        entry: dict[str, Any] = {"kind": seg.kind, "start": round(seg.start, 3), "end": round(seg.end, 3)}
        if seg.kind == "scene":
            scene = plan.script.scenes[seg.scene_index]
            entry.update(
                index=scene.index, heading=scene.heading, int_ext=scene.int_ext, location=scene.location,
                time_of_day=scene.time_of_day,
                lines=[
                    {"index": t.line.index, "speaker": t.line.speaker, "kind": t.line.kind, "spoken": t.line.spoken,
                     "text": t.line.text, "start": round(t.start, 3), "end": round(t.end, 3)}
                    for t in plan.timed_lines if t.scene_index == scene.index
                ],
            )
        scenes.append(entry)
    return {
        "filmstudio_version": __version__,
        "title": plan.script.title,
        "outputs": {
            "video": str(plan.output),
            "thumbnail": str(thumb) if thumb else None,
            "youtube_thumbnail": str(youtube or thumb) if (youtube or thumb) else None,
            "subtitles": subs,
            "manifest": f"{stem}.manifest.json",
        },
        "duration": round(plan.duration, 3),
        "requested_duration": plan.settings.duration,
        "script_duration": plan.script_duration,  # how long the script wants at a natural pace
        "duration_from_script": plan.duration_from_script,
        "settings": plan.settings.model_dump(mode="json"),
        "words_per_minute": plan.words_per_minute,
        "encoder": plan.encoder,
        "casting": {
            name: {"voice": v.engine_voice, "engine": v.engine,
                   "speaker_id": v.speaker_id, "speaker": v.speaker_name, "pitch": v.pitch,
                   "semitones": v.semitones,  # the pitch as a shift from the voice's own (None: not on this engine)
                   "rate_factor": v.rate_factor, "gender": v.gender}
            for name, v in plan.casting.items()
        },
        "scenes": scenes,
        # per subtitle track: reading speed, shortest cue, phrase splits, what could not meet the rules
        "subtitles": plan.subtitle_report,
        "warnings": list(plan.warnings),
        "stills": len(plan.stills),  # shots drawn by the picture model (0: procedural backdrops)
        "stills_drawn": plan.stills_drawn,  # of those, drawn by this render (not from the cache)
        "stills_seconds": plan.stills_seconds,
        # shot number -> the still's file name in <cache>/stills/ (what the storyboard shows per shot)
        "shot_stills": {str(n): p.name for n, p in sorted(plan.shot_stills.items())},
        # shot number -> the clip's file name in <cache>/clips/ (the moving shots; what the storyboard plays)
        "shot_clips": {str(n): p.name for n, p in sorted(plan.shot_clips.items())},
        "clips_made": plan.clips_made,  # of those, made by this render (not from the cache)
        "clips_seconds": plan.clips_seconds,
        # per segment: the painted set (the setting its location names, the props drawn) or its source
        "sets": list(plan.sets) if plan.sets else set_records(plan.segment_specs),  # the farm records none
        "stage_seconds": plan.stage_seconds,
        "total_seconds": round(seconds, 3),
    }


def preflight(script_text: str, settings: RenderSettings, voices: Sequence[VoiceInfo] = ()) -> dict[str, Any]:
    """Check a script against its settings before any work: raises SCRIPT_EMPTY / SCRIPT_TOO_LONG.

    `voices`: what the render's engines offer (`Voices.voices()`): the check casts as the render will,
    so they agree. Returns {"title", "scenes", "characters", "estimated_speech_seconds", "words_per_minute"}.
    """
    from filmstudio.pipeline.script.analysis import analyse

    return preflight_script(analyse(script_text, settings), settings, voices)


def preflight_script(script: Script, settings: RenderSettings, voices: Sequence[VoiceInfo] = ()) -> dict[str, Any]:
    """`preflight` of a script already analysed (a request that goes on using the analysis)."""
    from filmstudio.pipeline.script.casting import cast_voices, estimate_speech_seconds

    casting = cast_voices(script, settings, [v for v in voices if v.language == settings.language])
    wpm, seconds = choose_rate(script, casting, settings, estimate_speech_seconds)
    return {
        "title": script.title,
        "scenes": len(script.scenes),
        "characters": list(script.characters),
        "estimated_speech_seconds": round(seconds, 1),
        "words_per_minute": wpm,
    }


def default_work_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="filmstudio-render-"))
