"""Hardware detection (every probe replaced) and whether a model fits."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from filmstudio.pipeline.models.catalogue import Licence, ModelEntry, ModelFile
from filmstudio.pipeline.models.hardware import Gpu, Hardware, detect_hardware, fits


def _no_torch(name: str) -> Any:
    raise ImportError(name)


def _fake_torch(*, cuda: list[tuple[str, int]], mps: bool = False) -> Any:
    props = [SimpleNamespace(name=n, total_memory=mb * 1024 * 1024) for n, mb in cuda]
    return SimpleNamespace(
        cuda=SimpleNamespace(is_available=lambda: bool(cuda), device_count=lambda: len(cuda),
                             get_device_properties=lambda i: props[i]),
        backends=SimpleNamespace(mps=SimpleNamespace(is_available=lambda: mps)),
    )


@pytest.fixture
def meminfo(tmp_path: Path) -> Path:
    path = tmp_path / "meminfo"
    path.write_text("MemTotal:       16318432 kB\nMemFree:         1000000 kB\n", encoding="ascii")
    return path


def _never_run(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("nvidia-smi must not run when torch answered")


def test_cuda_from_torch(meminfo: Path) -> None:
    torch = _fake_torch(cuda=[("NVIDIA GeForce RTX 4070", 12282)])
    hw = detect_hardware(import_module=lambda name: torch, which=lambda n: "/usr/bin/nvidia-smi",
                         run=_never_run, meminfo=meminfo)
    assert hw.gpus == (Gpu("NVIDIA GeForce RTX 4070", 12282),)
    assert hw.ram_mb == 16318432 // 1024 and hw.cpu_cores >= 1 and not hw.mps
    assert hw.source["gpus"] == "torch" and hw.source["ram"] == str(meminfo)


def test_nvidia_smi_when_torch_is_missing(meminfo: Path) -> None:
    calls: list[list[str]] = []

    def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, stdout="NVIDIA H200, 143771\nNVIDIA T4, 15360 MiB\n", stderr="")

    hw = detect_hardware(import_module=_no_torch, which=lambda n: "/usr/bin/nvidia-smi", run=run, meminfo=meminfo)
    assert [g.name for g in hw.gpus] == ["NVIDIA H200", "NVIDIA T4"]
    assert hw.best_vram_mb == 143771 and hw.source["gpus"] == "nvidia-smi"
    assert "--query-gpu=name,memory.total" in calls[0]


def test_no_gpu_anywhere(meminfo: Path) -> None:
    hw = detect_hardware(import_module=_no_torch, which=lambda n: None, run=_never_run, meminfo=meminfo)
    assert hw.gpus == () and not hw.mps and "no CUDA GPU" in hw.summary()


def test_failing_nvidia_smi_is_no_gpu(meminfo: Path) -> None:
    def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(cmd, 9, stdout="", stderr="NVIDIA-SMI has failed")

    hw = detect_hardware(import_module=_no_torch, which=lambda n: "/x/nvidia-smi", run=run, meminfo=meminfo)
    assert hw.gpus == ()


def test_apple_mps(meminfo: Path) -> None:
    torch = _fake_torch(cuda=[], mps=True)
    hw = detect_hardware(import_module=lambda name: torch, which=lambda n: None, run=_never_run, meminfo=meminfo)
    assert hw.mps and hw.gpus == () and hw.to_dict()["mps"] is True


def test_ram_without_proc_meminfo(tmp_path: Path) -> None:
    hw = detect_hardware(import_module=_no_torch, which=lambda n: None, run=_never_run,
                         meminfo=tmp_path / "absent")
    assert hw.ram_mb > 0 and hw.source["ram"] in ("sysconf", "psutil")


def _entry(*, ram: int = 1000, vram: int = 0, suits: tuple[str, ...] = ("cpu",)) -> ModelEntry:
    return ModelEntry(id="m", kind="picture", engine="diffusers", title="M", repo="a/b", revision="main",
                      files=(ModelFile("x", 1),), licence=Licence("MIT", "https://x", True),
                      min_ram_mb=ram, min_vram_mb=vram, suits=suits)


LAPTOP = Hardware(cpu_cores=8, ram_mb=16000)
GAMING = Hardware(cpu_cores=16, ram_mb=32000, gpus=(Gpu("RTX 3060", 12288),))
MAC = Hardware(cpu_cores=10, ram_mb=32000, mps=True)


def test_fits() -> None:
    assert fits(_entry(), LAPTOP) == (True, "runs on CPU")
    ok, why = fits(_entry(ram=64000), LAPTOP)
    assert not ok and "RAM" in why
    ok, why = fits(_entry(vram=8000, suits=("cuda",)), LAPTOP)
    assert not ok and "8 GB" in why
    assert fits(_entry(vram=8000, suits=("cuda",)), GAMING) == (True, "runs on RTX 3060")
    ok, why = fits(_entry(vram=16000, suits=("cuda",)), GAMING)
    assert not ok and "best here: 12 GB" in why
    assert fits(_entry(vram=8000, suits=("cuda", "mps")), MAC)[0]
    ok, why = fits(_entry(vram=4000, suits=("cpu", "cuda")), LAPTOP)
    assert ok and "slow" in why
