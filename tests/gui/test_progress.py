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
    report = {"en": {"readable": True, "cues": 4}, "es": {"readable": False, "cues": 10, "over_limit": 3,
                                                           "max_cps": 17, "cps_max": 21.5}}
    panel.show_job(_job(status="completed", result={"subtitles": report}))
    assert panel.step.text() == ("Done — subtitles: es: 3 of 10 cues faster than 17 characters a second "
                                 "(max 21.5)")


def test_eta_counts_down_within_a_step(qtbot) -> None:  # type: ignore[no-untyped-def]
    """The remaining time goes down between polls and does not climb back within one step."""
    panel = ProgressPanel()
    qtbot.addWidget(panel)
    now = [100.0]
    panel.clock = lambda: now[0]
    panel.show_job(_job(estimated_time_remaining="30 seconds"))
    assert panel.eta.text() == "about 30 seconds left"
    now[0] += 5
    panel._show_eta()  # the 1 s timer's tick
    assert panel.eta.text() == "about 25 seconds left"
    now[0] += 1
    panel.show_job(_job(estimated_time_remaining="33 seconds"))  # same step, a higher estimate
    assert panel.eta.text() == "about 24 seconds left"
    panel.show_job(_job(current_step="rendering", estimated_time_remaining="40 seconds"))
    assert panel.eta.text() == "about 40 seconds left"  # a new step takes the studio's estimate
    panel.show_job(_job(status="completed"))
    assert panel.eta.text() == ""
