"""The mix made in the background (beside the frames) and its score cached across voice edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from filmstudio.domain.errors import RenderFailed
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.context import Cache, CancelToken, StageContext
from filmstudio.pipeline.engines import SpeechRequest
from filmstudio.pipeline.media.audio import write_voice_track
from filmstudio.pipeline.plan import RenderPlan, SceneTiming, Script, Voice
from filmstudio.pipeline.providers.tts import EspeakTts
from filmstudio.pipeline.stages.music_generation import MusicGeneration, wait_for_mix
from studio_engines import real_engines

SR = 48000
DURATION = 20.0
TIMELINE = (SceneTiming("scene", 0, 0.0, 9.0), SceneTiming("scene", 1, 9.0, DURATION))


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("clips")
    voice = Voice("A", "gmw/en-US", "m3", 35, 1.0)
    lines = ["Out by the harbour, watching the ships.", "Tonight I did.", "Tonight I did, and I stayed."]
    reqs = [SpeechRequest(t, voice, 175, folder / f"{i}.wav") for i, t in enumerate(lines)]
    return [c.path for c in EspeakTts(jobs=2).synthesize_many(reqs, cancel=CancelToken())]


def _plan(tmp: Path, clips: list[Path], name: str) -> RenderPlan:
    tmp.mkdir(parents=True, exist_ok=True)
    write_voice_track(tmp / name, [(c, 1.0 + 9.0 * i) for i, c in enumerate(clips)], DURATION, SR)
    return RenderPlan(settings=RenderSettings(duration=20, music_genre="epic"), script_text="", work_dir=tmp,
                      output=tmp / "film.mp4", script=Script("Harbour", (), ()), timeline=TIMELINE,
                      voice_track=tmp / name)


def _ctx(cache: Path, *, overlap: bool) -> StageContext:
    return StageContext(engines=real_engines(), cache=Cache(cache), progress=lambda s, f: None,
                        cancel=CancelToken(), overlap=overlap)


def test_background_mix_equals_the_mix_made_in_line(clips: list[Path], tmp_path: Path) -> None:
    plan = _plan(tmp_path / "a", clips[:2], "voice.wav")
    inline = MusicGeneration().run(plan, _ctx(tmp_path / "c1", overlap=False)).mix_track
    ctx = _ctx(tmp_path / "c2", overlap=True)
    later = MusicGeneration().run(plan, ctx).mix_track
    assert inline is not None and later is not None and inline.name == later.name
    wait_for_mix(ctx)
    ctx.background.close()
    assert later.exists() and later.read_bytes() == inline.read_bytes()
    assert ctx.background.seconds["music_generation"] > 0


def test_an_edited_line_remixes_over_the_cached_score(clips: list[Path], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = MusicGeneration().run(_plan(tmp_path / "a", clips[:2], "voice.wav"), _ctx(cache, overlap=False))
    scores = set((cache / "score").iterdir())
    assert len(scores) == 1
    # The second line spoken differently: a new voice track, same length and scenes.
    edited = MusicGeneration().run(_plan(tmp_path / "b", [clips[0], clips[2]], "voice.wav"),
                                   _ctx(cache, overlap=False))
    assert edited.mix_track != first.mix_track and edited.mix_track is not None and edited.mix_track.exists()
    assert set((cache / "score").iterdir()) == scores  # the score was read back, not composed again


def test_a_failed_background_mix_raises_where_it_is_awaited(tmp_path: Path) -> None:
    plan = RenderPlan(settings=RenderSettings(duration=20, music_genre="epic"), script_text="", work_dir=tmp_path,
                      output=tmp_path / "film.mp4", script=Script("Harbour", (), ()), timeline=TIMELINE,
                      voice_track=tmp_path / "missing.wav")
    (tmp_path / "missing.wav").write_bytes(b"RIFF-not-a-wav")
    ctx = _ctx(tmp_path / "cache", overlap=True)
    try:
        MusicGeneration().run(plan, ctx)
        with pytest.raises(RenderFailed) as err:
            wait_for_mix(ctx)
        assert err.value.code == "AUDIO_INVALID"
    finally:
        ctx.background.close()
    assert not any((tmp_path / "cache" / "mix").iterdir())
