"""Text to speech: pyttsx3 driving espeak-ng, one utterance per worker process, clips cached by path.

Clips are mono 16-bit WAV at espeak-ng's own 22050 Hz (the mixer resamples), with leading and
trailing silence trimmed so a clip's length is the speech itself.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import ctypes.util
import io
import math
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from filmstudio.domain.errors import Cancelled, EngineMissing, FilmStudioError, RenderFailed
from filmstudio.pipeline.cancel import CancelToken
from filmstudio.pipeline.engines import (
    FALLBACK_PACE,
    OWN_PITCH_SCALE,
    EngineInfo,
    SpeechRequest,
    SpokenClip,
    VoiceInfo,
)
from filmstudio.pipeline.lifeline import worker_options
from filmstudio.pipeline.media.audio import read_wav, write_wav
from filmstudio.pipeline.media.ffmpeg import lower_priority

ESPEAK_RATE = 22050
MIN_WPM, MAX_WPM = 80.0, 450.0  # espeak-ng's usable speaking-rate range
_TRIM_MARGIN = 0.01  # seconds kept around the speech so consonant onsets are not clipped
_SILENCE_DB = -45.0
_NOISE_SEED = 1  # espeak-ng's noise generator, fixed: the same input always gives the same clip
_RATE, _VOLUME, _PITCH = 1, 2, 3  # espeak_PARAMETER values (speak_lib.h)


# ------------------------------------------------------------------------------ espeak-ng setup


def _espeak_paths() -> tuple[str | None, str | None]:
    """(library, data dir) of the espeakng-loader wheel, or (None, None) to use the system's espeak-ng."""
    try:
        import espeakng_loader
    except ImportError:
        return None, None
    try:
        return espeakng_loader.get_library_path(), espeakng_loader.get_data_path()
    except RuntimeError:
        return None, None


def _load_espeak() -> tuple[str | None, str | None]:
    """In a worker: point espeak-ng at the wheel's data and preload its library for pyttsx3 to find."""
    lib, data = _espeak_paths()
    if lib is not None and data is not None:
        os.environ["ESPEAK_DATA_PATH"] = data
        # The soname is libespeak-ng.so.1, so pyttsx3's own loader then resolves to this copy.
        ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
    return lib, data


def _new_engine() -> Any:
    lib, _ = _load_espeak()
    try:
        import pyttsx3
    except (ImportError, RuntimeError) as exc:
        raise EngineMissing(
            f"pyttsx3/espeak-ng is not usable: {exc}", code="TTS_MISSING",
            details={"hint": "pip install 'pyttsx3>=2.99' espeakng-loader, or apt-get install espeak-ng"},
        ) from exc
    engine = pyttsx3.init("espeak")
    _fix_noise_seed(lib)
    return engine


def _fix_noise_seed(lib: str | None) -> None:
    """Make the same line sound the same on every run and every machine.

    espeak-ng >= 1.52 seeds the noise in its voices (breath, fricatives) from the clock, so a
    clip's samples, and after trimming its length, changed from one second to the next: two
    renders of one script laid out differently and cached segments stopped matching. Older
    builds use libc's rand(), unseeded, which is already fixed per process; seed both anyway.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(lib or ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1").espeak_ng_SetRandSeed(
            ctypes.c_long(_NOISE_SEED))
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).srand(ctypes.c_uint(_NOISE_SEED))


def _apply_voice(voice_name: str, rate: int, pitch: int, volume: float) -> None:
    """Set the voice, rate, pitch and volume on pyttsx3's espeak-ng; return once all are in effect.

    Not with engine.setProperty: pyttsx3 queues those until runAndWait, which hands them to
    espeak-ng (asynchronous mode: espeak_SetParameter only posts a command to espeak's own thread)
    and straight after calls espeak_Cancel if that thread is still busy. Cancel drops the command
    the thread has just taken, so under CPU load the rate or the pitch was sometimes never applied:
    the line came out at pyttsx3's default 200 wpm or espeak's pitch 50. Here the commands are
    posted, espeak's queue is drained and the values are read back before anything is spoken, so
    nothing of ours is pending when pyttsx3 cancels (its restore keeps these values).
    """
    from pyttsx3.drivers import _espeak  # the very library handle pyttsx3 speaks through

    def fn(name: str, *argtypes: Any) -> Any:
        f = _espeak.dll[name]  # a fresh function object: pyttsx3's own prototypes stay untouched
        f.argtypes, f.restype = argtypes, ctypes.c_int
        return f

    set_voice, set_param = fn("espeak_SetVoiceByName", ctypes.c_char_p), fn("espeak_SetParameter", *[ctypes.c_int] * 3)
    get_param, synchronize = fn("espeak_GetParameter", ctypes.c_int, ctypes.c_int), fn("espeak_Synchronize")
    # pyttsx3's volume conversion, so clips stay what they were
    want = {_RATE: int(rate), _PITCH: int(pitch), _VOLUME: int(round(volume * 100, 2))}
    synchronize()  # pyttsx3's start-up rate and volume first: nothing else in flight
    if set_voice(voice_name.encode("utf-8")) != 0:  # synchronous in espeak-ng
        raise EngineMissing(f"espeak-ng has no voice '{voice_name}'", code="TTS_VOICE_MISSING",
                            details={"voice": voice_name})
    for param, value in want.items():
        if set_param(param, value, 0) != 0:
            raise RenderFailed("espeak-ng refused a speech setting", code="TTS_FAILED",
                               details={"parameter": param, "value": value})
    deadline = time.monotonic() + 10.0
    while (got := {param: get_param(param, 1) for param in want}) != want:
        if time.monotonic() > deadline:
            raise RenderFailed("espeak-ng did not apply the speech settings", code="TTS_FAILED",
                               details={"wanted": want, "got": got})
        synchronize()  # returns when espeak's command thread is idle
        time.sleep(0.005)


def _speak_worker(text: str, voice_name: str, pitch: int, rate: int, volume: float, out: str) -> float:
    """Runs in a fresh process: synthesise one utterance into `out`; returns its trimmed length (s)."""
    lower_priority(0)  # background work: leave the CPU to the app and the server
    target = Path(out)
    raw = target.with_name(f".{target.stem}.{os.getpid()}.raw.wav")
    finished: list[bool] = []
    # pyttsx3 prints "Audio saved to ..." on stdout; keep the host's stdout clean.
    with contextlib.redirect_stdout(io.StringIO()):
        engine = _new_engine()
        engine.connect("finished-utterance", lambda name=None, completed=True: finished.append(bool(completed)))
        # espeak-ng quietly keeps its previous voice for an unknown name: check the name first.
        base, _, variant = voice_name.partition("+")
        known = {v.id.lower() for v in engine.getProperty("voices")}
        if base.lower() not in known or (variant and variant not in list_variants()):
            raise EngineMissing(
                f"espeak-ng has no voice '{voice_name}'", code="TTS_VOICE_MISSING", details={"voice": voice_name}
            )
        _apply_voice(voice_name, rate, pitch, volume)
        engine.save_to_file(text, str(raw))
        engine.runAndWait()
        # runAndWait can return before the file lands: wait for the event and a complete WAV.
        deadline = time.monotonic() + 30.0 + len(text) / 20.0
        while not (finished and raw.exists() and raw.stat().st_size >= 44):
            if time.monotonic() > deadline:
                raise RenderFailed(f"espeak-ng produced no audio for {text[:40]!r}", code="TTS_FAILED")
            time.sleep(0.01)
    try:
        samples, sr = read_wav(raw)
    finally:
        raw.unlink(missing_ok=True)
    clip = trim_silence(samples, sr)
    write_wav(target, clip, sr)
    return len(clip) / sr


def _info_worker() -> dict[str, Any]:
    lib, data = _load_espeak()
    with contextlib.redirect_stdout(io.StringIO()):
        engine = _new_engine()
        voices = engine.getProperty("voices")
    languages = sorted({lang for v in voices for lang in (v.languages or []) if lang})
    return {
        "engine": "pyttsx3+espeak-ng",
        "library_path": lib or "system libespeak-ng",
        "data_path": data or "system default",
        "voices": len(voices),
        "languages": languages,
        "sample_rate": ESPEAK_RATE,
    }


def trim_silence(x: np.ndarray, sr: int, *, threshold_db: float = _SILENCE_DB) -> np.ndarray:
    """Cut leading and trailing silence (keeping a 10 ms margin); all-silent input becomes 50 ms of silence."""
    mono = x if x.ndim == 1 else x.mean(axis=1)
    loud = np.flatnonzero(np.abs(mono) > 10.0 ** (threshold_db / 20.0))
    if len(loud) == 0:
        return np.zeros(round(0.05 * sr), np.float32)
    margin = round(_TRIM_MARGIN * sr)
    return x[max(0, loud[0] - margin) : min(len(x), loud[-1] + 1 + margin)]


def _pool_context() -> multiprocessing.context.BaseContext:
    # Never plain fork: the host has threads (server, Qt, huey) that a forked child would inherit locked.
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has imported this module: no per-utterance import cost.
        # Only takes effect when the server starts; later calls are no-ops.
        ctx.set_forkserver_preload([__name__])
        return ctx
    return multiprocessing.get_context("spawn")


def _one_off(fn: Callable[..., Any], *args: Any, timeout: float = 60.0) -> Any:
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=_pool_context(), **worker_options()) as pool:
        return pool.submit(fn, *args).result(timeout=timeout)


def tts_info() -> dict[str, Any]:
    """Engine, library and data paths, voice count and languages (for `filmstudio doctor`)."""
    try:
        info: dict[str, Any] = _one_off(_info_worker)
        info["ok"] = True
        info["variants"] = len(list_variants())
        return info
    except Exception as exc:  # doctor reports any failure rather than crashing
        lib, data = _espeak_paths()
        return {"engine": "pyttsx3+espeak-ng", "ok": False, "error": str(exc),
                "library_path": lib, "data_path": data, "voices": 0, "languages": []}


def list_variants() -> list[str]:
    """Names of the espeak-ng voice variants installed (e.g. "f3", "m7", "klatt2")."""
    _, data = _espeak_paths()
    candidates = [Path(data)] if data else []
    candidates += [Path(p) for p in ("/usr/lib/x86_64-linux-gnu/espeak-ng-data", "/usr/share/espeak-ng-data")]
    for root in candidates:
        folder = root / "voices" / "!v"
        if folder.is_dir():
            return sorted(p.name for p in folder.iterdir() if p.is_file())
    return []


# --------------------------------------------------------------------------------- engines


def espeak_voices(language: str | None = None) -> list[VoiceInfo]:
    """The espeak-ng voices casting can use: each language's voice with every gendered variant."""
    from filmstudio.domain.settings import LANGUAGES

    genders = {**dict.fromkeys(("m1", "m2", "m3", "m4", "m5", "m6", "m7"), "male"),
               **dict.fromkeys(("f1", "f2", "f3", "f4", "f5"), "female")}
    variants = set(list_variants())
    out = []
    for code, lang in LANGUAGES.items():
        if language is not None and code != language:
            continue
        for variant, gender in genders.items():
            if variant in variants:
                out.append(VoiceInfo(engine="espeak", voice_id=f"{lang.espeak}+{variant}",
                                     name=f"espeak-ng {lang.name} {variant}", language=code, gender=gender,
                                     sample_rate=ESPEAK_RATE, pace=FALLBACK_PACE, pitch_scale=OWN_PITCH_SCALE))
    return out


class EspeakTts:
    """pyttsx3 + espeak-ng, `jobs` utterances at a time, each in its own short-lived process.

    The fallback `Voices` engine: it reads every language we support, robotically.
    """

    name = "espeak"

    def __init__(self, jobs: int = 2, *, stall_timeout: float = 120.0) -> None:
        self.jobs = max(1, jobs)
        self.stall_timeout = stall_timeout

    def info(self) -> EngineInfo:
        found = tts_info()
        return EngineInfo(
            kind="voices", name="espeak-ng (pyttsx3)", version=str(found.get("version", "")), device="cpu",
            ok=bool(found.get("ok")) and bool(found.get("voices")),
            missing=() if found.get("ok") else (f"espeak-ng is not usable: {found.get('error', 'no voices')}",),
            details={k: v for k, v in found.items() if k not in ("ok", "engine")},
        )

    def voices(self, language: str | None = None) -> list[VoiceInfo]:
        return espeak_voices(language)

    def free(self) -> None:
        """Nothing to give back: espeak-ng speaks in its own short-lived processes."""

    def synthesize_many(
        self,
        requests: Sequence[SpeechRequest],
        *,
        cancel: CancelToken,
        progress: Callable[[float], None] | None = None,
    ) -> list[SpokenClip]:
        """Synthesise every request whose `out` is missing; the clips in order (espeak-ng gives no word timings)."""
        cancel.raise_if_cancelled()
        todo: dict[Path, SpeechRequest] = {}
        for req in requests:
            if req.out.exists():
                continue
            if not req.text.strip():  # nothing to say (espeak refuses empty text): a short silence
                write_wav(req.out, np.zeros(round(0.05 * ESPEAK_RATE), np.float32), ESPEAK_RATE)
                continue
            todo.setdefault(req.out, req)  # identical lines share one clip
        total = len(requests)
        done = total - sum(1 for r in requests if r.out in todo)
        _report(progress, done, total)
        if not todo:
            return [SpokenClip(r.out) for r in requests]
        per_out = {out: sum(1 for r in requests if r.out == out) for out in todo}
        pool = cf.ProcessPoolExecutor(
            max_workers=min(self.jobs, len(todo)), mp_context=_pool_context(), max_tasks_per_child=1,
            **worker_options(),
        )
        pending: dict[cf.Future[float], SpeechRequest] = {}
        queue = list(todo.values())
        last_done = time.monotonic()
        try:
            while queue or pending:
                # Keep only a few tasks queued so a cancel has little to throw away.
                while queue and len(pending) < self.jobs * 2:
                    req = queue.pop(0)
                    req.out.parent.mkdir(parents=True, exist_ok=True)
                    pending[pool.submit(_speak_worker, *_worker_args(req))] = req
                finished, _ = cf.wait(pending, timeout=0.1, return_when=cf.FIRST_COMPLETED)
                if cancel.cancelled:
                    raise Cancelled("the render was cancelled")
                for fut in finished:
                    req = pending.pop(fut)
                    _result(fut, req)
                    done += per_out[req.out]
                    last_done = time.monotonic()
                    _report(progress, done, total)
                if time.monotonic() - last_done > self.stall_timeout:
                    _terminate_workers(pool)  # a wedged espeak call would block the shutdown below
                    raise RenderFailed("speech synthesis stalled", code="TTS_TIMEOUT")
        finally:
            # Queued work is dropped; the few running utterances end by themselves in well under a
            # second. Not waiting for them races the pool's own bookkeeping when workers retire after
            # one task (max_tasks_per_child) and was seen to hang interpreter exit.
            pool.shutdown(wait=True, cancel_futures=True)
        return [SpokenClip(r.out) for r in requests]


def _terminate_workers(pool: cf.ProcessPoolExecutor) -> None:
    # No public API before Python 3.14 (`terminate_workers`); the private map is stable since 3.2.
    stop = getattr(pool, "terminate_workers", None)
    if callable(stop):
        stop()
        return
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.terminate()


def _worker_args(req: SpeechRequest) -> tuple[str, str, int, int, float, str]:
    wpm = min(MAX_WPM, max(MIN_WPM, req.words_per_minute * req.voice.rate_factor))
    pitch = int(min(99, max(0, req.voice.pitch)))
    volume = float(min(1.0, max(0.0, req.voice.volume)))
    return (req.text, req.voice.espeak_name, pitch, round(wpm), volume, str(req.out))


def _result(fut: cf.Future[float], req: SpeechRequest) -> float:
    try:
        return fut.result()
    except FilmStudioError:
        raise
    except cf.process.BrokenProcessPool as exc:
        raise RenderFailed("the speech worker crashed", code="TTS_FAILED",
                           details={"text": req.text[:80]}) from exc
    except Exception as exc:
        raise RenderFailed(f"speech synthesis failed: {exc}", code="TTS_FAILED",
                           details={"text": req.text[:80], "voice": req.voice.espeak_name}) from exc


def _report(progress: Callable[[float], None] | None, done: int, total: int) -> None:
    if progress is not None:
        progress(1.0 if total == 0 else done / total)


class FakeTts:
    """Sine beeps instead of speech (length proportional to the text) for tests of other modules."""

    name = "fake"

    def __init__(self, *, seconds_per_char: float = 0.05, sample_rate: int = ESPEAK_RATE) -> None:
        self.seconds_per_char = seconds_per_char
        self.sample_rate = sample_rate
        self.synthesized: list[SpeechRequest] = []

    def info(self) -> EngineInfo:
        return EngineInfo(kind="voices", name="fake beeps", version="test")

    def voices(self, language: str | None = None) -> list[VoiceInfo]:
        return [VoiceInfo(engine="fake", voice_id="beep", name="Beep", language=language or "en",
                          sample_rate=self.sample_rate, pace=FALLBACK_PACE)]

    def free(self) -> None:
        """Nothing loaded: beeps are computed."""

    def duration_for(self, req: SpeechRequest) -> float:
        """The clip length this fake produces for a request (faster speech = shorter clip)."""
        rate = max(MIN_WPM, req.words_per_minute * req.voice.rate_factor) / 175.0
        return max(0.2, len(req.text.strip()) * self.seconds_per_char / rate)

    def synthesize_many(
        self,
        requests: Sequence[SpeechRequest],
        *,
        cancel: CancelToken,
        progress: Callable[[float], None] | None = None,
    ) -> list[SpokenClip]:
        """Write a beep per missing `out` (pitch follows the voice), reporting progress like the real one."""
        for i, req in enumerate(requests):
            cancel.raise_if_cancelled()
            if not req.out.exists():
                sr = self.sample_rate
                t = np.arange(round(self.duration_for(req) * sr)) / sr
                freq = 110.0 + 4.0 * req.voice.pitch
                env = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.01)
                tone = 0.5 * req.voice.volume * env * np.sin(2 * math.pi * freq * t)
                write_wav(req.out, tone.astype(np.float32), sr)
                self.synthesized.append(req)
            _report(progress, i + 1, len(requests))
        return [SpokenClip(r.out) for r in requests]
