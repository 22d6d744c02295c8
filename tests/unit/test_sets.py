"""Procedural sets: every setting and prop in the tables draws, nouns are matched, sets are deterministic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from filmstudio.pipeline.providers.layers import Scenery, paint_set
from filmstudio.pipeline.providers.sets import PROPS, SETTINGS, props_in, setting_for
from filmstudio.pipeline.providers.styles import get_style

SIZE = (352, 198)


def _scenery(location: str, int_ext: str = "EXT", props: tuple[str, ...] = (), tod: str = "DAY") -> Scenery:
    return Scenery(style=get_style("documentary"), size=(320, 180), int_ext=int_ext, location=location,
                   time_of_day=tod, seed=11, props=props)


def _diff(a: Scenery, b: Scenery) -> float:
    pa = np.asarray(paint_set(a, SIZE)[0], dtype=np.float32)
    pb = np.asarray(paint_set(b, SIZE)[0], dtype=np.float32)
    return float(np.abs(pa - pb).mean())


def test_the_tables_are_big_enough() -> None:
    assert len(SETTINGS) >= 30 and len(PROPS) >= 40
    assert len({s.name for s in SETTINGS}) == len(SETTINGS)
    assert all(p in PROPS for s in SETTINGS for p in s.props)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_draws_and_differs_from_the_empty_location(setting: object) -> None:
    from filmstudio.pipeline.providers.sets import Setting

    assert isinstance(setting, Setting)
    word = setting.words[0]
    int_ext = "INT" if setting.motif in ("room", "space") and setting.wall is not None else "EXT"
    assert setting_for(word, int_ext) == setting, word  # its own first word names it
    sc = _scenery(word, int_ext)
    assert sc.setting == setting
    assert _diff(sc, _scenery("NOWHERE IN PARTICULAR", int_ext)) > 0.5
    drawn, boxes = paint_set(sc, SIZE)
    assert set(boxes) == set(setting.props)  # each of its props is on the plate
    plain = np.asarray(paint_set(_scenery("NOWHERE IN PARTICULAR", int_ext), SIZE)[0], dtype=np.float32)
    mine = np.asarray(drawn, dtype=np.float32)
    for name, (x0, y0, x1, y1) in boxes.items():  # and changes the picture where it stands
        assert float(np.abs(mine[y0:y1, x0:x1] - plain[y0:y1, x0:x1]).mean()) > 3.0, name


@pytest.mark.parametrize("name", sorted(PROPS))
def test_every_prop_draws_and_differs_from_the_empty_location(name: str) -> None:
    for int_ext in ("EXT", "INT"):
        plain = _scenery("NOWHERE", int_ext)
        with_prop = _scenery("NOWHERE", int_ext, (name,))
        _, boxes = paint_set(with_prop, SIZE)
        assert name in boxes, (name, int_ext)
        x0, y0, x1, y1 = boxes[name]
        assert 0 <= x0 < x1 <= SIZE[0] and 0 <= y0 < y1 <= SIZE[1]
        a = np.asarray(paint_set(with_prop, SIZE)[0], dtype=np.float32)[y0:y1, x0:x1]
        b = np.asarray(paint_set(plain, SIZE)[0], dtype=np.float32)[y0:y1, x0:x1]
        assert float(np.abs(a - b).mean()) > 3.0, (name, int_ext)


def test_sets_are_deterministic() -> None:
    sc = _scenery("HARBOUR", props=("boat", "lighthouse"), tod="NIGHT")
    assert paint_set(sc, SIZE)[0].tobytes() == paint_set(sc, SIZE)[0].tobytes()


@pytest.mark.parametrize(("text", "props"), [
    ("the old boat", ("boat",)),
    ("Two old BOATS sway by the pier.", ("boat", "pier")),
    ("Ferries and a kettle, then more kettles.", ("ship", "kettle")),
    ("Books fill the shelves.", ("book", "bookshelf")),
    ("A bottle on a table.", ("bottle", "table")),
    ("She reads the letter under the moon.", ("letter", "moon")),
    ("The street is empty.", ("road",)),  # "street" names the road, never "tree"
    ("A giraffe eats quietly.", ()),  # no drawing: the location's set alone
])
def test_nouns_are_matched_with_plurals_and_adjectives(text: str, props: tuple[str, ...]) -> None:
    assert props_in(text) == props


def test_a_location_with_no_setting_falls_back_to_its_motif() -> None:
    assert setting_for("THE GIRAFFE ENCLOSURE") is None
    sc = _scenery("THE GIRAFFE ENCLOSURE")
    assert sc.setting is None and sc.motif == "city" and sc.set_props == ()
    assert setting_for("OLD HARBOURS") is not None and setting_for("OLD HARBOURS").name == "harbour"  # type: ignore[union-attr]
    assert setting_for("DESERT ROAD").name == "desert road"  # type: ignore[union-attr]
    assert setting_for("SPACESHIP BRIDGE", "INT").name == "spaceship bridge"  # type: ignore[union-attr]


def test_a_lighthouse_at_night_has_its_beam(monkeypatch: pytest.MonkeyPatch) -> None:
    from filmstudio.pipeline.providers import sets

    night = _scenery("LIGHTHOUSE", tod="NIGHT")
    lit, boxes = paint_set(night, SIZE)
    _x0, y0, x1, y1 = boxes["lighthouse"]
    beam_y = y0 + (y1 - y0) // 6  # the lamp's height
    monkeypatch.setattr(sets, "lighthouse_beam", lambda *args: None)
    dark = np.asarray(paint_set(night, SIZE)[0], dtype=np.float32)
    beside = (slice(beam_y - 2, beam_y + 3), slice(x1 + 5, x1 + 40))
    # Beside the lamp the beam lights the night sky; the tower itself is the same either way.
    assert float(np.asarray(lit, dtype=np.float32)[beside].mean()) > float(dark[beside].mean()) + 8
    day_boxes = paint_set(_scenery("LIGHTHOUSE", tod="DAY"), SIZE)[1]
    assert "lighthouse" in day_boxes


def test_the_table_of_sets_is_documented() -> None:
    root = Path(__file__).resolve().parents[2]
    for doc in ("README.md", "docs/architecture.md"):
        text = (root / doc).read_text(encoding="utf-8")
        assert "sets.py" in text and "SETTINGS" in text and "PROPS" in text, doc
