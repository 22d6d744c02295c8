"""The values that flow through the pipeline. All frozen: stages return new values."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.engines import PITCH_PER_SEMITONE, Voice, WordTiming

# `Voice` and its pitch scale belong to the Voices seam (`engines`); the plan holds them.
__all__ = ["NARRATOR", "PITCH_PER_SEMITONE", "Cue", "Line", "LineKind", "RenderPlan", "SceneTiming", "Script", "TimedLine",
           "Voice", "WordTiming"]

LineKind = Literal["dialogue", "action", "narration", "lyric", "centered", "transition"]

NARRATOR = "NARRATOR"


@dataclass(frozen=True)
class Line:
    """One unit of the film's text: spoken by a voice and/or shown on screen."""

    index: int  # position in the whole script (stable id for subtitles and translations)
    kind: LineKind
    text: str  # clean text: markup stripped, what is spoken and subtitled
    speaker: str = NARRATOR  # character name (upper case) or NARRATOR
    parenthetical: str | None = None  # e.g. "(whispering)" -> may steer delivery
    extension: str | None = None  # "V.O.", "O.S.", "CONT'D"
    dual: bool = False  # second half of a dual-dialogue pair
    spoken: bool = True  # transitions/centered text are shown, not spoken
    asides: tuple[str, ...] = ()  # screenplay asides taken out of `text`: "(60s)" in "MARA (60s) climbs"
    written: str = ""  # the line as written (asides kept) when it differs from `text`, e.g. for intro ages


@dataclass(frozen=True)
class Scene:
    """A scene: heading facts for the look, and its lines in order."""

    index: int
    heading: str | None  # full heading as written, e.g. "EXT. NIGHT MARKET - NIGHT"
    int_ext: str | None  # "INT", "EXT", "INT/EXT" or None (prose)
    location: str  # "NIGHT MARKET" ("" for prose)
    time_of_day: str | None  # "DAY", "NIGHT", "DAWN", "DUSK", "MORNING", "EVENING", "CONTINUOUS"...
    lines: tuple[Line, ...]
    section: str | None = None  # enclosing `#` section title
    number: str | None = None  # scene number `#12#` when given


@dataclass(frozen=True)
class Script:
    """A parsed script: title, scenes and the characters in order of first appearance."""

    title: str
    scenes: tuple[Scene, ...]
    characters: tuple[str, ...]
    title_page: dict[str, str] = field(default_factory=dict)
    is_fountain: bool = False
    synopses: tuple[str, ...] = ()  # `= ...` lines: the writer's notes on the story, read for who characters are

    @property
    def lines(self) -> tuple[Line, ...]:
        return tuple(line for scene in self.scenes for line in scene.lines)

    @property
    def spoken_lines(self) -> tuple[Line, ...]:
        return tuple(line for line in self.lines if line.spoken and line.text.strip())


@dataclass(frozen=True)
class TimedLine:
    """A spoken line placed on the film's timeline, with its synthesised clip."""

    line: Line
    scene_index: int
    start: float  # seconds from the film's start, where its audio starts
    end: float
    clip: Path | None  # WAV of the line (None for shown-only lines)
    words: tuple[WordTiming, ...] = ()  # its spoken words on the film's timeline, where the voice gave them


@dataclass(frozen=True)
class SceneTiming:
    """Where a segment of the film sits: the title card, each scene, the end card."""

    kind: Literal["title", "scene", "end"]
    scene_index: int  # -1 for title, len(scenes) for end card
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Cue:
    """One subtitle cue: up to two lines of up to 42 characters."""

    index: int
    start: float
    end: float
    text: str  # lines joined with "\n"
    line_index: int  # the script Line it comes from


@dataclass(frozen=True)
class RenderPlan:
    """The film as it takes shape. Each stage fills in its part and returns a new plan."""

    settings: RenderSettings
    script_text: str
    work_dir: Path
    output: Path
    script: Script | None = None
    casting: dict[str, Voice] = field(default_factory=dict)
    words_per_minute: float = 175.0
    timed_lines: tuple[TimedLine, ...] = ()
    timeline: tuple[SceneTiming, ...] = ()
    voice_track: Path | None = None  # all speech on the film's timeline (WAV)
    subtitles: dict[str, tuple[Cue, ...]] = field(default_factory=dict)  # lang -> cues
    subtitle_files: dict[str, dict[str, Path]] = field(default_factory=dict)  # lang -> {"srt": p, "vtt": p}
    subtitle_report: dict[str, dict[str, Any]] = field(default_factory=dict)  # lang -> media.readability report
    music_track: Path | None = None
    mix_track: Path | None = None  # final audio, loudness-normalised
    segment_specs: tuple[Any, ...] = ()  # what each segment shows (providers.visuals.SegmentSpec)
    segments: tuple[Path, ...] = ()  # video-only segments in timeline order
    sets: tuple[dict[str, Any], ...] = ()  # the manifest's `sets`, per segment (the rendering stage's, cached)
    video: Path | None = None  # the finished film (at `output` once complete)
    encoder: str | None = None  # the H.264 encoder that made it
    thumbnail: Path | None = None  # the film's shape (vertical for a vertical film)
    youtube_thumbnail: Path | None = None  # 1280x720 (the same file as `thumbnail` for a landscape film)
    warnings: tuple[str, ...] = ()
    stage_seconds: dict[str, float] = field(default_factory=dict)
    images: tuple[Path, ...] = ()  # the user's pictures for scene backgrounds, in order
    title: str | None = None  # the user's title (a project's), wins over the script's title page
    fallback_title: str | None = None  # e.g. from the file name, when the script names no title
    continuity: str | None = None  # the film's identity across renders (keeps its speaking rate on an edit)
    storyboard_edits: Path | None = None  # the project's storyboard edits (JSON)
    duration_from_script: bool = False  # settings.duration is replaced by the script's natural length
    script_duration: int | None = None  # seconds the script wants at a natural pace (fit.natural_duration)
    stills: tuple[Path, ...] = ()  # the generated stills, one per shot that has one
    stills_drawn: int = 0  # of those, drawn by this render (the rest came from the cache)
    stills_seconds: float = 0.0  # the time drawing them took
    shot_stills: dict[int, Path] = field(default_factory=dict)  # storyboard shot number -> its still
    shot_clips: dict[int, Path] = field(default_factory=dict)  # storyboard shot number -> its clip (moving shots)
    clips_made: int = 0  # clips made by this render's video model (the rest came from the cache)
    clips_seconds: float = 0.0  # the time making them took

    @property
    def duration(self) -> float:
        return self.timeline[-1].end if self.timeline else float(self.settings.duration)
