"""Engine selection by kind: the catalogue's kind decides which seam a pulled model serves.

Models are pulled for real (a fake hub on loopback, the real download, checks and install); a
folder's files never decide: a video model has a `model_index.json` too.
"""

from __future__ import annotations

import json
from pathlib import Path

from fakehub import FakeHub, model_toml
from filmstudio.app.compose import build_engines, picture_engine, pulled
from filmstudio.pipeline.models.catalogue import load_catalogue
from filmstudio.pipeline.models.download import pull
from filmstudio.pipeline.models.library import MANIFEST, ModelLibrary
from filmstudio.pipeline.providers.pictures import DiffusersPictures

DIFFUSERS_FOLDER = {  # what `picture_engine` looks at: no weights are loaded to choose
    "model_index.json": b'{"_class_name": "StableDiffusionPipeline"}',
    "unet/config.json": b'{"sample_size": 64}',
    "vae/config.json": b'{"block_out_channels": [1, 2, 3, 4]}',
}


def _pull(models: Path, model_id: str, kind: str, engine: str) -> None:
    catalogue = models.parent / f"{model_id}.toml"
    catalogue.write_text(model_toml(model_id, f"test/{model_id}", DIFFUSERS_FOLDER)
                         .replace('kind = "voice"', f'kind = "{kind}"')
                         .replace('engine = "piper"', f'engine = "{engine}"'), encoding="utf-8")
    with FakeHub(repos={f"test/{model_id}": DIFFUSERS_FOLDER}) as hub:
        pull(load_catalogue(catalogue).get(model_id), ModelLibrary(models), endpoint=hub.endpoint)


def test_a_pulled_model_of_another_kind_is_never_loaded_as_the_picture_model(tmp_path: Path) -> None:
    models = tmp_path / "models"
    _pull(models, "a-video-model", "video", "diffusers")  # sorts first, and looks like a diffusers folder
    _pull(models, "a-voice", "voice", "diffusers")
    manifest = json.loads((models / "a-video-model" / MANIFEST).read_text(encoding="utf-8"))
    assert (manifest["kind"], manifest["engine"]) == ("video", "diffusers")  # recorded at the pull
    assert (models / "a-video-model" / "model_index.json").is_file()
    assert picture_engine(models) is None
    assert picture_engine(models, "a-video-model") is None  # not even when asked for by id
    assert build_engines(jobs=1, models_dir=models).pictures is None
    assert pulled(models, kind="video", engine="diffusers") == [models / "a-video-model"]

    _pull(models, "b-picture-model", "picture", "diffusers")
    chosen = picture_engine(models)
    assert isinstance(chosen, DiffusersPictures) and chosen.model_id == "b-picture-model"
    assert chosen.native_side() == 512 and chosen.identity().model == "b-picture-model"
    assert pulled(models, kind="picture", engine="diffusers") == [models / "b-picture-model"]


def test_a_model_whose_kind_nobody_recorded_serves_no_seam(tmp_path: Path) -> None:
    """An install from before the manifest recorded its kind, not in the catalogue: nothing guesses."""
    models = tmp_path / "models"
    _pull(models, "old-model", "picture", "diffusers")
    path = models / "old-model" / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest["kind"], manifest["engine"]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    assert ModelLibrary(models).is_installed("old-model")
    assert picture_engine(models) is None
