"""The progress panel shows a job's step, ETA, warnings and errors in plain words."""

from __future__ import annotations

from filmstudio.desktop.progress import ProgressPanel
from filmstudio.domain.models import JobError, JobPublic


def _job(**kw: object) -> JobPublic:
    base: dict[str, object] = {
        "job_id": "j1", "project_id": "p1", "status": "processing", "progress": 42,
        "current_step": "visual_generation", "estimated_time_remaining": "12 seconds", "started_at": None,
        "created_at": "2026-01-01T00:00:00Z", "completed_at": None, "attempts": 1, "credits": 1,
        "cancel_requested": False, "warnings": [],
    }
    base.update(kw)
    return JobPublic.model_validate(base)


def test_panel_states(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = ProgressPanel()
    qtbot.addWidget(panel)
    panel.show_job(_job(warnings=["no French (fr) subtitles: no translation was given"]))
    assert panel.bar.value() == 42
    assert panel.step.text() == "Drawing scenes"
    assert panel.eta.text() == "about 12 seconds left"
    assert panel.warnings.text() == "⚠ no French (fr) subtitles: no translation was given"
    assert panel.cancel.isEnabled()
    with qtbot.waitSignal(panel.cancel_requested) as sig:
        panel.cancel.click()
    assert sig.args == ["j1"] and not panel.cancel.isEnabled()

    panel.show_job(_job(status="failed", error=JobError(code="TTS_FAILED", message="the speech worker crashed")))
    assert panel.step.text() == "Failed — the speech worker crashed"
    assert panel.step.toolTip() == "Details: TTS_FAILED"
    assert panel.eta.text() == "" and not panel.cancel.isEnabled()
    panel.show_job(_job(status="completed", progress=97))
    assert (panel.bar.value(), panel.step.text()) == (100, "Done")
