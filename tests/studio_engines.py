"""Engines and renders for tests, built through the composition root like the CLI builds them."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from filmstudio.app.compose import build_engines
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.engines import Engines
from filmstudio.pipeline.request import RenderRequest


@cache
def real_engines() -> Engines:
    """This machine's engines (bundled voices, synthesiser, ffmpeg), no pulled models."""
    return build_engines(jobs=2)


def render_film(script: str, settings: RenderSettings, output: Path, *, work_dir: Path, cache_dir: Path,
                engines: Engines | None = None, progress: Any = None, cancel: Any = None, stages: Any = None,
                **request: Any) -> dict[str, Any]:
    """runner.render for one script, as the CLI calls it."""
    from filmstudio.pipeline.runner import render

    made = RenderRequest(script=script, settings=settings, output=output, work_dir=work_dir, cache_dir=cache_dir,
                         **request)
    return render(made, engines or real_engines(), progress=progress, cancel=cancel, stages=stages)
