"""The engines a film is made with: one small Protocol per kind, the vocabulary each seam speaks, and `Engines`.

Each seam owns its request and answer values (`SpeechRequest` and `SpokenClip` with its words,
`StillRequest`), what its engines declare about themselves (`EngineInfo`'s typed fields, a voice's
`Pace`, a picture model's `native_side()`, `prompt_tokens()` and `identity()`), and the explicit,
versioned cache keys built from them (`voice_key`, `still_path`): never a repr or a `__dict__`, so
a new field on a value does not invalidate a cache. Stages, previews (audition, style and music
previews) and `doctor` receive an `Engines`; only the composition root (`filmstudio.app.compose`)
constructs engines. This module imports no implementation (an import-linter contract keeps it so).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from filmstudio.domain.errors import FilmStudioError
from filmstudio.pipeline.cache import content_key
from filmstudio.pipeline.cancel import CancelToken

Progress = Callable[[float], None]
"""progress(fraction 0..1) of one engine call."""


@dataclass(frozen=True)
class AdapterIdentity:
    """What a still drawn with a reference picture depends on besides the picture: the adapter and its scale."""

    adapter: str
    revision: str
    weights: str
    scale: float

    def as_dict(self) -> dict[str, Any]:
        return {"adapter": self.adapter, "revision": self.revision, "weights": self.weights, "scale": self.scale}


@dataclass(frozen=True)
class EngineInfo:
    """What an engine is and whether it can work here (for `doctor`, the Models page, manifests).

    The typed fields are what code reads (still keys, speeds, the storyboard); `details` is
    anything more an engine wants people to see in `doctor`, and nothing reads it.
    """

    kind: str  # "voices", "pictures", "motion", "music", "translator", "encoder", "writer"
    name: str
    version: str = ""
    device: str = "cpu"
    ok: bool = True
    missing: tuple[str, ...] = ()  # what to install or pull for the rest, in words with the command
    model: str = ""  # the model it runs (a catalogue id), where it runs one
    revision: str = ""  # that model's revision
    steps: int | None = None  # a picture model's denoising steps (None: not a stepped model)
    loaded: bool | None = None  # whether its model is in memory now (None: nothing to load)
    native_side: int | None = None  # a picture model's native square side in pixels
    references: AdapterIdentity | None = None  # the IP-Adapter that draws character references
    references_advice: str = ""  # without one: why, and what to pull
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        typed: dict[str, Any] = {"model": self.model, "revision": self.revision, "steps": self.steps,
                                 "loaded": self.loaded, "native_side": self.native_side}
        out = {"kind": self.kind, "name": self.name, "version": self.version, "device": self.device,
               "ok": self.ok, "missing": list(self.missing),
               **{k: v for k, v in typed.items() if v not in ("", None)}}
        if self.kind == "pictures" and self.model:
            out["references"] = self.references.as_dict() if self.references is not None else None
            out["references_advice"] = self.references_advice
        return {**out, **dict(self.details)}


# ------------------------------------------------------------------------------------- voices


PITCH_PER_SEMITONE = 4  # neural engines: Voice.pitch 50 is the voice's own, each 4 above/below one semitone


@dataclass(frozen=True)
class Pace:
    """How fast a voice really speaks for the words a minute it is asked, as the length estimate counts.

    The estimate (`casting.estimate_speech_seconds`) counts long words as more than one and pauses
    apart; a voice says `speedup` times the asked rate in those units. Each engine declares its
    voices' pace (`VoiceInfo.pace`), casting copies it onto the `Voice`, so a new engine never
    silently gets another engine's pace.
    """

    speedup: float


CALIBRATED_PACE = Pace(1.1)  # a voice calibrated to say the words a minute it is asked, pauses included
FALLBACK_PACE = Pace(1.2)  # the fallback engine's (espeak-ng: ~1.2x its nominal rate), a Voice's until cast


@dataclass(frozen=True)
class PitchScale:
    """How an engine reads `Voice.pitch` (0..99), declared by the engine like its `Pace`.

    Either the engine's own scale (espeak-ng's pitch, where 50 is simply a middle value), or a shift
    from the voice's own pitch at 50, `per_semitone` steps to a semitone (the neural engines).
    """

    per_semitone: float | None = None  # None: the engine's own scale, not a shift in semitones

    def semitones(self, pitch: int) -> float | None:
        """How far `pitch` moves the voice from its own, in semitones (None: not a shift on this engine)."""
        return None if self.per_semitone is None else (pitch - 50) / self.per_semitone


OWN_PITCH_SCALE = PitchScale()  # the fallback engine's (espeak-ng's absolute pitch), a Voice's until cast
SHIFTED_PITCH = PitchScale(PITCH_PER_SEMITONE)  # a shift from the voice's own pitch


@dataclass(frozen=True)
class Voice:
    """A voice as cast for one speaker: an engine's voice plus this character's adjustments."""

    speaker: str
    voice_id: str  # the engine's voice id: espeak-ng "gmw/en-US", Piper "en_US-joe-medium"
    variant: str | None = None  # espeak-ng variant, e.g. "f3", "m7", "klatt2" (espeak only)
    pitch: int = 50  # 0..99, 50 = the voice's own pitch (espeak pitch; other engines shift from 50)
    rate_factor: float = 1.0  # multiplies the film's base words-per-minute (0.85..1.15)
    volume: float = 1.0
    gender: str = "neutral"
    engine: str = "espeak"  # which `Voices` engine speaks it (the fallback until cast otherwise)
    speaker_id: int | None = None  # speaker inside a multi-speaker model
    # That speaker for people, for the manifest and the CLI (e.g. "14 (female, Kristin LeMoine)").
    speaker_name: str | None = field(default=None, repr=False)
    pace: Pace = FALLBACK_PACE  # the engine's declared pace for this voice (the length estimate)
    pitch_scale: PitchScale = OWN_PITCH_SCALE  # how its engine reads `pitch` (declared; copied from VoiceInfo)

    @property
    def semitones(self) -> float | None:
        """The pitch as a shift from the voice's own, in semitones, where its engine shifts (else None)."""
        return self.pitch_scale.semitones(self.pitch)

    @property
    def espeak_name(self) -> str:
        return f"{self.voice_id}+{self.variant}" if self.variant else self.voice_id

    @property
    def engine_voice(self) -> str:
        """The voice as its engine names it: the id, with the variant where the engine has variants."""
        return self.espeak_name

    @property
    def label(self) -> str:
        """The voice as one string, e.g. "espeak:gmw/en-US+f3" or "piper:en_US-libritts_r-medium#12"."""
        return f"{self.engine}:{self.engine_voice}" + (f"#{self.speaker_id}" if self.speaker_id is not None else "")


VOICE_KEY_VERSION = "voice-1"


def voice_key(voice: Voice) -> list[Any]:
    """What a clip's samples depend on, for its cache key: the engine's voice and the adjustments.

    Explicit and versioned, never the repr: a field added to `Voice` changes no key unless it is
    added here (with the version bumped). Who speaks (`speaker`, `speaker_name`), `gender` and the
    `pace` do not change the samples, so two characters on one treated voice share their clips.
    """
    return [VOICE_KEY_VERSION, voice.engine, voice.voice_id, voice.variant, voice.pitch, voice.rate_factor,
            voice.volume, voice.speaker_id]


@dataclass(frozen=True)
class VoiceInfo:
    """One voice an engine can speak with (a multi-speaker model lists one per speaker)."""

    engine: str  # "espeak", "piper", ...
    voice_id: str  # the engine's own id, e.g. "gmw/en-US+f3" or "en_US-joe-medium"
    name: str  # what a person reads in the cast table, e.g. "Joe (US English, neural)"
    language: str  # ISO 639-1, e.g. "en"
    locale: str | None = None  # e.g. "en-US"
    gender: str = "neutral"  # "male", "female", "neutral"
    age: str | None = None  # a settings AGES value when known
    sample_rate: int = 22050
    speaker: int | None = None  # speaker number inside a multi-speaker model
    neural: bool = False
    scripts: tuple[str, ...] = ()  # writing systems it can read ("latin", "cyrillic", ...); () = its language's
    speaker_label: str | None = None  # the speaker's key in a multi-speaker model (Piper's speaker_id_map)
    speaker_name: str | None = None  # that speaker for people: "14 (female, Kristin LeMoine)", or the key alone
    pace: Pace = CALIBRATED_PACE  # how fast it really speaks for the rate it is asked (declared by its engine)
    pitch_scale: PitchScale = SHIFTED_PITCH  # how the engine reads a cast Voice's `pitch` (declared by its engine)


@dataclass(frozen=True)
class SpeechRequest:
    """One line to speak: `out` already encodes the content key, so an existing file is a cache hit."""

    text: str
    voice: Voice
    words_per_minute: float
    out: Path


@dataclass(frozen=True)
class WordTiming:
    """One spoken word and where it is: seconds from its clip's start (or, on a `TimedLine`, the film's)."""

    word: str
    start: float
    end: float


@dataclass(frozen=True)
class SpokenClip:
    """A spoken line: its WAV clip and, where the engine knows them, its words' timings inside the clip."""

    path: Path
    words: tuple[WordTiming, ...] = ()


@runtime_checkable
class Voices(Protocol):
    """Speech: the voices that exist per language, and many lines spoken into WAV clips."""

    def info(self) -> EngineInfo: ...

    def voices(self, language: str | None = None) -> list[VoiceInfo]: ...

    def synthesize_many(
        self, requests: Sequence[SpeechRequest], *, cancel: CancelToken, progress: Progress | None = None,
    ) -> list[SpokenClip]:
        """Every request spoken (a request whose `out` exists is a cache hit), in order."""
        ...

    def free(self) -> None:
        """Give back what speaking loaded (models, their buffers); the next call loads again.

        A render calls it when its lines are spoken: the frames need the memory more.
        """
        ...


# ----------------------------------------------------------------------------------- pictures


@dataclass(frozen=True)
class StillRequest:
    """One still for a shot: `out` encodes the content key, so an existing file is a cache hit."""

    prompt: str
    negative_prompt: str
    width: int
    height: int
    seed: int
    out: Path
    steps: int | None = None  # None: the model's own default
    reference: Path | None = None  # a character's reference picture (used by engines with an IP-Adapter)


@dataclass(frozen=True)
class PicturesIdentity:
    """What a picture engine's stills depend on besides the request: the model, its revision and steps,
    and the adapter that draws character references (None: it has none)."""

    model: str
    revision: str
    steps: int | None
    references: AdapterIdentity | None = None


class PromptTokens(Protocol):
    """Counts a prompt's tokens as the picture model's text encoder sees them."""

    @property
    def name(self) -> str:
        """What counts: the model's tokenizer, or the estimate."""
        ...

    @property
    def limit(self) -> int:
        """Tokens the encoder reads, its start and end tokens included."""
        ...

    def count(self, text: str) -> int:
        """Tokens of `text` with the start and end tokens."""
        ...


@runtime_checkable
class Pictures(Protocol):
    """Stills for shot prompts at a size and seed, batched (a picture model; None = procedural)."""

    def info(self) -> EngineInfo: ...

    def identity(self) -> PicturesIdentity:
        """What its stills depend on (joins every still's cache key)."""
        ...

    def native_side(self) -> int:
        """The square side in pixels the model was trained at (stills are drawn at its pixel count)."""
        ...

    def prompt_tokens(self) -> PromptTokens:
        """How its text encoder counts a prompt's tokens (prompts are fitted to it)."""
        ...

    def stills(
        self, requests: Sequence[StillRequest], *, cancel: CancelToken, progress: Progress | None = None,
    ) -> list[Path]: ...


def native_size(aspect: float, side: int) -> tuple[int, int]:
    """The model's native pixel count at `aspect` (w/h), both sides multiples of 8."""
    area = side * side
    w = (area * aspect) ** 0.5
    h = w / aspect
    return max(8, round(w / 8) * 8), max(8, round(h / 8) * 8)


def still_path(folder: Path, model: str, revision: str, prompt: str, negative: str, seed: int,
               size: tuple[int, int], steps: int | None, *, reference: Mapping[str, Any] | None = None,
               kind: str = "still") -> Path:
    """Where a still lives in the cache: its name is its content key over these parts, listed one by one.

    The layout stills were first cached with (no version among the parts, so no still is drawn
    again); a change to what a still depends on adds a version string here. `reference` (the
    reference picture's sha256 with `AdapterIdentity.as_dict()`) joins only when there is one.
    """
    parts: list[Any] = [kind, model, revision, prompt, negative, seed, list(size), steps]
    if reference is not None:
        parts.append(dict(reference))
    return folder / f"{kind}-{content_key(*parts)[:32]}.png"


# ------------------------------------------------------------------------------------- motion


@dataclass(frozen=True)
class MotionIdentity:
    """What a motion engine's clips depend on besides the request: the model, its revision and steps.

    A motion model that runs over a picture model (AnimateDiff's adapter over sd15) names that model
    too (`base`, `base_revision`), and the IP-Adapter that passes the still in when one is used.
    """

    model: str
    revision: str
    steps: int
    base: str = ""
    base_revision: str = ""
    references: AdapterIdentity | None = None

    def key_parts(self) -> list[Any]:
        """What joins a clip's key besides the model and revision ([] for a video model of its own,
        so the clips made before these fields existed keep their names)."""
        parts: list[Any] = [self.base, self.base_revision] if self.base else []
        return parts + ([self.references.as_dict()] if self.references is not None else [])


@dataclass(frozen=True)
class MotionAdvice:
    """Why no motion engine is built though a video model is installed, and the catalogue model to pull."""

    reason: str
    pull: str


@dataclass(frozen=True)
class MotionCapabilities:
    """What a motion engine declares it can make: read by the stage, never probed.

    `frames_step`: the frame counts the model makes are `1 + k * frames_step` (Wan: 4k+1);
    `native_side`: the square side of its native pixel count (clips are made at it, at the film's aspect);
    `size_step`: both sides a multiple of it.
    """

    max_frames: int
    fps: int
    native_side: int
    frames_step: int = 1
    size_step: int = 16
    image_conditioned: bool = True  # the clip starts from the still (False: text-to-video from the prompt)

    def frames_for(self, seconds: float) -> int:
        """The fewest frames the model makes that cover `seconds` at its fps, at most `max_frames`."""
        wanted = max(1, math.ceil(seconds * self.fps))
        steps = max(0, math.ceil((wanted - 1) / self.frames_step))
        return min(self.max_frames, 1 + steps * self.frames_step)

    def size_for(self, aspect: float) -> tuple[int, int]:
        """The native pixel count at `aspect` (w/h), both sides multiples of `size_step`."""
        area = self.native_side * self.native_side
        w = (area * aspect) ** 0.5
        h = w / aspect
        q = self.size_step
        return max(q, round(w / q) * q), max(q, round(h / q) * q)


@dataclass(frozen=True)
class ClipRequest:
    """One shot to animate from its still: `out` encodes the content key, so an existing file is a cache hit."""

    still: Path
    prompt: str
    negative_prompt: str
    seed: int
    frames: int
    fps: int
    width: int
    height: int
    out: Path
    steps: int | None = None  # None: the engine's own

    @property
    def seconds(self) -> float:
        return self.frames / self.fps


@dataclass(frozen=True)
class MadeClip:
    """A clip as made: its file, and what the engine had to give up to make it (out of memory)."""

    path: Path
    frames: int
    width: int
    height: int
    fps: int
    warning: str = ""  # e.g. "made 17 of 33 frames at 320x176: out of GPU memory at the full clip"


class MotionOutOfMemory(FilmStudioError):
    """Even the smallest clip did not fit: the stage shows that shot's still with the camera move."""

    code = "GPU_OUT_OF_MEMORY"
    http_status = 507


@runtime_checkable
class Motion(Protocol):
    """Image-to-video: a shot's still, prompt and seed made into a short clip of frames (a video model)."""

    def info(self) -> EngineInfo: ...

    def identity(self) -> MotionIdentity:
        """What its clips depend on (joins every clip's cache key)."""
        ...

    def capabilities(self) -> MotionCapabilities: ...

    def animate(self, request: ClipRequest, *, cancel: CancelToken, progress: Progress | None = None) -> MadeClip:
        """The clip at `request.out` (an existing file is a cache hit); MotionOutOfMemory when nothing fits."""
        ...


CLIP_KEY_VERSION = "clip-1"


def clip_path(folder: Path, identity: MotionIdentity, still_key: str, prompt: str, negative: str, seed: int,
              frames: int, size: tuple[int, int], fps: int, steps: int) -> Path:
    """Where a clip lives in the cache: its name is its content key over these parts, listed one by one.

    `still_key`: the still's own content (its sha256), so a redrawn still re-animates its shot only.
    """
    key = content_key(CLIP_KEY_VERSION, identity.model, identity.revision, still_key, prompt, negative, seed,
                      frames, list(size), fps, steps, *identity.key_parts())
    return folder / f"clip-{key[:32]}.mp4"


# ------------------------------------------------------------------------------- the others


@runtime_checkable
class MusicSource(Protocol):
    """A film's music, rendered chunk by chunk so memory stays flat: (2, n) float32 chunks, `frames` in all."""

    frames: int

    def chunks(self) -> Iterator[Any]: ...


@runtime_checkable
class Music(Protocol):
    """Original music for a film's length and scenes."""

    def info(self) -> EngineInfo: ...

    def genres(self) -> tuple[str, ...]: ...

    def score(self, genre: str, duration: float, scene_starts: Sequence[float], *, sample_rate: int,
              seed: int) -> MusicSource: ...


@runtime_checkable
class Translator(Protocol):
    """Translates texts between ISO 639-1 languages, one output per input, in order."""

    def info(self) -> EngineInfo: ...

    def pairs(self) -> set[tuple[str, str]]: ...

    def translate(self, texts: list[str], source: str, target: str) -> list[str]: ...


@runtime_checkable
class Encoder(Protocol):
    """The H.264 encoder the film is made with (hardware where one really works)."""

    def info(self) -> EngineInfo: ...

    def video_encoder(self, forced: str | None = None) -> str: ...


@dataclass(frozen=True)
class ChatMessage:
    """One turn of a conversation with a language model (the writer's only vocabulary)."""

    role: str  # "system", "user", "assistant"
    content: str


@dataclass(frozen=True)
class Completion:
    """How a writer should answer: deterministic where the engine allows (seed, temperature 0)."""

    max_tokens: int = 2048
    temperature: float = 0.7
    seed: int = 0


TextStream = Callable[[str], None]
"""stream(delta): the text the model added since the last call, as it arrives."""


@runtime_checkable
class Writer(Protocol):
    """A language model that answers a conversation, streaming its text (the screenplay writer's engine)."""

    def info(self) -> EngineInfo: ...

    def complete(self, messages: Sequence[ChatMessage], options: Completion, *, cancel: CancelToken,
                 stream: TextStream | None = None) -> str: ...


@dataclass(frozen=True)
class Engines:
    """One engine of each kind: what stages, previews and `doctor` receive."""

    voices: Voices
    music: Music
    translator: Translator
    encoder: Encoder
    pictures: Pictures | None = None  # None: procedural backdrops (no picture model installed)
    writer: Writer | None = None  # None: no screenplay writer configured (scripts come from the user)
    motion: Motion | None = None  # None: no video model installed (every shot is its still with the camera move)
    motion_advice: MotionAdvice | None = None  # without `motion`, though a video model is installed: what to pull

    def infos(self) -> list[EngineInfo]:
        pictures = self.pictures.info() if self.pictures is not None else PROCEDURAL_PICTURES
        motion = self.motion.info() if self.motion is not None else STILL_MOTION
        if self.motion is None and self.motion_advice is not None:
            motion = replace(STILL_MOTION, missing=(self.motion_advice.reason,))
        found = [self.voices.info(), pictures, motion, self.music.info(), self.translator.info(),
                 self.encoder.info()]
        return found + ([self.writer.info()] if self.writer is not None else [])


PROCEDURAL_PICTURES = EngineInfo(
    kind="pictures", name="procedural backdrops", version="built in", ok=True,
    missing=("no picture model installed: `filmstudio models list` shows which fit this machine, "
             "`filmstudio models pull ID` fetches one",),
)


STILL_MOTION = EngineInfo(
    kind="motion", name="camera moves over stills", version="built in", ok=True,
    missing=("no video model installed: `filmstudio models list` shows which fit this machine, "
             "`filmstudio models pull ID` fetches one",),
)


class VoiceLibrary:
    """Several voice engines as one: lists every engine's voices, sends each line to its voice's engine."""

    def __init__(self, engines: Mapping[str, Voices], *, fallback: str = "espeak") -> None:
        if fallback not in engines:
            raise ValueError(f"the fallback voice engine {fallback!r} is not among {sorted(engines)}")
        self.engines = dict(engines)
        self.fallback = fallback

    def info(self) -> EngineInfo:
        parts = [e.info() for e in self.engines.values()]
        missing = tuple(m for p in parts for m in p.missing)
        return EngineInfo(
            kind="voices", name=" + ".join(p.name for p in parts), version=", ".join(p.version for p in parts),
            device=", ".join(sorted({p.device for p in parts})), ok=self.engines[self.fallback].info().ok,
            missing=missing, details={"engines": [p.as_dict() for p in parts]},
        )

    def voices(self, language: str | None = None) -> list[VoiceInfo]:
        found = [v for e in self.engines.values() for v in e.voices(language)]
        return sorted(found, key=lambda v: not v.neural)  # neural voices first: casting prefers them

    def engine_for(self, name: str) -> Voices:
        return self.engines.get(name) or self.engines[self.fallback]

    def synthesize_many(
        self, requests: Sequence[SpeechRequest], *, cancel: CancelToken, progress: Progress | None = None,
    ) -> list[SpokenClip]:
        groups: dict[str, list[int]] = {}
        for n, req in enumerate(requests):
            groups.setdefault(req.voice.engine if req.voice.engine in self.engines else self.fallback, []).append(n)
        out: list[SpokenClip | None] = [None] * len(requests)
        done = 0
        for name, indices in groups.items():
            base = done

            def part(f: float, base: int = base, size: int = len(indices)) -> None:
                if progress is not None:
                    progress((base + f * size) / max(1, len(requests)))

            clips = self.engines[name].synthesize_many([requests[i] for i in indices], cancel=cancel,
                                                       progress=part)
            for i, clip in zip(indices, clips, strict=True):
                out[i] = clip
            done += len(indices)
        return [c for c in out if c is not None]

    def free(self) -> None:
        for engine in self.engines.values():
            engine.free()
