"""Joining segments and muxing the finished film: audio, soft subtitles, chapters, faststart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from filmstudio.domain.settings import LANGUAGES
from filmstudio.pipeline.context import CancelToken, atomic_output
from filmstudio.pipeline.media.ffmpeg import run_ffmpeg


@dataclass(frozen=True)
class Chapter:
    title: str
    start: float
    end: float


@dataclass(frozen=True)
class SubtitleTrack:
    language: str  # ISO 639-1 code from LANGUAGES
    srt: Path


def _ffmeta_escape(text: str) -> str:
    out = text
    for ch in ("\\", "=", ";", "#", "\n"):
        out = out.replace(ch, "\\" + ch)
    return out


def write_ffmetadata(path: Path, *, title: str, chapters: Sequence[Chapter]) -> Path:
    """An ffmetadata file with the film title and one chapter per scene (millisecond timebase)."""
    lines = [";FFMETADATA1", f"title={_ffmeta_escape(title)}", ""]
    for ch in chapters:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={round(ch.start * 1000)}",
            f"END={round(ch.end * 1000)}",
            f"title={_ffmeta_escape(ch.title)}",
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def concat_list(path: Path, segments: Sequence[Path]) -> Path:
    """A concat-demuxer list file for `segments` (paths quoted for the demuxer)."""
    body = "".join("file '" + str(seg.resolve()).replace("'", "'\\''") + "'\n" for seg in segments)
    path.write_text(body, encoding="utf-8")
    return path


def mux_film(
    out: Path,
    *,
    segments: Sequence[Path],
    audio: Path,
    subtitles: Sequence[SubtitleTrack],
    chapters: Sequence[Chapter],
    title: str,
    duration: float,
    work_dir: Path,
    cancel: CancelToken | None = None,
    on_frame: Callable[[int], None] | None = None,
) -> Path:
    """Join video segments by stream copy and mux AAC audio, mov_text subtitles and chapters.

    `audio` is a WAV (encoded to AAC here) or an .m4a already in AAC (copied, see `encode_aac`).
    The film is written to a temp file beside `out` and renamed only when complete.
    """
    listing = concat_list(work_dir / "segments.txt", segments)
    meta = write_ffmetadata(work_dir / "chapters.ffmeta", title=title, chapters=chapters)
    args: list[str] = ["-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(audio)]
    for track in subtitles:
        args += ["-sub_charenc", "UTF-8", "-i", str(track.srt)]
    meta_index = 2 + len(subtitles)
    args += ["-i", str(meta)]
    args += ["-map", "0:v:0", "-map", "1:a:0"]
    for i in range(len(subtitles)):
        args += ["-map", f"{2 + i}:s:0"]
    args += ["-map_metadata", str(meta_index), "-map_chapters", str(meta_index)]
    args += ["-c:v", "copy"]
    args += ["-c:a", "copy"] if audio.suffix == ".m4a" else ["-c:a", *AAC_ARGS]
    if subtitles:
        args += ["-c:s", "mov_text"]
    for i, track in enumerate(subtitles):
        lang = LANGUAGES[track.language]
        args += [
            f"-metadata:s:s:{i}", f"language={lang.iso639_2}",
            f"-metadata:s:s:{i}", f"handler_name={lang.name}",
            f"-metadata:s:s:{i}", f"title={lang.name}",
        ]
        if i == 0:
            args += [f"-disposition:s:{i}", "default"]
    args += ["-metadata:s:a:0", "handler_name=Soundtrack", "-metadata:s:v:0", "handler_name=FilmStudio"]
    args += ["-t", f"{duration:.3f}", "-movflags", "+faststart", "-f", "mp4"]
    with atomic_output(out) as tmp:
        run_ffmpeg([*args, str(tmp)], cancel=cancel, on_frame=on_frame)
    return out


AAC_ARGS = ("aac", "-b:a", "192k", "-ar", "48000", "-ac", "2")


def encode_aac(wav: Path, out: Path, *, cancel: CancelToken | None = None) -> Path:
    """The film's soundtrack as AAC in an .m4a (atomic), for mux_film to copy.

    Encoding takes about a second per minute of film on one core; done while the segments
    encode, it is off the critical path of a (re-)render.
    """
    with atomic_output(out) as tmp:
        run_ffmpeg(["-i", str(wav), "-vn", "-c:a", *AAC_ARGS, "-f", "mp4", str(tmp)], cancel=cancel)
    return out
