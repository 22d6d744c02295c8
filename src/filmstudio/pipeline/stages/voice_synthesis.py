"""voice_synthesis: one clip per spoken line (cached by content), laid out on the timeline."""

from __future__ import annotations

import math
import wave
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from filmstudio.domain.errors import ScriptError
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.context import StageContext, atomic_output, content_key
from filmstudio.pipeline.fit import MAX_WPM, WPM_STEP, Layout, Pacing, lay_out
from filmstudio.pipeline.media.audio import write_voice_track
from filmstudio.pipeline.media.ffmpeg import run_ffmpeg
from filmstudio.pipeline.plan import Line, RenderPlan, Script, TimedLine
from filmstudio.pipeline.providers.tts import SpeechRequest
from filmstudio.pipeline.script.casting import voice_for_text

TTS_CACHE_VERSION = "tts-3"  # 2: espeak-ng noise seeded (clips are reproducible); 3: rate/pitch never dropped
VOICE_RATE = 48000


MAX_STRETCH = 1.3


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / float(wav.getframerate())


@dataclass(frozen=True)
class VoiceSynthesis:
    name: ClassVar[str] = "voice_synthesis"
    weight: ClassVar[float] = 0.22

    def run(self, plan: RenderPlan, ctx: StageContext) -> RenderPlan:
        assert plan.script is not None
        script, settings = plan.script, plan.settings
        lines = script.spoken_lines
        wpm = plan.words_per_minute
        layout: Layout | None = None
        for _attempt in range(3):
            clips, seconds = self._speak(plan, ctx, lines, wpm)
            try:
                layout = lay_out(script, seconds, settings)
                break
            except ScriptError as exc:
                # The estimate was short: speak faster (bounded), or give up with the real need.
                if exc.code != "SCRIPT_TOO_LONG":
                    raise
                if wpm >= MAX_WPM:
                    break
                need = float(exc.details["required_seconds"])
                speech = sum(seconds.values())
                factor = (speech + (need - settings.duration) * 1.1) / max(speech, 1e-6)
                wpm = min(MAX_WPM, math.ceil(wpm * factor / WPM_STEP) * WPM_STEP)
        if layout is None:
            # Still too long at the fastest rate: tighten the clips themselves (pitch kept), up to
            # MAX_STRETCH, before refusing. Happens when speech is slower than estimated (e.g. a
            # writing system the estimate reads as short words).
            speech = sum(seconds.values())
            clips, seconds = self._stretch(ctx, clips, seconds, script, settings, speech)
            layout = lay_out(script, seconds, settings)  # raises SCRIPT_TOO_LONG with the real need
        timed = tuple(
            TimedLine(
                line=line,
                scene_index=scene.index,
                start=layout.line_starts[line.index],
                end=layout.line_ends[line.index],
                clip=clips.get(line.index),
            )
            for scene in script.scenes
            for line in scene.lines
            if line.index in layout.line_starts
        )
        duration = layout.timeline[-1].end
        voice_path = plan.work_dir / "voice.wav"
        write_voice_track(  # streamed chunk by chunk: memory does not grow with the film's length
            voice_path, [(t.clip, t.start) for t in timed if t.clip is not None], duration, VOICE_RATE,
            cancel=ctx.cancel,
        )
        ctx.report(self.name, 1.0)
        return replace(
            plan, words_per_minute=wpm, timed_lines=timed, timeline=layout.timeline, voice_track=voice_path
        )

    def _speak(
        self, plan: RenderPlan, ctx: StageContext, lines: tuple[Line, ...], wpm: float
    ) -> tuple[dict[int, Path], dict[int, float]]:
        requests = []
        for line in lines:
            voice = voice_for_text(plan.casting[line.speaker], line.text)
            key = content_key(TTS_CACHE_VERSION, line.text, voice, wpm)
            requests.append(SpeechRequest(line.text, voice, wpm, ctx.cache.path("tts", key, ".wav")))
        paths = ctx.engines.voices.synthesize_many(
            requests, cancel=ctx.cancel, progress=lambda f: ctx.report(self.name, 0.85 * f)
        )
        clips = {line.index: path for line, path in zip(lines, paths, strict=True)}
        return clips, {idx: wav_seconds(path) for idx, path in clips.items()}

    def _stretch(
        self, ctx: StageContext, clips: dict[int, Path], seconds: dict[int, float], script: Script,
        settings: RenderSettings, speech: float,
    ) -> tuple[dict[int, Path], dict[int, float]]:
        room = settings.duration - Pacing.for_duration(settings.duration).overhead(script)
        factor = speech / max(room * 0.98, 1e-6)
        if factor <= 1.0 or factor > MAX_STRETCH:
            return clips, seconds  # fits already, or would be too fast to follow: let lay_out decide
        out_clips: dict[int, Path] = {}
        for idx, clip in clips.items():
            ctx.cancel.raise_if_cancelled()
            target = ctx.cache.path("tts", content_key("stretch-1", clip, round(factor, 3)), ".wav")
            if not target.exists():
                with atomic_output(target) as tmp:
                    run_ffmpeg(["-i", str(clip), "-af", f"atempo={factor:.4f}", "-f", "wav", str(tmp)],
                               cancel=ctx.cancel)
            out_clips[idx] = target
        return out_clips, {idx: wav_seconds(p) for idx, p in out_clips.items()}
