"""Text to Piper phoneme ids: espeak-ng's IPA (through ctypes) and a voice's phoneme id map.

espeak-ng is the espeakng-loader wheel's library, loaded once into a helper process
(`IsolatedPhonemizer`: espeak-ng is GPL-3.0, our code MIT) and used under a lock (its state is global). `espeak_TextToPhonemes` drops clause punctuation, and the wheel's
build has no `...WithTerminator` variant, so lines are cut into clauses here and each clause's
punctuation is put back as a phoneme: the voice pauses at commas and full stops as it was trained.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import re
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from filmstudio.domain.errors import EngineMissing, FilmStudioError

BOS, EOS, PAD = "^", "$", "_"
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_PHONEMES_IPA = 0x02
_CLAUSE = re.compile(r"([^.!?,;:…—–]+)([.!?,;:…—–]*)")
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
# Terminators the voices were trained with (piper keeps . ? ! , : ;); dashes and ellipses map onto them.
_TERMINATORS = {".": ".", "!": "!", "?": "?", ",": ",", ";": ";", ":": ":", "…": ".", "—": ",", "–": ","}
_SENTENCE_END = frozenset(".!?")
_LANG_SWITCH = re.compile(r"\([^)]*\)")  # espeak's "(fr)" flags around words of another language


@dataclass(frozen=True)
class Clause:
    """One clause: its written words and its phoneme characters (words separated by spaces)."""

    words: tuple[str, ...]
    phonemes: tuple[str, ...]  # NFD code points, the clause's terminator (if any) last
    ends_sentence: bool


@dataclass(frozen=True)
class Sentence:
    """The phoneme ids of one sentence and, per id, the index of the word it belongs to (-1: none)."""

    ids: tuple[int, ...]
    word_of_id: tuple[int, ...]
    words: tuple[str, ...]
    clause_of_word: tuple[int, ...]
    exact: tuple[bool, ...]  # per clause: written and spoken words matched one to one


class EspeakPhonemizer:
    """espeak-ng's IPA for text, one call at a time (process-wide library state)."""

    _lock = threading.Lock()
    _lib: ctypes.CDLL | None = None

    @classmethod
    def _library(cls) -> ctypes.CDLL:
        if cls._lib is None:
            try:
                import espeakng_loader

                path, data = espeakng_loader.get_library_path(), espeakng_loader.get_data_path()
                lib = ctypes.CDLL(path)
            except (ImportError, OSError, RuntimeError) as exc:
                raise EngineMissing(f"espeak-ng is not usable for phonemes: {exc}", code="TTS_MISSING",
                                    details={"hint": "pip install espeakng-loader"}) from exc
            lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
            lib.espeak_Initialize.restype = ctypes.c_int
            lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
            lib.espeak_SetVoiceByName.restype = ctypes.c_int
            lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
            lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
            if lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data.encode(), 0) < 0:
                raise EngineMissing("espeak-ng did not initialise", code="TTS_MISSING", details={"data": data})
            cls._lib = lib
        return cls._lib

    def ipa(self, voice: str, text: str) -> str:
        """IPA of `text` (one or more clauses, punctuation dropped), words separated by spaces."""
        with self._lock:
            lib = self._library()
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise EngineMissing(f"espeak-ng has no voice {voice!r} for phonemes", code="TTS_VOICE_MISSING",
                                    details={"voice": voice})
            buf = ctypes.create_string_buffer(text.encode("utf-8"))
            ptr = ctypes.c_void_p(ctypes.addressof(buf))
            parts: list[str] = []
            while ptr.value:  # espeak advances the pointer clause by clause, to NULL at the end
                out = lib.espeak_TextToPhonemes(ctypes.byref(ptr), _CHARS_UTF8, _PHONEMES_IPA)
                if out:
                    parts.append(out.decode("utf-8", errors="ignore"))
        return " ".join(p.strip() for p in parts if p.strip())

    def clauses(self, voice: str, text: str) -> list[Clause]:
        """`text` as clauses of phonemes, with each clause's punctuation kept as its last phoneme."""
        out: list[Clause] = []
        for match in _CLAUSE.finditer(" ".join(text.split())):
            body, punct = match.group(1), match.group(2)
            words = tuple(_WORD.findall(body))
            terminator = next((_TERMINATORS[c] for c in punct if c in _TERMINATORS), "")
            ipa = _LANG_SWITCH.sub("", self.ipa(voice, body)) if words else ""
            if not ipa and not terminator:
                continue
            phonemes = list(unicodedata.normalize("NFD", ipa)) + ([terminator] if terminator else [])
            ends = terminator in _SENTENCE_END
            if terminator and not ends:
                phonemes.append(" ")
            out.append(Clause(words, tuple(phonemes), ends))
        return out


def sentences(clauses: Sequence[Clause], id_map: Mapping[str, Sequence[int]], *,
              max_ids: int = 1200) -> list[Sentence]:
    """Clauses grouped into sentences of phoneme ids: ^ _ p1 _ p2 _ ... $ as Piper voices are trained.

    A sentence longer than `max_ids` is cut at a clause boundary (one model call stays bounded).
    """
    pad = list(id_map.get(PAD, [0]))
    result: list[Sentence] = []
    ids: list[int] = []
    owner: list[int] = []
    words: list[str] = []
    clause_of_word: list[int] = []
    exact: list[bool] = []

    def flush() -> None:
        if ids:
            result.append(Sentence((*ids, *id_map.get(EOS, [])), (*owner, *([-1] * len(id_map.get(EOS, [])))),
                                   tuple(words), tuple(clause_of_word), tuple(exact)))
        for part in (ids, owner, words, clause_of_word, exact):
            part.clear()

    for clause in clauses:
        if not ids:
            ids.extend([*id_map.get(BOS, []), *pad])
            owner.extend([-1] * len(ids))
        spoken = "".join(clause.phonemes).split()
        match = len(spoken) == len(clause.words)
        first = len(words)
        words.extend(clause.words)
        clause_of_word.extend([len(exact)] * len(clause.words))
        exact.append(match)
        # Spoken word k is written word k when the counts match; else the clause's words share its span.
        k, in_word = 0, False
        for ph in clause.phonemes:
            if ph == " " or ph in _TERMINATORS.values():
                if in_word:
                    k, in_word = k + 1, False
                here = -1
            elif not clause.words:
                here = -1
            else:
                in_word = True
                here = first + min(k, len(clause.words) - 1) if match else -2 - first
            if ph not in id_map:
                continue
            for i in (*id_map[ph], *pad):
                ids.append(i)
                owner.append(here)
        if clause.ends_sentence or len(ids) > max_ids:
            flush()
    flush()
    return result


def word_spans(sentence: Sentence, samples_per_id: Sequence[float]) -> list[tuple[str, float, float]]:
    """(word, first sample, end sample) per written word of `sentence`, from the samples of each id."""
    edges = [0.0]
    for n in samples_per_id:
        edges.append(edges[-1] + float(n))
    spans: dict[int, list[float]] = {}
    for k, who in enumerate(sentence.word_of_id):
        if who == -1:
            continue
        span = spans.setdefault(who, [edges[k], edges[k + 1]])
        span[1] = edges[k + 1]
    out: list[tuple[str, float, float]] = []
    n = 0
    while n < len(sentence.words):
        clause = sentence.clause_of_word[n]
        if sentence.exact[clause]:
            start, end = spans.get(n, [out[-1][2], out[-1][2]] if out else [0.0, 0.0])
            out.append((sentence.words[n], start, end))
            n += 1
            continue
        # Spoken words did not match the written ones (numbers, contractions): share the clause by letters.
        members = [k for k in range(n, len(sentence.words)) if sentence.clause_of_word[k] == clause]
        start, end = spans.get(-2 - n, [out[-1][2], out[-1][2]] if out else [0.0, 0.0])
        letters = [max(1, len(sentence.words[k])) for k in members]
        total, at = sum(letters), start
        for k, size in zip(members, letters, strict=True):
            step = (end - start) * size / total
            out.append((sentence.words[k], at, at + step))
            at += step
        n = members[-1] + 1
    return out


# -- espeak-ng behind a process boundary ---------------------------------------------------------
# espeak-ng is GPL-3.0 and our code is MIT: like the espeak voices (one utterance per worker
# process), the phonemizer runs in a helper process, so libespeak-ng is never loaded into ours.

_CHILD: EspeakPhonemizer | None = None


def _clauses_in_child(voice: str, text: str) -> tuple[str, Any]:
    """Runs in the helper process; errors come back as values (FilmStudioError does not pickle whole)."""
    global _CHILD
    try:
        if _CHILD is None:
            _CHILD = EspeakPhonemizer()
        return "ok", _CHILD.clauses(voice, text)
    except FilmStudioError as exc:
        return "error", (type(exc).__name__, exc.message, exc.code, exc.details)


def _warm_child() -> bool:
    """Runs in the helper process: load espeak-ng now, before the first line needs it."""
    global _CHILD
    try:
        if _CHILD is None:
            _CHILD = EspeakPhonemizer()
    except FilmStudioError:
        return False  # reported by the first real call
    return True


class IsolatedPhonemizer:
    """`EspeakPhonemizer.clauses` in one long-lived helper process (started on first use)."""

    def __init__(self, *, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self._pool: cf.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> cf.ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                from filmstudio.pipeline.lifeline import worker_options
                from filmstudio.pipeline.providers.tts import _pool_context

                self._pool = cf.ProcessPoolExecutor(max_workers=1, mp_context=_pool_context(), **worker_options())
            return self._pool

    def start(self) -> None:
        """Start the helper and its espeak-ng in the background (~0.4 s), e.g. while a voice model loads."""
        with contextlib.suppress(RuntimeError):  # shutting down: the first real call starts another
            self._executor().submit(_warm_child)

    def clauses(self, voice: str, text: str) -> list[Clause]:
        for attempt in (1, 2):
            pool = self._executor()
            try:
                status, value = pool.submit(_clauses_in_child, voice, text).result(timeout=self.timeout)
                break
            except cf.process.BrokenProcessPool:
                with self._lock:
                    self._pool = None  # the helper died (killed, out of memory): start another once
                if attempt == 2:
                    raise EngineMissing("the phoneme helper process keeps dying", code="TTS_FAILED") from None
        if status == "error":
            kind, message, code, details = value
            raise (EngineMissing if kind == "EngineMissing" else FilmStudioError)(message, code=code, details=details)
        clauses: list[Clause] = value
        return clauses

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
