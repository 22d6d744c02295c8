"""voice_synthesis: one clip per spoken line (cached by content), laid out on the timeline."""

from __future__ import annotations

import concurrent.futures as cf
import math
import re
import wave
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from filmstudio.domain.errors import ScriptError
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.context import StageContext, atomic_output, content_key
from filmstudio.pipeline.engines import SpeechRequest, SpokenClip, WordTiming, voice_key
from filmstudio.pipeline.fit import MAX_WPM, MIN_WPM, WPM_STEP, Layout, Pacing, lay_out, spoken_wpm
from filmstudio.pipeline.media.audio import write_voice_track, write_wav
from filmstudio.pipeline.media.ffmpeg import run_ffmpeg
from filmstudio.pipeline.media.voicefx import treat_clip
from filmstudio.pipeline.plan import Line, RenderPlan, Script, TimedLine, Voice
from filmstudio.pipeline.script.casting import voice_for_text
from filmstudio.pipeline.script.delivery import Delivery, changes_delivery, delivery_for, spoken_text
from filmstudio.pipeline.stages.script_analysis import record_rate

TTS_CACHE_VERSION = "tts-5"  # 2: espeak-ng noise seeded (clips are reproducible); 3: rate/pitch never dropped; 4: Piper lines never above the clearest rate; 5: the voice by `voice_key`, not its repr
DELIVERY_VERSION = "delivery-1"
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
        try:
            return self._run(plan, ctx)
        finally:
            ctx.engines.voices.free()  # the voice models' memory goes to the frames

    def _run(self, plan: RenderPlan, ctx: StageContext) -> RenderPlan:
        assert plan.script is not None
        script, settings = plan.script, plan.settings
        lines = script.spoken_lines
        names = (*script.characters, *(c.name.upper() for c in settings.characters))
        texts = [spoken_text(line, names) for line in lines]
        wpm = plan.words_per_minute
        layout: Layout | None = None
        slowed = False
        for _attempt in range(4):
            clips, seconds = self._speak(plan, ctx, lines, texts, wpm)
            real = spoken_wpm(texts, [seconds[line.index] for line in lines])
            if real > MAX_WPM and wpm > MIN_WPM and not slowed:
                # The voice speaks faster than it was asked (every voice is a little off its curve):
                # once, slow the rate until the real rate is back inside the window.
                slower = max(MIN_WPM, math.floor(wpm * MAX_WPM / real / WPM_STEP) * WPM_STEP)
                if slower < wpm:
                    wpm, slowed = slower, True
                    continue
            try:
                layout = lay_out(script, seconds, settings)
                break
            except ScriptError as exc:
                # The estimate was short: speak faster (bounded), or give up with the real need.
                if exc.code != "SCRIPT_TOO_LONG":
                    raise
                if wpm >= MAX_WPM or slowed:
                    break
                need = float(exc.details["required_seconds"])
                speech = sum(seconds.values())
                factor = (speech + (need - settings.duration) * 1.1) / max(speech, 1e-6)
                faster = min(MAX_WPM, math.ceil(wpm * factor / WPM_STEP) * WPM_STEP)
                # Never ask for more than the real rate allows.
                faster = min(faster, max(wpm, math.floor(wpm * MAX_WPM / max(real, 1e-6) / WPM_STEP) * WPM_STEP))
                if faster <= wpm:
                    break
                wpm = faster
        if layout is None:
            # Still too long at the fastest rate: tighten the clips themselves (pitch kept), up to
            # MAX_STRETCH and never past MAX_WPM real words a minute, before refusing. Happens
            # when speech is slower than estimated (e.g. a writing system the estimate reads as short words).
            real = spoken_wpm(texts, [seconds[line.index] for line in lines])
            clips, seconds = self._stretch(ctx, clips, seconds, script, settings, real)
            layout = lay_out(script, seconds, settings)  # raises SCRIPT_TOO_LONG with the real need
        timed = tuple(
            _timed(line, scene.index, layout.line_starts[line.index], layout.line_ends[line.index],
                   clips.get(line.index))
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
        silent = [line for line, text in zip(lines, texts, strict=True)
                  if unreadable(voice_for_text(plan.casting[line.speaker], text), text)]
        warnings = plan.warnings + tuple(
            f"line {line.index + 1} ({line.speaker}) is shown and subtitled, not spoken: no installed voice reads "
            "Japanese kanji (espeak-ng would say 'Chinese letter'); `filmstudio models list` shows the voices"
            for line in silent) + _plain_parentheticals(lines)
        done = replace(
            plan, words_per_minute=wpm, timed_lines=timed, timeline=layout.timeline, voice_track=voice_path,
            warnings=warnings,
        )
        record_rate(done, ctx)
        return done

    def _speak(
        self, plan: RenderPlan, ctx: StageContext, lines: tuple[Line, ...], texts: list[str], wpm: float
    ) -> tuple[dict[int, SpokenClip], dict[int, float]]:
        requests = []
        deliveries: list[Delivery] = []
        for line, text in zip(lines, texts, strict=True):
            delivery = delivery_for(line)
            voice = voice_for_text(plan.casting[line.speaker], text)
            # The delivery's tempo, and the character's, never take the line past the fastest clear rate.
            line_wpm = wpm if delivery.tempo == 1.0 else round(wpm * delivery.tempo, 1)
            if line_wpm * voice.rate_factor > MAX_WPM:
                line_wpm = round(MAX_WPM / voice.rate_factor, 1)
            key = content_key(TTS_CACHE_VERSION, text, voice_key(voice), line_wpm)
            if unreadable(voice, text):  # not spoken as garbage: held silent for as long as it takes to read
                key = content_key("unread-1", text)
                text = ""
                voice = replace(voice, engine="espeak")  # an empty text is a silence on every engine
                out = ctx.cache.path("tts", key, ".wav")
                if not out.exists():
                    with atomic_output(out) as tmp:
                        write_wav(tmp, np.zeros(round(reading_seconds(line.text) * 22050), np.float32), 22050)
                requests.append(SpeechRequest(text, voice, line_wpm, out))
                deliveries.append(Delivery())
                continue
            requests.append(SpeechRequest(text, voice, line_wpm, ctx.cache.path("tts", key, ".wav")))
            deliveries.append(delivery)
        spoken = ctx.engines.voices.synthesize_many(
            requests, cancel=ctx.cancel, progress=lambda f: ctx.report(self.name, 0.8 * f)
        )
        pairs = list(zip(spoken, deliveries, strict=True))
        if sum(not d.plain for d in deliveries) > 1:  # one ffmpeg per treated clip: two at a time
            with cf.ThreadPoolExecutor(max_workers=2, thread_name_prefix="delivery") as pool:
                treated = list(pool.map(lambda pair: self._deliver(ctx, *pair), pairs))
        else:
            treated = [self._deliver(ctx, path, delivery) for path, delivery in pairs]
        clips = {line.index: clip for line, clip in zip(lines, treated, strict=True)}
        return clips, {idx: wav_seconds(clip.path) for idx, clip in clips.items()}

    def _deliver(self, ctx: StageContext, clip: SpokenClip, delivery: Delivery) -> SpokenClip:
        """The clip spoken with the line's delivery (cached by the raw clip's key and the delivery)."""
        if delivery.plain:
            return clip
        target = ctx.cache.path("tts", content_key(DELIVERY_VERSION, clip.path.name, delivery.key()), ".wav")
        if not target.exists():
            ctx.cancel.raise_if_cancelled()
            treat_clip(clip.path, delivery, target, cancel=ctx.cancel)
        return SpokenClip(target, _scaled(clip.words, 1.0))

    def _stretch(
        self, ctx: StageContext, clips: dict[int, SpokenClip], seconds: dict[int, float], script: Script,
        settings: RenderSettings, real_wpm: float,
    ) -> tuple[dict[int, SpokenClip], dict[int, float]]:
        speech = sum(seconds.values())
        room = settings.duration - Pacing.for_duration(settings.duration).overhead(script)
        # As much as it takes to fit, but not faster than MAX_WPM real words a minute.
        limit = min(MAX_STRETCH, MAX_WPM / max(real_wpm, 1e-6))
        factor = min(speech / max(room * 0.98, 1e-6), limit)
        if factor <= 1.0 or speech / max(room * 0.98, 1e-6) > MAX_STRETCH:
            return clips, seconds  # fits already, may not go faster, or would be too fast to follow: lay_out decides
        out_clips: dict[int, SpokenClip] = {}
        for idx, clip in clips.items():
            ctx.cancel.raise_if_cancelled()
            target = ctx.cache.path("tts", content_key("stretch-1", clip.path, round(factor, 3)), ".wav")
            if not target.exists():
                with atomic_output(target) as tmp:
                    run_ffmpeg(["-i", str(clip.path), "-af", f"atempo={factor:.4f}", "-f", "wav", str(tmp)],
                               cancel=ctx.cancel)
            out_clips[idx] = SpokenClip(target, _scaled(clip.words, 1.0 / factor))
        return out_clips, {idx: wav_seconds(c.path) for idx, c in out_clips.items()}


def _scaled(words: tuple[WordTiming, ...], scale: float) -> tuple[WordTiming, ...]:
    """Word timings with their times scaled by `scale` (a treated or stretched clip's), floored to 0.1 ms."""
    return tuple(WordTiming(w.word, math.floor(w.start * scale * 1e4) / 1e4, math.floor(w.end * scale * 1e4) / 1e4)
                 for w in words)


def _timed(line: Line, scene_index: int, start: float, end: float, clip: SpokenClip | None) -> TimedLine:
    """A line on the film's timeline, its clip's words moved there with it."""
    if clip is None:
        return TimedLine(line=line, scene_index=scene_index, start=start, end=end, clip=None)
    words = tuple(WordTiming(w.word, start + w.start, start + w.end) for w in clip.words)
    return TimedLine(line=line, scene_index=scene_index, start=start, end=end, clip=clip.path, words=words)


def _plain_parentheticals(lines: tuple[Line, ...]) -> tuple[str, ...]:
    """One warning naming the parentheticals that change nothing in the delivery (actions, addressees)."""
    plain: list[str] = []
    for line in lines:
        said = " ".join((line.parenthetical or "").split())
        if said and not changes_delivery(said) and said not in plain:
            plain.append(said)
    if not plain:
        return ()
    return ("parentheticals spoken plain (they do not change the delivery): " + ", ".join(plain),)


_KANJI = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")


def unreadable(voice: Voice, text: str) -> bool:
    """Whether `voice` would speak `text` as garbage: espeak-ng's Japanese names each kanji "Chinese letter"."""
    return voice.engine == "espeak" and voice.voice_id.split("+")[0] == "jpx/ja" and bool(_KANJI.search(text))


def reading_seconds(text: str) -> float:
    """How long a shown-only line stays up: about 8 characters a second, at least 1.5 s."""
    return max(1.5, len(text.strip()) / 8.0)
