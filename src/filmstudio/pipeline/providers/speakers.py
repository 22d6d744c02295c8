"""Speaker tables: who the speakers of a multi-speaker voice are, where the voice's own files do not say.

A Piper voice's JSON names its speakers only by a key (`speaker_id_map`, e.g. LibriTTS reader ids);
`assets/speakers/<voice id>.tsv` gives some of them a gender and a name from the dataset's own
metadata, with the source and its licence in the file's header. Columns (tab-separated, `#` lines
are comments): `id` (the speaker_id_map key), `sex` (`F` / `M`, as the source writes it), `subset`,
`minutes`, `name`, `role` (`narrator`, or empty; the column may be left off).
"""

from __future__ import annotations

import functools
import importlib.resources
from dataclasses import dataclass

from filmstudio.domain.errors import FilmStudioError

_SEXES = {"F": "female", "M": "male"}
_COLUMNS = ("id", "sex", "subset", "minutes", "name", "role")


@dataclass(frozen=True)
class SpeakerRow:
    """One speaker of a multi-speaker voice as its dataset describes them."""

    key: str  # the voice's speaker_id_map key
    gender: str  # "female" or "male"
    name: str  # the reader's name in the dataset
    role: str = ""  # "narrator": the voice's narrator when it is the first voice offered


def parse_speaker_table(text: str, source: str = "speaker table") -> tuple[SpeakerRow, ...]:
    """The rows of a speaker table's text; a malformed table raises SPEAKER_TABLE_INVALID."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if not lines or tuple(c.strip() for c in lines[0].split("\t")) != _COLUMNS:
        raise _invalid(source, 1, f"the header must be {' '.join(_COLUMNS)} (tab-separated)")
    rows: list[SpeakerRow] = []
    seen: set[str] = set()
    for n, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) == len(_COLUMNS) - 1:
            cells.append("")  # an empty role, its tab trimmed by an editor
        if len(cells) != len(_COLUMNS):
            raise _invalid(source, n, f"{len(cells)} columns, not {len(_COLUMNS)}")
        key, sex, _subset, _minutes, name, role = (c.strip() for c in cells)
        if not key or key in seen:
            raise _invalid(source, n, f"speaker {key!r} is empty or listed twice")
        if sex not in _SEXES:
            raise _invalid(source, n, f"sex {sex!r} is neither F nor M")
        if role not in ("", "narrator"):
            raise _invalid(source, n, f"role {role!r} is not 'narrator'")
        seen.add(key)
        rows.append(SpeakerRow(key=key, gender=_SEXES[sex], name=name, role=role))
    return tuple(rows)


@functools.cache
def speaker_table(voice_id: str) -> tuple[SpeakerRow, ...]:
    """The shipped table of `voice_id`'s speakers, or () when FilmStudio ships none."""
    resource = importlib.resources.files("filmstudio.assets") / "speakers" / f"{voice_id}.tsv"
    if not resource.is_file():
        return ()
    return parse_speaker_table(resource.read_text(encoding="utf-8"), f"speakers/{voice_id}.tsv")


def _invalid(source: str, line: int, why: str) -> FilmStudioError:
    return FilmStudioError(f"{source}, row {line}: {why}", code="SPEAKER_TABLE_INVALID",
                           details={"table": source, "row": line})
