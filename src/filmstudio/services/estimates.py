"""Time estimates from the rate so far, from past jobs' stage timings, and from the stills to draw.

With a picture model the stills dominate: a render's estimate is the film's length at this
machine's stage speeds (measured without the drawing) plus the stills it has to draw (cache
misses, counted when the job was queued: `params.stills`) times the seconds per still measured
for that model and device (`pipeline/still_timings.py`), plus, with a video model, its moving
shots times the seconds per clip (`params.clips`, `pipeline/motion_plan.py`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from filmstudio.domain.jobs import JobRow, RenderParams
from filmstudio.store import jobs as job_rows
from filmstudio.store.db import Store

# Seconds of work per second of film before any job has finished on this machine (measured on 2 cores,
# 320x180 previews run far faster; full HD runs slower — past jobs replace this quickly).
DEFAULT_SECONDS_PER_FILM_SECOND = 2.0
MIN_FRACTION_FOR_RATE = 0.05
STILLS_STEP = "visual_generation"  # the step that draws the stills


def seconds_per_film_second(store: Store) -> dict[str, float]:
    """Mean work seconds per film second for each step, over recent completed jobs.

    The time a job spent drawing stills (its result's `stills_seconds`) is taken out of its step:
    that time goes with the stills to draw, not with the film's length.
    """
    sums: dict[str, list[float]] = {}
    for row in job_rows.finished_renders(store):
        duration = float(row.settings.get("duration", 60)) or 60.0
        timings = dict(row.stage_timings)
        result = row.result or {}
        # The clips of moving shots are made in the same step: their time goes with the clips too.
        drawing = float(result.get("stills_seconds") or 0.0) + float(result.get("clips_seconds") or 0.0)
        if drawing and STILLS_STEP in timings:
            timings[STILLS_STEP] = max(0.0, float(timings[STILLS_STEP]) - drawing)
        for step, seconds in timings.items():
            sums.setdefault(step, []).append(float(seconds) / duration)
    return {step: sum(v) / len(v) for step, v in sums.items()}


def expected_total(store: Store, duration: int, stills_seconds: float = 0.0) -> float:
    """A whole render: the film's length at this machine's pace, plus the stills to draw."""
    per_step = seconds_per_film_second(store)
    per_second = sum(per_step.values()) if per_step else DEFAULT_SECONDS_PER_FILM_SECOND
    return per_second * duration + stills_seconds


def stills_seconds(job: JobRow) -> float:
    """The drawing a job has to do, as counted when it was queued (0: no picture model or all cached),
    with the clips of its moving shots (0: no video model)."""
    if not isinstance(job.params, RenderParams):
        return 0.0
    stills = job.params.stills.seconds if job.params.stills is not None else 0.0
    return stills + (job.params.clips.seconds if job.params.clips is not None else 0.0)


def remaining_seconds(store: Store, job: JobRow, now: datetime | None = None) -> float | None:
    """Seconds left for a processing job: the observed rate once it is known, past jobs before."""
    if job.status == "queued":
        return expected_total(store, job.duration, stills_seconds(job))
    if job.status != "processing" or not job.started_at:
        return None
    by_steps = _remaining_by_steps(store, job)
    if by_steps is not None:
        return by_steps
    now = now or datetime.now(UTC)
    elapsed = max(0.0, (now - datetime.fromisoformat(job.started_at.replace("Z", "+00:00"))).total_seconds())
    fraction = job.progress / 100.0
    prior = max(0.0, expected_total(store, job.duration, stills_seconds(job)) - elapsed)
    if fraction < MIN_FRACTION_FOR_RATE:
        return prior
    observed = elapsed * (1 - fraction) / fraction
    # Trust the observed rate more as the job goes on.
    return fraction * observed + (1 - fraction) * prior


def _remaining_by_steps(store: Store, job: JobRow) -> float | None:
    """Seconds left from this machine's measured speed of each stage (None before any job finished).

    Steps already done cost nothing; the current one costs its expected time less the time it
    has had (so the estimate counts down within a step as the heartbeat updates the timings);
    steps not started cost their expected time. The stills to draw belong to their step.
    """
    if not job.current_step:
        return None
    speeds = seconds_per_film_second(store)
    if not speeds or job.current_step not in speeds:
        return None
    duration = job.duration
    spent = job.stage_timings
    drawing = stills_seconds(job)
    if drawing:
        speeds = {**speeds, STILLS_STEP: speeds.get(STILLS_STEP, 0.0)}
    left = 0.0
    for step, per_second in speeds.items():
        expected = per_second * duration + (drawing if step == STILLS_STEP else 0.0)
        if step == job.current_step:
            left += max(0.0, expected - float(spent.get(step, 0.0)))
        elif step not in spent:
            left += expected
    return left


def humanize(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    s = round(seconds)
    if s < 120:
        return f"{s} seconds"
    return f"{round(s / 60)} minutes"


def humanize_range(seconds: float) -> str:
    """A generous range like the public API's "3-5 minutes"."""
    low, high = seconds * 0.75, seconds * 1.5
    if high < 120:
        return f"{max(1, round(low))}-{max(2, round(high))} seconds"
    return f"{max(1, round(low / 60))}-{max(2, round(high / 60))} minutes"
