"""The whole pipeline for real: the default voices (Piper, espeak-ng for what it cannot read), music, ffmpeg."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from filmstudio.domain.errors import Cancelled
from filmstudio.domain.settings import parse_settings
from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.media.captions import parse_srt
from media_checks import decode_frame, ebur128, ffprobe
from studio_engines import real_engines
from studio_engines import render_film as render

pytestmark = pytest.mark.slow

SCRIPT = """Title: Two Rooms
Author: Test Writer

EXT. HARBOUR - DAY

Gulls circle over the bright water.

ANNA
The boat is late again.

BEN
It is always late on Sundays.

CUT TO:

INT. CELLAR - NIGHT

A single candle. Ben counts coins.

BEN
We have enough for one more week.
"""

# Same line structure as SCRIPT, in Spanish.
SCRIPT_ES = """Title: Dos habitaciones
Author: Test Writer

EXT. PUERTO - DÍA

Las gaviotas vuelan sobre el agua brillante.

ANNA
El barco llega tarde otra vez.

BEN
Siempre llega tarde los domingos.

CORTE A:

INT. SÓTANO - NOCHE

Una sola vela. Ben cuenta monedas.

BEN
Tenemos suficiente para una semana más.
"""

SIZE = (320, 180)


def _settings(**over: Any) -> Any:
    base: dict[str, Any] = {
        "duration": 20, "style": "cinematic", "resolution": "320x180", "fps": 12, "music_genre": "epic",
        "subtitle_languages": ["en", "es", "fr"], "translations": {"es": SCRIPT_ES},
    }
    base.update(over)
    return parse_settings(base)


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], Path]:
    root = tmp_path_factory.mktemp("film")
    cache = root / "cache"
    out = root / "out" / "two-rooms.mp4"
    manifest = render(SCRIPT, _settings(), out, work_dir=root / "work", cache_dir=cache)
    return out, manifest, cache


def test_film_streams_codecs_duration_and_tracks(film: tuple[Path, dict[str, Any], Path]) -> None:
    out, manifest, _ = film
    info = ffprobe(out)
    video = [s for s in info["streams"] if s["codec_type"] == "video"]
    audio = [s for s in info["streams"] if s["codec_type"] == "audio"]
    subs = [s for s in info["streams"] if s["codec_type"] == "subtitle"]
    assert [v["codec_name"] for v in video] == ["h264"]
    assert video[0]["pix_fmt"] == "yuv420p"
    assert (video[0]["width"], video[0]["height"]) == SIZE
    assert video[0]["r_frame_rate"] == "12/1"
    assert int(video[0]["nb_frames"]) == round(manifest["duration"] * 12)  # constant frame rate, no drops
    assert [a["codec_name"] for a in audio] == ["aac"]
    assert [s["codec_name"] for s in subs] == ["mov_text", "mov_text"]
    assert [s["tags"]["language"] for s in subs] == ["eng", "spa"]
    assert [s["tags"]["handler_name"] for s in subs] == ["English", "Spanish"]
    duration = float(info["format"]["duration"])
    assert abs(duration - 20) <= 1.0, duration
    assert abs(manifest["duration"] - 20) <= 1.0
    # Chapters: title card, the two scenes, end card.
    titles = [c["tags"]["title"] for c in info["chapters"]]
    assert titles[1:3] == ["EXT. HARBOUR - DAY", "INT. CELLAR - NIGHT"]
    assert len(titles) == 4
    # +faststart: the moov atom comes before mdat.
    head = out.read_bytes()[:4096]
    assert b"moov" in head


def test_outputs_beside_the_film_and_manifest(film: tuple[Path, dict[str, Any], Path]) -> None:
    out, manifest, _ = film
    stem = out.with_suffix("")
    for lang in ("en", "es"):
        assert Path(f"{stem}.{lang}.srt").stat().st_size > 0
        vtt = Path(f"{stem}.{lang}.vtt").read_text(encoding="utf-8")
        assert vtt.startswith("WEBVTT")
    assert not Path(f"{stem}.fr.srt").exists()
    on_disk = json.loads(Path(f"{stem}.manifest.json").read_text(encoding="utf-8"))
    assert on_disk["outputs"]["video"] == str(out)
    assert set(on_disk["stage_seconds"]) == {
        "script_analysis", "voice_synthesis", "subtitles", "music_generation", "visual_generation",
        "rendering", "thumbnail",
    }
    # French was asked for but has neither a translation nor a translator: a warning, never a silent gap.
    assert any("fr" in w and "French" in w for w in manifest["warnings"]), manifest["warnings"]
    thumb = ffprobe(Path(f"{stem}.jpg"))["streams"][0]
    assert (thumb["codec_name"], thumb["width"], thumb["height"]) == ("mjpeg", 1280, 720)
    voices = {(c["voice"], c["pitch"]) for c in manifest["casting"].values()}
    assert len(voices) == len(manifest["casting"]) >= 3  # narrator, Anna, Ben all sound different
    # Nothing but finished files in the output folder.
    assert not [p for p in out.parent.iterdir() if "partial" in p.name]


def test_subtitle_cues_start_with_their_voice_clips(film: tuple[Path, dict[str, Any], Path]) -> None:
    out, manifest, _ = film
    spoken = [ln for sc in manifest["scenes"] if sc["kind"] == "scene" for ln in sc["lines"] if ln["spoken"]]
    for lang in ("en", "es"):
        cues = parse_srt(Path(f"{out.with_suffix('')}.{lang}.srt"))
        starts = [c.start for c in cues]
        for line in spoken:
            assert min(abs(s - line["start"]) for s in starts) <= 0.05, (lang, line)
        for cue in cues:
            rows = cue.text.split("\n")
            assert len(rows) <= 2 and all(len(r) <= 42 for r in rows)
    es = Path(f"{out.with_suffix('')}.es.srt").read_text(encoding="utf-8")
    assert "domingos" in es and "Sundays" not in es


def test_loudness_is_mastered(film: tuple[Path, dict[str, Any], Path]) -> None:
    out, _, _ = film
    integrated, peak = ebur128(out)
    assert -15.0 <= integrated <= -13.0, integrated
    assert peak <= -1.0, peak


def test_night_scene_is_darker_than_day_scene(film: tuple[Path, dict[str, Any], Path]) -> None:
    out, manifest, _ = film
    scenes = [s for s in manifest["scenes"] if s["kind"] == "scene"]
    day, night = scenes
    assert (day["time_of_day"], night["time_of_day"]) == ("DAY", "NIGHT")
    lum = []
    for scene in (day, night):
        t = scene["start"] + (scene["end"] - scene["start"]) * 0.7
        frame = decode_frame(out, t, SIZE).astype(np.float64)
        lum.append(float((0.2126 * frame[..., 0] + 0.7152 * frame[..., 1] + 0.0722 * frame[..., 2]).mean()))
    assert lum[1] < lum[0] * 0.8, lum


def test_rerender_reuses_work_and_changed_scene_only(
    film: tuple[Path, dict[str, Any], Path], tmp_path: Path
) -> None:
    _, _, cache = film
    before_tts = set((cache / "tts").glob("*.wav"))  # clips (a neural clip has a .words.json beside it)
    before_seg = set((cache / "segments").iterdir())
    edited = SCRIPT.replace("We have enough for one more week.", "We have enough for one more month.")
    manifest = render(edited, _settings(), tmp_path / "edited.mp4", work_dir=tmp_path / "w", cache_dir=cache)
    new_tts = set((cache / "tts").glob("*.wav")) - before_tts
    new_seg = set((cache / "segments").iterdir()) - before_seg
    assert len(new_tts) == 1  # only the edited line was spoken again
    # The edited scene's segment is new; the title card and the first scene are reused.
    assert 1 <= len(new_seg) <= 2, new_seg
    assert abs(manifest["duration"] - 20) <= 1.0


def test_a_rerender_reads_what_reused_segments_show_from_the_cache(
    film: tuple[Path, dict[str, Any], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest's `sets` of reused segments are read from the cache: no layout of theirs is drawn
    again (a fresh process painted every set once more for them). And the render gave the neural
    voice's memory back once its lines were spoken."""
    import filmstudio.pipeline.providers.visuals as visuals

    _, first, cache = film
    assert real_engines().voices.engines["piper"].loaded == ()  # type: ignore[attr-defined]

    def drawn(spec: Any, t: float) -> Any:
        raise AssertionError("a reused segment's layout was drawn again")

    monkeypatch.setattr(visuals, "layers_at", drawn)
    again = render(SCRIPT, _settings(), tmp_path / "again.mp4", work_dir=tmp_path / "w", cache_dir=cache)
    assert again["sets"] == first["sets"]
    assert all(record["frame_layers"] for record in again["sets"])


def test_cancel_stops_within_a_second_and_leaves_no_file(tmp_path: Path) -> None:
    cancel = CancelToken()
    out = tmp_path / "cancelled.mp4"
    seen: list[str] = []
    error: list[BaseException] = []
    cancelled_at: list[float] = []
    stopped_at: list[float] = []

    def progress(step: str, fraction: float) -> None:
        seen.append(step)
        # Cancel once ffmpeg is really encoding (a few frame reports into the rendering step).
        if seen.count("rendering") == 4 and not cancel.cancelled:
            cancelled_at.append(time.monotonic())
            cancel.cancel()

    def run() -> None:
        try:
            render(SCRIPT, _settings(music_genre="calm", duration=25, resolution="1280x720", fps=24), out, work_dir=tmp_path / "w",
                   cache_dir=tmp_path / "cache", progress=progress, cancel=cancel)
        except BaseException as exc:
            error.append(exc)
            stopped_at.append(time.monotonic())

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive()
    assert error and isinstance(error[0], Cancelled)
    assert "rendering" in seen
    # Honoured promptly, ffmpeg included (a loose bound: an ignored cancel takes the whole render).
    assert stopped_at[0] - cancelled_at[0] < 3.0
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".mp4" or "partial" in p.name]


VERTICAL_SCRIPT = """Title: Harbour Lights

EXT. HARBOUR - DUSK

Boats rock at the quay.

ANNA
The lights are coming on, one by one, along the water.

DISSOLVE TO:

EXT. LIGHTHOUSE - NIGHT

BEN
Then we are home.
"""


@pytest.fixture(scope="module")
def vertical(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("vertical")
    out = root / "out" / "harbour.mp4"
    settings = parse_settings({"duration": 10, "style": "documentary", "resolution": "180x320", "fps": 12,
                               "burn_subtitles": True, "subtitle_languages": ["en"]})
    manifest = render(VERTICAL_SCRIPT, settings, out, work_dir=root / "work", cache_dir=root / "cache")
    return out, manifest


def test_vertical_film_thumbnails_and_burned_subtitle_track(vertical: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = vertical
    thumb = ffprobe(Path(manifest["outputs"]["thumbnail"]))["streams"][0]
    assert (thumb["width"], thumb["height"]) == (720, 1280)  # the film's shape
    youtube = Path(manifest["outputs"]["youtube_thumbnail"])
    assert youtube.name == "harbour.youtube.jpg" and youtube.parent == out.parent
    yt = ffprobe(youtube)["streams"][0]
    assert (yt["width"], yt["height"]) == (1280, 720)
    info = ffprobe(out)
    subs = [s for s in info["streams"] if s["codec_type"] == "subtitle"]
    assert subs and all(s["disposition"]["default"] == 0 for s in subs)  # burned in: not drawn twice
    langs = {s["codec_type"]: s.get("tags", {}).get("language") for s in info["streams"]}
    assert langs["video"] == langs["audio"] == "eng"


@pytest.mark.slow
def test_a_one_line_edit_keeps_the_films_speaking_rate(tmp_path: Path) -> None:
    """The edit below, alone, would move night-market's rate a step (175 -> 180 wpm) and re-speak every line.

    The film's last rate is kept while the script still fits at it, so only the edited line is spoken again.
    """
    source = (Path(__file__).resolve().parents[1] / "data" / "samples" / "night-market.fountain").read_text()
    edited = source.replace("I only needed one more try.", "I only needed one more try, one more coin.")
    settings = _settings(duration=60, subtitle_languages=["en"], translations={})
    cache = tmp_path / "cache"
    fresh = render(edited, settings, tmp_path / "fresh.mp4", work_dir=tmp_path / "w0", cache_dir=tmp_path / "c0")
    first = render(source, settings, tmp_path / "a.mp4", work_dir=tmp_path / "w1", cache_dir=cache, continuity="film")
    assert fresh["words_per_minute"] != first["words_per_minute"]  # the edit alone would change the rate
    clips = {p.name for p in (cache / "tts").glob("*.wav")}
    second = render(edited, settings, tmp_path / "b.mp4", work_dir=tmp_path / "w2", cache_dir=cache,
                    continuity="film")
    assert second["words_per_minute"] == first["words_per_minute"]
    new = {p.name for p in (cache / "tts").glob("*.wav")} - clips
    assert 1 <= len(new) <= 2, new  # the edited line (and at most its treated copy), not the whole film
    assert abs(second["duration"] - 60) <= 1.8
