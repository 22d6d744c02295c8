"""Fountain highlighting and the line-number gutter."""

from __future__ import annotations

from filmstudio.desktop.script_editor import BLANK, CHARACTER, DIALOGUE, PLAIN, ScriptEditor, classify


def test_classify_fountain_elements() -> None:
    assert classify("INT. LAB - NIGHT", BLANK) == "heading"
    assert classify("EXT. NIGHT MARKET - DUSK", -1) == "heading"
    assert classify(".FLASHBACK", BLANK) == "heading"
    assert classify("MAYA", BLANK) == "character"
    assert classify("OLD TOM (V.O.)", BLANK) == "character"
    assert classify("@McCLANE", BLANK) == "character"
    assert classify("It opens everything.", CHARACTER) == "dialogue"
    assert classify("(quietly)", CHARACTER) == "parenthetical"
    assert classify("Then keep it.", DIALOGUE) == "dialogue"
    assert classify("CUT TO:", BLANK) == "transition"
    assert classify("> FADE OUT.", BLANK) == "transition"
    assert classify("# Act One", BLANK) == "section"
    assert classify("= The key is found", BLANK) == "synopsis"
    assert classify("Title: The Key", -1) == "title"
    assert classify("Maya turns the key.", BLANK) == "action"
    assert classify("MAYA", PLAIN) == "action"  # a cue needs a blank line before it
    assert classify("", DIALOGUE) == "blank"


def test_editor_colours_blocks_and_numbers_lines(qtbot) -> None:  # type: ignore[no-untyped-def]
    editor = ScriptEditor()
    qtbot.addWidget(editor)
    editor.setPlainText("INT. LAB - NIGHT\n\nMAYA\n(quietly)\nIt works. [[check this]]\n")
    editor.resize(400, 300)
    editor.show()
    qtbot.waitExposed(editor)
    doc = editor.document()
    fmts = editor.highlighter.formats

    def colour_at(block: int, pos: int = 0) -> str:
        layout = doc.findBlockByNumber(block).layout()
        for r in layout.formats():
            if r.start <= pos < r.start + r.length:
                return r.format.foreground().color().name()
        return ""

    assert colour_at(0) == fmts["heading"].foreground().color().name()
    assert colour_at(2) == fmts["character"].foreground().color().name()
    assert colour_at(3) == fmts["parenthetical"].foreground().color().name()
    assert colour_at(4) == fmts["dialogue"].foreground().color().name()
    assert colour_at(4, 12) == fmts["note"].foreground().color().name()
    assert len({colour_at(0), colour_at(2), colour_at(3)}) == 3
    assert editor.gutter.width() == editor.gutter_width() > 0
    assert editor.viewportMargins().left() == editor.gutter_width()
