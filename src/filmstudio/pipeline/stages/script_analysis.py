"""script_analysis: parse the script, cast the voices, pick the speaking rate (or refuse)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from filmstudio.domain.settings import LANGUAGES
from filmstudio.pipeline.context import StageContext, atomic_output, content_key
from filmstudio.pipeline.fit import choose_rate, natural_duration
from filmstudio.pipeline.models.recommend import PULL_RECOMMENDED
from filmstudio.pipeline.plan import RenderPlan, Script
from filmstudio.pipeline.script.analysis import analyse
from filmstudio.pipeline.script.casting import cast_voices, estimate_speech_seconds, gender_mismatches

UNTITLED = "Untitled"


@dataclass(frozen=True)
class ScriptAnalysis:
    name: ClassVar[str] = "script_analysis"
    weight: ClassVar[float] = 0.01

    def run(self, plan: RenderPlan, ctx: StageContext) -> RenderPlan:
        script = analyse(plan.script_text, plan.settings)
        given = next((t.strip() for t in (plan.settings.title, plan.title) if t and t.strip()), None)
        if given:
            script = replace(script, title=given)  # the user's title wins over the title page
        elif script.title == UNTITLED:
            script = replace(script, title=plan.fallback_title or title_from_story(script))
        available = ctx.engines.voices.voices(plan.settings.language)
        casting = cast_voices(script, plan.settings, available, _character_edits(plan.storyboard_edits))
        wants = natural_duration(script, casting, estimate_speech_seconds)
        settings = plan.settings
        warnings = plan.warnings
        if plan.duration_from_script:
            settings = settings.model_copy(update={"duration": wants})
            plan = replace(plan, settings=settings)
        elif settings.duration > 2 * wants:
            warnings += (f"the script wants about {wants} s; the {settings.duration} s asked for are spread over "
                         "more shots with long pauses between the lines (leave the duration out to take the "
                         "script's own length)",)
        wpm, _ = choose_rate(script, casting, settings, estimate_speech_seconds, keep=last_rate(plan, ctx))
        if script.spoken_lines and not any(v.neural for v in available):
            language = LANGUAGES[plan.settings.language].name
            warnings += (f"no neural voice for {language} ({plan.settings.language}) is installed: the film is "
                         "spoken by espeak-ng; `filmstudio models list` shows the voices to pull",)
        for name, heard in gender_mismatches(casting, available).items():
            warnings += (gender_warning(name, casting[name].gender, heard, plan.settings.language),)
        ctx.report(self.name, 1.0)
        return replace(plan, script=script, casting=casting, words_per_minute=wpm, warnings=warnings,
                       script_duration=wants)


def gender_warning(name: str, wanted: str, heard: str, language: str) -> str:
    """What the manifest, the CLI and the desktop's cast table say of a character read by the other sex's voice."""
    return (f"{name} ({wanted}) is read by a {heard} voice with a pitch shift: no {wanted} voice for {language} "
            f"is installed; `{PULL_RECOMMENDED}` gets one")


def title_from_story(script: Script) -> str:
    """A title for a script that names none: its first scene's place, else the first words of its idea."""
    first = script.scenes[0] if script.scenes else None
    place = (first.location or "").split(" - ")[0].strip() if first else ""
    if place:
        return place.title()
    text = next((ln.text for s in script.scenes for ln in s.lines if ln.text.strip()), "")
    words = text.split()
    idea = " ".join(words[:6]).rstrip(".,;:!?")
    return (idea + ("…" if len(words) > 6 else "")) or UNTITLED


def _character_edits(path: Path | None) -> dict[str, dict[str, object]]:
    """The user's edits of who the characters are (the storyboard's edits file): they win in casting too."""
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    characters = data.get("characters") if isinstance(data, dict) else None
    return {str(k): dict(v) for k, v in characters.items() if isinstance(v, dict)} if isinstance(characters, dict) else {}


def _rate_record(plan: RenderPlan, ctx: StageContext) -> Path | None:
    if not plan.continuity:
        return None
    return ctx.cache.path("rates", content_key("rate-1", plan.continuity, plan.settings.duration), ".json")


def last_rate(plan: RenderPlan, ctx: StageContext) -> float | None:
    """The speaking rate this film's last render used (at this duration), if any."""
    path = _rate_record(plan, ctx)
    try:
        return float(json.loads(path.read_text(encoding="utf-8"))["words_per_minute"]) if path else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record_rate(plan: RenderPlan, ctx: StageContext) -> None:
    """Remember the rate the film was spoken at, so the next render of it keeps it while it fits."""
    path = _rate_record(plan, ctx)
    if path is not None:
        with atomic_output(path) as tmp:
            tmp.write_text(json.dumps({"words_per_minute": plan.words_per_minute}), encoding="utf-8")
