"""A clip's frames decoded for a preview (the app's storyboard card plays a moving shot's clip on hover)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from filmstudio.pipeline.media.ffmpeg import probe, run_ffmpeg

PREVIEW_FPS = 12
MAX_FRAMES = 48  # 4 s at the preview's rate: a card's loop, a few MB of pixels at card size


@dataclass(frozen=True)
class Frames:
    """RGB24 frames, `width` x `height` each, at `fps`."""

    width: int
    height: int
    fps: int
    frames: tuple[bytes, ...]


def clip_frames(path: Path, box: tuple[int, int], *, fps: int = PREVIEW_FPS, limit: int = MAX_FRAMES) -> Frames:
    """Up to `limit` frames of `path` at `fps`, fitted into `box` (aspect kept, even sizes)."""
    video = next(s for s in probe(path)["streams"] if s.get("codec_type") == "video")
    scale = min(box[0] / int(video["width"]), box[1] / int(video["height"]))
    width, height = (max(2, int(int(video[k]) * scale) // 2 * 2) for k in ("width", "height"))
    with tempfile.TemporaryDirectory(prefix="filmstudio-clip-") as tmp:
        raw = Path(tmp) / "frames.rgb"
        run_ffmpeg(["-i", str(path), "-an", "-vf", f"fps={fps},scale={width}:{height},format=rgb24",
                    "-frames:v", str(limit), "-f", "rawvideo", str(raw)], timeout=60)
        data = raw.read_bytes()
    size = width * height * 3
    return Frames(width, height, fps, tuple(data[i:i + size] for i in range(0, len(data) - size + 1, size)))
