"""Offline translation behind a small Protocol: argostranslate when installed, a dict for tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Translator(Protocol):
    """Translates texts between ISO 639-1 languages, one output per input, in order."""

    def translate(self, texts: list[str], source: str, target: str) -> list[str]: ...


@dataclass(frozen=True)
class DictTranslator:
    """A translator from a fixed table, `{target: {source text: translated text}}`.

    Unknown texts raise `KeyError` unless `passthrough` is set (then they come back unchanged).
    """

    table: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    passthrough: bool = False

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


def available_translator(source: str | None = None, target: str | None = None) -> Translator | None:
    """An installed offline translator (for the pair, when given), or None. Never installs one."""
    try:
        import argostranslate.translate as argos  # type: ignore[import-not-found,unused-ignore]
    except Exception:  # not installed, or broken (its optional deps fail at import)
        return None
    translator = ArgosTranslator(argos)
    try:
        pairs = translator.pairs()
    except Exception:
        return None
    if not pairs:
        return None
    if source is not None and target is not None and (source, target) not in pairs:
        return None
    return translator
