"""The finished film's container: stream language tags, and which soft subtitle track is default."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from filmstudio.pipeline.media.mux import Chapter, SubtitleTrack, mux_film
from media_checks import ffprobe


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[SubtitleTrack]]:
    root = tmp_path_factory.mktemp("mux")
    seg, wav = root / "seg.mp4", root / "a.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=gray:s=64x36:r=10:d=2",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(seg)], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=440:d=2", str(wav)], check=True)
    tracks = []
    for lang in ("de", "en"):
        srt = root / f"{lang}.srt"
        srt.write_text("1\n00:00:00,200 --> 00:00:01,500\nHallo\n", encoding="utf-8")
        tracks.append(SubtitleTrack(lang, srt))
    return seg, wav, tracks


def _mux(parts: tuple[Path, Path, list[SubtitleTrack]], out: Path, **kw: object) -> dict:  # type: ignore[type-arg]
    seg, wav, tracks = parts
    mux_film(out, segments=[seg], audio=wav, subtitles=tracks, chapters=[Chapter("A", 0, 2)], title="T",
             duration=2.0, work_dir=out.parent, **kw)  # type: ignore[arg-type]
    return ffprobe(out)


def test_video_and_audio_carry_the_films_language(parts: tuple[Path, Path, list[SubtitleTrack]],
                                                  tmp_path: Path) -> None:
    info = _mux(parts, tmp_path / "film.mp4", language="de")
    tags = {s["codec_type"]: s.get("tags", {}).get("language") for s in info["streams"]
            if s["codec_type"] in ("video", "audio")}
    assert tags == {"video": "deu", "audio": "deu"}


def test_burned_language_is_not_a_default_soft_track(parts: tuple[Path, Path, list[SubtitleTrack]],
                                                     tmp_path: Path) -> None:
    soft = _mux(parts, tmp_path / "soft.mp4", language="de")
    burned = _mux(parts, tmp_path / "burned.mp4", language="de", burned="de")
    subs = [s for s in soft["streams"] if s["codec_type"] == "subtitle"]
    assert [s["disposition"]["default"] for s in subs] == [1, 0]
    subs = [s for s in burned["streams"] if s["codec_type"] == "subtitle"]
    assert len(subs) == 2 and [s["disposition"]["default"] for s in subs] == [0, 0]
