"""A tiny AnimateDiff motion adapter built from config (no download) that fits tests/tiny_sd.py's UNet,
saved in diffusers' layout (guoyww/animatediff-motion-adapter-v1-5-3's: `config.json` + safetensors)."""

from __future__ import annotations

from pathlib import Path


def build_tiny_motion_adapter(folder: Path, *, seed: int = 0) -> Path:
    """Save a `MotionAdapter` with the tiny UNet's blocks (32, 64) and one motion layer per block at `folder`."""
    import torch
    from diffusers import MotionAdapter

    torch.manual_seed(seed)
    adapter = MotionAdapter(block_out_channels=(32, 64), motion_layers_per_block=1, motion_num_attention_heads=4,
                            motion_norm_num_groups=32, motion_max_seq_length=32)
    adapter.save_pretrained(str(folder))
    return folder
