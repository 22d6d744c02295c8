"""Voice casting: a distinct voice per speaker, steered by the character list.

Neural voices of the film's language are preferred when the engines offer any: a multi-speaker
model gives each character a speaker of their gender where its metadata (or the speaker table
shipped for it, `providers/speakers.py`) says; one voice gives each
character its own treatment (pitch shift and tempo), the narrator keeping the voice as it is.
Otherwise every speaker gets an espeak-ng variant and pitch.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from filmstudio.domain.settings import LANGUAGES, CharacterSpec, RenderSettings
from filmstudio.pipeline.engines import FALLBACK_PACE, OWN_PITCH_SCALE, Pace, VoiceInfo
from filmstudio.pipeline.plan import NARRATOR, PITCH_PER_SEMITONE, Script, Voice
from filmstudio.pipeline.script.characters import Character, read_characters

# espeak-ng variants (voices/!v/) by gender. Neutral ones declare no gender in their files.
MALE_VARIANTS: tuple[str, ...] = ("m1", "m2", "m3", "m4", "m5", "m6", "m7")
FEMALE_VARIANTS: tuple[str, ...] = ("f1", "f2", "f3", "f4", "f5")
# Each exists both in espeakng_loader's bundled data and in distro espeak-ng 1.51.
NEUTRAL_VARIANTS: tuple[str, ...] = ("klatt", "klatt3", "Gene", "Jacky", "ed", "Alex")
QUALITY_VARIANTS: dict[tuple[str, str], str] = {
    ("whisper", "male"): "whisper",
    ("whisper", "female"): "whisperf",
    ("whisper", "neutral"): "whisperf",
    ("raspy", "male"): "croak",
    ("raspy", "female"): "croak",
    ("raspy", "neutral"): "croak",
}
ALL_VARIANTS: tuple[str, ...] = (
    *MALE_VARIANTS, *FEMALE_VARIANTS, *NEUTRAL_VARIANTS, *sorted(set(QUALITY_VARIANTS.values()))
)

# age -> (espeak pitch 0..99, rate factor)
AGE_VOICE: dict[str, tuple[int, float]] = {
    "child": (82, 1.08),
    "teen": (68, 1.05),
    "young": (58, 1.03),
    "adult": (50, 1.0),
    "middle-aged": (45, 0.97),
    "senior": (38, 0.92),
    "elderly": (32, 0.87),
}
# voice quality -> (pitch shift, rate shift, volume)
QUALITY_SHIFT: dict[str, tuple[int, float, float]] = {
    "default": (0, 0.0, 1.0),
    "deep": (-18, -0.02, 1.0),
    "high": (18, 0.02, 1.0),
    "soft": (-4, -0.03, 0.75),
    "bright": (8, 0.03, 1.0),
    "raspy": (-6, -0.02, 1.0),
    "warm": (-6, -0.03, 1.0),
    "whisper": (0, -0.04, 0.85),
}
RATE_MIN, RATE_MAX = 0.85, 1.15
# Pitch steps tried, in order, when a voice is already taken.
_PITCH_STEPS = (0, 8, -8, 16, -16, 24, -24, 4, -4, 12, -12, 20, -20)

# Words in a character's name that say who they are ("OLD VENDOR", "LITTLE GIRL").
_MALE_WORDS = frozenset(["MAN", "MR", "MR.", "SIR", "KING", "FATHER", "DAD", "PAPA", "BROTHER", "BOY", "GRANDPA", "GRANDFATHER", "UNCLE", "HUSBAND", "PRINCE", "LORD", "GUY", "SON", "MONK", "PRIEST", "WAITER", "GENTLEMAN", "DUKE"])
_FEMALE_WORDS = frozenset(["WOMAN", "MRS", "MRS.", "MS", "MS.", "MISS", "LADY", "QUEEN", "MOTHER", "MOM", "MUM", "MAMA", "SISTER", "GIRL", "GRANDMA", "GRANDMOTHER", "AUNT", "WIFE", "PRINCESS", "DAUGHTER", "NUN", "WAITRESS", "DUCHESS"])
_CHILD_WORDS = frozenset(["BOY", "GIRL", "KID", "CHILD", "LITTLE", "BABY", "TODDLER"])
_ELDER_WORDS = frozenset(["OLD", "ELDERLY", "GRANDMA", "GRANDPA", "GRANDMOTHER", "GRANDFATHER", "ELDER", "ANCIENT"])


@dataclass(frozen=True)
class _Want:
    """What a speaker should sound like before collisions are resolved."""

    speaker: str
    gender: str
    pitch: int
    rate: float
    volume: float
    pool: tuple[str, ...]
    age: str = "adult"
    quality: str = "default"


def cast_voices(script: Script, settings: RenderSettings, available: Sequence[VoiceInfo] = (),
                edits: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Voice]:
    """Give every speaker of `script` a distinct voice, deterministically, from the `available` voices.

    Who each speaker is (sex, age) is the shared reading (`characters.read_characters`, with the
    user's storyboard `edits`), so the voice and the storyboard agree. With no neural voice among
    `available` (or none given), every speaker gets an espeak-ng variant and pitch of the film's language.
    """
    reading = read_characters(script, settings, edits)
    voice_id = LANGUAGES[settings.language].espeak
    neural = [v for v in available if v.neural and v.language == settings.language]
    specs = {_key(spec.name): spec for spec in settings.characters}
    speakers = _speakers(script)
    listed = [s for s in speakers if _key(s) in specs]
    # Listed characters first (in the user's order), so automatic casting never takes their voice.
    order = {_key(spec.name): n for n, spec in enumerate(settings.characters)}
    listed.sort(key=lambda s: order[_key(s)])
    unlisted = [s for s in speakers if _key(s) not in specs]
    wants = [_from_spec(speaker, specs[_key(speaker)], reading.get(speaker)) for speaker in listed]
    ages = intro_ages(script)
    for speaker in unlisted:
        # An unknown sex takes the one fewer speakers have so far, so voices stay apart.
        females = sum(w.gender == "female" for w in wants if w.speaker != NARRATOR)
        males = sum(w.gender == "male" for w in wants if w.speaker != NARRATOR)
        want, _ = _automatic(speaker, 0 if females <= males else 1, ages.get(speaker), reading.get(speaker))
        wants.append(want)
    out: dict[str, Voice] = {}
    if neural:
        out = cast_neural(wants, neural)
    else:
        taken: set[tuple[str, int]] = set()
        for want in wants:
            out[want.speaker] = _place(want, voice_id, taken)
    return {s: out[s] for s in speakers}


# Neural voices: semitones of shift from the voice's own pitch, by age, quality and gender.
AGE_SEMITONES: dict[str, float] = {"child": 3.0, "teen": 1.5, "young": 0.5, "adult": 0.0, "middle-aged": -0.5,
                                   "senior": -1.0, "elderly": -1.5}
QUALITY_SEMITONES: dict[str, float] = {"deep": -2.0, "high": 2.0, "bright": 1.0, "warm": -1.0, "raspy": -1.0,
                                       "soft": -0.5}
GENDER_SEMITONES = 3.5  # a character of the other gender than the voice's speaker: this far up (or down)
MAX_NEURAL_SEMITONES = 6.0  # further than this a resampled voice stops sounding like a person
# Pitch steps (quarter semitones) tried, in order, when a treatment is already taken.
_NEURAL_STEPS = (0, 5, -5, 10, -10, 3, -3, 8, -8, 13, -13, 15, -15, 18, -18, 1, -1, 6, -6, 11, -11)


def cast_neural(wants: Sequence[_Want], voices: Sequence[VoiceInfo]) -> dict[str, Voice]:
    """Neural voices for every speaker: their own speaker of a model where there are enough, else a treatment.

    The narrator speaks with the first voice as it is; everyone else gets a distinct (voice, pitch).
    """
    taken: set[tuple[str, int | None, int]] = set()
    out: dict[str, Voice] = {}
    order = sorted(wants, key=lambda w: w.speaker != NARRATOR)  # the narrator first: it keeps the plain voice
    for want in order:
        if want.speaker == NARRATOR:
            first = voices[0]
            taken.add((first.voice_id, first.speaker, 50))
            out[want.speaker] = Voice(speaker=want.speaker, voice_id=first.voice_id, engine=first.engine,
                                      speaker_id=first.speaker, gender=first.gender,
                                      speaker_name=_speaker_name(first), pace=first.pace,
                                      pitch_scale=first.pitch_scale)
            continue
        out[want.speaker] = _place_neural(want, voices, taken)
    return out


def _shift(want: _Want, voice: VoiceInfo) -> float:
    semitones = AGE_SEMITONES.get(want.age, 0.0) + QUALITY_SEMITONES.get(want.quality, 0.0)
    if {want.gender, voice.gender} == {"male", "female"}:
        semitones += GENDER_SEMITONES if want.gender == "female" else -GENDER_SEMITONES
    elif voice.gender == "neutral" and want.gender == "female":
        semitones += GENDER_SEMITONES / 2  # unknown speaker: lean the treatment the character's way
    return semitones


def _place_neural(want: _Want, voices: Sequence[VoiceInfo], taken: set[tuple[str, int | None, int]]) -> Voice:
    def rank(v: VoiceInfo) -> int:
        return 0 if v.gender == want.gender else 1 if v.gender == "neutral" else 2

    ranked = sorted(voices, key=rank)  # stable: the engines' own order within a rank
    groups: dict[int, list[VoiceInfo]] = {}
    for v in ranked:
        groups.setdefault(rank(v), []).append(v)
    rotated: list[VoiceInfo] = []
    for group in groups.values():  # each speaker starts at their own place in a rank (stable by name)
        k = _stable(want.speaker) % len(group)
        rotated += group[k:] + group[:k]
    used = {(voice_id, speaker) for voice_id, speaker, _ in taken}
    fresh = [v for v in rotated if (v.voice_id, v.speaker) not in used]
    # A reader of the character's own gender, even one already speaking (with a treatment of its own),
    # before a fresh reader of the other gender: a woman is not read by a man with a pitch shift.
    same = [v for v in rotated if rank(v) == 0]
    limit = round(MAX_NEURAL_SEMITONES * PITCH_PER_SEMITONE)
    pools: list[tuple[list[VoiceInfo], tuple[int, ...]]] = [(fresh[:1], (0,)), (rotated, _NEURAL_STEPS)]
    if same and fresh and rank(fresh[0]) == 2:
        pools.insert(0, (same, _NEURAL_STEPS))
    for pool, steps in pools:
        for step in steps:
            for v in pool:
                base = max(-limit, min(limit, round(_shift(want, v) * PITCH_PER_SEMITONE)))
                offset = base + step
                if abs(offset) > limit or (v.voice_id, v.speaker, 50 + offset) in taken:
                    continue
                taken.add((v.voice_id, v.speaker, 50 + offset))
                return Voice(speaker=want.speaker, voice_id=v.voice_id, pitch=50 + offset, rate_factor=want.rate,
                             volume=want.volume, gender=want.gender, engine=v.engine, speaker_id=v.speaker,
                             speaker_name=_speaker_name(v), pace=v.pace, pitch_scale=v.pitch_scale)
    # Every treatment taken (dozens of speakers on one voice): any free pitch.
    for pitch in range(50 - limit, 51 + limit):
        if (voices[0].voice_id, voices[0].speaker, pitch) not in taken:
            taken.add((voices[0].voice_id, voices[0].speaker, pitch))
            return Voice(speaker=want.speaker, voice_id=voices[0].voice_id, pitch=pitch, rate_factor=want.rate,
                         volume=want.volume, gender=want.gender, engine=voices[0].engine,
                         speaker_id=voices[0].speaker, speaker_name=_speaker_name(voices[0]), pace=voices[0].pace,
                         pitch_scale=voices[0].pitch_scale)
    raise RuntimeError("no free voice left")


def gender_mismatches(casting: dict[str, Voice], available: Sequence[VoiceInfo]) -> dict[str, str]:
    """Characters read by a voice of the other sex (no fitting voice installed): name -> that voice's gender."""
    genders = {(v.voice_id, v.speaker): v.gender for v in available}
    out: dict[str, str] = {}
    for name, voice in casting.items():
        if voice.engine == "espeak" or name == NARRATOR:
            continue
        own = genders.get((voice.voice_id, voice.speaker_id), "neutral")
        if {own, voice.gender} == {"male", "female"}:
            out[name] = own
    return out


def _speaker_name(voice: VoiceInfo) -> str | None:
    """A multi-speaker model's speaker for people: its key, and who they are where a table says."""
    return voice.speaker_name or voice.speaker_label


def _key(name: str) -> str:
    return " ".join(name.upper().split())


def _speakers(script: Script) -> list[str]:
    """Speakers in order of first spoken line (NARRATOR only when it speaks)."""
    seen: list[str] = []
    for line in script.spoken_lines:
        if line.speaker not in seen:
            seen.append(line.speaker)
    return seen


def _stable(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")


def _pool(gender: str, quality: str) -> tuple[str, ...]:
    special = QUALITY_VARIANTS.get((quality, gender))
    base = {"male": MALE_VARIANTS, "female": FEMALE_VARIANTS}.get(gender, NEUTRAL_VARIANTS)
    return (special, *base) if special else base


def _want(speaker: str, gender: str, age: str, quality: str) -> _Want:
    pitch, rate = AGE_VOICE.get(age, AGE_VOICE["adult"])
    dp, dr, volume = QUALITY_SHIFT.get(quality, QUALITY_SHIFT["default"])
    pool = _pool(gender, quality)
    if not QUALITY_VARIANTS.get((quality, gender)):
        # Start each speaker at their own place in the pool (stable by name).
        k = _stable(speaker) % len(pool)
        pool = pool[k:] + pool[:k]
    return _Want(
        speaker=speaker,
        gender=gender,
        pitch=max(0, min(99, pitch + dp)),
        rate=max(RATE_MIN, min(RATE_MAX, round(rate + dr, 3))),
        volume=volume,
        pool=pool,
        age=age,
        quality=quality,
    )


def _from_spec(speaker: str, spec: CharacterSpec, character: Character | None = None) -> _Want:
    """The user's choices; where they left gender neutral or age adult, the screenplay's reading fills in."""
    gender = spec.gender
    if gender == "neutral" and character is not None and character.sex:
        gender = character.sex
    age = spec.age
    if age == "adult" and character is not None and character.age:
        age = character.age
    return _want(speaker, gender, age, spec.voice)


def intro_ages(script: Script) -> dict[str, int]:
    """Ages from character introductions in action, the screenplay habit `KAI (12)`, `LENA (30s)`."""
    action = "\n".join(line.written or line.text for line in script.lines if line.kind == "action")
    ages: dict[str, int] = {}
    for name in script.characters:
        m = re.search(rf"(?<![\w]){re.escape(name)}\s*\((\d{{1,3}})(?:'?s)?\)", action)
        if m:
            ages[name] = int(m.group(1))
    return ages


def age_group(years: int) -> str:
    """A numeric age -> one of the settings' AGES."""
    for limit, group in ((13, "child"), (20, "teen"), (30, "young"), (45, "adult"), (60, "middle-aged"),
                         (70, "senior")):
        if years < limit:
            return group
    return "elderly"


def _automatic(speaker: str, alternate: int, years: int | None = None,
               character: Character | None = None) -> tuple[_Want, bool]:
    """Cast from the reading of the character (else the name's own hints); unknown genders alternate.

    Returns (want, gender known).
    """
    if speaker == NARRATOR:
        return _want(speaker, "neutral", "adult", "default"), True
    words = set(re.split(r"[^A-Z.]+", speaker.upper()))
    gender = "male" if words & _MALE_WORDS else "female" if words & _FEMALE_WORDS else ""
    age = "child" if words & _CHILD_WORDS else "elderly" if words & _ELDER_WORDS else "adult"
    if years is not None:
        age = age_group(years)
    if character is not None:
        gender = character.sex or ("" if character.sex_from == "edited" else gender)
        age = character.age or age
    guessed = bool(gender)
    if not gender:
        gender = "female" if alternate % 2 == 0 else "male"
    return _want(speaker, gender, age, "default"), guessed


def _candidates(want: _Want, used_variants: set[str]) -> Iterator[tuple[str, int]]:
    # A different variant is heard more clearly than a different pitch: try those first.
    for variant in want.pool:
        if variant not in used_variants:
            yield variant, want.pitch
    for step in _PITCH_STEPS:
        pitch = want.pitch + step
        if 0 <= pitch <= 99:
            for variant in want.pool:
                yield variant, pitch
    # Every pool and pitch exhausted (dozens of speakers): any free combination.
    for pitch in range(100):
        for variant in ALL_VARIANTS:
            yield variant, pitch


def _place(want: _Want, voice_id: str, taken: set[tuple[str, int]]) -> Voice:
    used_variants = {name.rsplit("+", 1)[-1] for name, _ in taken}
    for variant, pitch in _candidates(want, used_variants):
        name = f"{voice_id}+{variant}"
        if (name, pitch) not in taken:
            taken.add((name, pitch))
            return Voice(
                speaker=want.speaker,
                voice_id=voice_id,
                variant=variant,
                pitch=pitch,
                rate_factor=want.rate,
                volume=want.volume,
                gender=want.gender,
            )
    raise RuntimeError("no free voice left")  # 100 pitches x all variants: unreachable in practice


_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\uff66-\uff9f]")
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_SENTENCE_PAUSE = re.compile(r"[.!?…。！？]+")
_CLAUSE_PAUSE = re.compile(r"[,;:，、；：—–]")
SENTENCE_PAUSE_S = 0.25
CLAUSE_PAUSE_S = 0.1
CJK_WORDS_PER_CHAR = 0.8
# A word this many letters long counts as more than one (long words take longer to say).
LETTERS_PER_WORD = 7.0
# How fast a voice really speaks is its engine's declared `Pace` (`VoiceInfo.pace`, copied onto the
# cast `Voice`): espeak-ng, the fallback, says ~1.2x its nominal words a minute once pauses are set
# apart (measured on the sample scripts, en-US, -s 175: `engines.FALLBACK_PACE`); voices calibrated
# to speak the rate they are asked, pauses included (Piper's NATURAL_WPM), are a little faster than
# nominal in this estimate's units (`engines.CALIBRATED_PACE`, 1.1).


def estimate_speech_seconds(text: str, words_per_minute: float, pace: Pace = FALLBACK_PACE) -> float:
    """Seconds `text` takes to speak at `words_per_minute` by a voice of `pace`: words (CJK by character) plus pauses."""
    if words_per_minute <= 0:
        raise ValueError("words_per_minute must be positive")
    cjk = len(_CJK.findall(text))
    words = sum(max(1.0, len(w) / LETTERS_PER_WORD) for w in _WORD.findall(_CJK.sub(" ", text)))
    spoken_words = words + cjk * CJK_WORDS_PER_CHAR
    pauses = len(_SENTENCE_PAUSE.findall(text)) * SENTENCE_PAUSE_S + len(_CLAUSE_PAUSE.findall(text)) * CLAUSE_PAUSE_S
    return spoken_words * 60.0 / (words_per_minute * pace.speedup) + pauses


# Writing systems a voice of another language would spell out letter by letter: a line mostly in
# one of these is spoken by that language's espeak-ng voice (same variant and pitch).
_SCRIPT_VOICES: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = (
    ("jpx/ja", ((0x3040, 0x30FF),)),  # kana first: Japanese uses Han too
    ("ko", ((0xAC00, 0xD7AF), (0x1100, 0x11FF))),
    ("sit/cmn", ((0x4E00, 0x9FFF), (0x3400, 0x4DBF))),
    ("sem/ar", ((0x0600, 0x06FF), (0x0750, 0x077F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))),
    ("sem/he", ((0x0590, 0x05FF),)),
    ("zle/ru", ((0x0400, 0x04FF),)),
    ("grk/el", ((0x0370, 0x03FF),)),
    ("inc/hi", ((0x0900, 0x097F),)),
    ("tai/th", ((0x0E00, 0x0E7F),)),
)


def voice_for_text(voice: Voice, text: str) -> Voice:
    """`voice`, or the same voice in the language whose writing system most of `text` is in.

    A neural voice reads only its own language's letters: a line in another writing system goes
    to espeak-ng's voice for it, with the character's gender and treatment.
    """
    letters = [ord(c) for c in text if c.isalpha()]
    if not letters:
        return voice
    for voice_id, ranges in _SCRIPT_VOICES:
        hits = sum(1 for cp in letters if any(lo <= cp <= hi for lo, hi in ranges))
        if voice_id == "jpx/ja" and hits:
            han = sum(1 for cp in letters if 0x4E00 <= cp <= 0x9FFF)
            hits += han  # kana + kanji together make Japanese
        if hits * 2 > len(letters):
            if voice.engine != "espeak":
                language = re.split(r"[_\-/]", voice.voice_id)[0].lower()
                if language == voice_id.split("/")[-1]:
                    return voice
                variant = {"male": "m3", "female": "f3"}.get(voice.gender)
                return replace(voice, voice_id=voice_id, variant=variant, engine="espeak", speaker_id=None,
                               speaker_name=None, pace=FALLBACK_PACE,
                               pitch_scale=OWN_PITCH_SCALE)
            same_family = voice.voice_id.split("/")[-1].split("-")[0] == voice_id.split("/")[-1]
            return voice if same_family else replace(voice, voice_id=voice_id)
    return voice
