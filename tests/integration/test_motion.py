"""Moving shots end to end, offline: a tiny Wan image-to-video pipeline built from config, served by the
fake hub, pulled by the model manager, loaded by DiffusersMotion through the composition root, used in a
real small render beside the tiny Stable Diffusion that draws the stills."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

pytest.importorskip("diffusers")

from fakehub import FakeHub
from filmstudio.app.compose import build_engines
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.context import CancelToken, StageContext
from filmstudio.pipeline.engines import ClipRequest, Engines
from filmstudio.pipeline.media.ffmpeg import ffmpeg_exe, probe
from filmstudio.pipeline.models.catalogue import load_catalogue
from filmstudio.pipeline.models.download import pull
from filmstudio.pipeline.models.library import ModelLibrary
from filmstudio.pipeline.plan import RenderPlan
from filmstudio.pipeline.providers.backdrops import Clip, Still
from filmstudio.pipeline.providers.motion import DiffusersMotion, ModelShape
from filmstudio.pipeline.providers.pictures import DiffusersPictures
from filmstudio.pipeline.providers.visuals import SegmentSpec, scene_still
from filmstudio.pipeline.runner import default_stages
from filmstudio.pipeline.storyboard import ShotEdit, StoryboardEdits, set_motion
from media_checks import decode_frame
from motion_checks import catalogue_entry, clip_frames
from studio_engines import render_film
from tiny_sd import build_tiny_sd, folder_files
from tiny_video import build_tiny_wan

SCRIPT = """Title: Two Rooms

EXT. HARBOUR - NIGHT

MIRA (40s) waits on the pier, wearing a yellow raincoat.

MIRA
The boat is late again tonight, and the water is rising fast.

A gull lands on a wooden post by the water.

MIRA
It never comes on time, not once in all these years.

INT. KITCHEN - DAY

Steam over a pot. Mira sits at the table.

MIRA
I told you it would be late, and you never listen to me.
"""
TINY_SHAPE = ModelShape(max_frames=13, fps=8, native_side=48, frames_step=4, steps=2, guidance=1.0)
W, H = 320, 180


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The tiny picture and video models, pulled from the fake hub into one model library."""
    root = tmp_path_factory.mktemp("motion")
    sd = folder_files(build_tiny_sd(root / "sd"))
    wan = folder_files(build_tiny_wan(root / "wan"))
    catalogue = root / "catalogue.toml"
    catalogue.write_text(catalogue_entry("tiny-sd", "test/tiny-sd", sd, kind="picture") + "\n"
                         + catalogue_entry("tiny-wan", "test/tiny-wan", wan, kind="video"), encoding="utf-8")
    library = ModelLibrary(root / "models")
    with FakeHub(repos={"test/tiny-sd": sd, "test/tiny-wan": wan}) as hub:
        for mid in ("tiny-sd", "tiny-wan"):
            pull(load_catalogue(catalogue).get(mid), library, endpoint=hub.endpoint)
    yield root / "models"


@pytest.fixture(scope="module")
def engines(models_dir: Path) -> Engines:
    made = build_engines(jobs=2, models_dir=models_dir)
    assert isinstance(made.pictures, DiffusersPictures) and isinstance(made.motion, DiffusersMotion)
    # Each pulled model serves the seam its kind names (both folders have a model_index.json).
    assert (made.pictures.model_id, made.motion.model_id) == ("tiny-sd", "tiny-wan")
    assert made.motion.pipeline_class == "WanImageToVideoPipeline" and made.motion.capabilities().image_conditioned
    made.pictures.steps = 2
    made.motion.shape, made.motion.steps = TINY_SHAPE, 2
    return made


def _settings(**kw: Any) -> RenderSettings:
    return RenderSettings.model_validate({"duration": 24, "resolution": f"{W}x{H}", "style": "documentary",
                                          "music_genre": "none", "include_subtitles": False, "motion": "key", **kw})


class NotedProgress:
    """A job-like progress: (step, fraction) calls, and the notes a stage adds (as a job's `result`)."""

    def __init__(self) -> None:
        self.notes: list[dict[str, Any]] = []

    def __call__(self, step: str, fraction: float) -> None:
        pass

    def note(self, **detail: Any) -> None:
        self.notes.append(detail)


@dataclass(frozen=True)
class KeepSpecs:
    """A stage after visual_generation that keeps the film's segment specs (to compose expected frames)."""

    kept: list[tuple[SegmentSpec, ...]]
    name: ClassVar[str] = "keep_specs"
    weight: ClassVar[float] = 0.0

    def run(self, plan: RenderPlan, ctx: StageContext) -> RenderPlan:
        self.kept.append(plan.segment_specs)
        return plan


def _stages(kept: list[tuple[SegmentSpec, ...]]) -> tuple[Any, ...]:
    stages = list(default_stages())
    at = next(i for i, s in enumerate(stages) if s.name == "visual_generation")
    return (*stages[:at + 1], KeepSpecs(kept), *stages[at + 1:])


def _files(folder: Path, pattern: str) -> set[str]:
    return {p.name for p in folder.glob(pattern)}


def _frozen(spec: SegmentSpec, clip: Path, folder: Path) -> SegmentSpec:
    """The same segment over a clip that is only the clip's first frame (held): the pan without the motion."""
    import subprocess

    out = folder / f"frozen-{clip.name}"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(clip), "-frames:v", "1", "-c:v", "libx264",
                    "-crf", "12", "-pix_fmt", "yuv420p", str(out)], check=True)
    return replace(spec, source=Clip.of(out))


def test_moving_shots_play_their_clips_cache_and_redo_one(engines: Engines, tmp_path: Path) -> None:
    cache, settings = tmp_path / "cache", _settings()
    kept: list[tuple[SegmentSpec, ...]] = []

    def film(name: str, **kw: Any) -> dict[str, Any]:
        return render_film(SCRIPT, settings, tmp_path / f"{name}.mp4", work_dir=tmp_path / name, cache_dir=cache,
                           engines=engines, stages=_stages(kept), **kw)

    # Shots 1 and 5 (each scene's opening, both moving) fit the tiny tokenizer to the same prompt and
    # seed, so they would share one still and one clip: a seed of its own gives shot 5 its own.
    seeds = StoryboardEdits(shots={5: ShotEdit(seed=777)})
    edits = tmp_path / "storyboard.json"
    edits.write_text(json.dumps(seeds.as_dict()))
    progress = NotedProgress()
    first = film("one", progress=progress, storyboard=edits)
    board = json.loads((tmp_path / "one" / "storyboard.json").read_text())
    moving = [s["number"] for s in board["shots"] if s["motion"]]
    still_shots = [s["number"] for s in board["shots"] if not s["motion"]]
    assert moving and still_shots, board["shots"]
    assert sorted(int(n) for n in first["shot_clips"]) == moving and first["clips_made"] == len(moving)
    assert len(set(first["shot_clips"].values())) == len(moving)  # a clip of its own per moving shot
    # Progress counts clips: none made at first, one more each time, all at the end.
    notes = [n["clips"] for n in progress.notes if "clips" in n]
    assert notes[0] == {"total": len(moving), "done": [], "todo": moving}
    assert notes[-1] == {"total": len(moving), "done": moving, "todo": []}
    assert sorted({len(n["done"]) for n in notes}) == list(range(len(moving) + 1))
    assert all((cache / "clips" / name).is_file() for name in first["shot_clips"].values())
    assert first["warnings"] == [] or not any("clip" in w or "GPU" in w for w in first["warnings"])
    info = probe(tmp_path / "one.mp4")
    assert abs(float(info["format"]["duration"]) - first["duration"]) < 0.1

    specs = kept[-1]
    starts = [s["start"] for s in first["sets"]]
    scene_specs = [(spec, start) for spec, start in zip(specs, starts, strict=True) if spec.kind == "scene"]
    assert len(scene_specs) == len(board["shots"])
    by_number = dict(zip((s["number"] for s in board["shots"]), scene_specs, strict=True))

    # A moving shot: its frames follow the clip's frames, not only the camera's move over a held frame.
    number = moving[0]
    spec, start = by_number[number]
    assert isinstance(spec.source, Clip) and spec.source.path.name == first["shot_clips"][str(number)]
    clip = spec.source.path
    frames = clip_frames(clip)
    assert engines.motion is not None
    assert len(frames) == engines.motion.capabilities().frames_for(spec.duration) == TINY_SHAPE.max_frames
    assert float(np.abs(np.diff(frames.astype(float), axis=0)).mean()) > 1.0  # the clip itself moves
    frozen = _frozen(spec, clip, tmp_path)
    clip_seconds = len(frames) / TINY_SHAPE.fps
    times = [clip_seconds * f for f in (0.45, 0.6, 0.75, 0.9)]
    for t in times:
        got = decode_frame(tmp_path / "one.mp4", start + t, (W, H)).astype(float)
        moving_err = float(np.abs(got - np.asarray(scene_still(spec, t), dtype=float)).mean())
        frozen_err = float(np.abs(got - np.asarray(scene_still(frozen, t), dtype=float)).mean())
        # Measured: 1.3-2.2 against 6.7-7.6 (levels of 255) at 45-90 % of the clip.
        assert moving_err < 5 and frozen_err > 2 * moving_err, (t, moving_err, frozen_err)

    # A shot that does not move shows its still.
    spec, start = by_number[still_shots[0]]
    assert isinstance(spec.source, Still)
    got = decode_frame(tmp_path / "one.mp4", start + spec.duration / 2, (W, H)).astype(float)
    assert float(np.abs(got - np.asarray(scene_still(spec, spec.duration / 2), dtype=float)).mean()) < 10

    # A second render is all cache hits: no clip, still or segment made again.
    clips, stills, segments = _files(cache / "clips", "clip-*.mp4"), _files(cache / "stills", "*.png"), \
        _files(cache / "segments", "*.mp4")
    again = film("two", storyboard=edits)
    assert again["clips_made"] == 0 and again["stills_drawn"] == 0
    assert (_files(cache / "clips", "clip-*.mp4"), _files(cache / "stills", "*.png"),
            _files(cache / "segments", "*.mp4")) == (clips, stills, segments)

    # Toggling one shot to move makes one clip and one segment.
    edits.write_text(json.dumps(set_motion(seeds, still_shots[0], True).as_dict()))
    third = film("three", storyboard=edits)
    assert third["clips_made"] == 1 and str(still_shots[0]) in third["shot_clips"]
    assert len(_files(cache / "clips", "clip-*.mp4") - clips) == 1
    assert len(_files(cache / "segments", "*.mp4") - segments) == 1


def test_out_of_memory_falls_back_to_fewer_frames_then_to_the_still(engines: Engines, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    motion = engines.motion
    assert isinstance(motion, DiffusersMotion)
    pipe = motion.pipeline()
    real = type(pipe).__call__
    calls: list[int] = []
    fail_first = {"n": 1}

    @functools.wraps(real)
    def short_of_memory(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["num_frames"])
        if len(calls) <= fail_first["n"]:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(type(pipe), "__call__", short_of_memory)
    # Out of memory once: the clip is made with fewer frames, and says so.
    still = tmp_path / "still.png"
    from PIL import Image

    Image.new("RGB", (64, 32), (120, 80, 40)).save(still)
    request = ClipRequest(still=still, prompt="a pier at night", negative_prompt="", seed=3, frames=13, fps=8,
                          width=64, height=32, out=tmp_path / "c.mp4", steps=2)
    made = motion.animate(request, cancel=CancelToken())
    assert calls == [13, 5] and made.frames == 5 and "out of GPU memory" in made.warning
    assert len(clip_frames(made.path)) == 5

    # Out of memory every time: the film still renders, the moving shots are stills with a warning.
    fail_first["n"] = 10**6
    calls.clear()
    manifest = render_film(SCRIPT, _settings(), tmp_path / "f.mp4", work_dir=tmp_path / "w",
                           cache_dir=tmp_path / "cache", engines=engines)
    board = json.loads((tmp_path / "w" / "storyboard.json").read_text())
    moving = [s["number"] for s in board["shots"] if s["motion"]]
    assert moving and manifest["shot_clips"] == {} and manifest["clips_made"] == 0
    assert len(calls) == 3 * len(moving)  # the full clip, fewer frames, fewer and smaller
    oom = [w for w in manifest["warnings"] if "GPU memory" in w]
    assert [w.split(":")[0] for w in oom] == [f"shot {n}" for n in moving]
    assert all("still with the camera move" in w for w in oom)
    scene_sources = [s["source"] for s in manifest["sets"] if s["kind"] == "scene"]
    assert scene_sources == ["still"] * len(board["shots"])
    assert abs(float(probe(tmp_path / "f.mp4")["format"]["duration"]) - manifest["duration"]) < 0.1
