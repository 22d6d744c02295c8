"""`filmstudio write` and `filmstudio render --idea` as a user runs them, against a fake local model server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fakewriter import Reply, fake_writer_server, refused_url
from filmstudio.pipeline.script.fountain import parse
from media_checks import ffprobe

DATA = Path(__file__).resolve().parents[1] / "data" / "writer"
GOOD = (DATA / "good-30.fountain").read_text(encoding="utf-8")
IDEA = "An old lighthouse keeper hands her lamp to a young engineer on her last night."


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "filmstudio", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600, check=False)


def test_write_saves_a_checked_screenplay_and_streams_it(tmp_path: Path) -> None:
    out = tmp_path / "script.fountain"
    with fake_writer_server([Reply("```\n" + GOOD + "```")]) as fake:
        proc = run("write", IDEA, "-o", str(out), "--duration", "30", "--writer-url", fake.url)
    assert proc.returncode == 0, proc.stderr
    assert "Forty years I kept you burning." in proc.stderr  # the model's text, streamed as it came
    assert f"screenplay: {out}" in proc.stdout and "1 answer" in proc.stdout
    doc = parse(out.read_text(encoding="utf-8"))
    assert doc.field("title") == "The Keeper's Last Night" and "```" not in out.read_text(encoding="utf-8")


def test_write_json_and_errors(tmp_path: Path) -> None:
    with fake_writer_server([Reply(GOOD)]) as fake:
        proc = run("write", IDEA, "--duration", "30", "--writer-url", fake.url, "--json")
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["rounds"] == 1 and answer["word_budget"] > 0 and answer["script"].startswith("Title:")
    empty = run("write", "   ", "--writer-url", refused_url())
    assert empty.returncode == 2 and "IDEA_EMPTY" in empty.stderr
    down = run("write", IDEA, "--writer-url", refused_url(), "-o", str(tmp_path / "never.fountain"))
    assert down.returncode == 2 and "WRITER_UNAVAILABLE" in down.stderr and "ollama serve" in down.stderr
    assert not (tmp_path / "never.fountain").exists()


@pytest.mark.slow
def test_render_from_an_idea_keeps_the_screenplay_beside_the_film(tmp_path: Path) -> None:
    out = tmp_path / "idea.mp4"
    with fake_writer_server([Reply(GOOD)]) as fake:
        proc = run("render", "--idea", IDEA, "-o", str(out), "--duration", "30", "--size", "320x180", "--fps", "12",
                   "--writer-url", fake.url, "--quiet")
    assert proc.returncode == 0, proc.stderr
    script = out.with_suffix(".fountain")
    assert script.read_text(encoding="utf-8").strip() == GOOD.strip()
    assert abs(float(ffprobe(out)["format"]["duration"]) - 30) <= 1.0
    manifest = json.loads(Path(f"{out.with_suffix('')}.manifest.json").read_text(encoding="utf-8"))
    assert manifest["title"] == "The Keeper's Last Night" and {"MARA", "THEO"} <= set(manifest["casting"])
