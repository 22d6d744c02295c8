"""Who each character is, read from the screenplay as a script supervisor would: one reading for all.

Casting (the voice), the bible (the storyboard's look) and the desktop's cast table all use
`read_characters`, so they never disagree about who someone is. A character's
- name: the cue as written (`OLD TOM`) and who they are called (`Tom`); a cue that is a title or a
  description gives facts instead of a name (`OLD TOM` is old, `THE STRANGER` is a stranger,
  `YOUNG MARA` is Mara, younger, `MRS. PATEL` is a woman);
- sex, in this order of trust: the user's edits; the introduction's words (`a fisherman`, `his
  hands`, `her husband BEN`, a title in the cue); pronouns in action, synopses and parentheticals
  (`She drops her keys`, `(to herself)`); `characters[].gender`; else unknown;
- age: the introduction's `(60s)` / `(12)` / `in his sixties`, words such as old, young, teenage
  (in the cue or the introduction), else `characters[].age`;
- look: the introduction's visible words: build (`wiry`), clothes (`in a yellow raincoat`), hair
  and features (`with a white beard`), what they carry (`holding a phone`).
An unknown fact is left out (None or empty), never filled with a placeholder. `description` is
the look in grammatical English built from these typed parts: "a keeper in her sixties with a
lantern", "a young engineer in his twenties".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from filmstudio.domain.settings import AGES, RenderSettings
from filmstudio.pipeline.plan import Script

Sex = Literal["male", "female"]
# Where a character's sex was read: the order of trust, most trusted first.
SEX_SOURCES: tuple[str, ...] = ("edited", "introduction", "pronoun", "settings")

_DECADES = {1: "teens", 2: "twenties", 3: "thirties", 4: "forties", 5: "fifties", 6: "sixties", 7: "seventies",
            8: "eighties", 9: "nineties"}
_DECADE_WORDS = {v: k * 10 for k, v in _DECADES.items()}
_NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
            "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
# Cue words that say who someone is rather than name them: (sex, role noun or "").
_TITLES: dict[str, tuple[Sex | None, str]] = {
    "MR": ("male", ""), "MRS": ("female", ""), "MS": ("female", ""), "MISS": ("female", ""),
    "SIR": ("male", ""), "LADY": ("female", ""), "LORD": ("male", ""), "MADAM": ("female", ""),
    "GRANDMA": ("female", "grandmother"), "GRANDPA": ("male", "grandfather"), "GRANNY": ("female", "grandmother"),
    "AUNT": ("female", "aunt"), "AUNTIE": ("female", "aunt"), "UNCLE": ("male", "uncle"),
    "DR": (None, "doctor"), "DOCTOR": (None, "doctor"), "PROFESSOR": (None, "professor"),
    "FATHER": ("male", "priest"), "SISTER": ("female", "nun"), "CAPTAIN": (None, "captain"),
    "OFFICER": (None, "police officer"), "DETECTIVE": (None, "detective"), "AGENT": (None, "agent"),
    "KING": ("male", "king"), "QUEEN": ("female", "queen"), "PRINCE": ("male", "prince"),
    "PRINCESS": ("female", "princess"),
}
# Nouns that carry a sex (a role in a cue or an introduction: `MOTHER`, `a fisherman`).
_FEMALE_NOUNS = frozenset(
    ["woman", "girl", "lady", "mother", "mom", "mum", "mama", "sister", "grandmother", "grandma", "aunt", "wife", "daughter", "niece", "bride", "queen", "princess", "duchess", "nun", "waitress", "actress", "hostess", "stewardess", "widow", "girlfriend", "fisherwoman", "policewoman", "businesswoman", "housewife", "landlady", "schoolgirl"])
_MALE_NOUNS = frozenset(
    ["man", "boy", "guy", "gentleman", "father", "dad", "papa", "brother", "grandfather", "grandpa", "uncle", "husband", "son", "nephew", "groom", "king", "prince", "duke", "monk", "priest", "waiter", "actor", "host", "steward", "widower", "boyfriend", "fisherman", "policeman", "businessman", "fireman", "landlord", "schoolboy"])
_PLAIN_NOUNS = {"woman": "female", "girl": "female", "lady": "female", "man": "male", "boy": "male", "guy": "male"}
# Relation nouns just before a name in action say the named one's sex (`her husband BEN`).
_RELATIONS = {**{w: "female" for w in ["wife", "daughter", "sister", "mother", "aunt", "niece", "girlfriend", "grandmother"]},
              **{w: "male" for w in ["husband", "son", "brother", "father", "uncle", "nephew", "boyfriend", "grandfather"]}}
# Role nouns a cue may be (`VENDOR`, `OLD GUARD`): otherwise a cue word is a name.
_ROLES = frozenset(
    ["vendor", "stranger", "guard", "driver", "waiter", "waitress", "nurse", "doctor", "soldier", "officer", "cop", "detective", "pilot", "captain", "sailor", "fisherman", "farmer", "teacher", "student", "priest", "monk", "nun", "child", "kid", "baby", "teenager", "boxer", "engineer", "keeper", "clerk", "bartender", "barman", "cashier", "chef", "cook", "baker", "butcher", "thief", "stranger", "neighbour", "neighbor", "reporter", "journalist", "passenger", "customer", "tourist", "traveller", "traveler", "shopkeeper", "mechanic", "janitor", "servant", "maid", "butler", "messenger", "narrator", "villager", "merchant", "sergeant", "lieutenant", "general", "judge", "lawyer", "scientist", "hunter", "woman", "man", "girl", "boy", "lady", "gentleman", "mother", "father", "sister", "brother", "grandmother", "grandfather", "wife", "husband", "son", "daughter"])
_AGE_WORDS: dict[str, str] = {"old": "elderly", "elderly": "elderly", "aged": "elderly", "ancient": "elderly",
                              "young": "young", "teenage": "teen", "teen": "teen", "little": "child",
                              "middle-aged": "middle-aged"}
_BUILDS = frozenset(
    ["big", "tall", "short", "small", "tiny", "fat", "thin", "skinny", "wiry", "lanky", "stocky", "burly", "heavyset", "slim", "slender", "gaunt", "frail", "bald", "muscular", "plump", "hunched", "weathered", "scruffy", "elegant", "broad-shouldered", "grizzled", "freckled", "bearded", "pale", "tanned", "sharp-eyed", "stooped", "limping"])
_CLOTHES = frozenset(
    ["coat", "raincoat", "jacket", "suit", "dress", "uniform", "apron", "cardigan", "overalls", "sweater", "jumper", "hoodie", "shirt", "t-shirt", "jeans", "boots", "hat", "cap", "scarf", "gown", "robe", "robes", "cloak", "vest", "glasses", "sunglasses", "armour", "armor", "pyjamas", "pajamas", "tuxedo", "skirt", "trousers", "shorts", "mask", "hood", "parka", "blazer", "leathers", "black", "white", "red", "blue", "green", "grey", "gray", "yellow", "brown", "uniforms", "overcoat", "anorak", "waders", "sari", "kimono", "turban", "headscarf", "veil", "tie"])
_CARRY_VERBS = {"holds": "holding", "carries": "carrying", "clutches": "clutching", "grips": "gripping",
                "wears": "wearing", "hugs": "hugging", "cradles": "cradling", "drags": "dragging"}
_LOOK_STARTS = ("holding", "carrying", "clutching", "gripping", "wearing", "dressed", "cradling", "with")
_SETTING_AGE_WORDS = {"teen": "teenage", "young": "young", "middle-aged": "middle-aged", "senior": "older",
                      "elderly": "elderly"}
_SUBJECT = {"she": "female", "he": "male"}
_OBJECT = {"her": "female", "him": "male"}
_OWN = {"his": "male", "himself": "male", "herself": "female", "hers": "female"}
# "her" followed by one of these is an object ("hugs her hard"), not a possessive ("her keys").
_NOT_OWNED = frozenset(["and", "or", "but", "hard", "tightly", "again", "back", "up", "down", "off", "away", "out", "to", "for", "with", "in", "on", "at", "into", "from", "as", "than", "close", "closer", "gently", "softly"])
_ABBREVIATIONS = ("MR.", "MRS.", "MS.", "DR.", "ST.", "Mr.", "Mrs.", "Ms.", "Dr.", "St.")
_AGE_ASIDE = re.compile(r"^\s*\(\s*(?:(early|mid|late)[\s-]*)?(\d{1,3})\s*(?:'?s)?\s*\)")
_AGE_PHRASE = re.compile(r"\bin (his|her|their) (?:(?:early|mid|late)[\s-]+)?(teens|twenties|thirties|forties|fifties|"
                         r"sixties|seventies|eighties|nineties)\b", re.IGNORECASE)
_WORDS = re.compile(r"[A-Za-z][A-Za-z'\-]*")


@dataclass(frozen=True)
class Character:
    """One character as the screenplay (and the user) says they are; unknown facts are None or empty."""

    name: str  # the cue, upper case: "OLD TOM"
    called: str  # who they are called: "Tom", "the stranger"; "" when the cue only describes them
    sex: Sex | None = None
    sex_from: str = ""  # one of SEX_SOURCES, "" when unknown
    age: str | None = None  # one of the settings' AGES
    years: int | None = None  # an exact age: `KAI (12)`
    decade: int | None = None  # `(60s)` -> 60, `in his sixties` -> 60
    age_word: str = ""  # an age said in words: "old", "young", "teenage"
    role: str = ""  # what they are: "keeper", "retired boxer", "stranger"
    build: tuple[str, ...] = ()  # "wiry", "bald"
    look: tuple[str, ...] = ()  # "in a yellow raincoat", "with a white beard", "holding a phone"
    introduced: bool = False  # the screenplay introduces them (`MARA (60s), the keeper, ...`)
    own_words: str = ""  # the user's (or characters[].description's) description, used as it is

    @property
    def description(self) -> str:
        """How they look in grammatical English: "a woman in her sixties in a yellow raincoat"."""
        return self.own_words or describe(self)


def summary(c: Character) -> str:
    """What the cast table shows of a reading: "female (introduction), senior: a keeper in her sixties"."""
    facts = [f"{c.sex} ({c.sex_from})" if c.sex else "sex unknown", c.age or "age unknown"]
    return f"{', '.join(facts)}: {c.description}"


def describe(c: Character) -> str:
    """The description built from the typed facts (the user's own words aside)."""
    pron = {"female": "her", "male": "his"}.get(c.sex or "", "their")
    young = (c.years is not None and c.years < 18) or (c.age in ("child", "teen") and c.years is None)
    noun = c.role
    if not noun:
        if c.sex == "female":
            noun = "girl" if young else "woman"
        elif c.sex == "male":
            noun = "boy" if young else "man"
        else:
            noun = "child" if c.age == "child" and c.years is None and c.age_word != "little" else \
                "teenager" if c.age == "teen" and c.years is None and not c.age_word else "person"
    lead = [*c.build]
    if c.years is not None:
        lead.append(f"{_NUMBERS[c.years] if c.years < len(_NUMBERS) else c.years}-year-old")
    elif c.age_word:
        lead.append(c.age_word)
    elif c.decade == 20:
        lead.append("young")
    elif c.decade is None and c.age and c.age != "child" and not (c.age == "teen" and noun == "teenager"):
        word = _SETTING_AGE_WORDS.get(c.age)
        if word:
            lead.append(word)
    if c.role and c.sex and _role_sex(c.role) is None and c.decade is None:
        lead.append(c.sex)  # "a female pilot": the sex shows where no "her" will
    phrase = " ".join([*lead, noun])
    parts = [f"{_article(phrase)} {phrase}"]
    if c.decade is not None:
        parts.append(f"in {pron} {_DECADES.get(c.decade // 10, 'prime')}")
    text = " ".join(parts)
    for n, item in enumerate(c.look):
        text += f" {item}" if n == 0 else f", {item}"
    return text


def read_characters(script: Script, settings: RenderSettings,
                    edits: Mapping[str, Mapping[str, Any]] | None = None,
                    extra_text: Iterable[str] = ()) -> dict[str, Character]:
    """Every character of `script` (in order) as the screenplay, `characters[]` and the user's `edits` say.

    `extra_text`: more prose about the story (synopses, notes) read for pronouns like the action.
    """
    names = list(script.characters)
    base = {n: _from_name(n) for n in names}
    scenes = [[ln for ln in scene.lines] for scene in script.scenes]
    sentences: list[tuple[int, str]] = []  # (scene, sentence) of action in order
    for k, lines in enumerate(scenes):
        for ln in lines:
            if ln.kind in ("action", "narration"):
                sentences += [(k, s) for s in split_sentences(ln.written or ln.text)]
    extra = [s for text in [*script.synopses, *extra_text] for s in split_sentences(text)]
    read = dict(base)
    # 1. Introductions: the first sentence that names the character in capitals (or as prose `Anna, a ...`).
    for name in names:
        for _, sentence in sentences:
            found = _intro(read[name], sentence, names)
            if found is not None:
                read[name] = found
                break
    # 2. Pronouns in synopses, action and parentheticals, where the introduction did not say.
    said: dict[str, Sex] = {n: c.sex for n, c in read.items() if c.sex}
    heard = _pronouns(script, names, read, extra, said)
    specs = {_key(s.name): s for s in settings.characters}
    out: dict[str, Character] = {}
    for name in names:
        c = read[name]
        if not c.sex and name in heard:
            c = replace(c, sex=heard[name], sex_from="pronoun")
        spec = specs.get(name)
        if spec is not None:
            if not c.sex and spec.gender in ("male", "female"):
                c = replace(c, sex=spec.gender, sex_from="settings")  # type: ignore[arg-type]
            if not c.age and spec.age != "adult":
                c = replace(c, age=spec.age)
            if spec.description:
                c = replace(c, own_words=spec.description.strip())
        out[name] = c
    # `YOUNG MARA` is Mara, younger: the same person's sex where the cue's own evidence is silent.
    for name, c in out.items():
        if not c.sex and c.called:
            same = next((o for o in out.values() if o.name != name and o.called == c.called and o.sex), None)
            if same is not None:
                out[name] = replace(c, sex=same.sex, sex_from=same.sex_from)
    for name, c in out.items():
        out[name] = _edited(c, (edits or {}).get(name) or {})
    return out


def _edited(c: Character, edit: Mapping[str, Any]) -> Character:
    """The user's edits win: sex (or gender), age, description."""
    sex = edit.get("sex", edit.get("gender"))
    if sex in ("male", "female"):
        c = replace(c, sex=sex, sex_from="edited")
    elif sex in ("neutral", "unknown"):
        c = replace(c, sex=None, sex_from="edited")
    if isinstance(edit.get("age"), str) and edit["age"] in AGES:
        c = replace(c, age=edit["age"], years=None, decade=None, age_word="")
    if isinstance(edit.get("description"), str) and edit["description"].strip():
        c = replace(c, own_words=edit["description"].strip())
    return c


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, not split after `Mrs.` or `Dr.`."""
    out: list[str] = []
    for piece in re.split(r"(?<=[.!?])\s+", text.strip()):
        if out and out[-1].endswith(_ABBREVIATIONS):
            out[-1] = f"{out[-1]} {piece}"
        elif piece:
            out.append(piece)
    return out


def mention(c: Character) -> re.Pattern[str]:
    """Where `c` is named in text: the cue (any case) or the name they are called by."""
    options = [re.escape(c.name)]
    if c.called and c.called.lower() != c.name.lower() and not c.called.lower().startswith("the "):
        options.append(re.escape(c.called))
    return re.compile(rf"(?<![\w])(?:{'|'.join(options)})(?![\w])", re.IGNORECASE)


def _key(name: str) -> str:
    return " ".join(name.upper().split())


def _article(phrase: str) -> str:
    first = phrase.split()[0] if phrase else ""
    if first[:1].isdigit():
        return "an" if re.match(r"(8|11|18|8\d)(\D|$)", first) else "a"
    return "an" if first[:1].lower() in "aeio" or first.lower().startswith(("un", "hour")) else "a"


def _role_sex(role: str) -> Sex | None:
    head = role.split()[-1].lower() if role else ""
    return "female" if head in _FEMALE_NOUNS else "male" if head in _MALE_NOUNS else None


def _from_name(cue: str) -> Character:
    """What the cue alone says: `OLD TOM` is old and called Tom; `THE STRANGER` is a stranger."""
    words = [w for w in cue.split() if w]
    sex: Sex | None = None
    age: str | None = None
    age_word, role = "", ""
    build: list[str] = []
    rest: list[str] = []
    the = bool(words) and words[0] == "THE"
    for n, word in enumerate(words[1:] if the else words):
        bare = word.rstrip(".").upper()
        low = bare.lower()
        if rest:
            rest.append(word)
        elif bare in _TITLES and (n + 1 < len(words) - the or bare in ("GRANDMA", "GRANDPA")):
            t_sex, t_role = _TITLES[bare]
            sex, role = t_sex or sex, t_role or role
            if t_role == "" or bare in ("DR", "DOCTOR", "GRANDMA", "GRANDPA"):
                continue
        elif low in _AGE_WORDS:
            age, age_word = _AGE_WORDS[low], ("" if low == "little" else low)
        elif low in _BUILDS:
            build.append(low)
        else:
            rest.append(word)
    called = " ".join(w.capitalize() for w in rest)
    last = rest[-1].lower() if rest else ""
    if the or (last in _ROLES and len(rest) == 1):
        role = " ".join(rest).lower() or role
        called = f"the {role}" if the else ""
        if role in _PLAIN_NOUNS:
            sex, role = _PLAIN_NOUNS[role], ""  # type: ignore[assignment]
            if age is None and cue.upper().split()[-1] in ("GIRL", "BOY") and not age_word:
                age = "child"
        elif role:
            sex = sex or _role_sex(role)
    elif rest and cue.upper().startswith(("MR", "MRS", "MS", "MISS", "DR", "DOCTOR")):
        called = " ".join(w.capitalize() for w in words)
    return Character(name=cue, called=called, sex=sex, sex_from="introduction" if sex else "", age=age,
                     age_word=age_word, role=role, build=tuple(build))


def _intro(c: Character, sentence: str, names: Sequence[str]) -> Character | None:
    """`c` as `sentence` introduces them, or None when it does not."""
    at = None
    for m in re.finditer(rf"(?<![\w]){re.escape(c.name)}(?![\w])", sentence):
        if sentence[m.start():m.end()].isupper():
            at = m
            break
    prose = False
    if at is None and c.called and not c.called.lower().startswith("the "):
        at = re.search(rf"(?<![\w]){re.escape(c.called)},\s+(?=(?:a|an|the)\s)", sentence)
        prose = at is not None
        if at is None:
            return None
    if at is None:
        return None
    before = sentence[:at.start()].split()
    sex, sex_from = c.sex, c.sex_from
    if before and before[-1].lower() in _RELATIONS and not sex:
        sex, sex_from = _RELATIONS[before[-1].lower()], "introduction"  # type: ignore[assignment]
    rest = sentence[at.end():]
    years: int | None = None
    decade: int | None = None
    aside = _AGE_ASIDE.match(rest)
    if aside:
        m = aside
        n = int(m.group(2))
        if rest[m.start():m.end()].rstrip(") ").endswith("s") or (n % 10 == 0 and "s" in m.group(0)):
            decade = n
        else:
            years = n
        rest = rest[m.end():]
    # The introduction ends where another character's begins ("ANNA (30s), ... and BEN (40s) ...").
    for other in names:
        if other == c.name:
            continue
        o = re.search(rf"(?:,?\s+and\s+|,\s*|\s+)?(?:(?:his|her|their)\s+\w+\s+)?(?<![\w]){re.escape(other)}(?![\w])",
                      rest)
        if o and rest[o.start():o.end()].strip(" ,").split()[-1].isupper():
            rest = rest[:o.start()]
    role, build, look = c.role, list(c.build), []
    age, age_word = c.age, c.age_word
    verb_seen = False
    for part in (p.strip(" .;:!?") for p in rest.split(",")):
        words = part.split()
        if not words or part.lower() == "and":
            continue
        first = words[0].lower()
        phrase = _AGE_PHRASE.search(part)
        if phrase:
            decade = _DECADE_WORDS[phrase.group(2).lower()]
            owner = phrase.group(1).lower()
            if owner in ("his", "her") and not sex:
                sex, sex_from = ("male" if owner == "his" else "female"), "introduction"
            part = (part[:phrase.start()] + part[phrase.end():]).strip()
            words = part.split()
            if not words:
                continue
            first = words[0].lower()
        if first in ("a", "an", "the") and not verb_seen:
            np, tail = _noun_phrase(words[1:])
            for w in np[:-1]:
                lw = w.lower()
                if lw in _AGE_WORDS:
                    age, age_word = _AGE_WORDS[lw], lw
                elif lw in _BUILDS:
                    build.append(lw)
            head = np[-1].lower() if np else ""
            kept = [w.lower() for w in np[:-1] if w.lower() not in _AGE_WORDS and w.lower() not in _BUILDS]
            if head in _PLAIN_NOUNS:
                if not sex:
                    sex, sex_from = _PLAIN_NOUNS[head], "introduction"  # type: ignore[assignment]
                if kept:
                    build += kept
            elif head:
                role = " ".join([*kept, head])
                if not sex and _role_sex(role):
                    sex, sex_from = _role_sex(role), "introduction"
            if tail:
                look.append(" ".join(tail))
        elif first in _LOOK_STARTS or (first == "in" and _clothes(words)):
            look.append(_own(part))
        elif not verb_seen and len(words) <= 2 and all(_adjective(w) for w in words):
            for w in words:
                lw = w.lower()
                if lw in _AGE_WORDS:
                    age, age_word = _AGE_WORDS[lw], lw
                elif lw != "and":
                    build.append(lw)
        else:
            if not verb_seen:
                carried = _CARRY_VERBS.get(first)
                if carried and len(words) > 1:
                    look.append(_own(" ".join([carried, *words[1:]])))
                else:
                    carrying = re.search(r"\bwith (?:a|an) [\w\s'-]+$", part)
                    if carrying:
                        look.append(carrying.group(0))
            verb_seen = True
            if not sex:
                owned = _owner(part)
                if owned:
                    sex, sex_from = owned, "introduction"
    if prose and not (role or look or build or sex):
        return None
    if years is not None:
        age = _age_group(years)
    elif decade is not None:
        age = _age_group(decade)
    return replace(c, sex=sex, sex_from=sex_from, age=age, years=years, decade=decade, age_word=age_word,
                   role=role, build=tuple(dict.fromkeys(build)), look=tuple(look), introduced=True)


def _noun_phrase(words: list[str]) -> tuple[list[str], list[str]]:
    """`["retired", "boxer", "with", "a", "cane"]` -> (["retired", "boxer"], ["with", "a", "cane"])."""
    for n, w in enumerate(words):
        if w.lower() in ("with", "in", "wearing", "holding", "carrying", "clutching", "who", "from", "dressed"):
            return words[:n], words[n:]
    return words, []


def _clothes(words: Sequence[str]) -> bool:
    return any(w.lower().strip(".,") in _CLOTHES for w in words)


def _adjective(word: str) -> bool:
    w = word.lower()
    return w in _BUILDS or w in _AGE_WORDS or w == "and" or (
        w.isalpha() and not w.endswith(("s", "ly")) and w not in ("up", "down", "in", "out", "off", "away"))


def _own(part: str) -> str:
    """A look in words of its own: "holding her phone" -> "holding a phone"."""
    return re.sub(r"\b(his|her|their)\b", "a", part)


def _owner(text: str) -> Sex | None:
    """The subject's sex as a possessive or reflexive in `text` says ("ties her shoes", "(to herself)")."""
    words = [w.lower() for w in _WORDS.findall(text)]
    for n, w in enumerate(words):
        if w in _OWN:
            return "male" if _OWN[w] == "male" else "female"
        if w == "her" and n + 1 < len(words) and words[n + 1] not in _NOT_OWNED and (n == 0 or words[n - 1] not in (
                "watches", "sees", "hugs", "kisses", "helps", "tells", "asks", "lets", "makes", "follows", "holds")):
            return "female"
    return None


def _age_group(years: int) -> str:
    for limit, group in ((13, "child"), (20, "teen"), (30, "young"), (45, "adult"), (60, "middle-aged"),
                         (70, "senior")):
        if years < limit:
            return group
    return "elderly"


@dataclass
class _Focus:
    """Who a pronoun may mean in a scene: the characters seen so far, the last subject."""

    present: list[str] = field(default_factory=list)
    subject: str | None = None


def _pronouns(script: Script, names: Sequence[str], read: Mapping[str, Character], extra: Sequence[str],
              said: Mapping[str, Sex]) -> dict[str, Sex]:
    """Sex read from pronouns: synopses, action (resolved within the scene) and the speaker's parentheticals."""
    known: dict[str, Sex] = dict(said)
    heard: dict[str, Sex] = {}

    def learn(name: str, sex: Sex) -> None:
        if name not in known:
            known[name] = heard[name] = sex

    patterns = {n: mention(read[n]) for n in names}
    for sentence in extra:  # a synopsis: every character may be meant
        _sentence(sentence, names, patterns, _Focus(list(names)), known, learn)
    for scene in script.scenes:
        focus = _Focus()
        for ln in scene.lines:
            if ln.kind in ("dialogue", "lyric") and ln.speaker in patterns:
                if ln.parenthetical:
                    owned = _owner(ln.parenthetical)
                    if owned:
                        learn(ln.speaker, owned)
                if ln.speaker not in focus.present:
                    focus.present.append(ln.speaker)
            elif ln.kind in ("action", "narration"):
                for sentence in split_sentences(ln.text):
                    _sentence(sentence, names, patterns, focus, known, learn)
    return heard


def _sentence(sentence: str, names: Sequence[str], patterns: Mapping[str, re.Pattern[str]], focus: _Focus,
              known: Mapping[str, Sex], learn: Any) -> None:
    named = sorted(((m.start(), n) for n in names if (m := patterns[n].search(sentence))), key=lambda t: t[0])
    for _, n in named:
        if n not in focus.present:
            focus.present.append(n)
    words = [w.lower() for w in _WORDS.findall(sentence)]
    if named:
        at, first = named[0]
        if len(named) == 1 or at == 0:
            tail = sentence[at:]
            if len(named) > 1:
                tail = tail[:named[1][0] - at]
            owned = _owner(tail.split(None, 1)[1] if len(tail.split(None, 1)) > 1 else "")
            if owned:
                learn(first, owned)
        focus.subject = first if at == 0 or len(named) == 1 else None
        return
    if not words or words[0] not in _SUBJECT:
        return
    sex: Sex = "female" if words[0] == "she" else "male"
    objects = {_OBJECT[w] for w in words[1:] if w in _OBJECT and _OBJECT[w] != sex}
    # The subject: the one character of this sex in the scene; else the last named subject.
    same = [n for n in focus.present if known.get(n) == sex]
    unknown = [n for n in focus.present if n not in known]
    subject: str | None = None
    if len(same) == 1:
        subject = same[0]
    elif not same and focus.subject in unknown:
        subject = focus.subject
    elif not same and len(unknown) == 1:
        subject = unknown[0]
    if subject is not None:
        learn(subject, sex)
        focus.subject = subject
    for other in objects:  # "She hugs him": him is the one other character who may be
        others = [n for n in focus.present if n != subject and known.get(n) in (None, other)]
        if len(others) == 1:
            learn(others[0], other)
