"""DiffusersPictures without a model: sizes, OOM retries, the missing `ai` extra, idle freeing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from filmstudio.domain.errors import EngineMissing
from filmstudio.pipeline.context import CancelToken
from filmstudio.pipeline.engines import StillRequest, native_size, still_path
from filmstudio.pipeline.providers.pictures import DiffusersPictures, GpuOutOfMemory

pytest.importorskip("torch")


class _Result:
    def __init__(self, images: list[Image.Image]) -> None:
        self.images = images


class OomPipe:
    """Runs out of memory for batches bigger than `max_batch` or sides bigger than `max_side`."""

    def __init__(self, max_batch: int, max_side: int) -> None:
        self.max_batch, self.max_side, self.calls = max_batch, max_side, []  # type: ignore[var-annotated]

    def __call__(self, *, prompt: list[str], width: int, height: int, **kw: Any) -> _Result:
        self.calls.append((len(prompt), width, height))
        if len(prompt) > self.max_batch or max(width, height) > self.max_side:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return _Result([Image.new("RGB", (width, height), (90, 20, 20)) for _ in prompt])


def _reqs(tmp: Path, n: int, size: tuple[int, int] = (96, 56)) -> list[StillRequest]:
    return [StillRequest(f"p{i}", "", size[0], size[1], i, tmp / f"{i}.png", 2) for i in range(n)]


def test_native_size_keeps_the_pixel_count_and_multiples_of_8() -> None:
    assert native_size(16 / 9, 512) == (680, 384)
    assert native_size(9 / 16, 512) == (384, 680)
    assert native_size(1.0, 1024) == (1024, 1024)
    a = still_path(Path("c"), "sd15", "r1", "p", "n", 1, (8, 8), 4)
    assert a != still_path(Path("c"), "sd15", "r2", "p", "n", 1, (8, 8), 4)  # the revision is in the key


def test_out_of_memory_retries_one_at_a_time_then_smaller(tmp_path: Path) -> None:
    pipe = OomPipe(max_batch=1, max_side=200)
    engine = DiffusersPictures(tmp_path, model_id="m", batch=3, device="cpu", loader=lambda folder: pipe)
    out = engine.stills(_reqs(tmp_path, 3), cancel=CancelToken())
    assert [c[0] for c in pipe.calls] == [3, 1, 1, 1]
    assert all(Image.open(p).size == (96, 56) for p in out)

    small = OomPipe(max_batch=1, max_side=60)
    engine = DiffusersPictures(tmp_path, model_id="m", batch=2, device="cpu", loader=lambda folder: small)
    out = engine.stills(_reqs(tmp_path / "s", 2), cancel=CancelToken())
    assert small.calls[-1][1:] == (48, 24) and Image.open(out[0]).size == (96, 56)  # drawn smaller, fitted back


def test_out_of_memory_everywhere_is_a_domain_error_with_advice(tmp_path: Path) -> None:
    engine = DiffusersPictures(tmp_path, model_id="m", device="cpu", loader=lambda folder: OomPipe(0, 0))
    with pytest.raises(GpuOutOfMemory) as caught:
        engine.stills(_reqs(tmp_path, 1), cancel=CancelToken())
    assert caught.value.code == "GPU_OUT_OF_MEMORY" and "smaller picture model" in caught.value.details["advice"]


def test_missing_ai_extra_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "diffusers", None)
    engine = DiffusersPictures(tmp_path, model_id="m", device="cpu")
    assert not engine.info().ok and "`ai` extra" in engine.info().missing[0]
    with pytest.raises(EngineMissing) as caught:
        engine.stills(_reqs(tmp_path, 1), cancel=CancelToken())
    assert caught.value.code == "AI_EXTRA_MISSING"


def test_loaded_once_and_freed_after_the_idle_time(tmp_path: Path) -> None:
    loads: list[Path] = []
    pipe = OomPipe(9, 9999)
    engine = DiffusersPictures(tmp_path, model_id="m", device="cpu", idle_seconds=0.2,
                               loader=lambda folder: loads.append(folder) or pipe)
    engine.stills(_reqs(tmp_path, 1), cancel=CancelToken())
    engine.stills(_reqs(tmp_path / "b", 1), cancel=CancelToken())
    assert len(loads) == 1 and engine.loaded
    import time

    deadline = time.monotonic() + 5
    while engine.loaded and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not engine.loaded
