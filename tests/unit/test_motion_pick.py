"""Which installed video model the composition root animates with (`compose.motion_choice`): Wan 2.2, Wan 2.1,
AnimateDiff over sd15, then Stable Video Diffusion (non-commercial last); AnimateDiff's adapter without sd15
is no engine, and every place that reports motion says to pull sd15. No model is loaded here."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from filmstudio.app.compose import build_engines, motion_choice
from filmstudio.pipeline.models.library import MANIFEST
from filmstudio.pipeline.motion_estimate import estimate_motion
from filmstudio.pipeline.providers.animatediff import AnimateDiffMotion
from filmstudio.pipeline.providers.motion import DiffusersMotion

ADAPTER = "animatediff-motion-adapter-sd15"
PIPELINES = {"wan2.2-ti2v-5b": "WanImageToVideoPipeline", "wan2.1-t2v-1.3b": "WanPipeline",
             "svd-xt": "StableVideoDiffusionPipeline", "sd15": "StableDiffusionPipeline"}


def _install(models: Path, *ids: str) -> Path:
    """Installed-model folders as the library records them (the built-in catalogue says each one's kind)."""
    for mid in ids:
        folder = models / mid
        folder.mkdir(parents=True)
        (folder / MANIFEST).write_text(json.dumps({"id": mid, "revision": f"rev-{mid}", "files": {}}))
        if mid == ADAPTER:
            (folder / "config.json").write_text(json.dumps({"_class_name": "MotionAdapter"}))
        else:
            (folder / "model_index.json").write_text(json.dumps({"_class_name": PIPELINES[mid]}))
    return models


@pytest.mark.parametrize(("installed", "picked"), [
    (("svd-xt", ADAPTER, "sd15", "wan2.1-t2v-1.3b", "wan2.2-ti2v-5b"), "wan2.2-ti2v-5b"),
    (("svd-xt", ADAPTER, "sd15", "wan2.1-t2v-1.3b"), "wan2.1-t2v-1.3b"),
    (("svd-xt", ADAPTER, "sd15"), ADAPTER),
    (("svd-xt", ADAPTER), "svd-xt"),  # the adapter alone animates nothing: the next one does
    (("svd-xt",), "svd-xt"),
])
def test_the_first_installed_video_model_in_the_pick_order_wins(tmp_path: Path, installed: tuple[str, ...],
                                                                 picked: str) -> None:
    choice = motion_choice(_install(tmp_path / "models", *installed))
    assert choice.engine is not None and choice.engine.identity().model == picked and choice.advice is None
    assert isinstance(choice.engine, AnimateDiffMotion if picked == ADAPTER else DiffusersMotion)


def test_animatediff_runs_over_the_installed_sd15_and_names_both_revisions(tmp_path: Path) -> None:
    engine = motion_choice(_install(tmp_path / "models", ADAPTER, "sd15")).engine
    assert isinstance(engine, AnimateDiffMotion) and engine.base == tmp_path / "models" / "sd15"
    identity, caps = engine.identity(), engine.capabilities()
    assert (identity.model, identity.revision, identity.base, identity.base_revision, identity.steps) == \
        (ADAPTER, f"rev-{ADAPTER}", "sd15", "rev-sd15", 25)
    assert (caps.max_frames, caps.fps, caps.native_side, caps.image_conditioned) == (16, 8, 512, False)
    assert engine.references_advice.startswith("character reference images need an IP-Adapter")


def test_a_picture_model_is_never_taken_for_a_video_model(tmp_path: Path) -> None:
    assert motion_choice(_install(tmp_path / "models", "sd15")).engine is None


def test_the_adapter_without_sd15_is_no_engine_and_says_to_pull_sd15(tmp_path: Path) -> None:
    models = _install(tmp_path / "models", ADAPTER)
    choice = motion_choice(models)
    assert choice.engine is None and choice.advice is not None and choice.advice.pull == "sd15"
    assert "`filmstudio models pull sd15`" in choice.advice.reason

    engines = build_engines(jobs=1, models_dir=models)
    assert engines.motion is None and engines.motion_advice == choice.advice
    (motion,) = [i for i in engines.infos() if i.kind == "motion"]
    assert motion.missing == (choice.advice.reason,)  # what `filmstudio doctor` lists to install

    board = SimpleNamespace(shots=[SimpleNamespace(motion=True), SimpleNamespace(motion=False)])
    estimate = estimate_motion(board, "key", None, 16 / 9, tmp_path, choice.advice)  # type: ignore[arg-type]
    assert (estimate.model, estimate.pull, estimate.reason) == (None, "sd15", choice.advice.reason)
    assert estimate.summary() == f"no video model: shots stay stills with camera moves — {choice.advice.reason}"
    assert estimate.as_dict()["reason"] == choice.advice.reason


def test_without_any_video_model_there_is_no_advice(tmp_path: Path) -> None:
    choice = motion_choice(_install(tmp_path / "models", "sd15"))
    assert choice.engine is None and choice.advice is None
    assert build_engines(jobs=1, models_dir=tmp_path / "models").motion_advice is None


def test_every_catalogue_video_model_has_an_engine_that_serves_it() -> None:
    from filmstudio.app.compose import ANIMATEDIFF_ENGINE
    from filmstudio.pipeline.models.catalogue import load_catalogue

    video = load_catalogue().of_kind("video")
    assert {e.engine for e in video} == {"diffusers", ANIMATEDIFF_ENGINE}
    adapter = next(e for e in video if e.engine == ANIMATEDIFF_ENGINE)
    assert adapter.id == ADAPTER and "sd15" in adapter.addon_for and adapter.licence.commercial_use
    assert "no engine" not in adapter.notes.lower()
