"""The recommended set for this machine: what `models pull --recommended` and the app's first-run dialog offer.

Picked from the catalogue and the hardware detection alone (nothing is fetched):
- voices of the script's language with both female and male readers: a multi-speaker voice of
  both sexes (`gender = "mixed"`) where the catalogue has one, else one female and one male voice;
- the best picture model that fits this machine (the largest GPU need that the GPU meets, a
  licence that allows commercial use preferred), none when even the smallest does not fit;
- the add-on for character reference images (IP-Adapter) when the chosen picture model takes one
  and it fits too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from filmstudio.pipeline.models.catalogue import Catalogue, ModelEntry
from filmstudio.pipeline.models.hardware import Hardware, fits
from filmstudio.pipeline.models.library import ModelLibrary
from filmstudio.pipeline.models.progress import REPORT_SECONDS, Cancel, Progress

PULL_RECOMMENDED = "filmstudio models pull --recommended"


@dataclass(frozen=True)
class Pick:
    """One model of the plan and why it is there."""

    entry: ModelEntry
    why: str
    installed: bool = False


@dataclass(frozen=True)
class Recommendation:
    """The models this machine should have for films in `language`, and what could not be found."""

    language: str
    hardware: Hardware
    picks: tuple[Pick, ...]
    notes: tuple[str, ...] = ()  # what the plan lacks and why (no female voice for the language, ...)

    @property
    def to_pull(self) -> tuple[ModelEntry, ...]:
        return tuple(p.entry for p in self.picks if not p.installed)

    @property
    def total_bytes(self) -> int:
        """Bytes still to download (installed picks cost nothing)."""
        return sum(e.size for e in self.to_pull)

    def as_dict(self) -> dict[str, object]:
        return {
            "language": self.language, "hardware": self.hardware.summary(), "total_bytes": self.total_bytes,
            "models": [{"id": p.entry.id, "kind": p.entry.kind, "title": p.entry.title, "why": p.why,
                        "size_bytes": p.entry.size, "installed": p.installed, "licence": p.entry.licence.spdx,
                        "licence_url": p.entry.licence.url, "commercial_use": p.entry.licence.commercial_use,
                        "licence_note": p.entry.licence.note} for p in self.picks],
            "notes": list(self.notes),
        }


def recommend(catalogue: Catalogue, hardware: Hardware, language: str = "en",
              library: ModelLibrary | None = None) -> Recommendation:
    """The set of models for this machine and `language` (see the module docstring)."""
    notes: list[str] = []
    picks = [*_voices(catalogue, hardware, language, notes), *_pictures(catalogue, hardware, notes)]
    if library is not None:
        picks = [Pick(p.entry, p.why, installed=library.is_installed(p.entry.id)) for p in picks]
    return Recommendation(language=language, hardware=hardware, picks=tuple(picks), notes=tuple(notes))


def _speaks(entry: ModelEntry, language: str) -> bool:
    return any(code.split("-")[0].lower() == language for code in entry.languages)


def _voices(catalogue: Catalogue, hardware: Hardware, language: str, notes: list[str]) -> list[Pick]:
    voices = [e for e in catalogue.of_kind("voice") if _speaks(e, language) and fits(e, hardware)[0]]
    mixed = [e for e in voices if e.gender == "mixed" and (e.speakers or 1) > 1]
    if mixed:
        best = max(mixed, key=lambda e: (e.licence.commercial_use, e.speakers or 0))
        return [Pick(best, f"{best.speakers} readers, women and men, for {language} films")]
    picks: list[Pick] = []
    for gender in ("female", "male"):
        found = [e for e in voices if e.gender == gender]
        if found:
            best = max(found, key=lambda e: e.licence.commercial_use)
            picks.append(Pick(best, f"a {gender} reader for {language} films"))
        else:
            notes.append(f"the catalogue has no {gender} voice for {language}: such characters get another "
                         "reader with a pitch treatment")
    return picks


def _bases(catalogue: Catalogue) -> list[ModelEntry]:
    """Picture models a render can load by themselves (a diffusers pipeline folder, not an add-on)."""
    return [e for e in catalogue.of_kind("picture") if not e.addon_for
            and any(f.path == "model_index.json" for f in e.files)]


def _pictures(catalogue: Catalogue, hardware: Hardware, notes: list[str]) -> list[Pick]:
    fitting = [(e, fits(e, hardware)[1]) for e in _bases(catalogue) if fits(e, hardware)[0]]
    if not fitting:
        notes.append(f"no picture model fits this machine ({hardware.summary()}): films keep their drawn sets")
        return []
    on_gpu = [(e, why) for e, why in fitting if "CPU" not in why]
    pool = on_gpu or fitting
    # The most demanding model the machine runs well (a proxy for picture quality), free licences first.
    entry, why = max(pool, key=lambda p: (p[0].licence.commercial_use, p[0].min_vram_mb, -pool.index(p)))
    picks = [Pick(entry, f"pictures for every shot: {why}")]
    adapters = [a for a in catalogue.of_kind("picture") if entry.id in a.addon_for]
    for adapter in adapters:
        ok, why_not = fits(adapter, hardware)
        if ok:
            picks.append(Pick(adapter, f"the same face in every shot ({entry.id} takes it)"))
            break
        notes.append(f"{adapter.id} (the same face in every shot) does not fit: {why_not}")
    return picks


def human_bytes(size: int) -> str:
    return f"{size / 1e9:.2f} GB" if size >= 1e9 else f"{size / 1e6:.1f} MB"


def describe_plan(plan: Recommendation) -> list[str]:
    """What a person reads before the plan's first byte: each model, its size and licence, the total."""
    lines = [f"recommended for this machine ({plan.hardware.summary()}), {plan.language} films:"]
    for p in plan.picks:
        lic = p.entry.licence
        state = "installed" if p.installed else human_bytes(p.entry.size) + ("" if p.entry.verified else " (estimate)")
        lines.append(f"  {p.entry.id:<32} {p.entry.kind:<8} {state}")
        lines.append(f"      {p.why}")
        lines.append(f"      licence: {lic.spdx}  {lic.url}")
        if not lic.commercial_use:
            lines.append("      NOTE: this licence does not allow commercial use (or it is not confirmed)")
        if lic.note:
            lines.append(f"      {lic.note}")
    for note in plan.notes:
        lines.append(f"  note: {note}")
    lines.append(f"total to download: {human_bytes(plan.total_bytes)}")
    return lines


ModelProgress = Callable[[str, int, int], None]
"""(model id, bytes done, bytes in all) for one model of a set."""


def pull_plan(entries: Sequence[ModelEntry], library: ModelLibrary, *, progress: Progress | None = None,
              cancel: Cancel | None = None, endpoint: str | None = None,
              report_seconds: float = REPORT_SECONDS, each: ModelProgress | None = None) -> list[Path]:
    """Pull every entry in turn as one download: `progress(done, total, rate)` over the whole set,
    `each(model_id, done, size)` per model.

    Each model resumes where an earlier, cut pull of it stopped (its `.part` files are kept);
    models already installed cost nothing. Disk space for the whole set is checked first.
    """
    from filmstudio.pipeline.models.download import check_disk_space, pull

    for entry in entries:
        check_disk_space(entry, library)
    total = sum(e.size for e in entries if not library.is_installed(e.id))
    finished = 0
    folders: list[Path] = []
    for entry in entries:
        if library.is_installed(entry.id):
            folders.append(library.path(entry.id) or library.root / entry.id)
            if each is not None:
                each(entry.id, entry.size, entry.size)
            continue
        base = finished

        def report(done: int, size: int, rate: float, base: int = base, rest: int = total - entry.size,
                   model_id: str = entry.id) -> None:
            if each is not None:
                each(model_id, done, size)
            if progress is not None:
                # The hub's real sizes replace the catalogue's estimate for the model in flight.
                progress(base + done, max(rest + size, base + done), rate)

        folders.append(pull(entry, library, progress=report, cancel=cancel, endpoint=endpoint,
                            report_seconds=report_seconds))
        installed = library.get(entry.id)
        finished += installed.size_bytes if installed else entry.size
        total += (installed.size_bytes if installed else entry.size) - entry.size
    if progress is not None:
        progress(finished, max(total, finished), 0.0)
    return folders
