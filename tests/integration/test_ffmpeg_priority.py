"""Encodes run at a lower CPU priority than the process that started them (the server, the app)."""

from __future__ import annotations

import os
from pathlib import Path

from filmstudio.pipeline.media.ffmpeg import RENDER_NICENESS, run_ffmpeg


def _ffmpeg_children_nice() -> dict[int, int]:
    """pid -> nice value of this process's ffmpeg children (from /proc/<pid>/stat)."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            comm, rest = stat.read_text().split("(", 1)[1].rsplit(")", 1)
        except (OSError, ValueError):
            continue
        fields = rest.split()
        if "ffmpeg" in comm and int(fields[1]) == os.getpid():  # field 4: ppid
            out[int(stat.parent.name)] = int(fields[16])  # field 19: nice
    return out


def test_ffmpeg_runs_niced_below_its_parent() -> None:
    seen: list[dict[int, int]] = []

    def on_frame(frame: int) -> None:
        if frame > 0 and not seen:
            seen.append(_ffmpeg_children_nice())

    run_ffmpeg(["-f", "lavfi", "-i", "testsrc=s=320x240:r=25", "-t", "4", "-f", "null", "-"], on_frame=on_frame)
    assert seen and seen[0], "no ffmpeg child seen while it ran"
    assert set(seen[0].values()) == {max(os.getpriority(os.PRIO_PROCESS, 0), RENDER_NICENESS)}, seen
