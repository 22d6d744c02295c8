"""music_generation: original music for the film's length and scenes, ducked under speech, mastered."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from filmstudio.pipeline.context import StageContext, content_key
from filmstudio.pipeline.media.audio import duck, mix_and_master, read_wav, resample
from filmstudio.pipeline.plan import RenderPlan
from filmstudio.pipeline.providers.music import compose

MIX_RATE = 48000
MUSIC_CACHE_VERSION = "music-1"


@dataclass(frozen=True)
class MusicGeneration:
    name: ClassVar[str] = "music_generation"
    weight: ClassVar[float] = 0.06

    def run(self, plan: RenderPlan, ctx: StageContext) -> RenderPlan:
        assert plan.voice_track is not None and plan.script is not None
        settings = plan.settings
        starts = [seg.start for seg in plan.timeline if seg.kind == "scene"]
        key = content_key(MUSIC_CACHE_VERSION, plan.voice_track, settings.music_genre, plan.duration,
                          starts, plan.script.title)
        out = ctx.cache.path("mix", key, ".wav")
        if out.exists():
            ctx.report(self.name, 1.0)
            return replace(plan, mix_track=out)
        voice, sr = read_wav(plan.voice_track)
        if sr != MIX_RATE:
            voice = resample(voice, sr, MIX_RATE)
        if voice.ndim > 1:
            voice = voice.mean(axis=1)
        ctx.report(self.name, 0.1)
        music = None
        if settings.music_genre != "none":
            seed = int(content_key(plan.script.title)[:8], 16)
            music = compose(settings.music_genre, plan.duration, starts, sample_rate=MIX_RATE, seed=seed)
            ctx.report(self.name, 0.4)
            ctx.cancel.raise_if_cancelled()
            music = duck(music, voice, MIX_RATE, inplace=True)  # compose's buffer is ours
        ctx.report(self.name, 0.6)
        mix_and_master(voice, music, MIX_RATE, out, cancel=ctx.cancel)
        ctx.report(self.name, 1.0)
        return replace(plan, mix_track=out)
