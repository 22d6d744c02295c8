"""Duration fit: choose a speaking rate and lay the film out so it lasts what was asked."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from filmstudio.domain.errors import ScriptError
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.engines import FALLBACK_PACE, Pace
from filmstudio.pipeline.plan import Line, SceneTiming, Script, Voice
from filmstudio.pipeline.script.casting import voice_for_text
from filmstudio.pipeline.script.delivery import beat_before

MIN_WPM, NATURAL_WPM, MAX_WPM = 140.0, 165.0, 230.0
WPM_STEP = 5.0  # rates are quantised so a small edit keeps the rate (and the cached clips)
SHOWN_SECONDS = 1.4
GAP_STEP = 0.2  # spare time is handed to gaps in steps of this many seconds  # a transition or centered text holds this long (scaled down for short films)


@dataclass(frozen=True)
class Pacing:
    """The fixed parts of a film's layout for its duration (seconds)."""

    title: float
    end: float
    lead: float  # before a scene's first line (the scene title shows)
    gap: float  # between two lines
    tail: float  # after a scene's last line
    shown: float  # a shown-only line (transition, centered text)
    beat: float = 0.0  # silence before a line whose parenthetical is `(beat)` / `(pause)`

    @classmethod
    def for_duration(cls, duration: float) -> Pacing:
        s = min(1.0, max(0.35, duration / 45.0))  # short films get tighter minimums
        return cls(
            title=max(1.2, 2.6 * s), end=max(0.8, 1.8 * s), lead=0.5 * s, gap=0.28 * s,
            tail=0.45 * s, shown=SHOWN_SECONDS * s, beat=max(0.3, 0.6 * s),
        )

    def overhead(self, script: Script) -> float:
        """Seconds of the layout that are not speech, at the minimum pacing."""
        total = self.title + self.end
        for scene in script.scenes:
            spoken = [ln for ln in scene.lines if ln.spoken and ln.text.strip()]
            shown = [ln for ln in scene.lines if not ln.spoken and ln.text.strip()]
            total += self.lead + self.tail + self.gap * max(0, len(spoken) + len(shown) - 1)
            total += self.shown * len(shown) + self.beat * sum(beat_before(ln) for ln in spoken)
        return total


class Estimator(Protocol):
    """Seconds a text takes to speak at a words-per-minute rate, by a voice of the given pace."""

    def __call__(self, text: str, words_per_minute: float, pace: Pace = FALLBACK_PACE, /) -> float: ...

# The word estimate counts letters, so it reads an abjad (vowels unwritten), Han characters or
# Thai (no spaces) as less speech than the voices make of it. Measured against espeak-ng at 165
# and 230 wpm (real / estimated seconds, the larger of two sentences): Arabic 1.68, Hebrew 1.31,
# Chinese 1.67, Japanese 1.96, Thai 2.27; Latin, Cyrillic, Greek, Hangul, Devanagari 0.6..1.2.
# Without this the preflight accepted an Arabic script the render then refused.
_PACE_BY_WRITING_SYSTEM: tuple[tuple[float, tuple[tuple[int, int], ...]], ...] = (
    (1.7, ((0x0600, 0x06FF), (0x0750, 0x077F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))),  # Arabic
    (1.3, ((0x0590, 0x05FF),)),  # Hebrew
    (1.9, ((0x3040, 0x30FF),)),  # kana (Japanese, Han counted with it below)
    (1.7, ((0x4E00, 0x9FFF), (0x3400, 0x4DBF))),  # Han (Chinese)
    (2.2, ((0x0E00, 0x0E7F),)),  # Thai
)


def pace_factor(text: str) -> float:
    """How much longer than the word estimate `text` takes to speak, by its writing system."""
    letters = [ord(c) for c in text if c.isalpha()]
    if not letters:
        return 1.0
    kana = any(0x3040 <= cp <= 0x30FF for cp in letters)
    for factor, ranges in _PACE_BY_WRITING_SYSTEM:
        hits = sum(1 for cp in letters if any(lo <= cp <= hi for lo, hi in ranges))
        if kana and ranges[0][0] == 0x3040:
            hits += sum(1 for cp in letters if 0x4E00 <= cp <= 0x9FFF)
        if hits * 2 > len(letters):
            return factor
    return 1.0


def speech_seconds(script: Script, casting: dict[str, Voice], wpm: float, estimate: Estimator) -> float:
    """Estimated seconds of speech for the whole script at base rate `wpm` (see `pace_factor`)."""
    total = 0.0
    for line in script.spoken_lines:
        voice = casting.get(line.speaker)
        factor = voice.rate_factor if voice else 1.0
        pace = voice_for_text(voice, line.text).pace if voice else FALLBACK_PACE
        total += estimate(line.text, wpm * factor, pace) * pace_factor(line.text)
    return total


_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")


def count_words(text: str) -> int:
    """Words as a listener counts them ("don't", "well-known" and "2010" are one each)."""
    return len(_WORD.findall(text))


def spoken_wpm(texts: Sequence[str], seconds: Sequence[float]) -> float:
    """The real rate of finished clips: their words a minute over their seconds of speech (pauses in them included)."""
    total = sum(seconds)
    return 0.0 if total <= 0 else sum(count_words(t) for t in texts) * 60.0 / total


def tolerance(duration: float) -> float:
    """Allowed deviation from the requested duration: 3 %, or 1 s for short films."""
    return max(1.0, 0.03 * duration)


def choose_rate(
    script: Script, casting: dict[str, Voice], settings: RenderSettings, estimate: Estimator,
    *, keep: float | None = None,
) -> tuple[float, float]:
    """Pick the base words-per-minute; returns (wpm, estimated speech seconds).

    `keep`: the rate the film's last render used. It is kept while the script still fits at it
    (speech up to 96 % of the room, not slower than the 45 % rule asks), so a one-line edit does
    not re-speak every other line at a rate one step away. Raises SCRIPT_TOO_LONG, before any
    work, when even the fastest sane rate cannot fit.
    """
    duration = float(settings.duration)
    pacing = Pacing.for_duration(duration)
    room = duration - pacing.overhead(script)
    fastest = speech_seconds(script, casting, MAX_WPM, estimate)
    if fastest > room + tolerance(duration) * 0.5:
        needed = math.ceil(fastest + pacing.overhead(script))
        raise ScriptError(
            f"the script needs at least {needed} s at the fastest clear speaking rate, "
            f"but {int(duration)} s were requested; shorten the script or raise the duration",
            code="SCRIPT_TOO_LONG",
            details={"required_seconds": needed, "requested_seconds": int(duration),
                     "max_words_per_minute": int(MAX_WPM), "max_duration": 600},
        )
    natural = speech_seconds(script, casting, NATURAL_WPM, estimate)
    # Speech should fill at most ~88% of the room; slow speech reads as drawl, so stop at MIN_WPM.
    target = 0.88 * room
    wpm = NATURAL_WPM if natural <= target else NATURAL_WPM * natural / max(target, 1e-6)
    if natural < 0.45 * room:
        wpm = max(MIN_WPM, NATURAL_WPM * natural / (0.45 * room))
    wpm = min(MAX_WPM, max(MIN_WPM, math.ceil(wpm / WPM_STEP) * WPM_STEP))
    if keep is not None and keep != wpm and MIN_WPM <= keep <= MAX_WPM:
        kept = speech_seconds(script, casting, keep, estimate)
        if 0.45 * room * 0.9 <= kept <= 0.96 * room:
            return keep, kept
    return wpm, speech_seconds(script, casting, wpm, estimate)


NATURAL_FILL = 0.7  # a film of its natural length: speech fills this share of the room the layout leaves


def natural_duration(script: Script, casting: dict[str, Voice], estimate: Estimator) -> int:
    """Seconds the script wants: its speech at the natural rate plus the layout's pauses (within 5..600).

    Speech then fills ~70 % of the room, between choose_rate's 45 % (slower) and 88 % (faster) rules,
    so the film is spoken at the natural rate with unhurried gaps.
    """
    from filmstudio.domain.settings import MAX_DURATION, MIN_DURATION

    speech = speech_seconds(script, casting, NATURAL_WPM, estimate)
    duration = 45.0
    for _ in range(4):  # the pacing depends on the duration: settle it
        duration = speech / NATURAL_FILL + Pacing.for_duration(duration).overhead(script)
    return max(MIN_DURATION, min(MAX_DURATION, math.ceil(duration)))


@dataclass(frozen=True)
class Layout:
    """Frame-exact positions of every segment and line."""

    timeline: tuple[SceneTiming, ...]
    line_starts: dict[int, float]  # Line.index -> start seconds
    line_ends: dict[int, float]


def lay_out(
    script: Script, clip_seconds: dict[int, float], settings: RenderSettings
) -> Layout:
    """Place title, scenes, lines and end card so the film lasts `settings.duration` (frame-exact).

    Spare time goes first to the title card, then the end card, then evenly to the gaps inside
    scenes (in quantised steps), the end card taking what is left: a change inside one scene moves
    only its own shots and the end card, and every scene start stays put.
    """
    fps = settings.fps
    duration = float(settings.duration)
    pacing = Pacing.for_duration(duration)

    def lines_of(idx: int) -> list[Line]:
        return [ln for ln in script.scenes[idx].lines if ln.text.strip()]

    base_scene: list[float] = []
    n_gaps = 0
    for i in range(len(script.scenes)):
        lines = lines_of(i)
        body = sum((clip_seconds.get(ln.index, 0.0) + pacing.beat * beat_before(ln)) if ln.spoken else pacing.shown
                   for ln in lines)
        base_scene.append(pacing.lead + pacing.tail + body + pacing.gap * max(0, len(lines) - 1))
        n_gaps += max(0, len(lines) - 1) + 1  # gaps plus the tail
    slack = duration - (pacing.title + pacing.end + sum(base_scene))
    if slack < -tolerance(duration):
        raise ScriptError(
            f"the spoken script lasts {duration - slack:.1f} s, more than the {duration:.0f} s requested",
            code="SCRIPT_TOO_LONG",
            details={"required_seconds": math.ceil(duration - slack), "requested_seconds": int(duration)},
        )
    slack = max(0.0, slack)
    # The title card takes its share first and the end card the rest: an edit that changes the
    # script's length then changes the end card alone (the title card, and so every scene's start
    # and the score that follows them, stay as they were).
    title_extra = min(slack, max(2.0, 0.05 * duration))
    slack -= title_extra
    end_extra = min(slack, max(3.0, 0.06 * duration))
    slack -= end_extra
    # Quantised, so a small edit usually leaves every other gap (and so every other shot) as it
    # was; the end card takes the remainder.
    per_gap = math.floor(slack / n_gaps / GAP_STEP) * GAP_STEP if n_gaps else 0.0

    def snap(t: float) -> float:
        return round(t * fps) / fps

    def frames(seconds: float) -> int:
        return round(seconds * fps)

    # Positions are whole frames, each one the frame before it plus the rounded seconds between
    # them: an edit that moves a line by k frames moves everything after it in its scene by
    # exactly k frames (rounding `start + length` instead would round ties either way).
    timeline: list[SceneTiming] = []
    starts: dict[int, float] = {}
    ends: dict[int, float] = {}
    at = frames(pacing.title + title_extra)
    timeline.append(SceneTiming("title", -1, 0.0, at / fps))
    for i in range(len(script.scenes)):
        scene_start = at / fps
        since = pacing.lead  # seconds from frame `at` to the next position
        lines = lines_of(i)
        for j, ln in enumerate(lines):
            length = clip_seconds.get(ln.index, 0.0) if ln.spoken else pacing.shown
            if ln.spoken and beat_before(ln):
                since += pacing.beat  # the screenplay's (beat): a moment of silence, then the line
            # Lines start on frames: an edit shifts later lines by whole frames, so the shots
            # after it keep identical specs (and cached segments).
            at += frames(since)
            starts[ln.index] = at / fps
            ends[ln.index] = at / fps + length
            since = length + (pacing.gap + per_gap if j < len(lines) - 1 else 0.0)
        at += frames(since + pacing.tail + per_gap)
        timeline.append(SceneTiming("scene", i, scene_start, at / fps))
    t = at / fps
    end = snap(duration)
    if end - t < 0.5:  # rounding ate the end card: keep a visible one
        end = snap(t + max(0.5, pacing.end))
    timeline.append(SceneTiming("end", len(script.scenes), t, end))
    return Layout(tuple(timeline), starts, ends)


def scene_starts(timeline: Sequence[SceneTiming]) -> list[float]:
    return [seg.start for seg in timeline]
