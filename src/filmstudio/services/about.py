"""What a client may ask about the studio server itself: its version, its machine, where it publishes."""

from __future__ import annotations

from collections.abc import Sequence

from filmstudio.domain.models import ChannelPublic, HardwareGpu, HardwarePublic, StudioInfo
from filmstudio.services.keys import Principal
from filmstudio.services.studio import Studio
from filmstudio.store.migrations import schema_version


def studio_info(studio: Studio, principal: Principal, *, version: str,
                translation_pairs: Sequence[tuple[str, str]], writer: bool) -> StudioInfo:
    """The server's version and machine, for a client deciding what it may offer (any client key)."""
    from filmstudio.services.models import hardware

    principal.require_client()
    machine = hardware()
    return StudioInfo(
        version=version, schema_version=schema_version(studio.store),
        hardware=HardwarePublic(summary=machine.summary(), cpu_cores=machine.cpu_cores, ram_mb=machine.ram_mb,
                                gpus=[HardwareGpu(name=g.name, vram_mb=g.vram_mb) for g in machine.gpus],
                                mps=machine.mps),
        translation_pairs=sorted(translation_pairs), writer=writer,
    )


def youtube_channels(studio: Studio, principal: Principal) -> list[ChannelPublic]:
    """The channels the caller's account may publish to (connected on the studio with `filmstudio youtube connect`)."""
    from filmstudio.services.youtube import auth

    principal.require("projects:read")
    return [ChannelPublic(channel_id=c["channel_id"], title=c["title"], connected_at=c["connected_at"],
                          login_saved=c["login_saved"]) for c in auth.status(studio, principal.account_id)]
