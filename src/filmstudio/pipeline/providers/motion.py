"""Clips for moving shots from a diffusers video model in the model manager's folder.

The pipeline is loaded on first use from the pulled folder (`local_files_only`: nothing is ever
downloaded here), kept between clips and freed after `idle_seconds` without one (`Resident`, as the
picture engine does). The device and the memory measures come from hardware detection: CUDA in
fp16 (bf16 for Wan), model CPU offload below `OFFLOAD_VRAM_MB`, VAE tiling and slicing below
`TILING_VRAM_MB`, and half the frames per clip below `FEWER_FRAMES_VRAM_MB`. Out of memory: the
clip is made again with fewer frames, then smaller, then `MotionOutOfMemory` (the stage shows that
shot's still with its camera move and says so in the manifest).

What a pipeline is asked depends on its class, read from the folder's `model_index.json`: Wan's
image-to-video (TI2V: the still is the clip's first frame) and Stable Video Diffusion take the
still; Wan's text-to-video takes the prompt only. Wan's prompts are encoded here (tokenizer + text
encoder, as diffusers does, without its `ftfy` clean-up), so no extra package is needed.

A motion model that is not a pipeline folder of its own (AnimateDiff's adapter over sd15,
`animatediff.py`) subclasses this engine and changes only how the pipeline is built (`_build`), what
it is asked besides the frames, size, steps and seed (`_model_inputs`) and what it declares.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from filmstudio.domain.errors import EngineMissing
from filmstudio.pipeline.cache import atomic_output
from filmstudio.pipeline.cancel import CancelToken
from filmstudio.pipeline.engines import (
    ClipRequest,
    EngineInfo,
    MadeClip,
    MotionCapabilities,
    MotionIdentity,
    MotionOutOfMemory,
    Progress,
)
from filmstudio.pipeline.media.ffmpeg import ffmpeg_exe
from filmstudio.pipeline.providers.pictures import AI_EXTRA, _is_oom, _pick_device
from filmstudio.pipeline.providers.resident import Resident

OFFLOAD_VRAM_MB = 16000  # below this: model CPU offload (each part on the GPU only while it runs)
TILING_VRAM_MB = 24000  # below this: the VAE decodes in tiles and slices
FEWER_FRAMES_VRAM_MB = 10000  # below this: half the frames per clip (the rest of the shot holds its last frame)
WAN_MAX_TOKENS = 512  # Wan's text encoder reads at most this many tokens


@dataclass(frozen=True)
class ModelShape:
    """What a catalogue video model makes natively (published figures): frames, rate, pixel count."""

    max_frames: int
    fps: int
    native_side: int  # sqrt of its native pixel count (832x480 -> 632)
    frames_step: int
    steps: int
    guidance: float


# By catalogue id; a model pulled from elsewhere gets its pipeline class's shape.
MODEL_SHAPES = {
    "wan2.1-t2v-1.3b": ModelShape(max_frames=81, fps=16, native_side=632, frames_step=4, steps=30, guidance=5.0),
    "wan2.2-ti2v-5b": ModelShape(max_frames=121, fps=24, native_side=949, frames_step=4, steps=30, guidance=5.0),
    "svd-xt": ModelShape(max_frames=25, fps=7, native_side=768, frames_step=1, steps=25, guidance=3.0),
    # AnimateDiff v1.5.3 over sd15: trained on 16 frames at 512x512, shown at 8 fps (2 s).
    "animatediff-motion-adapter-sd15": ModelShape(max_frames=16, fps=8, native_side=512, frames_step=1, steps=25,
                                                  guidance=7.5),
}
CLASS_SHAPES = {
    "WanPipeline": MODEL_SHAPES["wan2.1-t2v-1.3b"],
    "WanImageToVideoPipeline": MODEL_SHAPES["wan2.2-ti2v-5b"],
    "StableVideoDiffusionPipeline": MODEL_SHAPES["svd-xt"],
    "AnimateDiffPipeline": MODEL_SHAPES["animatediff-motion-adapter-sd15"],
}
IMAGE_CONDITIONED = frozenset({"WanImageToVideoPipeline", "StableVideoDiffusionPipeline"})
TEXT_PROMPTED = frozenset({"WanPipeline", "WanImageToVideoPipeline"})


class DiffusersMotion:
    """The `Motion` engine on diffusers: one video model folder, loaded lazily, freed when idle."""

    # The pipeline class of every folder this engine loads (None: read from the folder's model_index.json).
    PIPELINE_CLASS: ClassVar[str | None] = None

    def __init__(self, folder: Path, *, model_id: str, revision: str = "", steps: int | None = None,
                 idle_seconds: float = 300.0, device: str | None = None, vram_mb: int | None = None,
                 forced_device: str | None = None, loader: Callable[[Path], Any] | None = None) -> None:
        self.folder = folder
        self.model_id = model_id
        self.revision = revision
        self.pipeline_class = self.PIPELINE_CLASS or _pipeline_class(folder)
        # What it makes natively (a test gives a tiny model a tiny shape).
        self.shape = MODEL_SHAPES.get(model_id) or CLASS_SHAPES.get(self.pipeline_class) or MODEL_SHAPES["svd-xt"]
        self.steps = steps if steps is not None else self.shape.steps
        self._forced_device = forced_device
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
        caps = self.capabilities()
        return EngineInfo(kind="motion", name=f"diffusers {self.model_id}", version=version, device=self.device(),
                          ok=not missing and self.folder.is_dir(), missing=missing, model=self.model_id,
                          revision=self.revision, steps=self.steps, loaded=self.loaded,
                          native_side=caps.native_side,
                          details={"pipeline": self.pipeline_class, "max_frames": caps.max_frames, "fps": caps.fps,
                                   "image_conditioned": caps.image_conditioned})

    def identity(self) -> MotionIdentity:
        return MotionIdentity(model=self.model_id, revision=self.revision, steps=self.steps)

    def capabilities(self) -> MotionCapabilities:
        frames = self.shape.max_frames
        if self.device() == "cuda" and self._vram and self._vram < FEWER_FRAMES_VRAM_MB:
            frames = 1 + (frames - 1) // 2 // self.shape.frames_step * self.shape.frames_step
        return MotionCapabilities(max_frames=frames, fps=self.shape.fps, native_side=self.shape.native_side,
                                  frames_step=self.shape.frames_step, size_step=16,
                                  image_conditioned=self.image_conditioned())

    def image_conditioned(self) -> bool:
        """Whether its clips start from the shot's still (else they follow the prompt only)."""
        return self.pipeline_class in IMAGE_CONDITIONED

    @property
    def loaded(self) -> bool:
        return self._pipe.loaded

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
        except ImportError as exc:
            raise EngineMissing(AI_EXTRA, code="AI_EXTRA_MISSING") from exc
        if self._loader is not None:
            return self._loader(self.folder)
        device = self.device()
        dtype = (torch.bfloat16 if self.pipeline_class.startswith("Wan") else torch.float16) \
            if device == "cuda" else torch.float32
        pipe = self._build(dtype)
        vram = self._vram or 0
        if device == "cuda" and vram and vram < OFFLOAD_VRAM_MB and _has_accelerate():
            pipe.enable_model_cpu_offload()
        else:
            pipe.to(device)
        vae = getattr(pipe, "vae", None)
        if device != "cpu" and vram and vram < TILING_VRAM_MB and vae is not None:
            for measure in ("enable_tiling", "enable_slicing"):
                if hasattr(vae, measure):
                    getattr(vae, measure)()
        if hasattr(pipe, "set_progress_bar_config"):
            pipe.set_progress_bar_config(disable=True)
        return pipe

    def _build(self, dtype: Any) -> Any:
        """The pipeline on the CPU in `dtype` (the memory measures and the device come after)."""
        return load_pipeline(self.folder, dtype)

    def free(self) -> None:
        """Drop the pipeline and give its memory back (after an idle time, or when asked)."""
        self._pipe.free()

    # -- making clips --------------------------------------------------------------------------------

    def animate(self, request: ClipRequest, *, cancel: CancelToken, progress: Progress | None = None) -> MadeClip:
        """The clip at `request.out`: made at the asked frames and size, else fewer frames, else smaller."""
        if request.out.exists():
            if progress is not None:
                progress(1.0)
            return MadeClip(request.out, request.frames, request.width, request.height, request.fps)
        pipe = self.pipeline()
        step = self.shape.frames_step
        fewer = max(1, 1 + (request.frames - 1) // 2 // step * step)
        smaller = (max(16, request.width * 3 // 4 // 16 * 16), max(16, request.height * 3 // 4 // 16 * 16))
        tries = [(request.frames, request.width, request.height), (fewer, request.width, request.height),
                 (fewer, *smaller)]
        error: BaseException | None = None
        for n, (frames, w, h) in enumerate(tries):
            cancel.raise_if_cancelled()
            try:
                video = self._call(pipe, request, frames, w, h, cancel, progress)
            except Exception as exc:
                if not _is_oom(exc):
                    raise
                error = exc
                _empty_cuda_cache()
                continue
            _write_clip(video, request)
            self._pipe.touch()
            self._pipe.idle()
            warning = "" if n == 0 else (
                f"made {frames} of {request.frames} frames at {w}x{h}: out of GPU memory at the full clip")
            return MadeClip(request.out, frames, w, h, request.fps, warning)
        self._pipe.idle()
        raise MotionOutOfMemory(
            f"the video model {self.model_id} ran out of GPU memory even at {tries[-1][0]} frames "
            f"{tries[-1][1]}x{tries[-1][2]}",
            details={"model": self.model_id, "advice": "close other GPU programs, set the motion budget to "
                     "key shots or none, or pick a smaller video model"},
        ) from error

    def _call(self, pipe: Any, request: ClipRequest, frames: int, w: int, h: int, cancel: CancelToken,
              progress: Progress | None) -> Any:
        import numpy as np
        import torch

        steps = request.steps or self.steps
        kwargs: dict[str, Any] = {"height": h, "width": w, "num_frames": frames, "num_inference_steps": steps,
                                  "generator": torch.Generator(device="cpu").manual_seed(request.seed),
                                  "output_type": "np", **self._model_inputs(pipe, request, w, h)}
        accepted = inspect.signature(pipe.__call__).parameters
        if "callback_on_step_end" in accepted:
            def on_step(_pipe: Any, i: int, _t: Any, tensors: dict[str, Any]) -> dict[str, Any]:
                cancel.raise_if_cancelled()
                if progress is not None:
                    progress(min(1.0, (i + 1) / steps))
                return tensors

            kwargs["callback_on_step_end"] = on_step
        with torch.inference_mode():
            out = pipe(**{k: v for k, v in kwargs.items() if k in accepted})
        video = np.asarray(out.frames[0])
        if progress is not None:
            progress(1.0)
        return video

    def _model_inputs(self, pipe: Any, request: ClipRequest, w: int, h: int) -> dict[str, Any]:
        """What this model is asked besides frames, size, steps and seed: the still, the prompt, or both."""
        from PIL import Image

        kwargs: dict[str, Any] = {}
        if self.pipeline_class in IMAGE_CONDITIONED:
            with Image.open(request.still) as img:
                kwargs["image"] = img.convert("RGB").resize((w, h), Image.Resampling.LANCZOS)
        if self.pipeline_class == "StableVideoDiffusionPipeline":
            kwargs.update(decode_chunk_size=4, fps=request.fps)  # the VAE decodes 4 frames at a time
        if self.pipeline_class in TEXT_PROMPTED:
            positive, negative, length = wan_embeds(pipe, [request.prompt, request.negative_prompt])
            kwargs.update(prompt_embeds=positive, negative_prompt_embeds=negative, max_sequence_length=length,
                          guidance_scale=self.shape.guidance)
        return kwargs


def wan_embeds(pipe: Any, texts: list[str]) -> tuple[Any, Any, int]:
    """Wan's text embeddings of (prompt, negative) as diffusers makes them: padded, zero past each text's end."""
    import torch

    length = min(WAN_MAX_TOKENS, int(getattr(pipe.tokenizer, "model_max_length", WAN_MAX_TOKENS) or WAN_MAX_TOKENS))
    encoded = pipe.tokenizer([" ".join(t.split()) for t in texts], padding="max_length", max_length=length,
                             truncation=True, add_special_tokens=True, return_attention_mask=True,
                             return_tensors="pt")
    encoder = pipe.text_encoder
    device = next(encoder.parameters()).device
    with torch.inference_mode():
        hidden = encoder(encoded.input_ids.to(device), encoded.attention_mask.to(device)).last_hidden_state
    hidden = hidden * encoded.attention_mask.to(device).unsqueeze(-1).to(hidden.dtype)
    dtype = getattr(pipe.transformer, "dtype", hidden.dtype)
    return hidden[:1].to(dtype), hidden[1:2].to(dtype), length


def load_pipeline(folder: Path, dtype: Any) -> Any:
    """The folder's pipeline. With accelerate, diffusers' own loader; without it, part by part (diffusers
    refuses a model that keeps some layers in fp32, Wan's transformer, when accelerate is missing)."""
    from diffusers import DiffusionPipeline

    if _has_accelerate():
        return DiffusionPipeline.from_pretrained(str(folder), local_files_only=True, torch_dtype=dtype)
    import diffusers
    import torch
    from safetensors.torch import load_file

    index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    parts: dict[str, Any] = {}
    for name, spec in index.items():
        if name.startswith("_"):
            continue
        if not (isinstance(spec, list) and len(spec) == 2):
            parts[name] = spec  # a pipeline setting (expand_timesteps, boundary_ratio)
            continue
        library, class_name = spec
        if library is None or class_name is None:
            parts[name] = None
            continue
        cls: Any = getattr(importlib.import_module(library), class_name)
        sub = folder / name
        if library == "diffusers" and getattr(cls, "_keep_in_fp32_modules", None) is not None:
            model = cls.from_config(cls.load_config(str(sub)))
            state: dict[str, Any] = {}
            for shard in sorted(sub.glob("*.safetensors")):
                state.update(load_file(str(shard)))
            model.load_state_dict(state)
            if dtype != torch.float32:  # as diffusers does: the layers it keeps in fp32 stay in fp32
                model = model.to(dtype)
                for layer_name, layer in model.named_modules():
                    if any(kept in layer_name for kept in cls._keep_in_fp32_modules):
                        layer.to(torch.float32)
            parts[name] = model.eval()
        elif _is_torch_module(cls, torch):
            parts[name] = cls.from_pretrained(str(sub), torch_dtype=dtype)
        else:  # tokenizers, schedulers, processors
            parts[name] = cls.from_pretrained(str(sub))
    return getattr(diffusers, index["_class_name"])(**parts)


def _is_torch_module(cls: Any, torch: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, torch.nn.Module)


def _pipeline_class(folder: Path) -> str:
    try:
        return str(json.loads((folder / "model_index.json").read_text(encoding="utf-8"))["_class_name"])
    except (OSError, KeyError, ValueError, TypeError):
        return ""


def _has_accelerate() -> bool:
    return importlib.util.find_spec("accelerate") is not None


def _empty_cuda_cache() -> None:
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass


CLIP_CRF = 12  # near-lossless: the clip is graded and encoded again in its segment


def _write_clip(video: Any, request: ClipRequest) -> None:
    """Frames (F, H, W, 3) in 0..1 to an H.264 file at `request.out`, written atomically."""
    import numpy as np

    frames = (np.clip(np.asarray(video, dtype=np.float32), 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    _, h, w, _ = frames.shape
    with atomic_output(request.out) as tmp:
        subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "rawvideo",
             "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-framerate", str(request.fps), "-i", "-",
             "-c:v", "libx264", "-preset", "veryfast", "-crf", str(CLIP_CRF), "-pix_fmt", "yuv420p",
             "-movflags", "+faststart", "-f", "mp4", str(tmp)],
            input=frames.tobytes(), check=True, capture_output=True, timeout=600,
        )
