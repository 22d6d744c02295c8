"""Character references: which picture is whose, when an IP-Adapter fits a picture model, the still keys."""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from filmstudio.domain.errors import BadRequest
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.engines import still_path
from filmstudio.pipeline.models.catalogue import Licence, ModelEntry, ModelFile, load_catalogue
from filmstudio.pipeline.models.library import ModelLibrary
from filmstudio.pipeline.providers.reference_adapter import (
    ADAPTER_ID,
    PULL_ADVICE,
    ReferenceAdapter,
    adapter_in,
    find_reference_adapter,
)
from filmstudio.pipeline.references import (
    character_references,
    picture_name,
    portrait_prompt,
    readable_picture,
    reference_key,
)
from filmstudio.pipeline.script.analysis import analyse
from filmstudio.pipeline.stages.visual_generation import pick_image
from filmstudio.pipeline.storyboard import build_storyboard

SAMPLE = Path(__file__).parents[1] / "data" / "samples" / "night-market.fountain"


def _safetensors(path: Path, tensors: dict[str, list[int]]) -> Path:
    """A .safetensors file with these tensor shapes (zero bytes of data: only the header is read)."""
    table: dict[str, object] = {}
    offset = 0
    for name, shape in tensors.items():
        n = 4 * math.prod(shape)
        table[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    header = json.dumps(table).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(header)) + header + bytes(offset))
    return path


def _adapter(folder: Path, width: int) -> Path:
    _safetensors(folder / "models" / "ip-adapter_sd15.safetensors",
                 {"ip_adapter.1.to_k_ip.weight": [320, width], "image_proj.proj.weight": [4 * width, 8]})
    (folder / "models" / "image_encoder").mkdir(parents=True, exist_ok=True)
    (folder / "models" / "image_encoder" / "config.json").write_text("{}")
    return folder


def _model(folder: Path, width: int) -> Path:
    (folder / "unet").mkdir(parents=True, exist_ok=True)
    (folder / "unet" / "config.json").write_text(json.dumps({"cross_attention_dim": width}))
    (folder / "model_index.json").write_text("{}")
    return folder


def test_a_characters_own_picture_is_named_after_them() -> None:
    assert picture_name("LENA") == "character-lena" and picture_name("OLD VENDOR") == "character-old-vendor"
    images = [Path("p/character-old-vendor.jpg"), Path("p/shot-2.png"), Path("p/market.png")]
    refs = character_references(["LENA", "OLD VENDOR"], images)
    assert refs["OLD VENDOR"].source == "picture" and refs["OLD VENDOR"].image == images[0]
    assert refs["LENA"].source == "portrait" and refs["LENA"].image is None
    assert refs["LENA"].as_dict() == {"source": "portrait", "image": None, "used": False}
    assert "a woman in her thirties" in portrait_prompt("a woman in her thirties", "35mm")


def test_a_reference_picture_is_not_a_scene_backdrop() -> None:
    images = [Path("character-lena.png"), Path("harbour.png")]
    assert pick_image(images, 0, "Night Market") == Path("harbour.png")
    assert pick_image([Path("character-lena.png")], 0, "Night Market") is None


def test_the_storyboard_shows_each_characters_reference_source() -> None:
    settings = RenderSettings()
    text = SAMPLE.read_text(encoding="utf-8")
    board = build_storyboard(analyse(text, settings), settings, text=text, images=[Path("x/character-kai.png")])
    chars = {c["name"]: c["reference"] for c in board.as_dict()["characters"]}
    assert chars["KAI"] == {"source": "picture", "image": "character-kai.png", "used": False}
    assert chars["LENA"]["source"] == "portrait"


def test_the_still_key_holds_the_references_content_and_the_adapters_scale(tmp_path: Path) -> None:
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    a.write_bytes(b"one face")
    b.write_bytes(b"another face")
    adapter = ReferenceAdapter(tmp_path, ADAPTER_ID, "r1").identity().as_dict()

    def key(ref: dict[str, object] | None) -> Path:
        return still_path(tmp_path, "sd15", "r", "p", "n", 1, (8, 8), 4, reference=ref)

    plain = key(None)
    assert plain == still_path(tmp_path, "sd15", "r", "p", "n", 1, (8, 8), 4)  # no reference: keys unchanged
    with_a = key(reference_key(a, adapter))
    assert with_a != plain and with_a == key(reference_key(a, adapter))
    assert with_a != key(reference_key(b, adapter))
    assert with_a != key(reference_key(a, {**adapter, "scale": 0.9}))
    b.write_bytes(b"one face")  # the content is the key, not the name
    assert key(reference_key(b, adapter)) == with_a


def test_an_adapter_fits_only_a_unet_of_its_width(tmp_path: Path) -> None:
    adapter = adapter_in(_adapter(tmp_path / "ip", 768), ADAPTER_ID)
    assert adapter is not None and adapter.cross_attention_dim() == 768
    assert adapter.misfit(_model(tmp_path / "sd15", 768), "sd15") is None
    why = adapter.misfit(_model(tmp_path / "turbo", 1024), "sd-turbo")
    assert why is not None and "768" in why and "1024" in why and "sd-turbo" in why
    assert adapter_in(_model(tmp_path / "other", 768), "other") is None  # a picture model is not an adapter


def _install(models: Path, model_id: str, build: Callable[[Path], Path]) -> Path:
    """Install what `build` writes as a finished model, the way a pull leaves it (manifest and all)."""
    lib = ModelLibrary(models)
    entry = ModelEntry(id=model_id, kind="picture", engine="x", title=model_id, repo="t/x", revision="r1",
                       files=(ModelFile(path="x", size=1),), licence=Licence("MIT", "https://x", True),
                       min_ram_mb=1, min_vram_mb=0, suits=("cpu",))
    stage = build(lib.staging_dir(model_id))
    hashes = {p.relative_to(stage).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
              for p in stage.rglob("*") if p.is_file()}
    return lib.install(entry, stage, hashes)


def test_find_reference_adapter_says_what_to_pull_or_why_not(tmp_path: Path) -> None:
    models = tmp_path / "models"
    assert find_reference_adapter(models, tmp_path, "sd15") == (None, PULL_ADVICE)
    sd15 = _install(models, "sd15", lambda d: _model(d, 768))
    turbo = _install(models, "sd-turbo", lambda d: _model(d, 1024))
    assert find_reference_adapter(models, sd15, "sd15") == (None, PULL_ADVICE)
    _install(models, ADAPTER_ID, lambda d: _adapter(d, 768))
    found, why = find_reference_adapter(models, sd15, "sd15")
    assert found is not None and found.model_id == ADAPTER_ID and found.revision == "r1" and why == ""
    none, why = find_reference_adapter(models, turbo, "sd-turbo")
    assert none is None and "sd-turbo has 1024" in why


def test_cli_storyboard_says_references_are_not_used_and_what_to_pull(tmp_path: Path) -> None:
    env = {**os.environ, "FILMSTUDIO_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "filmstudio", "storyboard", str(SAMPLE), "--json"],
                         capture_output=True, text=True, check=True, env=env)
    refs = json.loads(out.stdout)["pictures"]["references"]
    assert refs == {"used": False, "advice": PULL_ADVICE} and f"models pull {ADAPTER_ID}" in refs["advice"]


def test_the_catalogue_offers_the_sd15_ip_adapter_as_an_add_on() -> None:
    entry = load_catalogue().get(ADAPTER_ID)
    assert entry.repo == "h94/IP-Adapter" and entry.engine == "ip-adapter" and entry.licence.spdx == "Apache-2.0"
    assert {f.path for f in entry.files} == {"models/ip-adapter_sd15.safetensors", "models/image_encoder/config.json",
                                             "models/image_encoder/model.safetensors"}
    assert "sd15" in entry.addon_for and entry.to_dict()["addon_for"] == list(entry.addon_for)
    assert not entry.verified and entry.size > 2_000_000_000  # the fp32 image encoder is most of it


def test_an_unreadable_reference_picture_is_refused_by_name(tmp_path: Path) -> None:
    good = tmp_path / "character-lena.png"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(good)
    assert readable_picture(good) == good
    bad = tmp_path / "character-kai.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(BadRequest) as err:
        readable_picture(bad)
    assert err.value.code == "INVALID_REFERENCE_IMAGE" and err.value.details["image"] == "character-kai.png"
