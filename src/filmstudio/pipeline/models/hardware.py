"""What this machine can run: CUDA GPUs (name, VRAM), Apple MPS, CPU cores and RAM."""

from __future__ import annotations

import importlib
import os
import platform
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filmstudio.pipeline.models.catalogue import ModelEntry


@dataclass(frozen=True)
class Gpu:
    name: str
    vram_mb: int
    backend: str = "cuda"


@dataclass(frozen=True)
class Hardware:
    cpu_cores: int
    ram_mb: int
    gpus: tuple[Gpu, ...] = ()
    mps: bool = False
    source: dict[str, str] = field(default_factory=dict)  # where each fact came from

    @property
    def best_vram_mb(self) -> int:
        return max((g.vram_mb for g in self.gpus), default=0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cpu_cores": self.cpu_cores, "ram_mb": self.ram_mb, "mps": self.mps,
            "gpus": [{"name": g.name, "vram_mb": g.vram_mb, "backend": g.backend} for g in self.gpus],
            "source": dict(self.source),
        }

    def summary(self) -> str:
        gpus = ", ".join(f"{g.name} ({g.vram_mb / 1024:.0f} GB)" for g in self.gpus) or "no CUDA GPU"
        mps = "; Apple MPS" if self.mps else ""
        return f"{self.cpu_cores} CPU cores, {self.ram_mb / 1024:.1f} GB RAM; {gpus}{mps}"


Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def detect_hardware(
    *,
    import_module: Callable[[str], Any] = importlib.import_module,
    which: Callable[[str], str | None] = shutil.which,
    run: Runner = subprocess.run,
    meminfo: Path = Path("/proc/meminfo"),
) -> Hardware:
    """Look at this machine; every probe is optional and a failing one only leaves its fact out."""
    source: dict[str, str] = {}
    gpus, mps = _torch_devices(import_module, source)
    if not gpus and "gpus" not in source:
        gpus = _nvidia_smi(which, run, source)
    return Hardware(cpu_cores=os.cpu_count() or 1, ram_mb=_ram_mb(import_module, meminfo, source),
                    gpus=gpus, mps=mps, source=source)


def _torch_devices(import_module: Callable[[str], Any], source: dict[str, str]) -> tuple[tuple[Gpu, ...], bool]:
    try:
        torch = import_module("torch")
    except Exception:  # not installed, or a broken CUDA build: fall back to nvidia-smi
        return (), False
    gpus: list[Gpu] = []
    try:
        if torch.cuda.is_available():
            for i in range(torch.cuda.device_count()):
                props = torch.cuda.get_device_properties(i)
                gpus.append(Gpu(name=str(props.name), vram_mb=int(props.total_memory) // (1024 * 1024)))
            source["gpus"] = "torch"
    except Exception:
        gpus = []
    mps = False
    try:
        backend = getattr(torch.backends, "mps", None)
        mps = bool(backend is not None and backend.is_available())
        if mps:
            source["mps"] = "torch"
    except Exception:
        mps = False
    return tuple(gpus), mps


def _nvidia_smi(which: Callable[[str], str | None], run: Runner, source: dict[str, str]) -> tuple[Gpu, ...]:
    exe = which("nvidia-smi")
    if not exe:
        return ()
    try:
        proc = run([exe, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
                   capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return ()
    if proc.returncode != 0:
        return ()
    gpus = []
    for line in proc.stdout.splitlines():
        name, _, mem = line.rpartition(",")
        digits = "".join(ch for ch in mem if ch.isdigit())
        if name.strip() and digits:
            gpus.append(Gpu(name=name.strip(), vram_mb=int(digits)))
    if gpus:
        source["gpus"] = "nvidia-smi"
    return tuple(gpus)


def _ram_mb(import_module: Callable[[str], Any], meminfo: Path, source: dict[str, str]) -> int:
    try:
        for line in meminfo.read_text(encoding="ascii").splitlines():
            if line.startswith("MemTotal:"):
                source["ram"] = str(meminfo)
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        if pages > 0 and page_size > 0:
            source["ram"] = "sysconf"
            return int(pages * page_size) // (1024 * 1024)
    except (AttributeError, ValueError, OSError):
        pass
    try:  # Windows and others: only when psutil is already there, never a new dependency
        psutil = import_module("psutil")
        source["ram"] = "psutil"
        return int(psutil.virtual_memory().total) // (1024 * 1024)
    except Exception:
        source["ram"] = f"unknown ({platform.system()})"
        return 0


def fits(entry: ModelEntry, hardware: Hardware) -> tuple[bool, str]:
    """Whether `entry` can run here, and a short reason a person can read."""
    need_ram = entry.min_ram_mb
    if hardware.ram_mb and hardware.ram_mb < need_ram:
        return False, f"needs {need_ram / 1024:.1f} GB RAM, this machine has {hardware.ram_mb / 1024:.1f} GB"
    need_vram = entry.min_vram_mb
    if "cuda" in entry.suits:
        for gpu in hardware.gpus:
            if gpu.vram_mb >= need_vram:
                return True, f"runs on {gpu.name}" if need_vram else "runs on CPU or the GPU"
    if "mps" in entry.suits and hardware.mps and (not hardware.ram_mb or hardware.ram_mb >= need_ram + need_vram):
        return True, "runs on the Apple GPU (shared memory)"
    if "cpu" in entry.suits:
        return True, "runs on CPU" if not need_vram else "runs on CPU (slow: a GPU makes it much faster)"
    if need_vram:
        best = f"; best here: {hardware.best_vram_mb / 1024:.0f} GB" if hardware.gpus else ""
        return False, f"needs a GPU with {need_vram / 1024:.0f} GB{best}"
    return False, f"needs one of: {', '.join(entry.suits)}"
