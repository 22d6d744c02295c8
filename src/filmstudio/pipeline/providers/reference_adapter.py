"""Character reference images for the picture model: an IP-Adapter pulled by the model manager.

An IP-Adapter (h94/IP-Adapter's `models/ip-adapter_sd15.safetensors` + `models/image_encoder/`)
adds image tokens to the UNet's cross-attention, so a shot drawn with a character's reference
picture brings back that face. It fits a picture model when its key/value projections take the
UNet's cross-attention width (768 for the SD 1.5 family; SD 2.x is 1024, SDXL 2048): that is read
from the files themselves (the UNet's config, the adapter's safetensors header), so no weights are
loaded to decide, and a mismatch is said rather than crashing at the first still.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filmstudio.pipeline.engines import AdapterIdentity

ADAPTER_ID = "ip-adapter-sd15"  # the catalogue entry to pull
PULL_ADVICE = f"character reference images need an IP-Adapter: `filmstudio models pull {ADAPTER_ID}` (SD 1.5 family)"
DEFAULT_SCALE = 0.6  # how strongly the reference steers the still (1.0 copies it, 0.0 ignores it)
SUBFOLDER = "models"
_KEY = "ip_adapter.1.to_k_ip.weight"  # the first cross-attention layer's key projection: (inner, cross_dim)


@dataclass(frozen=True)
class ReferenceAdapter:
    """An installed IP-Adapter: its folder, weight file, identity (for still keys) and scale."""

    folder: Path
    model_id: str
    revision: str = ""
    weight_name: str = "ip-adapter_sd15.safetensors"
    scale: float = DEFAULT_SCALE

    @property
    def weights(self) -> Path:
        return self.folder / SUBFOLDER / self.weight_name

    def identity(self) -> AdapterIdentity:
        """What a still drawn with this adapter depends on (goes into the still's cache key)."""
        return AdapterIdentity(adapter=self.model_id, revision=self.revision, weights=self.weight_name,
                               scale=self.scale)

    def load_into(self, pipe: Any) -> Any:
        """Load the adapter (weights and image encoder, from its own folder) into a diffusers pipeline."""
        pipe.load_ip_adapter(str(self.folder), subfolder=SUBFOLDER, weight_name=self.weight_name, local_files_only=True)
        pipe.set_ip_adapter_scale(self.scale)
        return pipe

    def cross_attention_dim(self) -> int | None:
        """The UNet width the adapter was trained for, from the safetensors header (None: unreadable)."""
        header = _safetensors_header(self.weights)
        shape = (header.get(_KEY) or {}).get("shape") if header else None
        return int(shape[1]) if isinstance(shape, list) and len(shape) == 2 else None

    def misfit(self, model_folder: Path, model_id: str) -> str | None:
        """Why this adapter cannot steer the picture model in `model_folder` (None: it fits)."""
        want = self.cross_attention_dim()
        if want is None:
            return f"the IP-Adapter {self.model_id} has no readable `{_KEY}` in {self.weight_name}"
        have = _unet_cross_attention_dim(model_folder)
        if have != want:
            return (f"the IP-Adapter {self.model_id} is for picture models of cross-attention width {want} "
                    f"(SD 1.5 family); {model_id} has {have or 'an unknown width'}: references are not used")
        return None


def adapter_in(folder: Path, model_id: str, revision: str = "") -> ReferenceAdapter | None:
    """The IP-Adapter in an installed model folder (h94's layout), or None when it is not one."""
    encoder = folder / SUBFOLDER / "image_encoder"
    if not (encoder / "config.json").is_file():
        return None
    weights = sorted(p for p in (folder / SUBFOLDER).glob("*.safetensors") if _safetensors_header(p).get(_KEY))
    if not weights:
        return None
    return ReferenceAdapter(folder=folder, model_id=model_id, revision=revision, weight_name=weights[0].name)


def find_reference_adapter(models_dir: Path | None, model_folder: Path,
                           model_id: str) -> tuple[ReferenceAdapter | None, str]:
    """The installed IP-Adapter that fits the picture model, else None and why (what to pull)."""
    if models_dir is None or not models_dir.is_dir():
        return None, PULL_ADVICE
    from filmstudio.pipeline.models.library import ModelLibrary

    installed = sorted(ModelLibrary(models_dir).installed(), key=lambda m: (m.id != ADAPTER_ID, m.id))
    reason = PULL_ADVICE
    for m in installed:
        adapter = adapter_in(m.path, m.id, m.revision)
        if adapter is None:
            continue
        misfit = adapter.misfit(model_folder, model_id)
        if misfit is None:
            return adapter, ""
        reason = misfit
    return None, reason


def _unet_cross_attention_dim(model_folder: Path) -> int | None:
    try:
        config = json.loads((model_folder / "unet" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    dim = config.get("cross_attention_dim")
    if isinstance(dim, list) and dim and all(d == dim[0] for d in dim):
        dim = dim[0]
    return int(dim) if isinstance(dim, int) else None


def _safetensors_header(path: Path) -> dict[str, Any]:
    """The tensor table at the start of a .safetensors file (8-byte little-endian length + JSON)."""
    try:
        with path.open("rb") as fh:
            (size,) = struct.unpack("<Q", fh.read(8))
            if size > 100_000_000:
                return {}
            table = json.loads(fh.read(size))
    except (OSError, ValueError, struct.error):
        return {}
    return table if isinstance(table, dict) else {}
