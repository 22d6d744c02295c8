"""Clips for moving shots from AnimateDiff: a motion adapter over the installed sd15 picture model.

AnimateDiff adds temporal layers (diffusers' `MotionAdapter`, from the adapter's own folder) to a
Stable Diffusion 1.5 UNet: diffusers' `AnimateDiffPipeline` is loaded from the pulled sd15 folder
with that adapter (`local_files_only`: nothing is downloaded here). It is text-to-video from the
shot's prompt; with a fitting IP-Adapter installed (`reference_adapter.py`) the still is its image
prompt (`ip_adapter_image`), so the clip keeps the shot's look and characters without starting
from its pixels. Natively 16 frames at 8 fps, 512 px, 25 steps at guidance 7.5.

The lazy load, the idle free, the memory measures (offload, VAE tiling and slicing), the out-of-memory
fallback, cancel and progress per step and the clip file are `DiffusersMotion`'s.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from filmstudio.pipeline.engines import ClipRequest, EngineInfo, MotionIdentity
from filmstudio.pipeline.providers.motion import DiffusersMotion
from filmstudio.pipeline.providers.reference_adapter import ReferenceAdapter

BASE_MODEL = "sd15"  # the catalogue picture model the adapter runs over (pull it to animate with AnimateDiff)
DECODE_CHUNK = 4  # frames the VAE decodes at a time (diffusers' default, 16, decodes the whole clip at once)


class AnimateDiffMotion(DiffusersMotion):
    """The `Motion` engine on AnimateDiff: the adapter's folder over sd15's, plus the IP-Adapter when installed."""

    PIPELINE_CLASS = "AnimateDiffPipeline"

    def __init__(self, folder: Path, *, model_id: str, base: Path, base_id: str = BASE_MODEL,
                 base_revision: str = "", reference: ReferenceAdapter | None = None,
                 references_advice: str = "", **kw: Any) -> None:
        super().__init__(folder, model_id=model_id, **kw)
        self.base, self.base_id, self.base_revision = base, base_id, base_revision
        self.reference = reference  # None: text-to-video only (`references_advice` says why)
        self.references_advice = references_advice

    def info(self) -> EngineInfo:
        found = super().info()
        return replace(found, name=f"diffusers AnimateDiff {self.model_id} over {self.base_id}",
                       ok=found.ok and (self.base / "model_index.json").is_file(),
                       details={**found.details, "base": self.base_id, "base_revision": self.base_revision,
                                "references": self.reference.identity().as_dict() if self.reference else None,
                                "references_advice": "" if self.reference else self.references_advice})

    def identity(self) -> MotionIdentity:
        return MotionIdentity(model=self.model_id, revision=self.revision, steps=self.steps, base=self.base_id,
                              base_revision=self.base_revision,
                              references=self.reference.identity() if self.reference else None)

    def image_conditioned(self) -> bool:
        return self.reference is not None

    def _build(self, dtype: Any) -> Any:
        from diffusers import AnimateDiffPipeline, DDIMScheduler, MotionAdapter

        adapter = MotionAdapter.from_pretrained(str(self.folder), torch_dtype=dtype, local_files_only=True)
        pipe = AnimateDiffPipeline.from_pretrained(str(self.base), motion_adapter=adapter, torch_dtype=dtype,
                                                   local_files_only=True)
        # The scheduler AnimateDiff was trained with (diffusers' AnimateDiff guide): DDIM, linear betas.
        pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config, beta_schedule="linear", clip_sample=False,
                                                   timestep_spacing="linspace", steps_offset=1)
        # Before moving or offloading: the IP-Adapter's image encoder moves with the rest.
        return self.reference.load_into(pipe) if self.reference is not None else pipe

    def _model_inputs(self, pipe: Any, request: ClipRequest, w: int, h: int) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"prompt": request.prompt, "negative_prompt": request.negative_prompt,
                                  "guidance_scale": self.shape.guidance, "decode_chunk_size": DECODE_CHUNK}
        if self.reference is not None:
            from PIL import Image

            with Image.open(request.still) as img:
                kwargs["ip_adapter_image"] = img.convert("RGB")
        return kwargs
