"""Delivery: how a line is spoken, from the screenplay's parenthetical and character extension.

`(whispering)`, `(shouting)`, `(quietly)`, `(angrily)` ... and the `V.O.` / `O.S.` extensions become
a `Delivery`: a level, a tempo (it multiplies the line's words a minute, so the voice itself speaks
slower or faster) and a tone (filters applied to the finished clip, `pipeline/media/voicefx.py`).
Every treatment keeps the line intelligible: no band narrower than a telephone's, no level below
-10 dB of a plain line.

Also here: the text a voice is given for a line, where a character's name written in capitals
(screenplay convention for action lines) is spoken as a name ("Mara"), not spelled or shouted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from filmstudio.pipeline.plan import Line


@dataclass(frozen=True)
class Delivery:
    """A line's delivery; the default (`PLAIN`) changes nothing."""

    names: tuple[str, ...] = ()  # what was recognised, e.g. ("whisper", "voice-over")
    gain_db: float = 0.0  # the clip's peak level relative to a plain line's (-1 dBFS), <= 0
    tempo: float = 1.0  # multiplies the line's words per minute
    highpass_hz: float | None = None
    lowpass_hz: float | None = None
    treble_db: float = 0.0  # high shelf above ~3 kHz (brighter / breathier)
    bass_db: float = 0.0  # low shelf below ~200 Hz (close-mic warmth)
    compress: bool = False  # raise the loudness under the same peak (a shout carries)
    room: float = 0.0  # early reflections, 0..1 (V.O. a touch; O.S. more: off-mic)

    @property
    def plain(self) -> bool:
        return not self.names

    def key(self) -> dict[str, object]:
        """What decides the treated clip's samples (for content keys)."""
        return {"gain": self.gain_db, "tempo": self.tempo, "hp": self.highpass_hz, "lp": self.lowpass_hz,
                "treble": self.treble_db, "bass": self.bass_db, "compress": self.compress, "room": self.room}


PLAIN = Delivery()

# Parenthetical words -> treatment; the first that matches wins (a "(shouting angrily)" is a shout).
# Each is only a level, a tempo and a tone (`Delivery`'s fields): the voice itself cannot act, so a
# mood is a plausible colour of the same reading, and never less intelligible than a whisper.
_PARENTHETICALS: tuple[tuple[str, re.Pattern[str], Delivery], ...] = (
    ("whisper", re.compile(r"whisper|under (?:his|her|their|my|your) breath|hush|sotto voce|breathless"),
     Delivery(("whisper",), gain_db=-9.0, tempo=0.94, highpass_hz=320.0, treble_db=5.0)),
    ("shout", re.compile(r"shout|yell|scream|bellow|roar|holler|calls? out|calling|cries out|crying out|\bloud"),
     Delivery(("shout",), gain_db=0.0, tempo=1.05, highpass_hz=120.0, treble_db=3.0, compress=True)),
    ("angry", re.compile(r"angr|furious|fury|seeth|snap|rage|heated|bitter|hiss"),
     Delivery(("angry",), gain_db=-1.0, tempo=1.04, treble_db=2.0, compress=True)),
    ("quiet", re.compile(r"quiet|soft|\bgentl|low voice|tender|murmur|mutter|barely|faint|to (?:him|her)self"),
     Delivery(("quiet",), gain_db=-6.0, tempo=0.96, lowpass_hz=7000.0, treble_db=-2.0)),
    # Low and slow, close and dark: a threat is not raised.
    ("menacing", re.compile(r"\b(?:menac|threat|cold|ic(?:il)?y\b|chill|steel|sinister|ominous|grim(?:ly)?\b)"),
     Delivery(("menacing",), gain_db=-3.0, tempo=0.9, lowpass_hz=7500.0, bass_db=3.0, treble_db=-2.0)),
    # Thin and reaching: the low end falls away, the voice leans forward.
    ("pleading", re.compile(r"\b(?:plead|beg(?:s|ging)?\b|implor|beseech|desperate)"),
     Delivery(("pleading",), gain_db=-2.0, tempo=0.95, highpass_hz=180.0, treble_db=2.5)),
    # Slow, low and muffled, as through tears.
    ("sad", re.compile(r"\b(?:sad|tear(?:ful|s|y)|cry|crying|cries|sob(?:s|b)|weep|choked|grie|mourn|heartbroken|"
                       r"forlorn|melanchol|miserabl|despair)"),
     Delivery(("sad",), gain_db=-4.0, tempo=0.9, lowpass_hz=6000.0, treble_db=-3.0, bass_db=1.0)),
    ("laughing", re.compile(r"\b(?:laugh|chuckl|giggl|snicker|snort|cackl)"),
     Delivery(("laughing",), gain_db=-1.0, tempo=1.05, treble_db=2.5, compress=True)),
    # Brighter and quicker: energy, not volume.
    ("excited", re.compile(r"\b(?:excit|eager|thrill|elat|overjoyed|joyful|gleeful|ecstatic|delight|"
                           r"enthusias)"),
     Delivery(("excited",), gain_db=0.0, tempo=1.08, treble_db=3.0, compress=True)),
    ("urgent", re.compile(r"\b(?:urgen|hurr|rush|quick|hast|frantic|panic|rapid)"),
     Delivery(("urgent",), gain_db=0.0, tempo=1.1, highpass_hz=140.0, treble_db=1.5, compress=True)),
    # Hesitant: a little quieter and slower, thinner.
    ("nervous", re.compile(r"\b(?:nervous|hesita|anxious|uneas|unsure|timid|stammer|stutter|shak(?:y|ily)\b|"
                           r"tentativ|worried|afraid|scared|frighten|trembl|uncertain)"),
     Delivery(("nervous",), gain_db=-3.0, tempo=0.93, highpass_hz=160.0, treble_db=1.0)),
    ("tired", re.compile(r"\b(?:tired|weary|wearily|exhaust|sleep|drows|yawn|grogg|drained|fatigue)"),
     Delivery(("tired",), gain_db=-4.0, tempo=0.88, lowpass_hz=6500.0, treble_db=-3.0)),
    # Dry: flatter and closer, a touch slower; nothing bright.
    ("dry", re.compile(r"\b(?:sarcas|dry(?:ly)?\b|drily|deadpan|wry|wrily|ironic|sardonic|mocking)"),
     Delivery(("dry",), gain_db=-1.5, tempo=0.97, treble_db=-1.5, bass_db=1.5)),
    ("amused", re.compile(r"\b(?:amus|smil|grin|teas|playful|cheeky|wink|mischiev|fond)"),
     Delivery(("amused",), gain_db=-1.0, tempo=1.03, treble_db=1.5)),
    # Even: an unhurried, level reading.
    ("calm", re.compile(r"\b(?:calm|flat|evenly|level|stead(?:y|ily)\b|matter[- ]of[- ]fact|monoton|serene|"
                        r"measured|composed|unmoved|cool(?:ly)?\b)"),
     Delivery(("calm",), gain_db=-2.0, tempo=0.96, treble_db=-1.0)),
)

_VOICE_OVER = re.compile(r"\b(?:V\.?\s?O\.?|VOICE[- ]OVER)(?![A-Z])", re.IGNORECASE)
_OFF_SCREEN = re.compile(r"\b(?:O\.?\s?S\.?|O\.?\s?C\.?|OFF(?:[- ]SCREEN)?)(?![A-Z])", re.IGNORECASE)


def delivery_for(line: Line) -> Delivery:
    """The delivery the screenplay asks of `line` (its parenthetical and extension); PLAIN if none."""
    parts: list[Delivery] = []
    said = (line.parenthetical or "").lower()
    for _name, pattern, delivery in _PARENTHETICALS:
        if pattern.search(said):
            parts.append(delivery)
            break
    extension = line.extension or ""
    if _OFF_SCREEN.search(extension):
        # Off-mic: from another room or behind the camera. Muffled, lower, with the room's reflections.
        parts.append(Delivery(("off-screen",), gain_db=-5.0, highpass_hz=180.0, lowpass_hz=3400.0, room=0.6))
    elif _VOICE_OVER.search(extension):
        # Narration over the picture: close-mic warmth and a touch of room, at full level.
        parts.append(Delivery(("voice-over",), bass_db=2.5, treble_db=1.0, room=0.25))
    return combine(parts)


def changes_delivery(parenthetical: str) -> bool:
    """Whether a parenthetical is one the voice acts (`(whispering)`), not an action (`(beat)`, `(to Mara)`)."""
    said = parenthetical.lower()
    return any(pattern.search(said) for _name, pattern, _delivery in _PARENTHETICALS)


_BEAT = re.compile(r"\(?\s*(?:a\s+)?(?:short\s+|long\s+|brief\s+)?(?:beat|pause)s?\s*\)?", re.IGNORECASE)


def beat_before(line: Line) -> bool:
    """Whether `line`'s parenthetical is only a beat or a pause: a short silence before it is spoken."""
    return bool(line.parenthetical and _BEAT.fullmatch(line.parenthetical.strip()))


def combine(parts: Iterable[Delivery]) -> Delivery:
    """Several treatments as one: levels add (down to -10 dB), tempos multiply, the narrowest band wins."""
    out = PLAIN
    for d in parts:
        out = Delivery(
            names=out.names + d.names,
            gain_db=max(-10.0, out.gain_db + d.gain_db),
            tempo=round(out.tempo * d.tempo, 4),
            highpass_hz=_pick(out.highpass_hz, d.highpass_hz, higher=True),
            lowpass_hz=_pick(out.lowpass_hz, d.lowpass_hz, higher=False),
            treble_db=out.treble_db + d.treble_db,
            bass_db=out.bass_db + d.bass_db,
            compress=out.compress or d.compress,
            room=max(out.room, d.room),
        )
    return out


def _pick(a: float | None, b: float | None, *, higher: bool) -> float | None:
    if a is None or b is None:
        return a if b is None else b
    return max(a, b) if higher else min(a, b)


def spoken_text(line: Line, characters: Iterable[str]) -> str:
    """The text a voice is given for `line`: character names in capitals spoken as names (`names_as_written`)."""
    return names_as_written(line.text, characters)


def names_as_written(text: str, characters: Iterable[str]) -> str:
    """`text` with the script's character names in capitals written as names, for voices and subtitles.

    "MARA wipes the counter." -> "Mara wipes the counter." (also "OLD VENDOR" -> "Old Vendor",
    "MARA'S" -> "Mara's"). Only the script's own character names change; other capitals
    (an acronym, a shouted "STOP", "INT.") are left as written.
    """
    names = sorted({c for c in characters if c and c.isupper() and any(ch.isalpha() for ch in c)},
                   key=len, reverse=True)
    if not names:
        return text
    pattern = re.compile(r"(?<![\w'])(" + "|".join(re.escape(n) for n in names) + r")(['’]S)?(?![\w])")
    return pattern.sub(lambda m: _title(m.group(1)) + (m.group(2) or "").lower(), text)


def _title(name: str) -> str:
    """"OLD VENDOR" -> "Old Vendor", "MCGREGOR" -> "Mcgregor", "JEAN-LUC" -> "Jean-Luc"."""
    return re.sub(r"[^\W\d_]+", lambda m: m.group(0)[:1] + m.group(0)[1:].lower(), name)
