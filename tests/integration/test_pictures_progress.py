"""Progress and the time estimate count the stills the tiny picture model draws: a real render job
through the job executor, its progress per shot as the API reads it, the speed remembered, and the
estimate of a second render (everything cached) smaller than the first."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("diffusers")

from filmstudio.domain.models import ProjectCreate
from filmstudio.pipeline.context import CancelToken, ProgressFn
from filmstudio.pipeline.engines import Engines
from filmstudio.pipeline.request import RenderRequest
from filmstudio.pipeline.still_timings import StillTimings, still_kind
from filmstudio.services import accounts, estimates, jobs, keys, projects
from filmstudio.services.executor import JobExecutor, JobProgress
from filmstudio.services.factory import open_studio
from filmstudio.services.keys import Principal
from filmstudio.services.render import PipelineRenderer
from filmstudio.services.secrets import MemorySecrets
from filmstudio.services.studio import Studio
from filmstudio.store import jobs as job_rows
from integration.conftest_server import server_settings
from integration.test_pictures import SCRIPT, engines, models_dir  # noqa: F401 - the tiny model's fixtures

FILM = {"duration": 20, "resolution": "320x180", "style": "documentary", "music_genre": "none",
        "include_subtitles": False}


class Recorder:
    """The pipeline renderer, noting the job's progress (what the heartbeat writes) at every report."""

    def __init__(self, made: Engines) -> None:
        self.inner = PipelineRenderer(made)
        self.seen: list[tuple[str, float, int]] = []

    def __call__(self, request: RenderRequest, *, progress: ProgressFn | None = None,
                 cancel: CancelToken | None = None) -> dict[str, Any]:
        assert progress is not None
        job: JobProgress = progress.job  # type: ignore[attr-defined]  # services.render.JobReport

        def sink(step: str, fraction: float) -> None:
            progress(step, fraction)
            self.seen.append((step, job.fraction, job.snapshot()["progress"]))

        return self.inner(request, progress=sink, cancel=cancel)


def _studio(home: Path, made: Engines) -> tuple[Studio, Principal]:
    studio = open_studio(server_settings(home), secrets=MemorySecrets()).with_pictures(made.pictures)
    acct = accounts.create_account(studio.store, "pics", credits=None)
    key = keys.create_key(studio.store, acct.account_id, name="k")
    return studio, Principal(acct.account_id, key.key_id, frozenset(key.scopes))


def _params(studio: Studio, job_id: str) -> dict[str, Any]:
    row = studio.store.one("SELECT params FROM jobs WHERE id = ?", [job_id])
    return json.loads(row["params"])


def test_progress_and_the_estimate_count_the_shots_to_draw(engines: Engines, tmp_path: Path) -> None:  # noqa: F811
    studio, who = _studio(tmp_path / "home", engines)
    pid = projects.create_project(studio, who, ProjectCreate.model_validate(
        {"title": "Two Rooms", "script": SCRIPT, "settings": FILM})).project_id
    recorder = Recorder(engines)
    executor = JobExecutor(studio, {"render": jobs_handler(studio, recorder)})

    # Before the first render every shot is to draw, at the first guess for this model and device.
    first = jobs.generate(studio, who, pid)
    planned = _params(studio, first.job_id)["stills"]
    assert planned["to_draw"] == planned["shots"] >= 3 and planned["measured"] is False
    row = job_rows.get_job(studio.store, first.job_id)
    assert row is not None
    queued = estimates.remaining_seconds(studio.store, row)
    assert queued == pytest.approx(estimates.expected_total(studio.store, 20) + planned["to_draw"]
                                   * planned["seconds_per_still"])
    kind = still_kind(engines.pictures, 320 / 180)
    assert planned["seconds_per_still"] == pytest.approx(kind.first_guess(), rel=1e-2)
    # A slow model (60 s a still, as if measured before): the stills are most of the render's time.
    StillTimings(studio.cache_dir).record(kind, 60.0, 1)
    assert executor.run(first.job_id) == "completed"

    done = studio.store.one("SELECT result FROM jobs WHERE id = ?", [first.job_id])
    result = json.loads(done["result"])
    assert result["stills"] == result["stills_drawn"] == planned["shots"] and result["stills_seconds"] > 0
    # Progress in the drawing step: one equal step per drawn still, never back; the API's integer
    # percent (the heartbeat's snapshot) moves on every still too.
    drawing = [(f, p) for step, f, p in recorder.seen if step == "visual_generation"]
    fractions = [f for f, _ in drawing]
    assert fractions == sorted(fractions)
    rises = [b - a for a, b in pairwise(fractions) if b > a]
    assert len(rises) == planned["shots"] + 1  # a step per still, then the segment specs
    assert max(rises[:-1]) == pytest.approx(min(rises[:-1]), rel=1e-6)
    assert sum(rises[:-1]) > 0.5  # the stills get their share of the bar, not the stage's 1 %
    percents = [p for _, p in drawing]
    assert len(set(percents)) >= planned["shots"] + 1
    assert all(f <= g for (_, f, _), (_, g, _) in pairwise(recorder.seen))

    # The speed is measured and remembered for this model, device and size (a mean over renders) ...
    measured = StillTimings(studio.cache_dir).measured(kind)
    assert measured == pytest.approx((60.0 + result["stills_seconds"] / result["stills_drawn"]) / 2, rel=1e-3)
    # ... the stage speeds leave the drawing out ...
    speeds = estimates.seconds_per_film_second(studio.store)
    timings = json.loads(studio.store.one("SELECT stage_timings FROM jobs WHERE id = ?",
                                          [first.job_id])["stage_timings"])
    assert speeds["visual_generation"] * 20 == pytest.approx(timings["visual_generation"] - result["stills_seconds"],
                                                             abs=0.01)
    # ... and the second render, everything cached, expects nothing to draw: a smaller estimate.
    second = jobs.generate(studio, who, pid)
    again = _params(studio, second.job_id)["stills"]
    assert again == {**again, "shots": planned["shots"], "to_draw": 0, "measured": True}
    assert again["seconds_per_still"] == pytest.approx(measured, rel=1e-2)
    rows = {}
    for j in (first.job_id, second.job_id):
        found = job_rows.get_job(studio.store, j)
        assert found is not None
        rows[j] = found
    first_estimate = estimates.expected_total(studio.store, 20, estimates.stills_seconds(rows[first.job_id]))
    second_estimate = estimates.remaining_seconds(studio.store, rows[second.job_id])
    assert second_estimate is not None and second_estimate < first_estimate
    recorder.seen.clear()
    assert executor.run(second.job_id) == "completed"
    assert json.loads(studio.store.one("SELECT result FROM jobs WHERE id = ?", [second.job_id])["result"])[
        "stills_drawn"] == 0


def jobs_handler(studio: Studio, renderer: Recorder) -> Any:
    from filmstudio.services.render import RenderJobs

    return RenderJobs(studio, renderer)


def test_a_description_too_long_for_the_model_is_kept_whole_and_the_manifest_says_so(tmp_path: Path) -> None:
    from filmstudio.app.compose import build_engines
    from filmstudio.domain.settings import RenderSettings
    from integration.test_pictures import FlatPictures
    from studio_engines import render_film

    base = build_engines(jobs=2)
    flat = Engines(voices=base.voices, music=base.music, translator=base.translator, encoder=base.encoder,
                   pictures=FlatPictures())
    # 300 characters (the field's limit) and about 100 tokens: commas and short words.
    look = ("a tall, wiry, weathered fisherwoman in her forties, yellow oilskin coat, grey wool jumper, red boots, "
            "blue knit hat, silver hoops, a scar on one cheek, a coil of rope, a brass lantern, salt-white streaks "
            "in dark hair, cracked lips, tired eyes, a tin mug, a gull feather, a torn map, a whistle, a dog")
    assert len(look) <= 300
    settings = RenderSettings.model_validate({**FILM, "characters": [{"name": "MIRA", "description": look}]})
    manifest = render_film(SCRIPT, settings, tmp_path / "f.mp4", work_dir=tmp_path / "w", cache_dir=tmp_path / "c",
                           engines=flat)
    board = json.loads((tmp_path / "w" / "storyboard.json").read_text())
    assert board["tokens"] == "estimate" and board["token_limit"] == 77
    mira = [s for s in board["shots"] if "MIRA" in s["characters"]]
    assert mira and all(look in s["prompt"] and s["tokens"] > 77 and not s["descriptions_fit"] for s in mira)
    others = [s for s in board["shots"] if "MIRA" not in s["characters"]]
    assert all(s["tokens"] <= 77 for s in others)
    said = [w for w in manifest["warnings"] if w.startswith("storyboard shot")]
    assert len(said) == len(mira) and all("MIRA's description alone" in w for w in said)
