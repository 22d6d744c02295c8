"""How many rows of the character-reading table (tests/data/characters/readings.json) a checkout reads right.

    PYTHONPATH=src .venv/bin/python bench/character_readings.py            # this checkout
    PYTHONPATH=/path/to/other/src .venv/bin/python bench/character_readings.py --verbose

Each row is a screenplay snippet, a character and the expected sex, age and description. The
table is also a test (tests/unit/test_characters.py); this script exists to measure a checkout
that predates `pipeline/script/characters.py`: there the sex and age are main's storyboard reading
(the bible's pronoun guess, casting's introduction age and name words) and the description is the
bible's.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.script.analysis import analyse

TABLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "characters" / "readings.json"


def read(row: dict[str, Any]) -> tuple[str | None, str | None, str]:
    """(sex, age, description) of the row's character as the checkout on the path reads them."""
    settings = RenderSettings(characters=row.get("characters") or [])
    script = analyse(row["script"], settings)
    edits = {row["name"]: row["edits"]} if row.get("edits") else None
    try:
        from filmstudio.pipeline.script.characters import read_characters
    except ImportError:
        return _before(row, script, settings, edits)
    character = read_characters(script, settings, edits)[row["name"]]
    return character.sex, character.age, character.description


def _before(row: dict[str, Any], script: Any, settings: RenderSettings,
            edits: dict[str, Any] | None) -> tuple[str | None, str | None, str]:
    import re

    from filmstudio.pipeline import bible
    from filmstudio.pipeline.script import casting
    from filmstudio.pipeline.storyboard import _synopses

    name = row["name"]
    extra = _synopses(row["script"])
    look = bible.character_bible(script, settings, extra, edits)[name]
    action = [ln.written or ln.text for ln in script.lines if ln.kind in ("action", "narration")]
    sentences = [s for t in [*action, *extra] for s in bible._SENTENCE.split(t) if s.strip()]
    sex = bible._gender(name, sentences)
    years = casting.intro_ages(script).get(name)
    words = set(re.split(r"[^A-Z.]+", name.upper()))
    age = casting.age_group(years) if years is not None else "child" if words & casting._CHILD_WORDS else \
        "elderly" if words & casting._ELDER_WORDS else None
    return sex, age, look.description


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print every failing row")
    args = parser.parse_args()
    rows = json.loads(TABLE.read_text(encoding="utf-8"))
    passed = 0
    for row in rows:
        got = read(row)
        want = (row["sex"], row["age"], row["description"])
        if got == want:
            passed += 1
        elif args.verbose:
            print(f"row {row['id']} {row['name']}: got {got}, want {want}")
    print(f"{passed}/{len(rows)} rows read right")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
