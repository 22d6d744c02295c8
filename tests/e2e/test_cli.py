"""The command line as a user runs it: the README's commands, render, doctor, and bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from media_checks import ffprobe

REPO = Path(__file__).resolve().parents[2]
FILMSTUDIO = [sys.executable, "-m", "filmstudio"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FILMSTUDIO, *args], capture_output=True, text=True, cwd=cwd, timeout=600, check=False)


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", readme, re.S)
    assert block is not None
    commands = [ln.split("#")[0].strip() for ln in block.group(1).splitlines() if ln.strip()]
    assert commands == ["./studio demo", "./studio test"]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "./studio test" in ci.splitlines()[-1]


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    from filmstudio.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:  # type: ignore[union-attr]
        assert f"filmstudio {name}" in readme or f"./studio {name}" in readme, name


@pytest.mark.slow
def test_demo_renders_the_bundled_example(tmp_path: Path) -> None:
    out = tmp_path / "example.mp4"
    proc = run("demo", "-o", str(out), "--size", "320x180", "--duration", "45", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert f"film:      {out}" in proc.stdout
    info = ffprobe(out)
    assert abs(float(info["format"]["duration"]) - 45) <= 1.35
    assert out.with_suffix(".jpg").exists() and Path(f"{out.with_suffix('')}.en.srt").exists()


@pytest.mark.slow
def test_render_unicode_prose_with_burned_subtitles(tmp_path: Path, samples: Path) -> None:
    out = tmp_path / "unicode.mp4"
    proc = run("render", str(samples / "unicode-mix.txt"), "-o", str(out), "--size", "320x180", "--fps", "12",
               "--duration", "30", "--style", "minimal", "--music", "calm", "--burn-subtitles", "--quiet")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads(Path(f"{out.with_suffix('')}.manifest.json").read_text(encoding="utf-8"))
    assert manifest["settings"]["burn_subtitles"] is True
    assert len([s for s in manifest["scenes"] if s["kind"] == "scene"]) >= 3
    assert ffprobe(out)["streams"][0]["codec_name"] == "h264"


def test_too_long_script_is_refused_before_any_work(tmp_path: Path, samples: Path) -> None:
    out = tmp_path / "never.mp4"
    proc = run("render", str(samples / "too-long.txt"), "-o", str(out), "--duration", "30", "--quiet")
    assert proc.returncode == 2
    assert "SCRIPT_TOO_LONG" in proc.stderr
    # The message says it; no JSON block on the terminal (that is for --json).
    needed = int(proc.stderr.split("needs at least ")[1].split()[0])
    assert needed > 30 and "{" not in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--style", "vaporwave"], "UNKNOWN_STYLE"),
        (["--size", "123x45"], "UNSUPPORTED_RESOLUTION"),
        (["--duration", "2"], "DURATION_OUT_OF_RANGE"),
        (["--music", "polka"], "UNKNOWN_MUSIC_GENRE"),
    ],
)
def test_bad_flags_get_their_codes(tmp_path: Path, args: list[str], code: str) -> None:
    script = tmp_path / "s.txt"
    script.write_text("A short story about the sea.\n", encoding="utf-8")
    proc = run("render", str(script), "-o", str(tmp_path / "x.mp4"), *args, "--quiet")
    assert proc.returncode == 2
    assert code in proc.stderr


def test_empty_script_is_refused(tmp_path: Path) -> None:
    script = tmp_path / "empty.fountain"
    script.write_text("  \n\n\t\n", encoding="utf-8")
    proc = run("render", str(script), "-o", str(tmp_path / "x.mp4"), "--quiet")
    assert proc.returncode == 2 and "SCRIPT_EMPTY" in proc.stderr


def test_doctor_reports_engines() -> None:
    proc = run("doctor", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert set(report) >= {"ffmpeg", "tts", "fonts", "keyring"}
    assert "libx264" in report["ffmpeg"]["h264_encoders"]
    assert report["tts"]["ok"] is True
