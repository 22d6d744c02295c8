"""Offline translation behind a small Protocol: argostranslate when installed, a dict for tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from filmstudio.pipeline.engines import EngineInfo, Translator


@dataclass(frozen=True)
class DictTranslator:
    """A translator from a fixed table, `{target: {source text: translated text}}`.

    Unknown texts raise `KeyError` unless `passthrough` is set (then they come back unchanged).
    """

    table: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    passthrough: bool = False
    source: str = "en"

    def info(self) -> EngineInfo:
        return EngineInfo(kind="translator", name="fixed table", version="test")

    def pairs(self) -> set[tuple[str, str]]:
        return {(self.source, target) for target in self.table}

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        """Look each text up in the table for `target`."""
        if source == target:
            return list(texts)
        known = self.table.get(target, {})
        if self.passthrough:
            return [known.get(t, t) for t in texts]
        return [known[t] for t in texts]


class ArgosTranslator:
    """argostranslate with its installed language packages (fully offline once installed)."""

    def __init__(self, module: Any) -> None:
        self._argos = module

    def pairs(self) -> set[tuple[str, str]]:
        """The (source, target) codes an installed package translates directly or by pivot."""
        out: set[tuple[str, str]] = set()
        for lang in self._argos.get_installed_languages():
            for other in self._argos.get_installed_languages():
                if lang.code != other.code and lang.get_translation(other) is not None:
                    out.add((lang.code, other.code))
        return out

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        """Translate each text; raises ValueError when the pair is not installed."""
        if source == target:
            return list(texts)
        languages = {lang.code: lang for lang in self._argos.get_installed_languages()}
        if source not in languages or target not in languages:
            raise ValueError(f"no argostranslate package installed for {source}->{target}")
        translation = languages[source].get_translation(languages[target])
        if translation is None:
            raise ValueError(f"no argostranslate package installed for {source}->{target}")
        return [translation.translate(t) if t.strip() else t for t in texts]


class InstalledTranslator:
    """The `Translator` engine: argostranslate with whatever language packages are installed.

    Looks for argostranslate only when asked (it is an optional install); never installs anything.
    """

    name = "argos"

    def _argos(self) -> ArgosTranslator | None:
        try:
            import argostranslate.translate as argos  # type: ignore[import-not-found,unused-ignore]
        except Exception:  # not installed, or broken (its optional deps fail at import)
            return None
        return ArgosTranslator(argos)

    def info(self) -> EngineInfo:
        found = self._argos()
        if found is None:
            return EngineInfo(kind="translator", name="argostranslate", ok=False, missing=(
                "no offline translator: subtitles in other languages need translations given with the script, "
                "or argostranslate with its language packages (pip install argostranslate)",))
        pairs = sorted(self.pairs())
        return EngineInfo(kind="translator", name="argostranslate", ok=bool(pairs),
                          details={"pairs": [f"{a}->{b}" for a, b in pairs]},
                          missing=() if pairs else ("argostranslate has no language package installed",))

    def pairs(self) -> set[tuple[str, str]]:
        found = self._argos()
        if found is None:
            return set()
        try:
            return found.pairs()
        except Exception:
            return set()

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        found = self._argos()
        if found is None:
            raise ValueError("no offline translator is installed")
        return found.translate(texts, source, target)


def available_translator(translator: Translator, source: str, target: str) -> Translator | None:
    """`translator` when it translates source->target here, else None. Never installs one."""
    return translator if (source, target) in translator.pairs() else None
