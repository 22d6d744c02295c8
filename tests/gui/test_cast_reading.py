"""The cast table says who the script reads each character as (the same reading casting uses)."""

from __future__ import annotations

from filmstudio.desktop.backend import ScriptCheck
from filmstudio.desktop.cast import CastTable
from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.script.analysis import analyse
from filmstudio.pipeline.script.characters import read_characters, summary

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
