"""Backdrop sources as values: what a shot's background plate is made of.

A segment's backdrop is one of three sources:

- `Painted`: the procedural set (layers.py) for the scene heading and the props its action names;
- `Still`: a picture file (the user's own, or one the picture engine drew);
- `Clip`: a file of frames (what an image-to-video engine produces); a shot longer than its clip
  holds the clip's last frame while the camera's move goes on (never a visible loop).

Each source resolves to a `Plate` at the backdrop's size, and a plate gives both the ffmpeg input
(inputs and the chain that yields the plate's frames) and a Pillow frame at any time, so the
encoder and the stills compositor read one value. Files travel and are keyed by a `MediaRef`
(their sha256 and kind), never by their path.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image

from filmstudio.pipeline.media.ffmpeg import ffmpeg_exe
from filmstudio.pipeline.providers.styles import Style, grade

IMAGE_EXTS = ("png", "jpg", "jpeg", "webp", "bmp")
CLIP_EXTS = ("mp4", "webm", "mov", "mkv")
MEDIA_NAME = re.compile(rf"^[0-9a-f]{{64}}\.({'|'.join(IMAGE_EXTS + CLIP_EXTS)})$")


@dataclass(frozen=True)
class MediaRef:
    """A media file by content: its sha256 and its kind (`ab12…ef.png`), the same on every machine."""

    sha256: str
    ext: str

    @classmethod
    def of(cls, path: Path) -> MediaRef:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        ext = path.suffix.lower().lstrip(".")
        return cls(digest.hexdigest(), ext if ext in IMAGE_EXTS + CLIP_EXTS else "png")

    @classmethod
    def parse(cls, name: str) -> MediaRef:
        """The inverse of `name`; ValueError for anything that is not `<sha256>.<known ext>`."""
        if not MEDIA_NAME.match(name):
            raise ValueError(f"not a media name: {name!r}")
        sha, ext = name.split(".", 1)
        return cls(sha, ext)

    @property
    def name(self) -> str:
        return f"{self.sha256}.{self.ext}"


@dataclass(frozen=True)
class Painted:
    """The procedural set: painted from the scene heading (and, with props, the action's nouns)."""

    props: tuple[str, ...] = ()  # the prop drawings placed on the set, by table name

    def key(self) -> dict[str, Any]:
        return {"kind": "painted", "props": list(self.props)}

    @property
    def media(self) -> MediaRef | None:
        return None


@dataclass(frozen=True)
class Still:
    """A picture file, cover-fitted and graded like the style; equal by content, not by path."""

    media: MediaRef
    path: Path = field(compare=False)  # where its bytes are on this machine

    @classmethod
    def of(cls, path: Path) -> Still:
        return cls(MediaRef.of(path), path)

    def key(self) -> dict[str, Any]:
        return {"kind": "still", "media": self.media.name}


@dataclass(frozen=True)
class Clip:
    """A file of frames (an image-to-video engine's shot): played from its start, its last frame held if short."""

    media: MediaRef
    path: Path = field(compare=False)

    @classmethod
    def of(cls, path: Path) -> Clip:
        return cls(MediaRef.of(path), path)

    def key(self) -> dict[str, Any]:
        return {"kind": "clip", "media": self.media.name, "extend": "hold"}


Source = Painted | Still | Clip


def source_key(source: Source) -> dict[str, Any]:
    return source.key()


def source_media(source: Source) -> tuple[MediaRef, Path] | None:
    """The file a source reads (to publish to a farm worker), None for a painted set."""
    if isinstance(source, Still | Clip):
        return source.media, source.path
    return None


# -- plates: a source at the backdrop's size, for ffmpeg and for Pillow ----------------------------


class Inputs(Protocol):
    """Where a plate adds its ffmpeg input: returns the input's index."""

    def add(self, args: list[str]) -> int: ...


class Plate(Protocol):
    @property
    def size(self) -> tuple[int, int]: ...

    @property
    def still(self) -> Image.Image | None:
        """The one picture of a plate that does not move (written as a raw layer), else None."""
        ...

    def frame(self, t: float) -> Image.Image:
        """The plate at `t` seconds (RGB, `size`)."""
        ...

    def stream(self, inputs: Inputs, folder: Path, frames: int) -> str:
        """Add the ffmpeg input of a moving plate; returns its chain, ending in `frames` yuv420p
        frames. Only called when `still` is None; `folder` takes any file the chain reads."""
        ...


@dataclass(frozen=True)
class StillPlate:
    """A plate that is one picture: painted or a still."""

    image: Image.Image

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    @property
    def still(self) -> Image.Image:
        return self.image

    def frame(self, t: float) -> Image.Image:
        return self.image

    def stream(self, inputs: Inputs, folder: Path, frames: int) -> str:
        raise AssertionError("a still plate is a raw layer")


@dataclass(frozen=True)
class ClipPlate:
    """A clip cover-fitted to `size` and graded by a 3D LUT made from the style's own `grade`
    (then darkened by `darken` towards black, as title cards are): the same chain feeds the
    encoder and the Pillow frame, so both show the same picture."""

    path: Path
    size: tuple[int, int]
    fps: int
    style: Style
    brightness: float
    darken: float = 0.0

    @property
    def still(self) -> None:
        return None

    def _chain(self, folder: Path) -> str:
        w, h = self.size
        lut = write_grade_lut(folder / "grade.cube", self.style, self.brightness, self.darken)
        # Only the clip's own frames are fitted and graded; `fps` then repeats them at the film's rate
        # and tpad holds the last one past the clip's end (the camera's crop keeps travelling over it).
        return (f"scale={w}:{h}:force_original_aspect_ratio=increase:flags=lanczos,"
                f"crop={w}:{h},format=rgb24,lut3d=file='{_escape(lut)}',format=yuv420p,"
                f"fps={self.fps},tpad=stop_mode=clone:stop=-1")

    def stream(self, inputs: Inputs, folder: Path, frames: int) -> str:
        idx = inputs.add(["-i", str(self.path)])
        return (f"[{idx}:v]{self._chain(folder)},trim=end_frame={frames},"
                f"settb=1/{self.fps},setpts=N")

    def frame(self, t: float) -> Image.Image:
        w, h = self.size
        n = max(0, round(t * self.fps))
        with tempfile.TemporaryDirectory(prefix="clip-frame-") as tmp:
            out = subprocess.run(
                [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
                 "-i", str(self.path), "-vf", f"{self._chain(Path(tmp))},select=gte(n\\,{n})",
                 "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                check=True, capture_output=True, timeout=300,
            ).stdout
        return Image.frombytes("RGB", (w, h), out[: w * h * 3])


def _escape(path: Path) -> str:
    return str(path).replace("\\", "/").replace(":", "\\:").replace("'", "\\'")


LUT_SIZE = 33


def write_grade_lut(path: Path, style: Style, brightness: float, darken: float = 0.0) -> Path:
    """The style's grade (times `brightness`, then blended `darken` towards black) as a .cube LUT."""
    axis = np.linspace(0.0, 255.0, LUT_SIZE, dtype=np.float32)
    b, g, r = np.meshgrid(axis, axis, axis, indexing="ij")  # red varies fastest, as .cube wants
    lattice = np.stack([r, g, b], axis=-1).reshape(-1, 1, 3)
    graded = grade(lattice, style, brightness).astype(np.float32).reshape(-1, 3) * (1.0 - darken)
    rows = "\n".join(f"{x / 255:.6f} {y / 255:.6f} {z / 255:.6f}" for x, y, z in graded)
    path.write_text(f"LUT_3D_SIZE {LUT_SIZE}\n{rows}\n", encoding="ascii")
    return path
