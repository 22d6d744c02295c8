"""Checks and previews of a script as typed, with the studio's own voices: what a remote editor asks for."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filmstudio.domain.errors import BadRequest, FilmStudioError
from filmstudio.domain.models import ErrorBody, ScriptCheck
from filmstudio.domain.settings import estimated_credits, parse_settings
from filmstudio.pipeline.engines import PITCH_PER_SEMITONE, VoiceInfo
from filmstudio.services.keys import Principal
from filmstudio.services.studio import Studio

if TYPE_CHECKING:
    from filmstudio.pipeline.engines import Voice, Voices

MAX_AUDITION_CHARS = 500


def _error(exc: FilmStudioError) -> ErrorBody:
    return ErrorBody(code=exc.code, message=exc.message, details=exc.details)


def voice_name(voice: Voice, offered: Sequence[VoiceInfo]) -> str:
    """What a cast table shows for a cast voice: the engine's own name for it (and a shared voice's shift)."""
    own = voice.espeak_name if voice.engine == "espeak" else voice.voice_id
    # A neural voice shared by several characters: its treatment tells them apart in the table.
    shift = "" if voice.engine == "espeak" or voice.pitch == 50 else \
        f" ({(voice.pitch - 50) / PITCH_PER_SEMITONE:+g} semitones)"
    for info in offered:
        if info.engine == voice.engine and info.voice_id == own and info.speaker == voice.speaker_id:
            return info.name + shift
    return voice.label + shift


def check_script(studio: Studio, principal: Principal, script: str, settings: dict[str, Any] | None) -> ScriptCheck:
    """Parse, cast with the studio's voices and fit-check a script (pure CPU; a few ms for normal scripts).

    Bad settings are INVALID_SETTINGS (400); what is wrong with the script is the answer's `error`.
    """
    from filmstudio.pipeline.fit import choose_rate
    from filmstudio.pipeline.script.analysis import analyse
    from filmstudio.pipeline.script.casting import cast_voices, estimate_speech_seconds
    from filmstudio.pipeline.script.characters import read_characters, summary

    principal.require("projects:read")
    parsed = parse_settings(settings or {})
    credits = estimated_credits(parsed.duration)
    offered = [v for v in studio.voices if v.language == parsed.language]
    try:
        script_obj = analyse(script, parsed)
        casting = cast_voices(script_obj, parsed, offered)
    except FilmStudioError as exc:
        return ScriptCheck(fits=False, characters=[], voices={}, readings={}, credits=credits, scenes=0,
                           speech_seconds=None, error=_error(exc))
    names = list(script_obj.characters)
    voices = {name: voice_name(v, studio.voices) for name, v in casting.items()}
    readings = {name: summary(c) for name, c in read_characters(script_obj, parsed).items()}
    scenes = len(script_obj.scenes)
    try:
        _, seconds = choose_rate(script_obj, casting, parsed, estimate_speech_seconds)
    except FilmStudioError as exc:
        return ScriptCheck(fits=False, characters=names, voices=voices, readings=readings, credits=credits,
                           scenes=scenes, speech_seconds=None, error=_error(exc))
    return ScriptCheck(fits=True, characters=names, voices=voices, readings=readings, credits=credits,
                       scenes=scenes, speech_seconds=round(seconds, 1))


def audition(studio: Studio, principal: Principal, voices: Voices, script: str, character: str, text: str,
             settings: dict[str, Any] | None) -> bytes:
    """A WAV of `text` in the voice `character` is cast in `script` (CHARACTER_NOT_FOUND if not in it)."""
    from filmstudio.pipeline.context import CancelToken
    from filmstudio.pipeline.engines import SpeechRequest
    from filmstudio.pipeline.script.analysis import analyse
    from filmstudio.pipeline.script.casting import cast_voices

    principal.require("projects:read")
    parsed = parse_settings(settings or {})
    cast = cast_voices(analyse(script, parsed), parsed, [v for v in studio.voices if v.language == parsed.language])
    wanted = character if character in cast else character.strip().upper()
    if wanted not in cast:
        raise BadRequest("the script has no such character", code="CHARACTER_NOT_FOUND",
                         details={"character": character[:100], "characters": sorted(cast)})
    with tempfile.TemporaryDirectory(prefix="audition-") as folder:
        out = Path(folder) / "line.wav"
        voices.synthesize_many([SpeechRequest(text, cast[wanted], 175.0, out)], cancel=CancelToken())
        return out.read_bytes()
