"""`models pull --recommended` against the fake hub: the plan, its licences before any byte, one resumable pull."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakehub import FakeHub, sha256
from filmstudio.cli_models import pull_recommended
from filmstudio.domain.errors import Cancelled
from filmstudio.pipeline.models.catalogue import Catalogue, load_catalogue
from filmstudio.pipeline.models.download import CHUNK_BYTES
from filmstudio.pipeline.models.hardware import Gpu, Hardware
from filmstudio.pipeline.models.library import ModelLibrary
from filmstudio.pipeline.models.recommend import pull_plan, recommend

CPU_ONLY = Hardware(cpu_cores=4, ram_mb=16_000)
GPU_12GB = Hardware(cpu_cores=8, ram_mb=32_000, gpus=(Gpu("NVIDIA GeForce RTX 3060", 12_288),))
REPOS = {
    "test/voices": {"en/mixed.onnx": os.urandom(3 * CHUNK_BYTES + 77), "en/mixed.onnx.json": b"{}"},
    "test/small-pictures": {"model_index.json": b"{}", "unet/w.safetensors": os.urandom(4 * CHUNK_BYTES + 5)},
    "test/big-pictures": {"model_index.json": b"{}", "unet/w.safetensors": os.urandom(2 * CHUNK_BYTES)},
    "test/adapter": {"models/ip.safetensors": os.urandom(CHUNK_BYTES + 9)},
}


def _files(repo: str) -> str:
    return "\n".join(f'  {{ path = "{p}", size = {len(d)}, sha256 = "{sha256(d)}" }},' for p, d in REPOS[repo].items())


def _model(model_id: str, repo: str, kind: str, extra: str, licence: str) -> str:
    return f'''[[model]]
id = "{model_id}"
kind = "{kind}"
engine = "{"piper" if kind == "voice" else "diffusers"}"
title = "Test {model_id}"
repo = "{repo}"
revision = "main"
verified = true
{extra}
licence = {{ spdx = "{licence}", url = "https://example.org/{licence}", commercial_use = true }}
files = [
{_files(repo)}
]
'''


CATALOGUE = "\n".join([
    _model("voice-mixed", "test/voices", "voice",
           'languages = ["en"]\nspeakers = 4\ngender = "mixed"\nmin_ram_mb = 1\nmin_vram_mb = 0\nsuits = ["cpu"]',
           "CC-BY-4.0"),
    _model("pic-small", "test/small-pictures", "picture",
           'min_ram_mb = 8000\nmin_vram_mb = 4000\nsuits = ["cpu", "cuda"]', "LicenseRef-Small"),
    _model("pic-big", "test/big-pictures", "picture",
           'min_ram_mb = 16000\nmin_vram_mb = 8000\nsuits = ["cuda"]', "LicenseRef-Big"),
    _model("adapter-small", "test/adapter", "picture",
           'addon_for = ["pic-small"]\nmin_ram_mb = 8000\nmin_vram_mb = 4500\nsuits = ["cpu", "cuda"]', "Apache-2.0"),
])


@pytest.fixture
def catalogue(tmp_path: Path) -> Catalogue:
    path = tmp_path / "catalogue.toml"
    path.write_text(CATALOGUE, encoding="utf-8")
    return load_catalogue(path)


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with FakeHub(repos={repo: dict(files) for repo, files in REPOS.items()}) as fake:
        yield fake


def test_the_plans_for_a_cpu_only_machine_and_a_12_gb_gpu(catalogue: Catalogue) -> None:
    assert [p.entry.id for p in recommend(catalogue, CPU_ONLY, "en").picks] == [
        "voice-mixed", "pic-small", "adapter-small"]
    assert [p.entry.id for p in recommend(catalogue, GPU_12GB, "en").picks] == ["voice-mixed", "pic-big"]


def test_licences_and_the_total_are_shown_before_any_byte(catalogue: Catalogue, hub: FakeHub, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    library = ModelLibrary(tmp_path / "models")
    # Not confirmed (stdin is no terminal under pytest): the plan is printed, nothing fetched.
    assert pull_recommended(catalogue, library, CPU_ONLY, endpoint=hub.endpoint, quiet=True) == 1
    out = capsys.readouterr().out
    for spdx in ("CC-BY-4.0", "LicenseRef-Small", "Apache-2.0"):
        assert spdx in out
    total = sum(len(d) for repo in ("test/voices", "test/small-pictures", "test/adapter")
                for d in REPOS[repo].values())
    assert f"total to download: {total / 1e6:.1f} MB" in out and "nothing downloaded" in out
    assert hub.requests == [] and library.installed() == []

    assert pull_recommended(catalogue, library, CPU_ONLY, yes=True, endpoint=hub.endpoint, quiet=True) == 0
    assert out.index("LicenseRef-Small") < out.index("total to download")
    assert sorted(m.id for m in library.installed()) == ["adapter-small", "pic-small", "voice-mixed"]
    assert (library.path("pic-small") / "unet/w.safetensors").read_bytes() == REPOS["test/small-pictures"]["unet/w.safetensors"]  # type: ignore[operator]
    assert "everything recommended is installed" in (
        pull_recommended(catalogue, library, CPU_ONLY, endpoint=hub.endpoint, quiet=True) == 0
        and capsys.readouterr().out)


def test_one_progress_over_the_whole_set(catalogue: Catalogue, hub: FakeHub, tmp_path: Path) -> None:
    library = ModelLibrary(tmp_path / "models")
    plan = recommend(catalogue, CPU_ONLY, "en", library)
    seen: list[tuple[int, int]] = []
    pull_plan(plan.to_pull, library, progress=lambda d, t, r: seen.append((d, t)), endpoint=hub.endpoint)
    assert {t for _, t in seen} == {plan.total_bytes}  # one total for the whole set
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == plan.total_bytes


def test_a_cut_mid_file_resumes(catalogue: Catalogue, hub: FakeHub, tmp_path: Path) -> None:
    library = ModelLibrary(tmp_path / "models")
    big = REPOS["test/small-pictures"]["unet/w.safetensors"]
    hub.cut_after["unet/w.safetensors"] = 2 * CHUNK_BYTES + 100
    plan = recommend(catalogue, CPU_ONLY, "en", library)
    pull_plan(plan.to_pull, library, endpoint=hub.endpoint)
    assert (library.path("pic-small") / "unet/w.safetensors").read_bytes() == big  # type: ignore[operator]
    first, second = hub.gets("unet/w.safetensors")
    assert first.range is None and second.range is not None and second.status == 206


def test_a_pull_stopped_part_way_resumes_the_next_time(catalogue: Catalogue, hub: FakeHub, tmp_path: Path) -> None:
    library = ModelLibrary(tmp_path / "models")
    plan = recommend(catalogue, CPU_ONLY, "en", library)
    stop_at = len(b"".join(REPOS["test/voices"].values())) + CHUNK_BYTES  # inside the picture model's big file
    progressed = [0]

    def note(done: int, total: int, rate: float) -> None:
        progressed[0] = done

    with pytest.raises(Cancelled):
        pull_plan(plan.to_pull, library, progress=note, cancel=lambda: progressed[0] >= stop_at,
                  endpoint=hub.endpoint, report_seconds=0.0)
    assert [m.id for m in library.installed()] == ["voice-mixed"]
    part = library.staging_dir("pic-small") / "unet" / "w.safetensors.part"
    kept = part.stat().st_size
    assert 0 < kept < len(REPOS["test/small-pictures"]["unet/w.safetensors"])  # kept for the next pull
    again = recommend(catalogue, CPU_ONLY, "en", library)
    assert [e.id for e in again.to_pull] == ["pic-small", "adapter-small"]
    pull_plan(again.to_pull, library, endpoint=hub.endpoint)
    resumed = hub.gets("unet/w.safetensors")[-1]
    assert resumed.range == f"bytes={kept}-" and resumed.status == 206  # the kept bytes were not fetched again
    assert sorted(m.id for m in library.installed()) == ["adapter-small", "pic-small", "voice-mixed"]
