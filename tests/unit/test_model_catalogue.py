"""The shipped model catalogue: well-formed, and holding what issue #9 asks for."""

from __future__ import annotations

from pathlib import Path

import pytest

from filmstudio.domain.errors import ModelNotFound
from filmstudio.pipeline.models.catalogue import DEVICES, KINDS, Catalogue, load_catalogue


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def test_every_entry_is_well_formed(catalogue: Catalogue) -> None:
    assert len(catalogue) >= 15
    for e in catalogue:
        assert e.kind in KINDS and e.engine and e.title and "/" in e.repo and e.revision, e.id
        assert e.files and all(f.size > 0 for f in e.files), e.id
        assert set(e.suits) <= set(DEVICES) and e.suits, e.id
        assert e.min_ram_mb > 0 and e.min_vram_mb >= 0, e.id
        if e.verified:
            assert all(f.sha256 or f.md5 for f in e.files), e.id
        assert len({f.path for f in e.files}) == len(e.files), e.id


def test_every_entry_has_a_licence_shown_before_download(catalogue: Catalogue) -> None:
    for e in catalogue:
        assert e.licence.spdx, e.id
        assert e.licence.url.startswith("https://"), e.id
        assert isinstance(e.licence.commercial_use, bool), e.id
    # Known non-commercial licences are flagged.
    assert catalogue.get("sd-turbo").licence.commercial_use is False


def test_piper_voices_for_each_language_the_issue_names(catalogue: Catalogue) -> None:
    voices = catalogue.of_kind("voice")
    langs = {lang for v in voices for lang in v.languages}
    assert {"en", "es", "fr", "de", "pt", "it"} <= langs
    for v in voices:
        assert v.engine == "piper" and v.sample_rate in (16000, 22050) and v.speakers and v.speakers >= 1
        assert v.verified, f"{v.id}: Piper publishes size and md5 for every file"
        assert any(f.path.endswith(".onnx") for f in v.files) and any(f.path.endswith(".onnx.json") for f in v.files)


def test_a_multi_speaker_english_voice_for_casting(catalogue: Catalogue) -> None:
    voice = catalogue.get("piper-en_US-libritts_r-medium")
    assert voice.speakers == 904 and "en" in voice.languages
    onnx = next(f for f in voice.files if f.path.endswith(".onnx"))
    assert onnx.size == 78580914 and onnx.md5 == "bb2c2776cffbfd736c7c497f620c0ca6"


def test_two_picture_models_one_small_one_for_8_to_12_gb(catalogue: Catalogue) -> None:
    pictures = catalogue.of_kind("picture")
    small = [p for p in pictures if "cpu" in p.suits and p.min_vram_mb <= 6000]
    large = [p for p in pictures if 8000 <= p.min_vram_mb <= 12000]
    assert small and large
    assert any(p.licence.commercial_use for p in small) and any(p.licence.commercial_use for p in large)


def test_translation_both_ways_for_es_fr_de(catalogue: Catalogue) -> None:
    pairs = {tuple(t.languages) for t in catalogue.of_kind("translation")}
    for other in ("es", "fr", "de"):
        assert ("en", other) in pairs and (other, "en") in pairs


def test_unknown_id_is_model_not_found(catalogue: Catalogue) -> None:
    with pytest.raises(ModelNotFound) as err:
        catalogue.get("no-such-model")
    assert err.value.code == "MODEL_NOT_FOUND"


_GOOD = '''[[model]]
id = "x"
kind = "voice"
engine = "piper"
title = "X"
repo = "a/b"
revision = "main"
min_ram_mb = 1
suits = ["cpu"]
licence = { spdx = "CC0-1.0", url = "https://example.org", commercial_use = true }
files = [ { path = "x.onnx", size = 3 } ]
'''


@pytest.mark.parametrize(("old", "new", "message"), [
    ('kind = "voice"', 'kind = "music-box"', "kind"),
    ('path = "x.onnx"', 'path = "../x.onnx"', "bad file path"),
    ("size = 3", "size = 0", "size"),
    ("size = 3", 'size = 3, sha256 = "ABC"', "sha256"),
    ('suits = ["cpu"]', 'suits = ["tpu"]', "suits"),
    ('min_ram_mb = 1\n', "", "min_ram_mb"),
    ('revision = "main"', 'revision = "main"\nverified = true', "checksum"),
])
def test_malformed_entries_are_refused(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = tmp_path / "models.toml"
    path.write_text(_GOOD.replace(old, new), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_catalogue(path)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "models.toml"
    path.write_text(_GOOD + "\n" + _GOOD, encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate"):
        load_catalogue(path)
