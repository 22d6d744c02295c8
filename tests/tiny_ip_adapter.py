"""A tiny IP-Adapter built from config (no download) that fits tests/tiny_sd.py's UNet, in h94/IP-Adapter's layout.

The state dict follows diffusers' own tests (`create_ip_adapter_state_dict`): `image_proj` holds an
ImageProjection from the image encoder's embedding to 4 tokens at the UNet's cross-attention width,
`ip_adapter` one `to_k_ip`/`to_v_ip` pair per cross-attention layer, numbered 1, 3, 5, ... in the
UNet's processor order. The image encoder is a tiny CLIPVisionModelWithProjection.
"""

from __future__ import annotations

from pathlib import Path

WEIGHT_NAME = "ip-adapter_sd15.safetensors"


def build_tiny_ip_adapter(folder: Path, unet_folder: Path, *, seed: int = 0) -> Path:
    """Save `models/ip-adapter_sd15.safetensors` and `models/image_encoder/` for the UNet at `unet_folder`."""
    import torch
    from diffusers import UNet2DConditionModel
    from diffusers.models.attention_processor import IPAdapterAttnProcessor
    from diffusers.models.embeddings import ImageProjection
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(seed)
    unet = UNet2DConditionModel.from_pretrained(str(unet_folder))
    cross = int(unet.config.cross_attention_dim)
    blocks = list(unet.config.block_out_channels)
    tensors: dict[str, torch.Tensor] = {}
    key_id = 1
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        if name.startswith("mid_block"):
            hidden = blocks[-1]
        elif name.startswith("up_blocks"):
            hidden = list(reversed(blocks))[int(name[len("up_blocks.")])]
        else:
            hidden = blocks[int(name[len("down_blocks.")])]
        sd = IPAdapterAttnProcessor(hidden_size=hidden, cross_attention_dim=cross, scale=1.0).state_dict()
        tensors[f"ip_adapter.{key_id}.to_k_ip.weight"] = sd["to_k_ip.0.weight"]
        tensors[f"ip_adapter.{key_id}.to_v_ip.weight"] = sd["to_v_ip.0.weight"]
        key_id += 2
    embed_dim = 32
    proj = ImageProjection(cross_attention_dim=cross, image_embed_dim=embed_dim, num_image_text_embeds=4).state_dict()
    tensors.update({"image_proj.proj.weight": proj["image_embeds.weight"], "image_proj.proj.bias": proj["image_embeds.bias"],
                    "image_proj.norm.weight": proj["norm.weight"], "image_proj.norm.bias": proj["norm.bias"]})
    models = folder / "models"
    models.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(models / WEIGHT_NAME))
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, projection_dim=embed_dim, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
        image_size=32, patch_size=4, num_channels=3))
    encoder.save_pretrained(str(models / "image_encoder"))
    return folder
