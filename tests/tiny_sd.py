"""A tiny Stable Diffusion pipeline built from config (no download): a real diffusers folder in seconds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VOCAB_WORDS = ["a", "an", "the", "of", "in", "at", "on", "and", "with", "shot", "wide", "medium", "close", "establishing", "exterior", "interior", "night", "day", "market", "arcade", "woman", "man", "child", "vendor", "old", "lantern", "street", "neon", "film", "still", "cinematic", "light", "phone", "her", "his", "their", "thirties", "seventies"]


def build_tiny_sd(folder: Path) -> Path:
    """Save a tiny StableDiffusionPipeline (64x64 native, 2 steps) in the diffusers layout at `folder`."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32, norm_num_groups=32, attention_head_dim=4,
    )
    vae = AutoencoderKL(block_out_channels=(32, 64), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
                        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"), norm_num_groups=32,
                        sample_size=64)
    text = CLIPTextModel(CLIPTextConfig(
        bos_token_id=0, eos_token_id=2, pad_token_id=1, hidden_size=32, intermediate_size=37,
        layer_norm_eps=1e-05, num_attention_heads=4, num_hidden_layers=2, vocab_size=1000,
        max_position_embeddings=77, projection_dim=32))
    tokenizer = tiny_tokenizer(folder.parent / f".{folder.name}-tokenizer")
    pipe = StableDiffusionPipeline(
        unet=unet, vae=vae, text_encoder=text, tokenizer=tokenizer,
        scheduler=EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear"),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    pipe.save_pretrained(str(folder))
    return folder


def tiny_tokenizer(words: Path) -> Any:
    """The tiny model's CLIP tokenizer: a small vocabulary, no merges (an unknown word is a token a letter)."""
    from transformers import CLIPTokenizer

    words.mkdir(parents=True, exist_ok=True)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 2, "!": 1, "<unk>": 3}
    for w in VOCAB_WORDS:
        vocab.setdefault(f"{w}</w>", len(vocab))
    (words / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (words / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    return CLIPTokenizer(str(words / "vocab.json"), str(words / "merges.txt"), unk_token="<unk>",
                         pad_token="!", model_max_length=77)


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file of a saved pipeline by its path in the repo (what a fake hub serves)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
