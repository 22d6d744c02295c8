"""Moving shots on a GPU (not a test; no network): the catalogue video model's full-size architecture built
from its config with random weights, run through our Motion engine at the sizes a film uses.

    .venv/bin/python bench/motion_gpu.py                       # Wan 2.2 TI2V-5B, 16:9 and 9:16, 5 s clips
    .venv/bin/python bench/motion_gpu.py --model wan2.1-t2v-1.3b --steps 10 --seconds 2

Random weights make noise, but the arithmetic (and so seconds per clip and peak VRAM) is the real
model's: the transformer and the VAE at their published configs, in bf16 on CUDA. The umT5-XXL text
encoder is replaced by a one-layer encoder of the same width (4096): a prompt is encoded once per clip,
a small share of a clip's time, and building the 5.7 B-parameter encoder would only cost start-up.
Reports per aspect: the clip's size and frames, seconds per clip (and per step), peak VRAM (allocated
and reserved), and the direct pipeline call's seconds for our overhead. Writes `$OUT/motion_gpu.json`
when $OUT is set.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent / "src"), str(BENCH.parent / "tests")]

from filmstudio.pipeline.context import CancelToken  # noqa: E402
from filmstudio.pipeline.engines import ClipRequest  # noqa: E402
from filmstudio.pipeline.providers.motion import DiffusersMotion, wan_embeds  # noqa: E402
from tiny_video import tiny_tokenizer  # noqa: E402

# Published configs (the Diffusers repos' transformer/ and vae/ config.json).
CONFIGS: dict[str, dict[str, Any]] = {
    "wan2.2-ti2v-5b": {
        "pipeline": "WanImageToVideoPipeline",
        "transformer": {"patch_size": (1, 2, 2), "num_attention_heads": 24, "attention_head_dim": 128,
                        "in_channels": 48, "out_channels": 48, "text_dim": 4096, "freq_dim": 256, "ffn_dim": 14336,
                        "num_layers": 30, "cross_attn_norm": True, "qk_norm": "rms_norm_across_heads", "eps": 1e-6,
                        "rope_max_seq_len": 1024},
        "vae": {"base_dim": 160, "decoder_base_dim": 256, "z_dim": 48, "dim_mult": [1, 2, 4, 4], "num_res_blocks": 2,
                "temperal_downsample": [False, True, True], "is_residual": True, "in_channels": 12,
                "out_channels": 12, "patch_size": 2, "scale_factor_temporal": 4, "scale_factor_spatial": 16,
                "latents_mean": [0.0] * 48, "latents_std": [1.0] * 48},
    },
    "wan2.1-t2v-1.3b": {
        "pipeline": "WanPipeline",
        "transformer": {"patch_size": (1, 2, 2), "num_attention_heads": 12, "attention_head_dim": 128,
                        "in_channels": 16, "out_channels": 16, "text_dim": 4096, "freq_dim": 256, "ffn_dim": 8960,
                        "num_layers": 30, "cross_attn_norm": True, "qk_norm": "rms_norm_across_heads", "eps": 1e-6,
                        "rope_max_seq_len": 1024},
        "vae": {"base_dim": 96, "z_dim": 16, "dim_mult": [1, 2, 4, 4], "num_res_blocks": 2,
                "temperal_downsample": [False, True, True]},
    },
}


# `--smoke`: the same code path on the CPU with each model's layout shrunk (checks the script, not a GPU).
SMOKE = {"transformer": {"num_attention_heads": 2, "attention_head_dim": 12, "ffn_dim": 32, "num_layers": 1},
         "vae": {"base_dim": 8, "decoder_base_dim": 8, "dim_mult": [1, 1, 1, 1], "num_res_blocks": 1}}


def build(model: str, folder: Path, device: str = "cuda") -> Any:
    """The model's pipeline at full size with random weights, on CUDA in bf16 (`device` cpu: shrunk, fp32)."""
    import diffusers
    import torch
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    spec = CONFIGS[model]
    layers, coder = dict(spec["transformer"]), dict(spec["vae"])
    if device == "cpu":
        layers.update(SMOKE["transformer"])
        coder.update({k: v for k, v in SMOKE["vae"].items() if k != "decoder_base_dim" or k in coder})
    torch.manual_seed(0)
    torch.set_default_dtype(torch.bfloat16 if device == "cuda" else torch.float32)
    try:
        with torch.device(device):
            transformer = WanTransformer3DModel(**layers)
            vae = AutoencoderKLWan(**coder).to(torch.float32)  # diffusers runs Wan's VAE in fp32
            text = UMT5EncoderModel(UMT5Config(d_model=4096, d_kv=64, d_ff=1024, num_layers=1, num_heads=8,
                                               vocab_size=1000, relative_attention_num_buckets=32))
    finally:
        torch.set_default_dtype(torch.float32)
    parts: dict[str, Any] = {"tokenizer": tiny_tokenizer(folder / "tokenizer"), "text_encoder": text, "vae": vae,
                             "scheduler": FlowMatchEulerDiscreteScheduler(shift=5.0), "transformer": transformer}
    if spec["pipeline"] == "WanImageToVideoPipeline":
        parts.update(image_encoder=None, image_processor=None, expand_timesteps=True)
    pipe = getattr(diffusers, spec["pipeline"])(**parts)
    pipe.set_progress_bar_config(disable=True)
    (folder / "model_index.json").write_text(json.dumps({"_class_name": spec["pipeline"]}), encoding="utf-8")
    return pipe


def measure(model: str, steps: int, seconds: float, direct: bool, smoke: bool = False) -> dict[str, Any]:
    import torch
    from PIL import Image

    from filmstudio.pipeline.providers.motion import MODEL_SHAPES

    if smoke:
        _fake_cuda(torch)
    assert torch.cuda.is_available(), "bench/motion_gpu.py needs a CUDA GPU (or --smoke on the CPU)"
    with tempfile.TemporaryDirectory(prefix="filmstudio-motion-gpu-") as name:
        tmp = Path(name)
        t0 = time.perf_counter()
        pipe = build(model, tmp, "cpu" if smoke else "cuda")
        built = time.perf_counter() - t0
        engine = DiffusersMotion(tmp, model_id=model, steps=steps, idle_seconds=0, device="cpu" if smoke else "cuda",
                                 vram_mb=torch.cuda.get_device_properties(0).total_memory // 2**20,
                                 loader=lambda _folder: pipe)
        if smoke:
            from dataclasses import replace

            engine.shape = replace(MODEL_SHAPES[model], native_side=64, max_frames=9)
        caps = engine.capabilities()
        frames = caps.frames_for(seconds)
        out: dict[str, Any] = {"model": model, "device": torch.cuda.get_device_name(0), "smoke": smoke,
                               "steps": steps,
                               "frames": frames, "fps": caps.fps, "build_s": round(built, 1), "aspects": {}}
        for label, aspect in (("16:9", 16 / 9), ("9:16", 9 / 16)):
            w, h = caps.size_for(aspect)
            still = tmp / f"still-{w}x{h}.png"
            Image.new("RGB", (w, h), (90, 120, 160)).save(still)
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            made = engine.animate(ClipRequest(still=still, prompt="a harbour at night, waves against the pier",
                                              negative_prompt="blurry", seed=1, frames=frames, fps=caps.fps,
                                              width=w, height=h, out=tmp / f"clip-{w}x{h}.mp4", steps=steps),
                                  cancel=CancelToken())
            torch.cuda.synchronize()
            ours = time.perf_counter() - t0
            row: dict[str, Any] = {"size": f"{w}x{h}", "frames": made.frames, "warning": made.warning,
                                   "seconds_per_clip": round(ours, 2), "seconds_per_step": round(ours / steps, 3),
                                   "peak_vram_allocated_mb": round(torch.cuda.max_memory_allocated() / 2**20),
                                   "peak_vram_reserved_mb": round(torch.cuda.max_memory_reserved() / 2**20)}
            if direct:
                positive, negative, length = wan_embeds(pipe, ["a harbour at night, waves against the pier",
                                                               "blurry"])
                kwargs: dict[str, Any] = {"prompt_embeds": positive, "negative_prompt_embeds": negative,
                                          "max_sequence_length": length, "height": h, "width": w,
                                          "num_frames": frames, "num_inference_steps": steps,
                                          "generator": torch.Generator("cpu").manual_seed(1), "output_type": "np"}
                if CONFIGS[model]["pipeline"] == "WanImageToVideoPipeline":
                    kwargs["image"] = Image.open(still).convert("RGB")
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                with torch.inference_mode():
                    pipe(**kwargs)
                torch.cuda.synchronize()
                row["direct_seconds"] = round(time.perf_counter() - t0, 2)
                row["overhead"] = round(ours / row["direct_seconds"] - 1, 3)
            out["aspects"][label] = row
            print(json.dumps({label: row}), flush=True)
    return out


def _fake_cuda(torch: Any) -> None:
    """`--smoke`: the CUDA calls this script makes, answered on the CPU (the numbers mean nothing)."""
    cuda = torch.cuda
    for name, value in {"is_available": lambda: True, "synchronize": lambda: None, "empty_cache": lambda: None,
                        "reset_peak_memory_stats": lambda: None, "max_memory_allocated": lambda: 0,
                        "max_memory_reserved": lambda: 0, "get_device_name": lambda _i: "cpu (smoke)",
                        "get_device_properties": lambda _i: type("P", (), {"total_memory": 80 * 2**30})()}.items():
        setattr(cuda, name, value)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=sorted(CONFIGS), default="wan2.2-ti2v-5b")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=5.0, help="the clip's length (frames at the model's fps)")
    ap.add_argument("--no-direct", action="store_true", help="skip the direct pipeline call (halves the time)")
    ap.add_argument("--smoke", action="store_true", help="check the script on the CPU with shrunk models")
    args = ap.parse_args()
    results = measure(args.model, args.steps, args.seconds, not args.no_direct, args.smoke)
    print(json.dumps(results, indent=2))
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "motion_gpu.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
