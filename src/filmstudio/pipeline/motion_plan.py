"""Which storyboard shots a video model animates, within the user's budget (`RenderSettings.motion`).

"key" moves the shots where motion tells the story: a new place's establishing shot, each scene's
first shot, and shots whose action moves (a verb of movement in an action line). "all" moves every
shot, "none" none. The user's own choice for a shot (`ShotEdit.motion`) always wins. Without a
video model the marks change nothing: every shot is its still with the camera move.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from filmstudio.pipeline.plan import Line

# Verbs of movement, as an action line writes them (runs, ran, running, ...).
_MOVES = re.compile(
    r"\b(run|ran|runs|running|walk|walks|walked|walking|rush|rushes|rushed|race|races|raced|racing|"
    r"fly|flies|flew|flying|fall|falls|fell|falling|jump|jumps|jumped|leap|leaps|leapt|climb|climbs|climbed|"
    r"swim|swims|swam|spin|spins|spun|turn|turns|turned|rise|rises|rose|crash|crashes|crashed|break|breaks|"
    r"wave|waves|waved|sway|sways|swayed|burst|bursts|storm|storms|drive|drives|drove|roll|rolls|rolled|"
    r"dance|dances|danced|chase|chases|chased|flicker|flickers|flickered|pour|pours|poured|"
    r"sweep|sweeps|swept|surge|surges|surged|drift|drifts|drifted|blow|blows|blew|shake|shakes|shook)\b",
    re.IGNORECASE)


@dataclass(frozen=True)
class MotionMark:
    """Whether a shot moves, and why (shown on the storyboard card and in the API)."""

    moves: bool
    reason: str


def key_reason(lines: Sequence[Line], shot_in_scene: int, camera: str) -> str | None:
    """Why a shot is a key shot for motion, or None when it is not one."""
    if camera == "establishing":
        return "establishing shot"
    if shot_in_scene == 0:
        return "first shot of the scene"
    for ln in lines:
        if ln.kind == "action" and (m := _MOVES.search(ln.text)):
            return f"action moves: {m.group(0).lower()}"
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
