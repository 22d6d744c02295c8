"""Which storyboard shots a video model animates, within the user's budget (`RenderSettings.motion`),
and how long that adds to a render.

"key" moves the shots where motion tells the story, as an editor picks them:
- a new place's establishing shot;
- each scene's first shot (a scene of the screenplay: a paragraph of narrated prose is no new
  scene, else "key" would move every shot of a narration);
- a shot whose action moves: a verb of movement in an action (or narration) line, used as a verb
  ("the storm", "a walking pace" are nouns);
- but a close-up of dialogue stays still (its still with a slow push-in is the better shot), even
  as a scene's first shot, unless its action moves.

"all" moves every shot, "none" none. The user's own choice for a shot (`ShotEdit.motion`) always
wins. Without a video model the marks change nothing: every shot is its still with the camera move.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from filmstudio.pipeline.plan import Line

# Verbs of movement, as an action line writes them (runs, ran, running, ...): bodies, things, water, light.
_VERBS = (
    "run|ran|runs|running|walk|walks|walked|walking|rush|rushes|rushed|rushing|race|races|raced|racing|"
    "fly|flies|flew|flying|fall|falls|fell|falling|jump|jumps|jumped|jumping|leap|leaps|leapt|leaping|"
    "climb|climbs|climbed|climbing|swim|swims|swam|swimming|spin|spins|spun|spinning|turn|turns|turned|turning|"
    "rise|rises|rose|rising|crash|crashes|crashed|crashing|break|breaks|broke|breaking|"
    "wave|waves|waved|waving|sway|sways|swayed|swaying|burst|bursts|bursting|storm|storms|stormed|"
    "drive|drives|drove|driving|roll|rolls|rolled|rolling|dance|dances|danced|dancing|chase|chases|chased|chasing|"
    "flicker|flickers|flickered|flickering|pour|pours|poured|pouring|sweep|sweeps|swept|sweeping|"
    "surge|surges|surged|surging|drift|drifts|drifted|drifting|blow|blows|blew|blowing|shake|shakes|shook|shaking|"
    "push|pushes|pushed|pushing|pull|pulls|pulled|pulling|hug|hugs|hugged|hugging|embrace|embraces|embraced|"
    "throw|throws|threw|throwing|swing|swings|swung|swinging|slam|slams|slammed|dash|dashes|dashed|"
    "sprint|sprints|sprinted|stride|strides|strode|stumble|stumbles|stumbled|crawl|crawls|crawled|"
    "march|marches|marched|hurry|hurries|hurried|flee|flees|fled|dive|dives|dived|dove|"
    "sail|sails|sailed|sailing|glide|glides|glided|gliding|ride|rides|rode|riding|gallop|gallops|galloped|"
    "unfurl|unfurls|unfurled|splash|splashes|splashed|tumble|tumbles|tumbled|collapse|collapses|collapsed|"
    "scatter|scatters|scattered|lunge|lunges|lunged|spill|spills|spilled|explode|explodes|exploded|"
    "move|moves|moved|moving|wander|wanders|wandered|charge|charges|charged|enter|enters|entered|"
    "bolt|bolts|bolted"
)
_MOVES = re.compile(rf"\b({_VERBS})\b", re.IGNORECASE)
# The plain forms ("sail", "wave"), which after "a solar", "the big" are nouns; "moves", "ran" stay verbs.
_PLAIN = frozenset(w for w in _VERBS.split("|") if f"{w}s" in _VERBS.split("|") or f"{w}es" in _VERBS.split("|"))
# Before one of those words, these make it a noun: "the storm", "a walking pace", "a tiny push".
_DETERMINERS = frozenset({"a", "an", "the", "this", "that", "these", "those", "his", "her", "their", "its", "my",
                          "your", "our", "one", "every", "no", "each"})
_ADJECTIVES = frozenset({"tiny", "small", "little", "big", "great", "gentle", "slow", "long", "short", "sudden",
                         "last", "first", "final", "new", "old", "soft", "hard", "sharp", "quick", "brief", "single"})
_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class MotionMark:
    """Whether a shot moves, and why (shown on the storyboard card and in the API)."""

    moves: bool
    reason: str


def moving_verb(text: str) -> str | None:
    """The first verb of movement in `text` used as a verb (lower case), or None."""
    for m in _MOVES.finditer(text):
        before = [w.lower() for w in _WORD.findall(text[:m.start()])[-2:]]
        if before and before[-1] in _DETERMINERS:
            continue
        if len(before) == 2 and before[0] in _DETERMINERS and (
                before[1] in _ADJECTIVES or m.group(0).lower() in _PLAIN):
            continue
        return m.group(0).lower()
    return None


# A clip is graded, fitted and moved by the shot's own camera move afterwards, as a still is: the video
# model is asked for a steady camera, so the two moves never add up (a pan on a pan reads as a shake).
CLIP_CAMERA = "steady camera, smooth natural motion"
CLIP_NEGATIVE = "flickering, jittery, morphing, warping, camera shake, fast cuts"


def motion_prompt(still_prompt: str, still_negative: str) -> tuple[str, str]:
    """A clip's own (prompt, negative prompt) from its shot's still's: the still's prompt (what the shot
    shows, its action included) with a steady camera, the still's negative with what spoils a clip."""
    prompt = ", ".join(p for p in (still_prompt.strip().rstrip(","), CLIP_CAMERA) if p)
    negative = ", ".join(p for p in (still_negative.strip().rstrip(","), CLIP_NEGATIVE) if p)
    return prompt, negative


def key_reason(lines: Sequence[Line], shot_in_scene: int, camera: str, *, new_scene: bool = True) -> str | None:
    """Why a shot is a key shot for motion, or None when it is not one.

    `new_scene`: the shot's scene is a scene of the screenplay (has a heading), not a paragraph of prose.
    """
    if camera == "establishing":
        return "establishing shot"
    verb = next((v for ln in lines if ln.kind in ("action", "narration") and (v := moving_verb(ln.text))), None)
    if verb:
        return f"action moves: {verb}"
    if camera == "close" and any(ln.kind == "dialogue" for ln in lines):
        return None  # a dialogue close-up stays still
    if shot_in_scene == 0 and new_scene:
        return "first shot of the scene"
    return None


def mark(budget: str, key: str | None, choice: bool | None) -> MotionMark:
    """A shot's mark from the budget, its key reason and the user's choice (which wins)."""
    if choice is not None:
        return MotionMark(choice, "your choice: moving" if choice else "your choice: still")
    if budget == "all":
        return MotionMark(True, "all shots move")
    if budget == "key" and key:
        return MotionMark(True, key)
    if budget == "none":
        return MotionMark(False, "motion is off")
    return MotionMark(False, "not a key shot")


def counts(marks: Mapping[int, MotionMark]) -> tuple[int, int]:
    """(moving, still) over a storyboard's marks."""
    moving = sum(1 for m in marks.values() if m.moves)
    return moving, len(marks) - moving


_ON = {"cuda": "on this GPU", "mps": "on this Mac's GPU", "cpu": "on the CPU"}


@dataclass(frozen=True)
class MotionEstimate:
    """What motion adds to a render, before it starts: the moving shots times the seconds per clip.

    `model` None: no video model is installed; the shots stay stills with camera moves, and
    `pull` names a catalogue video model to pull (None when the catalogue has none). `reason`: why
    there is no video engine though a video model is installed (AnimateDiff's adapter without sd15,
    `pull` then names sd15).
    """

    budget: str
    shots: int
    moving: int
    model: str | None
    device: str
    seconds_per_clip: float
    measured: bool
    pull: str | None = None
    reason: str = ""

    @property
    def seconds(self) -> float:
        return self.moving * self.seconds_per_clip if self.model is not None else 0.0

    def summary(self) -> str:
        """One line for the CLI and the app: "12 of 30 shots move: about 8 min on this GPU"."""
        if self.budget == "none" and not self.moving:
            return f"motion is off: all {self.shots} shots are stills with camera moves"
        if self.model is None and self.reason:
            return f"no video model: shots stay stills with camera moves — {self.reason}"
        if self.model is None:
            how = (f"`filmstudio models pull {self.pull}` (`filmstudio models list` says which fit this machine)"
                   if self.pull else "`filmstudio models list` shows the video models")
            return f"no video model: shots stay stills with camera moves — {how}"
        return (f"{self.moving} of {self.shots} shots move: about {_minutes(self.seconds)} "
                f"{_ON.get(self.device, 'here')} ({self.model})")

    def as_dict(self) -> dict[str, Any]:
        return {"budget": self.budget, "shots": self.shots, "moving": self.moving, "still": self.shots - self.moving,
                "model": self.model, "device": self.device, "seconds_per_clip": round(self.seconds_per_clip, 3),
                "measured": self.measured, "seconds": round(self.seconds, 1), "summary": self.summary(),
                "pull": self.pull, "reason": self.reason}


def _minutes(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{round(seconds / 60)} min"
