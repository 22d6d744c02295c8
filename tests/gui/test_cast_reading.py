"""The cast table says who the script reads each character as (the same reading casting uses)."""

from __future__ import annotations

from filmstudio.desktop.backend import ScriptCheck
from filmstudio.desktop.cast import CastTable
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.script.analysis import analyse
from filmstudio.pipeline.script.characters import read_characters, summary
from gui.conftest import Desktop

TEXT = "EXT. ARCADE - NIGHT\n\nKAI (12) feeds a claw machine. He grins.\n\nKAI\nOne more try.\n"


def test_the_cast_table_shows_the_reading(qtbot) -> None:  # type: ignore[no-untyped-def]
    table = CastTable()
    qtbot.addWidget(table)
    s = RenderSettings()
    readings = {n: summary(c) for n, c in read_characters(analyse(TEXT, s), s).items()}
    assert readings["KAI"] == "male (pronoun), child: a twelve-year-old boy"
    check = ScriptCheck(("KAI",), {"KAI": "en-US m3"}, 0, 1, 3.0, readings=readings)
    table.show_characters(check.characters, check.voices, check.readings)
    item = table.item(0, 0)
    assert item is not None and item.toolTip() == "The script says: male (pronoun), child: a twelve-year-old boy"
    gender = table.cellWidget(0, 2)
    assert gender is not None and "twelve-year-old boy" in gender.toolTip()
    assert table.specs() == []  # a reading is not a choice: nothing becomes characters[]


CROSS = ("Title: Keeper\n\nEXT. LIGHTHOUSE - NIGHT\n\nMARA (60s), a keeper in her sixties, lights the lamp.\n\n"
         "THEO (20s), a young man with a toolbox, waits below.\n\nMARA\nThe light stays on.\n\n"
         "THEO\nThen I stay too.\n")


def test_a_woman_read_by_a_male_voice_is_marked_with_the_pull_advice(desktop: Desktop, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The studio's own voices (the bundled male voice, espeak-ng): the render's warning, in the table."""
    from filmstudio.desktop.cast import MISMATCH_MARK
    from filmstudio.pipeline.engines import VoiceInfo

    voices: list[VoiceInfo] = desktop.backend.engines.voices.voices("en")
    if not any(v.neural and v.gender == "male" for v in voices) or any(v.neural and v.gender == "female" for v in voices):
        raise AssertionError(f"this test needs the bundled male neural voice alone: {voices}")
    project = desktop.backend.create_project("Keeper", CROSS, {"duration": 20})
    desktop.window.open_project(project.project_id)
    cast = desktop.window.editor.cast
    qtbot.waitUntil(lambda: cast.characters() == ["MARA", "THEO"] and bool(cast.item(0, 4).text()), timeout=15_000)
    check = desktop.window.editor.last_check
    assert check is not None and set(check.mismatches) == {"MARA"}
    mara, theo = cast.item(0, 4), cast.item(1, 4)
    assert mara.text().endswith(MISMATCH_MARK) and not theo.text().endswith(MISMATCH_MARK)
    assert "female" in mara.toolTip() and "male voice" in mara.toolTip()
    assert "filmstudio models pull --recommended" in mara.toolTip() and theo.toolTip() == ""
    # The same words as the render's manifest warning.
    from filmstudio.pipeline.stages.script_analysis import gender_warning

    assert mara.toolTip() == gender_warning("MARA", "female", "male", "en")
