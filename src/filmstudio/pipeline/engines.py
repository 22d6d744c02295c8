"""The engines a film is made with: one small Protocol per kind, and the frozen `Engines` value.

Stages, previews (audition, style and music previews) and `doctor` receive an `Engines`; only the
composition root (`filmstudio.app.compose`) constructs engines. Each engine says what it is and
what it lacks through `info()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from filmstudio.pipeline.context import CancelToken

if TYPE_CHECKING:
    from filmstudio.pipeline.providers.tts import SpeechRequest

Progress = Callable[[float], None]
"""progress(fraction 0..1) of one engine call."""


@dataclass(frozen=True)
class EngineInfo:
    """What an engine is and whether it can work here (for `doctor`, the Models page, manifests)."""

    kind: str  # "voices", "pictures", "music", "translator", "encoder", "writer"
    name: str
    version: str = ""
    device: str = "cpu"
    ok: bool = True
    missing: tuple[str, ...] = ()  # what to install or pull for the rest, in words with the command
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "version": self.version, "device": self.device,
                "ok": self.ok, "missing": list(self.missing), **dict(self.details)}


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


@runtime_checkable
class Voices(Protocol):
    """Speech: the voices that exist per language, and many lines spoken into WAV clips."""

    def info(self) -> EngineInfo: ...

    def voices(self, language: str | None = None) -> list[VoiceInfo]: ...

    def synthesize_many(
        self, requests: Sequence[SpeechRequest], *, cancel: CancelToken, progress: Progress | None = None,
    ) -> list[Path]: ...


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


@runtime_checkable
class Pictures(Protocol):
    """Stills for shot prompts at a size and seed, batched (a picture model; None = procedural)."""

    def info(self) -> EngineInfo: ...

    def stills(
        self, requests: Sequence[StillRequest], *, cancel: CancelToken, progress: Progress | None = None,
    ) -> list[Path]: ...


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

    def infos(self) -> list[EngineInfo]:
        pictures = self.pictures.info() if self.pictures is not None else PROCEDURAL_PICTURES
        found = [self.voices.info(), pictures, self.music.info(), self.translator.info(), self.encoder.info()]
        return found + ([self.writer.info()] if self.writer is not None else [])


PROCEDURAL_PICTURES = EngineInfo(
    kind="pictures", name="procedural backdrops", version="built in", ok=True,
    missing=("no picture model installed: `filmstudio models list` shows which fit this machine, "
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
    ) -> list[Path]:
        groups: dict[str, list[int]] = {}
        for n, req in enumerate(requests):
            groups.setdefault(req.voice.engine if req.voice.engine in self.engines else self.fallback, []).append(n)
        out: list[Path | None] = [None] * len(requests)
        done = 0
        for name, indices in groups.items():
            base = done

            def part(f: float, base: int = base, size: int = len(indices)) -> None:
                if progress is not None:
                    progress((base + f * size) / max(1, len(requests)))

            paths = self.engines[name].synthesize_many([requests[i] for i in indices], cancel=cancel,
                                                       progress=part)
            for i, path in zip(indices, paths, strict=True):
                out[i] = path
            done += len(indices)
        return [p for p in out if p is not None]
