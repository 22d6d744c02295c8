"""Speaker tables shipped for multi-speaker voices: well formed, balanced, traceable to their source."""

from __future__ import annotations

import importlib.resources
import re

import pytest

from filmstudio.domain.errors import FilmStudioError
from filmstudio.pipeline.providers.speakers import parse_speaker_table, speaker_table

LIBRITTS = "en_US-libritts_r-medium"
HEADER = "id\tsex\tsubset\tminutes\tname\trole\n"


def test_the_libritts_table_is_balanced_and_from_its_source() -> None:
    rows = speaker_table(LIBRITTS)
    genders = [r.gender for r in rows]
    assert genders.count("male") == 40 and genders.count("female") == 41
    assert all(re.fullmatch(r"[1-9]\d*", r.key) for r in rows)  # LibriTTS reader ids, as its speaker_id_map has
    assert [r.key for r in rows if r.role == "narrator"] == ["1259"]
    assert next(r for r in rows if r.key == "14").name == "Kristin LeMoine"
    text = (importlib.resources.files("filmstudio.assets") / "speakers" / f"{LIBRITTS}.tsv").read_text("utf-8")
    # The source, its commit and its licence are in the file itself.
    assert "SPEAKERS.TXT" in text and "68a541f7d3143210e57c04e6ec4cfafd6e4827b7" in text
    assert "Creative Commons Attribution 4.0" in text
    for line in text.splitlines():
        if line and not line.startswith(("#", "id\t")):
            _id, _sex, subset, minutes, _name, _role = line.split("\t")
            assert subset == "train-clean-360" and float(minutes) >= 25.0  # the curation rule the header states


def test_a_voice_without_a_table_has_none() -> None:
    assert speaker_table("en_US-joe-medium") == ()


@pytest.mark.parametrize(("text", "why"), [
    ("", "header"),
    ("id\tsex\n1\tF\n", "header"),
    (HEADER + "1\tX\ttrain\t1\tA\t\n", "neither F nor M"),
    (HEADER + "1\tF\ttrain\t1\tA\t\n1\tM\ttrain\t1\tB\t\n", "twice"),
    (HEADER + "1\tF\ttrain\t1\n", "columns"),
    (HEADER + "1\tF\ttrain\t1\tA\t\tx\n", "columns"),
    (HEADER + "1\tF\ttrain\t1\tA\tlead\n", "role"),
])
def test_a_malformed_table_is_refused_with_a_stable_code(text: str, why: str) -> None:
    with pytest.raises(FilmStudioError) as err:
        parse_speaker_table(text, "t.tsv")
    assert err.value.code == "SPEAKER_TABLE_INVALID" and why in err.value.message


def test_comments_and_rows_parse() -> None:
    rows = parse_speaker_table("# a comment\n" + HEADER + "7\tM\ttrain\t25\tAn Reader\tnarrator\n8\tF\tx\t1\tB\n")
    assert [(r.key, r.gender, r.name, r.role) for r in rows] == [("7", "male", "An Reader", "narrator"),
                                                                  ("8", "female", "B", "")]
