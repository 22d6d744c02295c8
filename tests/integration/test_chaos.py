"""kill -9 loop (CI size): random SIGKILLs of server and worker; no job, credit or event is lost."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_kill_9_loop_keeps_every_invariant(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    from chaos import run_chaos

    report = run_chaos(tmp_path / "studio", cycles=8, seed=4)
    assert report.problems == []
    assert sum(report.kills.values()) == 8 and report.kills["server"] > 0 and report.kills["worker"] > 0
    assert report.jobs == 16 and sum(report.statuses.values()) == 16
    assert report.deliveries >= 16 * 2
