"""LiveEngines: rebuilt when (and only when) the model library changes, by whichever process changed it."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from filmstudio.app.live import LiveEngines, LiveRenderer
from filmstudio.pipeline.engines import Engines, VoiceInfo
from filmstudio.pipeline.models.library import MANIFEST, ModelLibrary


class _Voices:
    def __init__(self, n: int) -> None:
        self.n = n

    def voices(self, language: str | None = None) -> list[VoiceInfo]:
        return [VoiceInfo(engine="fake", voice_id=f"v{self.n}", name=f"voice {self.n}", language="en",
                          gender="female")]


def _engines(n: int) -> Engines:
    return Engines(voices=_Voices(n), music=None, translator=None, encoder=None)  # type: ignore[arg-type]


def _install(root: Path, model_id: str) -> None:
    """What a pull does at its end: a complete folder with its manifest renamed into place."""
    staging = root / ".staging" / model_id
    staging.mkdir(parents=True)
    (staging / MANIFEST).write_text(json.dumps({"id": model_id, "files": {}}), encoding="utf-8")
    os.replace(staging, root / model_id)


def test_rebuilt_when_a_model_comes_or_goes_and_not_otherwise(tmp_path: Path) -> None:
    root = tmp_path / "models"
    built: list[int] = []

    def build() -> Engines:
        built.append(len(built))
        return _engines(len(built))

    live = LiveEngines(build, root)
    first = live.current()
    assert live.current() is first and built == [0] and live.rebuilds == 0
    assert [v.voice_id for v in live.voices()] == ["v1"]
    (root / ".staging" / "half").mkdir(parents=True)  # a pull in flight changes nothing
    (root / ".staging" / "half" / "w.part").write_bytes(b"x")
    assert live.current() is first
    _install(root, "a-voice")
    second = live.current()
    assert second is not first and live.rebuilds == 1 and [v.voice_id for v in live.voices()] == ["v2"]
    assert live.current() is second
    ModelLibrary(root).remove("a-voice")
    assert live.current() is not second and live.rebuilds == 2


def test_a_change_by_another_process_is_seen(tmp_path: Path) -> None:
    """The library is compared on disk, so a worker process's pull is seen by the server's engines."""
    import subprocess
    import sys

    root = tmp_path / "models"
    root.mkdir()
    live = LiveEngines(lambda: _engines(0), root)
    before = live.current()
    code = (f"import json, os, pathlib; r = pathlib.Path({str(root)!r}); s = r / '.staging' / 'm'; "
            f"s.mkdir(parents=True); (s / {MANIFEST!r}).write_text(json.dumps({{'id': 'm', 'files': {{}}}})); "
            "os.replace(s, r / 'm')")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert live.current() is not before


def test_concurrent_uses_build_once_per_change(tmp_path: Path) -> None:
    root = tmp_path / "models"
    count = [0]

    def build() -> Engines:
        count[0] += 1
        return _engines(count[0])

    live = LiveEngines(build, root)
    _install(root, "m")
    threads = [threading.Thread(target=live.current) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert count[0] == 2 and live.rebuilds == 1


def test_each_render_gets_the_engines_of_now(tmp_path: Path) -> None:
    root = tmp_path / "models"
    live = LiveEngines(lambda: _engines(len(list(root.glob("*"))) if root.exists() else 0), root)
    seen: list[str] = []

    def make(engines: Engines):  # type: ignore[no-untyped-def]
        def render(request, *, progress=None, cancel=None):  # type: ignore[no-untyped-def]
            seen.append(engines.voices.voices()[0].voice_id)
            return {}
        return render

    renderer = LiveRenderer(live, make)
    renderer(None)  # type: ignore[arg-type]
    _install(root, "m")
    renderer(None)  # type: ignore[arg-type]
    assert seen == ["v0", "v2"]  # the .staging folder and the model
