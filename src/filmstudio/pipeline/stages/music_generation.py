"""music_generation: original music for the film's length and scenes, ducked under speech, mastered.

Everything streams in chunks through temp WAVs (voice -> ducking curve, music chunks -> ducked
music WAV -> master), so memory stays flat however long the film is.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from filmstudio.pipeline.context import CancelToken, StageContext, content_key
from filmstudio.pipeline.engines import MusicSource
from filmstudio.pipeline.media.audio import duck_curve, read_wav, resample, voice_activity_wav
from filmstudio.pipeline.media.master import master_wavs
from filmstudio.pipeline.media.wavstream import WavReader, wav_writer, write_wav
from filmstudio.pipeline.plan import RenderPlan
from filmstudio.pipeline.providers.music import PEAK

MIX_RATE = 48000
# The film's promise is a true peak <= -1 dBTP in the MP4; AAC at 192k adds 0.2-0.7 dB of
# overshoot to the master, so the WAV is mastered with a dB of headroom for the codec.
MASTER_TRUE_PEAK = -2.0
SCORE_CACHE_VERSION = "score-1"
MUSIC_CACHE_VERSION = "music-2"  # 2: streamed (the same music and master, rounded a little differently)


@dataclass(frozen=True)
class MusicGeneration:
    name: ClassVar[str] = "music_generation"
    weight: ClassVar[float] = 0.06

    def run(self, plan: RenderPlan, ctx: StageContext) -> RenderPlan:
        """The mix's cache path; with `ctx.overlap` it is made in the background (see `wait_for_mix`)."""
        assert plan.voice_track is not None and plan.script is not None
        settings = plan.settings
        starts = [seg.start for seg in plan.timeline if seg.kind == "scene"]
        key = content_key(MUSIC_CACHE_VERSION, plan.voice_track, settings.music_genre, plan.duration,
                          starts, plan.script.title)
        out = ctx.cache.path("mix", key, ".wav")
        if out.exists():
            ctx.report(self.name, 1.0)
            return replace(plan, mix_track=out)
        plan.work_dir.mkdir(parents=True, exist_ok=True)
        if ctx.overlap:
            # Only the mux needs the mix: it is made beside the frames (mostly numpy, it fills the
            # cores the encoders leave between segments) instead of before them.
            ctx.background.start(MIX_JOB, lambda cancel: self._mix(plan, ctx, starts, out, cancel))
        else:
            self._mix(plan, ctx, starts, out, ctx.cancel)
        ctx.report(self.name, 1.0)
        return replace(plan, mix_track=out)

    def _mix(self, plan: RenderPlan, ctx: StageContext, starts: list[float], out: Path, cancel: CancelToken) -> Path:
        assert plan.voice_track is not None and plan.script is not None
        settings = plan.settings
        with tempfile.TemporaryDirectory(prefix=".fs-music-", dir=plan.work_dir) as tmp:
            voice = _mono_at_mix_rate(plan.voice_track, Path(tmp))
            music, gain = None, 1.0
            if settings.music_genre != "none":
                seed = int(content_key(plan.script.title)[:8], 16)
                score = _scored(ctx, settings.music_genre, plan.duration, starts, seed, cancel)
                music = Path(tmp) / "music.wav"
                gain = write_ducked_music(score, voice, music, cancel)
            master_wavs(voice, music, out, music_gain=gain, true_peak=MASTER_TRUE_PEAK, cancel=cancel,
                        tmp_dir=Path(tmp))
        return out


MIX_JOB = "music_generation"


def wait_for_mix(ctx: StageContext) -> None:
    """Block until the background mix (if one was started) is written; raises its error."""
    ctx.background.wait(MIX_JOB)


class _CachedScore:
    """A score read back from its cached WAV: the `MusicSource` shape, (2, k) float32 chunks."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with WavReader(path) as wav:
            self.frames = wav.frames

    def chunks(self) -> Iterator[np.ndarray]:
        with WavReader(self.path) as wav:
            for _, x in wav.chunks(1 << 19):
                yield np.ascontiguousarray(x.T)


def _scored(ctx: StageContext, genre: str, duration: float, starts: list[float], seed: int,
            cancel: CancelToken) -> MusicSource:
    """The film's music before ducking, cached by what decides it: an edited line keeps the score.

    The score depends on the genre, the length, the scene starts and the seed, not on the voice; the
    ducking and the master that follow it depend on the voice and are made again (~0.5 s a minute).
    """
    engine = getattr(ctx.engines.music, "name", type(ctx.engines.music).__name__)
    key = content_key(SCORE_CACHE_VERSION, engine, genre, round(duration, 4), [round(s, 4) for s in starts], seed,
                      MIX_RATE)
    path = ctx.cache.path("score", key, ".wav")
    if not path.exists():
        stream = ctx.engines.music.score(genre, duration, starts, sample_rate=MIX_RATE, seed=seed)
        with wav_writer(path, MIX_RATE, 2, float32=True, frames=stream.frames) as out:
            for part in stream.chunks():
                cancel.raise_if_cancelled()
                out.write(np.asarray(part).T)
    return _CachedScore(path)


def write_ducked_music(stream: MusicSource, voice: Path, dest: Path, cancel: CancelToken) -> float:
    """Write the stream's music, ducked under the voice WAV, to `dest` (float32); return its normalising gain.

    compose() scales the finished piece so its peak is PEAK; here the peak is known only at the
    end, so the (constant) factor is returned for the master to apply as it reads the music.
    """
    curve = duck_curve(voice_activity_wav(voice), MIX_RATE)
    with WavReader(voice) as wav:
        n_voice = wav.frames
    peak, pos = 0.0, 0
    with wav_writer(dest, MIX_RATE, 2, float32=True, atomic=False, frames=stream.frames) as out:
        for part in stream.chunks():
            cancel.raise_if_cancelled()
            peak = max(peak, float(np.abs(part).max()))
            x = part.T
            hi = min(n_voice, pos + len(x))
            if curve is not None and hi > pos:  # the voice's length bounds the ducking, as in duck()
                x = x.copy()
                x[: hi - pos] *= curve.gain(pos, hi)[:, None]
            out.write(x)
            pos += len(x)
    return PEAK / peak if peak > 0 else 1.0


def _mono_at_mix_rate(path: Path, tmp: Path) -> Path:
    """The voice track as a mono WAV at MIX_RATE: as is when it already is one (the voice stage's)."""
    with WavReader(path) as wav:
        if wav.rate == MIX_RATE and wav.channels == 1:
            return path
    voice, sr = read_wav(path)  # a foreign track: converted whole (not the pipeline's own path)
    voice = resample(voice, sr, MIX_RATE) if sr != MIX_RATE else voice
    write_wav(tmp / "voice.wav", voice.mean(axis=1) if voice.ndim > 1 else voice, MIX_RATE, float32=True)
    return tmp / "voice.wav"
