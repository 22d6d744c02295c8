"""/studio and /scripts: the server's machine, and a script checked or auditioned with its voices."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

import filmstudio
from filmstudio.domain.errors import EngineMissing
from filmstudio.domain.models import (
    AuditionRequest,
    ChannelPublic,
    ScriptCheck,
    ScriptCheckRequest,
    StudioInfo,
)
from filmstudio.server.auth import Caller, StudioDep
from filmstudio.server.routes.common import ERRORS
from filmstudio.services import about, scripts

router = APIRouter(responses=ERRORS)


@router.get("/studio", response_model=StudioInfo, tags=["studio"])
def get_studio(caller: Caller, studio: StudioDep, request: Request) -> StudioInfo:
    """The studio server: its version, its machine (as model fits are judged), its translator and writer."""
    engines = request.app.state.engines
    return about.studio_info(studio, caller, version=getattr(filmstudio, "__version__", "0"),
                               translation_pairs=list(engines.translator.pairs()) if engines else [],
                               writer=engines is not None and engines.writer is not None)


@router.post("/scripts/check", response_model=ScriptCheck, tags=["scripts"])
def check_script(body: ScriptCheckRequest, caller: Caller, studio: StudioDep) -> ScriptCheck:
    """Check a script as typed, before saving: its characters, the voices the studio casts, the spoken
    length and whether it fits the duration (`fits`, and `error` as generate would refuse it)."""
    return scripts.check_script(studio, caller, body.script, body.settings)


_WAV: dict[int | str, dict[str, Any]] = {200: {"description": "The line spoken (WAV)",
                                               "content": {"audio/wav": {"schema": {"type": "string",
                                                                                    "format": "binary"}}}}}


@router.post("/scripts/audition", response_class=Response, responses={**_WAV, 503: ERRORS[500] | {
    "description": "The server has no voices engine (ENGINE_MISSING)"}}, tags=["scripts"])
async def audition(body: AuditionRequest, caller: Caller, studio: StudioDep, request: Request) -> Response:
    """Hear a line in the voice a character is cast in (`CHARACTER_NOT_FOUND` if the script has none)."""
    engines = request.app.state.engines
    if engines is None:
        raise EngineMissing("this server has no voices engine")
    wav = await run_in_threadpool(scripts.audition, studio, caller, engines.voices, body.script, body.character,
                                  body.text, body.settings)
    return Response(wav, media_type="audio/wav")


@router.get("/youtube/channels", response_model=list[ChannelPublic], tags=["publish"])
def youtube_channels(caller: Caller, studio: StudioDep) -> list[ChannelPublic]:
    """The YouTube channels your account may publish to; connecting one is done on the studio machine
    (`filmstudio youtube connect`), where its sign-in is kept."""
    return about.youtube_channels(studio, caller)
