"""Time estimates from the rate so far and from past jobs' stage timings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from filmstudio.store import jobs as job_rows
from filmstudio.store.db import Store

# Seconds of work per second of film before any job has finished on this machine (measured on 2 cores,
# 320x180 previews run far faster; full HD runs slower — past jobs replace this quickly).
DEFAULT_SECONDS_PER_FILM_SECOND = 2.0
MIN_FRACTION_FOR_RATE = 0.05


def seconds_per_film_second(store: Store) -> dict[str, float]:
    """Mean work seconds per film second for each step, over recent completed jobs."""
    sums: dict[str, list[float]] = {}
    for row in job_rows.finished_jobs_timings(store):
        duration = float(json.loads(row["settings"]).get("duration", 60)) or 60.0
        for step, seconds in json.loads(row["stage_timings"] or "{}").items():
            sums.setdefault(step, []).append(float(seconds) / duration)
    return {step: sum(v) / len(v) for step, v in sums.items()}


def expected_total(store: Store, duration: int) -> float:
    per_step = seconds_per_film_second(store)
    per_second = sum(per_step.values()) if per_step else DEFAULT_SECONDS_PER_FILM_SECOND
    return per_second * duration


def remaining_seconds(store: Store, job: dict[str, Any], now: datetime | None = None) -> float | None:
    """Seconds left for a processing job: the observed rate once it is known, past jobs before."""
    if job["status"] == "queued":
        return expected_total(store, _duration(job))
    if job["status"] != "processing" or not job["started_at"]:
        return None
    by_steps = _remaining_by_steps(store, job)
    if by_steps is not None:
        return by_steps
    now = now or datetime.now(UTC)
    elapsed = max(0.0, (now - datetime.fromisoformat(job["started_at"].replace("Z", "+00:00"))).total_seconds())
    fraction = job["progress"] / 100.0
    prior = max(0.0, expected_total(store, _duration(job)) - elapsed)
    if fraction < MIN_FRACTION_FOR_RATE:
        return prior
    observed = elapsed * (1 - fraction) / fraction
    # Trust the observed rate more as the job goes on.
    return fraction * observed + (1 - fraction) * prior


def _remaining_by_steps(store: Store, job: dict[str, Any]) -> float | None:
    """Seconds left from this machine's measured speed of each stage (None before any job finished).

    Steps already done cost nothing; the current one costs its expected time less the time it
    has had (so the estimate counts down within a step as the heartbeat updates the timings);
    steps not started cost their expected time.
    """
    keys = job.keys() if hasattr(job, "keys") else ()
    if "stage_timings" not in keys or "current_step" not in keys or not job["current_step"]:
        return None
    speeds = seconds_per_film_second(store)
    if not speeds or job["current_step"] not in speeds:
        return None
    duration = _duration(job)
    spent: dict[str, float] = json.loads(job["stage_timings"] or "{}")
    left = 0.0
    for step, per_second in speeds.items():
        expected = per_second * duration
        if step == job["current_step"]:
            left += max(0.0, expected - float(spent.get(step, 0.0)))
        elif step not in spent:
            left += expected
    return left


def _duration(job: dict[str, Any]) -> int:
    return int(json.loads(job["settings"]).get("duration", 60))


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
