"""AnimateDiff end to end, offline: a tiny Stable Diffusion (pulled as `sd15`), a tiny motion adapter and a
tiny IP-Adapter, built from config, served by the fake hub, pulled by the model manager, loaded by the
real diffusers loader through the composition root, making real clips that ffmpeg decodes."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("diffusers")

from PIL import Image

from fakehub import COMMIT, FakeHub
from filmstudio.app.compose import build_engines, motion_engine
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.engines import ClipRequest, MotionOutOfMemory, clip_path
from filmstudio.pipeline.models.catalogue import load_catalogue
from filmstudio.pipeline.models.download import pull
from filmstudio.pipeline.models.library import ModelLibrary
from filmstudio.pipeline.providers.animatediff import AnimateDiffMotion
from filmstudio.pipeline.providers.motion import ModelShape
from filmstudio.pipeline.providers.reference_adapter import ADAPTER_ID
from motion_checks import catalogue_entry, clip_frames
from studio_engines import render_film
from tiny_ip_adapter import build_tiny_ip_adapter
from tiny_motion_adapter import build_tiny_motion_adapter
from tiny_sd import build_tiny_sd, folder_files

MOTION_ID = "animatediff-motion-adapter-sd15"
TINY_SHAPE = ModelShape(max_frames=6, fps=8, native_side=64, frames_step=1, steps=2, guidance=7.5)
SCRIPT = """Title: Pier

EXT. HARBOUR - NIGHT

MIRA waits on the pier.

MIRA
The boat is late again tonight.
"""

Pull = Callable[..., Path]


@pytest.fixture(scope="module")
def pulled(tmp_path_factory: pytest.TempPathFactory) -> Pull:
    """Pull some of the tiny models (by their catalogue ids: sd15, the motion adapter, the IP-Adapter) into a
    fresh model library; `revision` pins the motion adapter's."""
    root = tmp_path_factory.mktemp("animatediff")
    sd = build_tiny_sd(root / "built-sd")
    files = {"sd15": folder_files(sd), MOTION_ID: folder_files(build_tiny_motion_adapter(root / "built-motion")),
             ADAPTER_ID: folder_files(build_tiny_ip_adapter(root / "built-ip", sd / "unet"))}
    kinds = {"sd15": ("picture", "diffusers"), MOTION_ID: ("video", "diffusers-animatediff"),
             ADAPTER_ID: ("picture", "ip-adapter")}
    made = [0]

    def into(*ids: str, revision: str = COMMIT) -> Path:
        made[0] += 1
        models = root / f"models-{made[0]}"
        catalogue = root / f"catalogue-{made[0]}.toml"
        catalogue.write_text("\n".join(
            catalogue_entry(mid, f"test/{mid}", files[mid], kind=kinds[mid][0], engine=kinds[mid][1],
                            revision=revision if mid == MOTION_ID else COMMIT) for mid in ids), encoding="utf-8")
        with FakeHub(repos={f"test/{mid}": files[mid] for mid in ids}) as hub:
            for mid in ids:
                pull(load_catalogue(catalogue).get(mid), ModelLibrary(models), endpoint=hub.endpoint)
        return models

    return into


def _tiny(engine: Any) -> AnimateDiffMotion:
    assert isinstance(engine, AnimateDiffMotion)
    engine.shape, engine.steps = TINY_SHAPE, 2
    return engine


def _still(path: Path, colour: tuple[int, int, int]) -> Path:
    """A still with a shape in it (a flat colour is nearly nothing to an image encoder)."""
    img = Image.new("RGB", (64, 64), colour)
    img.paste((255 - colour[0], 255 - colour[1], 255 - colour[2]), (8, 20, 40, 56))
    img.save(path)
    return path


def _request(tmp_path: Path, still: Path, name: str, frames: int = 6) -> ClipRequest:
    return ClipRequest(still=still, prompt="a woman on the street at night", negative_prompt="", seed=7,
                       frames=frames, fps=8, width=64, height=64, out=tmp_path / f"{name}.mp4", steps=2)


def test_the_adapter_over_sd15_animates_the_prompt(pulled: Pull, tmp_path: Path) -> None:
    models = pulled("sd15", MOTION_ID)
    engines = build_engines(jobs=2, models_dir=models)
    motion = _tiny(engines.motion)
    # sd15 stays the picture model; the adapter is the video engine over it, text-to-video without the IP-Adapter.
    assert engines.pictures is not None and engines.pictures.identity().model == "sd15"
    assert engines.motion_advice is None
    assert motion.base == models / "sd15" and not motion.capabilities().image_conditioned
    identity = motion.identity()
    assert (identity.model, identity.revision, identity.base, identity.base_revision, identity.references) == \
        (MOTION_ID, COMMIT, "sd15", COMMIT, None)
    info = motion.info()
    assert info.ok and info.details["pipeline"] == "AnimateDiffPipeline" and info.details["base"] == "sd15"
    assert "ip-adapter-sd15" in info.details["references_advice"]

    seen: list[float] = []
    made = motion.animate(_request(tmp_path, _still(tmp_path / "s.png", (200, 60, 40)), "clip"),
                          cancel=CancelToken(), progress=seen.append)
    assert (made.frames, made.width, made.height, made.warning) == (6, 64, 64, "")
    assert type(motion.pipeline()).__name__ == "AnimateDiffPipeline"
    assert seen[:2] == [0.5, 1.0] and seen[-1] == 1.0  # per denoising step, then done
    frames = clip_frames(made.path)
    assert frames.shape == (6, 64, 64, 3)
    steps = np.abs(np.diff(frames.astype(float), axis=0)).mean(axis=(1, 2, 3))
    assert (steps > 0.5).all(), steps  # every frame differs from the one before it (measured: ~35 levels of 255)
    # Text-to-video: another still, same prompt and seed, is the same clip (the IP-Adapter test's control).
    other = motion.animate(_request(tmp_path, _still(tmp_path / "b.png", (30, 60, 210)), "other"), cancel=CancelToken())
    assert float(np.abs(clip_frames(other.path).astype(float) - frames).mean()) < 0.5
    # An existing clip is a cache hit: nothing is made again.
    stamp = made.path.stat().st_mtime_ns
    again = motion.animate(_request(tmp_path, tmp_path / "s.png", "clip"), cancel=CancelToken())
    assert again.path.stat().st_mtime_ns == stamp


def test_with_the_ip_adapter_the_still_steers_the_clip(pulled: Pull, tmp_path: Path) -> None:
    models = pulled("sd15", MOTION_ID, ADAPTER_ID)
    motion = _tiny(motion_engine(models))
    assert motion.reference is not None and motion.capabilities().image_conditioned
    identity = motion.identity()
    assert identity.references is not None and identity.references.adapter == ADAPTER_ID
    red, blue = _still(tmp_path / "red.png", (200, 40, 40)), _still(tmp_path / "blue.png", (30, 60, 210))
    one = clip_frames(motion.animate(_request(tmp_path, red, "red"), cancel=CancelToken()).path).astype(float)
    same = clip_frames(motion.animate(_request(tmp_path, red, "red-again"), cancel=CancelToken()).path)
    other = clip_frames(motion.animate(_request(tmp_path, blue, "blue"), cancel=CancelToken()).path).astype(float)
    # Same still, prompt and seed: the same clip; another still: another clip (the prompt and seed are the same).
    # Measured: 0.0 and 3.3 levels of 255 (without the IP-Adapter the other still gives 0.0: the first test).
    assert float(np.abs(one - same).mean()) < 0.5
    assert float(np.abs(one - other).mean()) > 1.5


def test_the_clip_key_changes_with_the_adapter_and_sd15_revisions(pulled: Pull, tmp_path: Path) -> None:
    pinned, moved = motion_engine(pulled("sd15", MOTION_ID)), motion_engine(pulled("sd15", MOTION_ID, revision="main"))
    assert pinned is not None and moved is not None
    a, b = pinned.identity(), moved.identity()
    assert (a.revision, b.revision) == (COMMIT, "main") and a.base_revision == b.base_revision == COMMIT

    def key(identity: Any) -> Path:
        return clip_path(tmp_path, identity, "still", "prompt", "", 1, 16, (512, 512), 8, 25)

    assert key(a) != key(b)
    from dataclasses import replace

    assert key(replace(a, base_revision="other")) != key(a)  # a re-pulled sd15 re-animates too


def test_out_of_memory_falls_back_to_fewer_frames_then_gives_up(pulled: Pull, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    motion = _tiny(motion_engine(pulled("sd15", MOTION_ID)))
    pipe = motion.pipeline()
    real = type(pipe).__call__
    calls: list[tuple[int, int]] = []
    fail = {"first": 1}

    @functools.wraps(real)
    def short_of_memory(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append((kwargs["num_frames"], kwargs["width"]))
        if len(calls) <= fail["first"]:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(type(pipe), "__call__", short_of_memory)
    still = _still(tmp_path / "s.png", (90, 140, 60))
    made = motion.animate(_request(tmp_path, still, "fewer", frames=6), cancel=CancelToken())
    assert calls == [(6, 64), (3, 64)] and made.frames == 3 and "out of GPU memory" in made.warning
    assert len(clip_frames(made.path)) == 3

    fail["first"], calls[:] = 10**6, []
    with pytest.raises(MotionOutOfMemory) as raised:
        motion.animate(_request(tmp_path, still, "none", frames=6), cancel=CancelToken())
    assert calls == [(6, 64), (3, 64), (3, 48)] and raised.value.code == "GPU_OUT_OF_MEMORY"
    assert not (tmp_path / "none.mp4").exists()


def test_the_adapter_without_sd15_animates_nothing_and_says_to_pull_it(pulled: Pull, tmp_path: Path) -> None:
    models = pulled(MOTION_ID)
    engines = build_engines(jobs=2, models_dir=models)
    assert engines.motion is None and engines.motion_advice is not None and engines.motion_advice.pull == "sd15"
    # The doctor's engines report says it...
    (motion_info,) = [i for i in engines.infos() if i.kind == "motion"]
    assert any("filmstudio models pull sd15" in m for m in motion_info.missing)
    # ... and the render's warnings (the film is made, its moving shots stills with camera moves).
    settings = RenderSettings.model_validate({"duration": 6, "resolution": "320x180", "style": "documentary",
                                              "music_genre": "none", "include_subtitles": False, "motion": "all"})
    manifest = render_film(SCRIPT, settings, tmp_path / "f.mp4", work_dir=tmp_path / "w",
                           cache_dir=tmp_path / "cache", engines=engines)
    assert manifest["shot_clips"] == {}
    assert any("filmstudio models pull sd15" in w for w in manifest["warnings"]), manifest["warnings"]
    # ... and `filmstudio models list`, and the motion estimate before a render.
    home = tmp_path / "home"
    home.mkdir()
    (home / "models").symlink_to(models, target_is_directory=True)
    env = {**os.environ, "FILMSTUDIO_HOME": str(home)}

    def cli(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "filmstudio", *args], capture_output=True, text=True, env=env,
                              check=True, timeout=300).stdout

    listed = json.loads(cli("models", "list", "--json"))
    assert "`filmstudio models pull sd15`" in listed["motion_advice"]
    script = tmp_path / "pier.fountain"
    script.write_text(SCRIPT, encoding="utf-8")
    board = json.loads(cli("storyboard", str(script), "--json", "--motion", "all"))
    assert board["motion"]["pull"] == "sd15" and "`filmstudio models pull sd15`" in board["motion"]["summary"]


def test_a_render_animates_its_moving_shots_with_animatediff(pulled: Pull, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from filmstudio.pipeline.providers import pictures

    monkeypatch.setitem(pictures.NATIVE_SIDE, "sd15", 64)  # the tiny sd15 draws at its own size, not 512
    engines = build_engines(jobs=2, models_dir=pulled("sd15", MOTION_ID, ADAPTER_ID))
    motion = _tiny(engines.motion)
    assert engines.pictures is not None
    engines.pictures.steps = 2  # type: ignore[attr-defined]
    settings = RenderSettings.model_validate({"duration": 6, "resolution": "320x180", "style": "documentary",
                                              "music_genre": "none", "include_subtitles": False, "motion": "all"})
    manifest = render_film(SCRIPT, settings, tmp_path / "f.mp4", work_dir=tmp_path / "w",
                           cache_dir=tmp_path / "cache", engines=engines)
    board = json.loads((tmp_path / "w" / "storyboard.json").read_text())
    moving = [s["number"] for s in board["shots"] if s["motion"]]
    assert moving and sorted(int(n) for n in manifest["shot_clips"]) == moving
    assert manifest["clips_made"] == len(set(manifest["shot_clips"].values()))
    assert not any("GPU" in w or "pull sd15" in w for w in manifest["warnings"]), manifest["warnings"]
    clip = tmp_path / "cache" / "clips" / manifest["shot_clips"][str(moving[0])]
    frames = clip_frames(clip)
    w, h = motion.capabilities().size_for(320 / 180)
    assert frames.shape[1:3] == (h, w) and len(frames) > 1
    assert float(np.abs(np.diff(frames.astype(float), axis=0)).mean()) > 0.5
