"""A shot's still prompt in English, from typed parts: camera, subject, action, others, place, time, detail, style.

What a picture model must not see is left out: screenplay markup (parentheticals, extensions,
transitions, cues), sounds ("a kettle whistles"), and names, which it would draw as a word: a
character is their description, once; a second mention is "him", "her" or "them". A sentence
whose subject is a character on screen becomes that character's action ("a keeper in her
sixties with a lantern climbs the path"); the scene's other visible sentences (the place, the
props) are spread over its shots, so each is drawn at least once and shots differ by what they show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from filmstudio.pipeline.plan import Line, Scene
from filmstudio.pipeline.prompts import PromptPart
from filmstudio.pipeline.script.characters import Character, mention, split_sentences

_SOUNDS = re.compile(
    r"\b(clatter\w*|whistl\w*|ring(?:s|ing)?|hum(?:s|ming)?|buzz\w*|bang(?:s|ing)?|creak\w*|knock\w*|echo\w*|"
    r"rumbl\w*|hears?|hearing|heard|sounds?|nois\w*|beep\w*|thunder\w*|shout\w*|scream\w*|music|songs?|sings?|"
    r"singing|hiss\w*|rattl\w*|chim\w*|ticks?|ticking|voices?|whisper\w*|crackl\w*|thud\w*|clang\w*|howl\w*|"
    r"bark\w*|rings? out|roar\w*|murmur\w*|sigh\w*|laughter)\b", re.IGNORECASE)
_MANNER = (("whisper", "whispering"), ("shout", "shouting"), ("yell", "shouting"), ("laugh", "laughing"),
           ("sob", "in tears"), ("cry", "in tears"), ("tear", "in tears"), ("smil", "smiling"), ("grin", "grinning"),
           ("angr", "angry"), ("phone", "talking on the phone"), ("read", "reading"))
_PRONOUNS = {"female": "her", "male": "him"}
_SUBJECT_PRONOUN = re.compile(r"^(she|he)\b\s*", re.IGNORECASE)
_TIME_WORDS = {"DAY": "during the day", "NIGHT": "at night", "MORNING": "in the morning",
               "AFTERNOON": "in the afternoon", "EVENING": "in the evening"}
_APPOSITIVE = re.compile(r"^,\s*(?:(?:a|an|the)\s[^,]*|(?:with|in|wearing|holding|carrying|dressed)\s[^,]*|"
                         r"[a-z\-]+(?: and [a-z\-]+)?)\s*,\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Depiction:
    """One visible sentence of a scene: who does it (on-screen characters) and what, or a clause."""

    subjects: tuple[str, ...]  # characters at its start ("Mara and Theo watch ...")
    text: str  # the predicate when there are subjects, else the whole clause; names already resolved
    line: int  # the index of the line it comes from


def visible_sentences(scene: Scene, cast: Mapping[str, Character]) -> list[Depiction]:
    """The scene's action as pictures: sounds left out, subjects found, introductions folded into looks."""
    out: list[Depiction] = []
    for ln in scene.lines:
        if ln.kind not in ("action", "narration"):
            continue
        for sentence in split_sentences(ln.text):
            if _SOUNDS.search(sentence):
                continue
            subjects, rest = _subjects(sentence, cast)
            text = rest.strip(" .;:!?")
            if text:
                out.append(Depiction(subjects, text, ln.index))
    return out


def place_words(int_ext: str | None, location: str) -> str:
    """Where, in English: "inside the lamp room", "outdoors at the night market"."""
    if not location:
        return ""
    where = location.lower()
    return {"INT": f"inside the {where}", "EXT": f"outdoors at the {where}"}.get(int_ext or "", f"at the {where}")


def time_words(time: str | None) -> str:
    return _TIME_WORDS.get(time, f"at {time.lower()}") if time else ""


def manner(lines: Sequence[Line]) -> str:
    """How a speaker looks saying their line: a visible manner from the parenthetical, else "speaking"."""
    for ln in lines:
        if ln.kind == "dialogue" and ln.parenthetical:
            low = ln.parenthetical.lower()
            for key, words in _MANNER:
                if key in low:
                    return words
    return "speaking"


def shot_parts(camera: str, on_screen: Sequence[str], cast: Mapping[str, Character], descriptions: Mapping[str, str],
               own: Sequence[Depiction], extra: Depiction | None, speakers: Sequence[str], how: str,
               place: str, time: str, look: str) -> list[PromptPart]:
    """The typed parts of one shot's prompt, in reading order (`prompts.fit_prompt` shortens them)."""
    subject: tuple[str, ...] = ()
    action = ""
    clauses: list[Depiction] = []
    for d in own:
        if not subject and d.subjects and all(n in on_screen for n in d.subjects):
            subject, action = d.subjects, d.text
        else:
            clauses.append(d)
    if not subject:
        speaking = [n for n in speakers if n in on_screen]
        if speaking:
            subject, action = (speaking[0],), how
        elif on_screen:
            for d in clauses:  # "She hugs him hard": the one on-screen character of that sex
                m = _SUBJECT_PRONOUN.match(d.text)
                sex = {"she": "female", "he": "male"}.get(m.group(1).lower()) if m else None
                who = [n for n in on_screen if cast[n].sex == sex]
                if m and len(who) == 1:
                    subject, action = (who[0],), d.text[m.end():]
                    clauses.remove(d)
                    break
    if extra is not None:
        clauses.append(extra)
    shown = set(subject) | set(on_screen)
    parts = [PromptPart(camera, "camera")]
    parts += [PromptPart(descriptions[n], "character", n) for n in subject]
    if action:
        parts.append(PromptPart(_resolve(action, cast, shown), "action"))
    parts += [PromptPart(descriptions[n], "character", n) for n in on_screen if n not in subject]
    parts.append(PromptPart(place, "place"))
    parts.append(PromptPart(time, "time"))
    detail = ", ".join(_clause(d, cast, descriptions, shown) for d in clauses)
    if detail:
        parts.append(PromptPart(detail, "detail"))
    parts.append(PromptPart(look, "look"))
    return parts


def _subjects(sentence: str, cast: Mapping[str, Character]) -> tuple[tuple[str, ...], str]:
    """(the characters a sentence starts with, the rest without their introduction's looks)."""
    rest = sentence.strip()
    found: list[str] = []
    while True:
        hit = None
        for name, c in cast.items():
            m = mention(c).match(rest)
            if m and (hit is None or m.end() > hit[1]):
                hit = (name, m.end())
        if hit is None:
            break
        found.append(hit[0])
        rest = rest[hit[1]:]
        while (a := _APPOSITIVE.match(rest)) is not None:
            rest = " " + rest[a.end():]
        joined = re.match(r"^\s*(?:,\s*)?and\s+", rest)
        if not joined:
            break
        rest = rest[joined.end():]
    if found:
        rest = rest.lstrip(" ,")
        for name in found:  # a look already in the description is not said again
            for item in cast[name].look:
                rest = rest.replace(f" {item}", "").replace(f", {item}", "")
    return tuple(found), rest if found else sentence


def _resolve(text: str, cast: Mapping[str, Character], shown: set[str]) -> str:
    """`text` with every name as the pronoun of a character already in the prompt."""
    for name, c in cast.items():
        text = mention(c).sub(_PRONOUNS.get(c.sex or "", "them") if name in shown else "someone", text)
    return _lower_first(text)


def _clause(d: Depiction, cast: Mapping[str, Character], descriptions: Mapping[str, str], shown: set[str]) -> str:
    if not d.subjects:
        return _resolve(d.text, cast, shown)
    if all(n in shown for n in d.subjects):
        one = cast[d.subjects[0]]
        who = "they" if len(d.subjects) > 1 else {"female": "she", "male": "he"}.get(
            one.sex or "", f"the {one.role}" if one.role else "the same person")
    else:
        who = " and ".join(descriptions[n] for n in d.subjects)
    return _lower_first(f"{who} {_resolve(d.text, cast, shown)}")


def _lower_first(text: str) -> str:
    text = " ".join(text.split()).strip(" ,.;:")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text
