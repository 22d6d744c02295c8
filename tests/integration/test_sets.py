"""The bundled demo, rendered for real: its title card and its lighthouse scene show the lighthouse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from filmstudio.pipeline.media.ffmpeg import ffmpeg_exe

pytestmark = pytest.mark.slow

DEMO = Path(__file__).resolve().parents[2] / "src" / "filmstudio" / "assets" / "examples" / "lighthouse.fountain"
W, H = 320, 180


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    subprocess.run([sys.executable, "-m", "filmstudio", "render", str(DEMO), "-o", str(out / "demo.mp4"),
                    "--size", f"{W}x{H}", "--fps", "12", "--duration", "40", "--cache-dir", str(out / "cache"),
                    "-q"], check=True, env=env, capture_output=True, timeout=900)
    return out / "demo.mp4", json.loads((out / "demo.manifest.json").read_text(encoding="utf-8"))


def _frame(film: Path, t: float) -> np.ndarray:
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-ss", f"{t:.3f}", "-i", str(film), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(H, W, 3).astype(np.float32)


def _stripe_red(frame: np.ndarray) -> np.ndarray:
    """The lighthouse's red bands: deep red, not the orange of a dusk sky (r/g about 1.9)."""
    return (frame[..., 0] > 2.5 * frame[..., 1]) & (frame[..., 0] > 60)


def _check_lighthouse(film: Path, record: dict[str, Any]) -> None:
    layers = dict((name, box) for name, box in record["frame_layers"])
    assert "prop:lighthouse" in layers, record  # the renderer's record of the frame
    x0, y0, x1, y1 = layers["prop:lighthouse"]
    assert (x1 - x0) > W * 0.08 and (y1 - y0) > H * 0.3, layers["prop:lighthouse"]
    frame = _frame(film, record["start"] + record["frame_at"])
    red = _stripe_red(frame)
    inside = float(red[y0:y1, x0:x1].mean())
    outside_mask = np.ones_like(red)
    outside_mask[y0:y1, x0:x1] = False
    outside = float(red[outside_mask].mean())
    # The decoded pixels agree: the red bands are where the record says, and nowhere else.
    assert inside > 0.02 and inside > 20 * outside, (inside, outside)
    tower = frame[y0:y1, x0:x1]
    luma = tower @ np.array([0.299, 0.587, 0.114], np.float32)
    assert float(np.percentile(luma, 95)) > float(np.median(luma)) + 30  # the pale bands and the lamp


def test_the_title_card_shows_the_first_scenes_lighthouse(demo: tuple[Path, dict[str, Any]]) -> None:
    film, manifest = demo
    title = manifest["sets"][0]
    assert title["kind"] == "title" and title["setting"] == "coast" and "lighthouse" in title["props"]
    _check_lighthouse(film, title)
    end = manifest["sets"][-1]
    assert end["kind"] == "end" and end["setting"] == "coast" and "lighthouse" in end["props"]


def test_the_lighthouse_scene_shows_the_lighthouse(demo: tuple[Path, dict[str, Any]]) -> None:
    """No heading of the demo names the lighthouse; its first scene's action does (ROCKY COAST)."""
    film, manifest = demo
    scene = manifest["sets"][1]
    assert scene["kind"] == "scene" and "lighthouse" in scene["props"]
    _check_lighthouse(film, scene)
    # The lamp room is its own set (an interior), and the dawn scene's boat is drawn.
    assert any(s["setting"] == "lamp room" for s in manifest["sets"])
    assert any("boat" in s["props"] for s in manifest["sets"] if s["kind"] == "scene")
