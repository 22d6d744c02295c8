"""A tiny image-to-video pipeline built from config (no download): Wan's image-to-video pipeline in the
TI2V layout (the still is the first latent frame, no CLIP image encoder), saved in diffusers' layout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tiny_sd import VOCAB_WORDS


def build_tiny_wan(folder: Path) -> Path:
    """Save a tiny `WanImageToVideoPipeline` (expand_timesteps: image-conditioned by its first frame) at `folder`."""
    import torch
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanTransformer3DModel,
    )
    from transformers import UMT5Config, UMT5EncoderModel

    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16, out_channels=16,
        text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True,
        qk_norm="rms_norm_across_heads", rope_max_seq_len=32,
    )
    text = UMT5EncoderModel(UMT5Config(d_model=32, d_kv=16, d_ff=37, num_layers=2, num_heads=2, vocab_size=1000,
                                       relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1))
    pipe = WanImageToVideoPipeline(
        tokenizer=tiny_tokenizer(folder.parent / f".{folder.name}-tokenizer"), text_encoder=text, vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0), transformer=transformer, image_encoder=None,
        image_processor=None, expand_timesteps=True,
    )
    pipe.save_pretrained(str(folder))
    return folder


def tiny_tokenizer(folder: Path) -> Any:
    """A word-level fast tokenizer over a small vocabulary (an unknown word is `<unk>`), as T5's pads: id 0."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for w in VOCAB_WORDS:
        vocab.setdefault(w, len(vocab))
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    return PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                   model_max_length=64)
