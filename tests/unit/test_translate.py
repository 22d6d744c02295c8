"""Translator seam: the dict translator, and argostranslate discovery through a fake module."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass

import pytest

from filmstudio.pipeline.providers.translate import (
    DictTranslator,
    InstalledTranslator,
    Translator,
    available_translator,
)


@dataclass
class FakeTranslation:
    target: str

    def translate(self, text: str) -> str:
        return f"[{self.target}] {text}"


@dataclass
class FakeLanguage:
    code: str
    targets: tuple[str, ...]

    def get_translation(self, other: FakeLanguage) -> FakeTranslation | None:
        return FakeTranslation(other.code) if other.code in self.targets else None


def install_fake_argos(monkeypatch: pytest.MonkeyPatch, languages: list[FakeLanguage]) -> None:
    package = types.ModuleType("argostranslate")
    module = types.ModuleType("argostranslate.translate")
    module.get_installed_languages = lambda: languages  # type: ignore[attr-defined]
    package.translate = module  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "argostranslate", package)
    monkeypatch.setitem(sys.modules, "argostranslate.translate", module)


def contract(translator: Translator) -> None:
    """What every Translator does: one output per input, in order, identity for same language."""
    texts = ["Hello.", "Good night."]
    out = translator.translate(texts, "en", "es")
    assert len(out) == 2 and all(isinstance(t, str) and t for t in out)
    assert out != texts
    assert translator.translate(texts, "en", "en") == texts
    assert translator.translate([], "en", "es") == []


def test_dict_translator_contract_and_unknown_text() -> None:
    translator = DictTranslator({"es": {"Hello.": "Hola.", "Good night.": "Buenas noches."}})
    contract(translator)
    assert translator.translate(["Hello."], "en", "es") == ["Hola."]
    with pytest.raises(KeyError):
        translator.translate(["Unknown"], "en", "es")
    assert DictTranslator(passthrough=True).translate(["Unknown"], "en", "fr") == ["Unknown"]
    assert isinstance(translator, Translator)


def test_argos_translator_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_argos(monkeypatch, [FakeLanguage("en", ("es",)), FakeLanguage("es", ())])
    translator = InstalledTranslator()
    assert isinstance(translator, Translator)
    contract(translator)
    assert translator.translate(["Hi", " "], "en", "es") == ["[es] Hi", " "]
    with pytest.raises(ValueError):
        translator.translate(["Hola"], "es", "en")
    assert translator.info().ok and translator.info().details["pairs"] == ["en->es"]
    assert available_translator(translator, "en", "es") is translator
    assert available_translator(translator, "es", "en") is None
    assert available_translator(translator, "en", "de") is None


def test_no_packages_means_no_translator(monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_argos(monkeypatch, [])
    translator = InstalledTranslator()
    assert available_translator(translator, "en", "es") is None
    assert not translator.info().ok and translator.info().missing


def test_not_installed_means_no_translator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "argostranslate", None)
    monkeypatch.setitem(sys.modules, "argostranslate.translate", None)
    translator = InstalledTranslator()
    assert translator.pairs() == set() and available_translator(translator, "en", "es") is None
    assert not translator.info().ok and "argostranslate" in translator.info().missing[0]
