"""voice_synthesis: one clip per spoken line (cached by content), laid out on the timeline."""

from __future__ import annotations

import math
import wave
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from filmstudio.domain.errors import ScriptError
from filmstudio.pipeline.context import StageContext, content_key
from filmstudio.pipeline.fit import MAX_WPM, WPM_STEP, Layout, lay_out
from filmstudio.pipeline.media.audio import place_clips, write_wav
from filmstudio.pipeline.plan import RenderPlan, TimedLine
from filmstudio.pipeline.providers.tts import SpeechRequest, Tts

TTS_CACHE_VERSION = "tts-1"
VOICE_RATE = 48000


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / float(wav.getframerate())


@dataclass(frozen=True)
class VoiceSynthesis:
    tts: Tts
    name: ClassVar[str] = "voice_synthesis"
    weight: ClassVar[float] = 0.22

    def run(self, plan: RenderPlan, ctx: StageContext) -> RenderPlan:
        assert plan.script is not None
        script, settings = plan.script, plan.settings
        lines = script.spoken_lines
        wpm = plan.words_per_minute
        layout: Layout | None = None
        clips: dict[int, Path] = {}
        for _attempt in range(3):
            requests = []
            for line in lines:
                voice = plan.casting[line.speaker]
                key = content_key(TTS_CACHE_VERSION, line.text, voice, wpm)
                requests.append(SpeechRequest(line.text, voice, wpm, ctx.cache.path("tts", key, ".wav")))
            paths = self.tts.synthesize_many(
                requests, cancel=ctx.cancel, progress=lambda f: ctx.report(self.name, 0.85 * f)
            )
            clips = {line.index: path for line, path in zip(lines, paths, strict=True)}
            seconds = {idx: wav_seconds(path) for idx, path in clips.items()}
            try:
                layout = lay_out(script, seconds, settings)
                break
            except ScriptError as exc:
                # The estimate was short: speak faster (bounded), or give up with the real need.
                if exc.code != "SCRIPT_TOO_LONG" or wpm >= MAX_WPM:
                    raise
                need = float(exc.details["required_seconds"])
                speech = sum(seconds.values())
                factor = (speech + (need - settings.duration) * 1.1) / max(speech, 1e-6)
                wpm = min(MAX_WPM, math.ceil(wpm * factor / WPM_STEP) * WPM_STEP)
        if layout is None:  # pragma: no cover - the loop either breaks or raises
            raise ScriptError("the script does not fit the duration", code="SCRIPT_TOO_LONG")
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
        track = place_clips(
            [(t.clip, t.start) for t in timed if t.clip is not None], duration, VOICE_RATE
        )
        voice_path = plan.work_dir / "voice.wav"
        write_wav(voice_path, track, VOICE_RATE)
        ctx.report(self.name, 1.0)
        return replace(
            plan, words_per_minute=wpm, timed_lines=timed, timeline=layout.timeline, voice_track=voice_path
        )
