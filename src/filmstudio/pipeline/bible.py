"""The character and place bible: one visual description and one seed per character and per place.

A description comes from where the screenplay introduces the character (`LENA (30s) pushes
through the crowd, holding a phone with a cracked screen` -> "a woman in her thirties holding a
phone with a cracked screen") or from the settings' `characters[].description`, and is used word
for word in every shot with that character, with the same seed, so the same face comes back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from filmstudio.domain.settings import RenderSettings
from filmstudio.pipeline.plan import Scene, Script
from filmstudio.pipeline.providers.styles import seed_for

_MALE = frozenset(["MAN", "MR", "SIR", "KING", "FATHER", "DAD", "PAPA", "BROTHER", "BOY", "GRANDPA", "GRANDFATHER", "UNCLE", "HUSBAND", "PRINCE", "LORD", "GUY", "SON", "MONK", "PRIEST", "WAITER", "GENTLEMAN", "DUKE"])
_FEMALE = frozenset(["WOMAN", "MRS", "MS", "MISS", "LADY", "QUEEN", "MOTHER", "MOM", "MUM", "MAMA", "SISTER", "GIRL", "GRANDMA", "GRANDMOTHER", "AUNT", "WIFE", "PRINCESS", "DAUGHTER", "NUN", "WAITRESS", "DUCHESS"])
_PRONOUNS = {"she": "female", "her": "female", "hers": "female", "herself": "female",
             "he": "male", "him": "male", "his": "male", "himself": "male"}
_DECADES = {1: "teens", 2: "twenties", 3: "thirties", 4: "forties", 5: "fifties", 6: "sixties", 7: "seventies",
            8: "eighties", 9: "nineties"}
_NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_SETTING_AGES = {"child": "a child", "teen": "a teenager", "young": "in {p} twenties", "adult": "",
                 "middle-aged": "in {p} fifties", "senior": "in {p} sixties", "elderly": "in {p} seventies"}
_LOOK_WORDS = ("holding", "wearing", "with", "in", "carrying", "dressed", "clutching")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class CharacterLook:
    """How a character looks in every shot, and the seed their shots start from."""

    name: str
    description: str
    seed: int
    source: str  # "screenplay", "settings" or "name" (nothing said: a neutral description)


@dataclass(frozen=True)
class PlaceLook:
    """How a location looks (its first action line) and its seed: the same place comes back."""

    location: str
    int_ext: str | None
    description: str
    seed: int


def character_bible(script: Script, settings: RenderSettings, extra_text: Iterable[str] = (),
                    edits: Mapping[str, Mapping[str, object]] | None = None) -> dict[str, CharacterLook]:
    """A look per character; `extra_text` (synopses, notes) adds evidence of gender; `edits` win."""
    action = [ln.written or ln.text for ln in script.lines if ln.kind in ("action", "narration")]
    sentences = [s for text in [*action, *extra_text] for s in _SENTENCE.split(text) if s.strip()]
    specs = {c.name.strip().upper(): c for c in settings.characters}
    out: dict[str, CharacterLook] = {}
    for name in script.characters:
        spec = specs.get(name)
        description, source = _described(name, sentences, spec.gender if spec else None,
                                         spec.age if spec else None)
        if spec is not None and getattr(spec, "description", None):
            description, source = str(spec.description), "settings"
        seed = seed_for("character", name)
        edit = (edits or {}).get(name) or {}
        if isinstance(edit.get("description"), str) and str(edit["description"]).strip():
            description, source = str(edit["description"]).strip(), "edited"
        if isinstance(edit.get("seed"), int):
            seed = int(str(edit["seed"]))
        out[name] = CharacterLook(name=name, description=description, seed=seed, source=source)
    return out


def place_bible(scenes: Iterable[Scene]) -> dict[str, PlaceLook]:
    """A look per location, from the first action line of its first scene."""
    out: dict[str, PlaceLook] = {}
    for scene in scenes:
        key = scene.location or f"passage {scene.index + 1}"
        if key in out:
            continue
        first = next((ln.text for ln in scene.lines if ln.kind in ("action", "narration")), "")
        detail = _first_sentences(_without_intros(first), 140)
        where = scene.location.lower() if scene.location else ""
        description = ", ".join(p for p in (where, detail.rstrip(".").lower() if detail else "") if p)
        out[key] = PlaceLook(location=key, int_ext=scene.int_ext, description=description,
                             seed=seed_for("place", key))
    return out


def place_key(scene: Scene) -> str:
    return scene.location or f"passage {scene.index + 1}"


def _described(name: str, sentences: list[str], gender: str | None, age: str | None) -> tuple[str, str]:
    intro = re.compile(rf"(?<![\w]){re.escape(name)}\s*\(([^)]{{1,20}})\)\s*(.*)", re.IGNORECASE)
    found = next((m for s in sentences if (m := intro.search(s)) and s[m.start():m.start() + len(name)].isupper()),
                 None)
    sex = gender if gender in ("male", "female") else _gender(name, sentences)
    noun = _noun(name, sex, found.group(1) if found else None)
    pron = {"male": "his", "female": "her"}.get(sex or "", "their")
    lead: list[str] = []  # adjectives before the noun ("wiry")
    tail: list[str] = []  # looks after it ("holding a phone...")
    age_words = ""
    if found:
        age_words, before = _age(found.group(1), pron)
        if before:
            lead.append(before)
        for part in (p.strip(" .;:") for p in found.group(2).split(",")):
            words = part.split()
            if not words:
                continue
            if words[0].lower().endswith("ing") or words[0].lower() in _LOOK_WORDS:
                tail.append(part)
            elif len(words) <= 2 and not any(w.lower().endswith("s") for w in words):
                lead.insert(0, part.lower())
    elif age:
        age_words = _SETTING_AGES.get(age, "").format(p=pron)
        if age_words.startswith("a "):
            noun, age_words = age_words[2:], ""
    phrase = " ".join([*lead, noun])
    article = "an" if phrase[:1].lower() in "aeiou" else "a"
    parts = [f"{article} {phrase}", age_words, *tail]
    text = " ".join(p for p in parts if p)
    return text, "screenplay" if found else "name"


def _gender(name: str, sentences: list[str]) -> str | None:
    words = set(re.split(r"[^A-Z]+", name.upper()))
    if words & _MALE:
        return "male"
    if words & _FEMALE:
        return "female"
    # A pronoun after the name in the same sentence ("Lena looks for her brother").
    pattern = re.compile(rf"(?<![\w]){re.escape(name)}(?![\w])(.*)", re.IGNORECASE)
    for s in sentences:
        m = pattern.search(s)
        if m:
            for w in re.findall(r"[a-z]+", m.group(1).lower()):
                if w in _PRONOUNS:
                    return _PRONOUNS[w]
    return None


def _noun(name: str, sex: str | None, age: str | None) -> str:
    years = _years(age)
    child = years is not None and years < 13
    teen = years is not None and 13 <= years < 20
    if len(name.split()) > 1 and not (set(name.split()) & (_MALE | _FEMALE)):
        return name.lower()  # a role ("OLD VENDOR") says more than "person"
    if sex == "male":
        return "boy" if child else "young man" if teen else "man"
    if sex == "female":
        return "girl" if child else "young woman" if teen else "woman"
    return "child" if child else "teenager" if teen else "person"


def _years(age: str | None) -> int | None:
    m = re.match(r"\s*(\d{1,3})", age or "")
    return int(m.group(1)) if m else None


def _age(text: str, pron: str) -> tuple[str, str]:
    """("in her thirties", "") for 30s; ("", "twelve-year-old") for 12."""
    text = text.strip().lower()
    m = re.fullmatch(r"(\d)0'?s", text)
    if m:
        return f"in {pron} {_DECADES.get(int(m.group(1)), 'prime')}", ""
    m = re.fullmatch(r"(\d{1,3})", text)
    if m:
        n = int(m.group(1))
        return "", f"{_NUMBERS[n] if n < len(_NUMBERS) else n}-year-old"
    return "", ""


def _without_intros(text: str) -> str:
    """The scene's look without a character's introduction (that belongs to the character)."""
    kept = [s for s in _SENTENCE.split(text) if not re.search(r"\b[A-Z][A-Z' -]+\s*\(\d", s)]
    return " ".join(kept)


def _first_sentences(text: str, limit: int) -> str:
    out = ""
    for s in _SENTENCE.split(text.strip()):
        if out and len(out) + len(s) > limit:
            break
        out = f"{out} {s}".strip()
    return out[:limit]
