"""What the motion tests share: a catalogue entry for a tiny model, and a clip decoded to its frames."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from fakehub import model_toml
from filmstudio.pipeline.media.ffmpeg import ffmpeg_exe, probe


def catalogue_entry(model_id: str, repo: str, files: dict[str, bytes], *, kind: str, engine: str = "diffusers",
                    **kw: Any) -> str:
    """A one-entry catalogue TOML for a tiny model of `kind` served by `engine` (see `fakehub.model_toml`)."""
    return (model_toml(model_id, repo, files, **kw).replace('kind = "voice"', f'kind = "{kind}"')
            .replace('engine = "piper"', f'engine = "{engine}"'))


def clip_frames(path: Path) -> Any:
    """Every frame of a clip as (F, H, W, 3) uint8, decoded by ffmpeg."""
    import numpy as np

    info = probe(path)["streams"][0]
    w, h = int(info["width"]), int(info["height"])
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)
