"""`filmstudio storyboard` and `render` say which shots move and what motion adds, before a render starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from filmstudio.pipeline.models.library import MANIFEST

SAMPLE = Path(__file__).parents[1] / "data" / "samples" / "night-market.fountain"
SHORT = """Title: Run

EXT. BEACH - DAY

KAI runs along the shore.

KAI
Wait for me!
"""


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FILMSTUDIO_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "filmstudio", *args], capture_output=True, text=True, env=env,
                          check=True, timeout=600)


def test_the_storyboard_marks_each_shot_and_says_what_motion_adds(tmp_path: Path) -> None:
    bare = _run(tmp_path / "bare", "storyboard", str(SAMPLE)).stdout
    assert "motion: no video model: shots stay stills with camera moves — `filmstudio models " in bare
    assert "· moving (establishing shot)" in bare and "· still (not a key shot)" in bare
    off = json.loads(_run(tmp_path / "bare", "storyboard", str(SAMPLE), "--json", "--motion", "none").stdout)
    assert off["motion"]["summary"] == "motion is off: all 12 shots are stills with camera moves"
    assert not any(s["motion"] for s in off["shots"])

    home = tmp_path / "studio"
    folder = home / "models" / "tiny-video"
    folder.mkdir(parents=True)
    (folder / MANIFEST).write_text(json.dumps({"id": "tiny-video", "files": {}, "kind": "video", "engine": "diffusers"}))
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "WanPipeline"}))
    every = json.loads(_run(home, "storyboard", str(SAMPLE), "--json", "--motion", "all").stdout)["motion"]
    from filmstudio.app.compose import motion_engine
    from filmstudio.pipeline.motion_estimate import clip_kind_for

    engine = motion_engine(home / "models")
    assert engine is not None
    seconds = 12 * clip_kind_for(engine, 16 / 9).first_guess()  # the CPU's first guess: nothing measured here
    assert (every["moving"], every["model"], every["seconds"]) == (12, "tiny-video", round(seconds, 1))
    assert every["summary"] == f"12 of 12 shots move: about {round(seconds / 60)} min on the CPU (tiny-video)"


def test_render_says_it_before_the_film(tmp_path: Path) -> None:
    script = tmp_path / "run.fountain"
    script.write_text(SHORT, encoding="utf-8")
    out = _run(tmp_path / "home", "render", str(script), "-o", str(tmp_path / "run.mp4"), "--size", "320x180",
               "--duration", "5", "--fps", "12", "--music", "none", "--motion", "all",
               "--cache-dir", str(tmp_path / "cache")).stdout
    lines = out.splitlines()
    assert lines[0].startswith("motion:    no video model: shots stay stills with camera moves")
    assert any(line.startswith("film:") for line in lines[1:])
    assert (tmp_path / "run.mp4").stat().st_size > 0
