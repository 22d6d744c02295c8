"""Stills for storyboard shots from a diffusers image model in the model manager's folder.

The pipeline is loaded on first use (`DiffusionPipeline.from_pretrained(folder,
local_files_only=True)`: nothing is ever downloaded here), kept loaded between calls, and freed
after `idle_seconds` without one. The device comes from hardware detection (CUDA in fp16, Apple
MPS, else CPU in fp32) and the memory measures from VRAM. Out of memory: retried one still at a
time, then at a smaller size, then `GPU_OUT_OF_MEMORY` with what to change.

With a fitting IP-Adapter (`reference_adapter.py`) it is loaded into the pipeline once, and a
request's `reference` (a character's picture) steers its still. diffusers repeats one set of image
embeddings for every prompt of a call, so a call holds stills of one reference only; stills without
one run at adapter scale 0 (the adapter's layers are skipped: the same pixels as without it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from filmstudio.domain.errors import EngineMissing, FilmStudioError
from filmstudio.pipeline.cache import atomic_output
from filmstudio.pipeline.cancel import CancelToken
from filmstudio.pipeline.engines import EngineInfo, PicturesIdentity, Progress, PromptTokens, StillRequest
from filmstudio.pipeline.prompts import model_tokens
from filmstudio.pipeline.providers.reference_adapter import ReferenceAdapter
from filmstudio.pipeline.providers.resident import Resident

AI_EXTRA = "the AI pictures need the `ai` extra: pip install 'filmstudio[ai]' (install torch for your GPU first)"
NATIVE_SIDE = {"sd15": 512, "lcm-lora-sd15": 512, "sd-turbo": 512, "sdxl-base-1.0": 1024}
SMALL_VRAM_MB = 8000  # below this: attention slicing and VAE tiling
TINY_VRAM_MB = 5000  # below this: model CPU offload as well


class GpuOutOfMemory(FilmStudioError):
    code = "GPU_OUT_OF_MEMORY"
    http_status = 507


class DiffusersPictures:
    """The `Pictures` engine on diffusers: one model folder, loaded lazily, freed when idle."""

    def __init__(self, folder: Path, *, model_id: str, revision: str = "", steps: int = 20, batch: int = 4,
                 idle_seconds: float = 300.0, device: str | None = None, vram_mb: int | None = None,
                 loader: Callable[[Path], Any] | None = None, adapter: ReferenceAdapter | None = None,
                 references_advice: str = "", forced_device: str | None = None) -> None:
        self.folder = folder
        self._forced_device = forced_device  # the settings' pictures_device: this device, whatever is found
        self.adapter = adapter
        self.references_advice = references_advice  # without an adapter: why, and what to pull
        self.model_id = model_id
        self.revision = revision
        self.steps = steps
        self.batch = max(1, batch)
        self._device, self._vram = device, vram_mb
        self._loader = loader
        self._pipe: Resident[Any] = Resident(self._load, idle_seconds)

    # -- what it is --------------------------------------------------------------------------------

    def info(self) -> EngineInfo:
        missing: tuple[str, ...] = ()
        version = ""
        try:
            import diffusers

            version = diffusers.__version__
        except ImportError:
            missing = (AI_EXTRA,)
        return EngineInfo(kind="pictures", name=f"diffusers {self.model_id}", version=version,
                          device=self.device(), ok=not missing and self.folder.is_dir(), missing=missing,
                          model=self.model_id, revision=self.revision, loaded=self.loaded, steps=self.steps,
                          native_side=self.native_side(),
                          references=self.adapter.identity() if self.adapter else None,
                          references_advice="" if self.adapter else self.references_advice)

    def identity(self) -> PicturesIdentity:
        return PicturesIdentity(model=self.model_id, revision=self.revision, steps=self.steps,
                                references=self.adapter.identity() if self.adapter else None)

    @property
    def idle_seconds(self) -> float:
        return self._pipe.idle_seconds

    @property
    def loaded(self) -> bool:
        return self._pipe.loaded

    def native_side(self) -> int:
        """The side the model was trained at: the UNet's sample size times the VAE's scale factor."""
        if self.model_id in NATIVE_SIDE:
            return NATIVE_SIDE[self.model_id]
        try:
            unet = json.loads((self.folder / "unet" / "config.json").read_text(encoding="utf-8"))
            vae = json.loads((self.folder / "vae" / "config.json").read_text(encoding="utf-8"))
            return int(unet["sample_size"]) * 2 ** (len(vae["block_out_channels"]) - 1)
        except (OSError, KeyError, ValueError, TypeError):
            return 512

    def prompt_tokens(self) -> PromptTokens:
        """The model's own tokenizer, to fit the prompts to what its text encoder reads."""
        return model_tokens(self.folder, self.model_id)

    def device(self) -> str:
        if self._device is None:
            self._device, self._vram = _pick_device(self._forced_device)
        return self._device

    # -- loading and freeing -------------------------------------------------------------------------

    def pipeline(self) -> Any:
        """The loaded pipeline (loaded on first use, kept until idle)."""
        return self._pipe.get()

    def _load(self) -> Any:
        try:
            import torch
            from diffusers import DiffusionPipeline
        except ImportError as exc:
            raise EngineMissing(AI_EXTRA, code="AI_EXTRA_MISSING") from exc
        if self._loader is not None:
            return self._with_adapter(self._loader(self.folder))
        device = self.device()
        dtype = torch.float16 if device == "cuda" else torch.float32
        pipe = DiffusionPipeline.from_pretrained(str(self.folder), local_files_only=True, torch_dtype=dtype)
        if hasattr(pipe, "safety_checker"):
            pipe.safety_checker = None
        pipe = self._with_adapter(pipe)  # before moving or offloading: its image encoder moves with the rest
        vram = self._vram or 0
        if device == "cuda" and vram and vram < TINY_VRAM_MB and hasattr(pipe, "enable_model_cpu_offload"):
            pipe.enable_model_cpu_offload()
        else:
            pipe.to(device)
        if device != "cpu" and vram and vram < SMALL_VRAM_MB:
            pipe.enable_attention_slicing()
            vae = getattr(pipe, "vae", None)
            if vae is not None and hasattr(vae, "enable_tiling"):
                vae.enable_tiling()
        if hasattr(pipe, "set_progress_bar_config"):
            pipe.set_progress_bar_config(disable=True)
        return pipe

    def _with_adapter(self, pipe: Any) -> Any:
        """Load the IP-Adapter (weights and image encoder, from its own folder) into `pipe`, once."""
        return self.adapter.load_into(pipe) if self.adapter is not None else pipe

    def free(self) -> None:
        """Drop the pipeline and give its memory back (after an idle time, or when asked)."""
        self._pipe.free()

    # -- making stills -------------------------------------------------------------------------------

    def stills(self, requests: Sequence[StillRequest], *, cancel: CancelToken,
               progress: Progress | None = None) -> list[Path]:
        """Every request's still at its `out` (an existing file is a cache hit), in order."""
        todo = [r for r in requests if not r.out.exists()]
        done = len(requests) - len(todo)
        if progress is not None:
            progress(done / max(1, len(requests)))
        if todo:
            pipe = self.pipeline()
            # One batch per size, step count and reference: what a call to the pipeline shares.
            groups: dict[tuple[int, int, int, Path | None], list[StillRequest]] = {}
            for r in todo:
                ref = r.reference if self.adapter is not None else None
                groups.setdefault((r.width, r.height, r.steps or self.steps, ref), []).append(r)
            for (w, h, steps, _), group in groups.items():
                for i in range(0, len(group), self.batch):
                    cancel.raise_if_cancelled()
                    chunk = group[i:i + self.batch]
                    for req, img in zip(chunk, self._generate(pipe, chunk, w, h, steps), strict=True):
                        _save(img, req)
                        done += 1  # progress per finished still, so a job's progress moves per shot
                        if progress is not None:
                            progress(done / len(requests))
            self._pipe.touch()
            self._pipe.idle()
        return [r.out for r in requests]

    def _generate(self, pipe: Any, chunk: Sequence[StillRequest], w: int, h: int, steps: int) -> list[Any]:
        try:
            return self._call(pipe, chunk, w, h, steps)
        except Exception as exc:
            if not _is_oom(exc):
                raise
        self.free_cache()
        try:  # one at a time
            return [img for r in chunk for img in self._call(pipe, [r], w, h, steps)]
        except Exception as exc:
            if not _is_oom(exc):
                raise
        self.free_cache()
        try:  # and smaller, scaled back up when fitted to the frame
            sw, sh = max(8, w // 16 * 8), max(8, h // 16 * 8)
            return [img for r in chunk for img in self._call(pipe, [r], sw, sh, steps)]
        except Exception as exc:
            if not _is_oom(exc):
                raise
            raise GpuOutOfMemory(
                f"the picture model {self.model_id} ran out of GPU memory even one still at a time at {sw}x{sh}",
                details={"model": self.model_id, "advice": "close other GPU programs, pick a smaller picture "
                         "model (sd-turbo, sd15), or set FILMSTUDIO_PICTURES_DEVICE=cpu"},
            ) from exc

    def free_cache(self) -> None:
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:
            pass

    def _call(self, pipe: Any, chunk: Sequence[StillRequest], w: int, h: int, steps: int) -> list[Any]:
        import torch

        generators = [torch.Generator(device="cpu").manual_seed(r.seed) for r in chunk]
        guidance = 0.0 if self.model_id == "sd-turbo" else 7.5
        extra = self._reference_inputs(pipe, chunk[0].reference, guidance) if self.adapter is not None else {}
        result = pipe(prompt=[r.prompt for r in chunk], negative_prompt=[r.negative_prompt for r in chunk],
                      width=w, height=h, num_inference_steps=steps, generator=generators,
                      guidance_scale=guidance, output_type="pil", **extra)
        return list(result.images)

    def _reference_inputs(self, pipe: Any, reference: Path | None, guidance: float) -> dict[str, Any]:
        """The call's IP-Adapter input: the reference picture, or (none) zero embeddings at scale 0."""
        assert self.adapter is not None
        if reference is not None:
            from PIL import Image

            pipe.set_ip_adapter_scale(self.adapter.scale)
            with Image.open(reference) as img:
                return {"ip_adapter_image": img.convert("RGB")}
        import torch

        pipe.set_ip_adapter_scale(0.0)  # the adapter's attention is skipped at 0: a plain still
        encoder = pipe.image_encoder
        guided = guidance > 1 and getattr(pipe.unet.config, "time_cond_proj_dim", None) is None
        zeros = torch.zeros((2 if guided else 1, 1, int(encoder.config.projection_dim)), dtype=encoder.dtype)
        return {"ip_adapter_image_embeds": [zeros]}


def _save(img: Any, req: StillRequest) -> None:
    """Fit the still to the requested size (the frame's aspect) and write it atomically."""
    from PIL import Image

    if img.size != (req.width, req.height):
        img = img.resize((req.width, req.height), Image.Resampling.LANCZOS)
    req.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(req.out) as tmp:
        img.save(tmp, format="PNG")


def _is_oom(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return "out of memory" in text or "outofmemory" in text


def _pick_device(forced: str | None = None) -> tuple[str, int]:
    """`forced`, else CUDA (fp16) when there is one, else Apple MPS, else the CPU; with the VRAM in MB."""
    from filmstudio.pipeline.models.hardware import detect_hardware

    hw = detect_hardware()
    if forced:
        return forced, hw.best_vram_mb
    if any(g.backend == "cuda" for g in hw.gpus):
        try:
            import torch

            if torch.cuda.is_available():
                return "cuda", hw.best_vram_mb
        except ImportError:
            pass
    if hw.mps:
        return "mps", 0
    return "cpu", 0
