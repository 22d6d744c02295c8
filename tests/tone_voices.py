"""A test-only voice engine: each word a sine tone at the voice's own frequency (the seams' second voice).

A pulled "tone" model is a folder with `tones.json` ({"voices": [{"id", "name", "gender", "hz"}]}).
It says every word it is asked at the rate it is asked and times each word, like a neural voice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from filmstudio.app.compose import VoiceSetup
from filmstudio.pipeline.cancel import CancelToken
from filmstudio.pipeline.engines import (
    CALIBRATED_PACE,
    PITCH_PER_SEMITONE,
    EngineInfo,
    Progress,
    SpeechRequest,
    SpokenClip,
    VoiceInfo,
    WordTiming,
)
from filmstudio.pipeline.fit import count_words
from filmstudio.pipeline.media.wavstream import write_wav

ENGINE = "tone"
RATE = 16000
GAP = 0.25  # of each word's slot: silence after the word


class ToneVoices:
    """`Voices` from the pulled tone models: a word is a tone, its slot 60 / wpm seconds long."""

    def __init__(self, folders: Sequence[Path]) -> None:
        self.tones = {v["id"]: v for folder in folders
                      for v in json.loads((folder / "tones.json").read_text(encoding="utf-8"))["voices"]}

    def info(self) -> EngineInfo:
        return EngineInfo(kind="voices", name="tones (test)", version="1", ok=bool(self.tones))

    def voices(self, language: str | None = None) -> list[VoiceInfo]:
        if language not in (None, "en"):
            return []
        return [VoiceInfo(engine=ENGINE, voice_id=v["id"], name=v["name"], language="en", gender=v["gender"],
                          sample_rate=RATE, neural=True, scripts=("latin",), pace=CALIBRATED_PACE)
                for v in self.tones.values()]

    def free(self) -> None:
        """Nothing loaded: tones are computed."""

    def hz(self, voice_id: str, pitch: int) -> float:
        """The tone a voice speaks with at a cast pitch (50: its own; PITCH_PER_SEMITONE steps a semitone)."""
        return float(self.tones[voice_id]["hz"]) * 2.0 ** ((pitch - 50) / PITCH_PER_SEMITONE / 12.0)

    def synthesize_many(self, requests: Sequence[SpeechRequest], *, cancel: CancelToken,
                        progress: Progress | None = None) -> list[SpokenClip]:
        out = []
        for n, req in enumerate(requests):
            cancel.raise_if_cancelled()
            words = req.text.split()
            slot = 60.0 / max(1.0, req.words_per_minute * req.voice.rate_factor)
            timed = tuple(WordTiming(w, round(k * slot, 4), round((k + 1 - GAP) * slot, 4))
                          for k, w in enumerate(words) if count_words(w))
            if not req.out.exists():
                t = np.arange(max(1, round(len(words) * slot * RATE))) / RATE
                on = np.zeros_like(t, dtype=bool)
                for w in timed:
                    on |= (t >= w.start) & (t < w.end)
                tone = 0.5 * req.voice.volume * np.sin(2 * math.pi * self.hz(req.voice.voice_id, req.voice.pitch) * t)
                req.out.parent.mkdir(parents=True, exist_ok=True)
                write_wav(req.out, np.where(on, tone, 0.0).astype(np.float32), RATE)
            out.append(SpokenClip(req.out, timed))
            if progress is not None:
                progress((n + 1) / len(requests))
        return out


def tone_voices(setup: VoiceSetup) -> ToneVoices | None:
    """The composition root's maker: the tone models pulled for this engine (none: no engine)."""
    return ToneVoices(setup.models) if setup.models else None
