"""The recommended set for a machine, from the bundled catalogue and an injected hardware description."""

from __future__ import annotations

import json
from pathlib import Path

from filmstudio.pipeline.models.catalogue import load_catalogue
from filmstudio.pipeline.models.hardware import Gpu, Hardware
from filmstudio.pipeline.models.library import MANIFEST, ModelLibrary
from filmstudio.pipeline.models.recommend import describe_plan, recommend

CPU_ONLY = Hardware(cpu_cores=8, ram_mb=16_000)
GPU_12GB = Hardware(cpu_cores=8, ram_mb=32_000, gpus=(Gpu("NVIDIA GeForce RTX 3060", 12_288),))
SMALL = Hardware(cpu_cores=2, ram_mb=4_000)


def _ids(hardware: Hardware, language: str = "en") -> list[str]:
    return [p.entry.id for p in recommend(load_catalogue(), hardware, language).picks]


def test_a_cpu_only_machine_gets_both_sexes_of_readers_sd15_and_its_ip_adapter() -> None:
    plan = recommend(load_catalogue(), CPU_ONLY, "en")
    assert [p.entry.id for p in plan.picks] == ["piper-en_US-libritts_r-medium", "sd15", "ip-adapter-sd15"]
    # sdxl needs a GPU; sd15 runs on the CPU (slowly), and it takes the IP-Adapter.
    assert "runs on CPU" in plan.picks[1].why and "sd15 takes it" in plan.picks[2].why
    assert plan.total_bytes == sum(p.entry.size for p in plan.picks) > 4_000_000_000


def test_a_12_gb_gpu_gets_sdxl_which_takes_no_adapter_here() -> None:
    plan = recommend(load_catalogue(), GPU_12GB, "en")
    assert [p.entry.id for p in plan.picks] == ["piper-en_US-libritts_r-medium", "sdxl-base-1.0"]
    assert "RTX 3060" in plan.picks[1].why
    assert all(p.entry.licence.commercial_use for p in plan.picks)  # sd-turbo (non-commercial) is not chosen


def test_a_machine_too_small_for_pictures_gets_voices_and_says_why() -> None:
    plan = recommend(load_catalogue(), SMALL, "en")
    assert [p.entry.kind for p in plan.picks] == ["voice"]
    assert any("no picture model fits" in n for n in plan.notes)


def test_a_language_without_a_mixed_voice_gets_one_of_each_sex_or_a_note() -> None:
    assert _ids(CPU_ONLY, "es")[0] == "piper-es_ES-sharvard-medium"  # two readers, a woman and a man
    plan = recommend(load_catalogue(), CPU_ONLY, "de")
    assert [p.entry.id for p in plan.picks if p.entry.kind == "voice"] == ["piper-de_DE-thorsten-medium"]
    assert any("no female voice for de" in n for n in plan.notes)


def test_the_description_shows_every_licence_and_the_total_and_skips_installed(tmp_path: Path) -> None:
    plan = recommend(load_catalogue(), CPU_ONLY, "en")
    text = "\n".join(describe_plan(plan))
    for pick in plan.picks:
        assert pick.entry.licence.spdx in text and pick.entry.licence.url in text
    assert "total to download: 4." in text or "total to download: 5." in text
    folder = tmp_path / "models" / "sd15"
    folder.mkdir(parents=True)
    (folder / MANIFEST).write_text(json.dumps({"id": "sd15", "files": {"a": {"sha256": "0", "size": 1}}}),
                                   encoding="utf-8")
    library = ModelLibrary(tmp_path / "models")
    installed = recommend(load_catalogue(), CPU_ONLY, "en", library)
    assert [e.id for e in installed.to_pull] == ["piper-en_US-libritts_r-medium", "ip-adapter-sd15"]
    assert installed.total_bytes == plan.total_bytes - load_catalogue().get("sd15").size
    assert "sd15" in "\n".join(describe_plan(installed)) and " installed" in "\n".join(describe_plan(installed))
