"""Finding and running ffmpeg/ffprobe: cancellable, with frame progress, never leaving partial files."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filmstudio.domain.errors import Cancelled, EngineMissing, RenderFailed
from filmstudio.pipeline.context import CancelToken

# Encodes run at a lower CPU priority: with the cores busy, the API server, the desktop app and
# anything else the user is doing stay responsive; with nothing else to run, a render is as fast.
RENDER_NICENESS = 10


@dataclass(frozen=True)
class Tools:
    """Which ffmpeg and ffprobe to run: the settings' choice (`Settings.ffmpeg`, `.ffprobe`), else found here."""

    ffmpeg: str | None = None  # None: the system's, then imageio-ffmpeg's bundled build
    ffprobe: str | None = None  # None: beside that ffmpeg, then the system's


_tools = Tools()


def use_tools(tools: Tools) -> None:
    """The composition root's choice of programs, from the settings (this module reads no environment)."""
    global _tools
    if tools != _tools:
        _tools = tools
        for found in (ffmpeg_exe, ffprobe_exe, encoders, _probe_hardware_encoders):
            found.cache_clear()


@functools.cache
def ffmpeg_exe() -> str:
    """The ffmpeg to use: the settings' (`use_tools`), then the system's, then imageio-ffmpeg's bundled build."""
    if _tools.ffmpeg:
        return _tools.ffmpeg
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except Exception as exc:  # pragma: no cover - depends on the machine
        raise EngineMissing(
            "ffmpeg was not found: install it (apt-get install ffmpeg) or `pip install imageio-ffmpeg`",
            code="FFMPEG_MISSING",
        ) from exc


@functools.cache
def ffprobe_exe() -> str | None:
    """ffprobe if installed (imageio-ffmpeg does not ship one)."""
    if _tools.ffprobe:
        return _tools.ffprobe
    beside = Path(ffmpeg_exe()).with_name("ffprobe")
    if beside.exists():
        return str(beside)
    return shutil.which("ffprobe")


@functools.cache
def encoders() -> frozenset[str]:
    """Names of the video/audio encoders this ffmpeg was built with."""
    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True, check=False
    ).stdout
    names = set()
    for line in out.splitlines():
        m = re.match(r"\s*[VAS][A-Z.]{5}\s+(\S+)", line)
        if m:
            names.add(m.group(1))
    return frozenset(names)


HARDWARE_H264 = ("h264_nvenc", "h264_qsv", "h264_vaapi", "h264_videotoolbox", "h264_amf")


_probe_lock = threading.Lock()


def working_hardware_encoders() -> tuple[str, ...]:
    """Hardware H.264 encoders that really encode here (being compiled in is not enough).

    Probed once per process; a caller arriving while the probe runs (the runner starts it beside
    the voices) waits for its answer instead of probing again.
    """
    with _probe_lock:
        return _probe_hardware_encoders()


@functools.cache
def _probe_hardware_encoders() -> tuple[str, ...]:
    ok = []
    for name in HARDWARE_H264:
        if name not in encoders():
            continue
        args = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                "color=c=black:s=256x144:r=10:d=0.5"]
        if name == "h264_vaapi":
            args += ["-vaapi_device", "/dev/dri/renderD128", "-vf", "format=nv12,hwupload"]
        args += ["-c:v", name, "-f", "null", "-"]
        try:
            if subprocess.run(args, capture_output=True, timeout=20, check=False).returncode == 0:
                ok.append(name)
        except (OSError, subprocess.TimeoutExpired):
            continue
    return tuple(ok)


def video_encoder(preferred: str | None = None, *, hardware: bool = True) -> str:
    """The H.264 encoder to use: the preferred one, a working hardware one (unless `hardware` is off), else libx264."""
    if preferred:
        return preferred
    if hardware:
        hw = working_hardware_encoders()
        if hw:
            return hw[0]
    return "libx264"


class FfmpegEncoder:
    """The `Encoder` engine: ffmpeg's H.264, a hardware encoder where one really works."""

    name = "ffmpeg"

    def __init__(self, forced: str | None = None, *, hardware: bool = True) -> None:
        self.forced = forced
        self.hardware = hardware  # False: never a hardware encoder (`Settings.no_hwenc`)

    def info(self) -> Any:
        from filmstudio.pipeline.engines import EngineInfo

        try:
            chosen = self.video_encoder()
        except Exception as exc:  # no ffmpeg at all
            return EngineInfo(kind="encoder", name="ffmpeg", ok=False, missing=(f"ffmpeg is not usable: {exc}",))
        hardware = chosen != "libx264"
        return EngineInfo(kind="encoder", name=f"ffmpeg {chosen}", device="gpu" if hardware else "cpu",
                          details={"encoder": chosen})

    def video_encoder(self, forced: str | None = None) -> str:
        return video_encoder(forced or self.forced, hardware=self.hardware)


GOP_SECONDS = 2  # a keyframe every 2 s from each segment's start (segments start on one)


def h264_args(encoder: str, fps: int, *, quality: str = "final") -> list[str]:
    """Encoder arguments for H.264 yuv420p at a fixed GOP so segments join by stream copy."""
    gop = str(fps * GOP_SECONDS)
    if encoder == "libx264":
        preset = {"final": "veryfast", "draft": "ultrafast"}[quality]
        return ["-c:v", "libx264", "-preset", preset, "-crf", "20", "-tune", "film",
                "-pix_fmt", "yuv420p", "-g", gop, "-profile:v", "high", "-threads", "0"]
    if encoder == "h264_vaapi":
        return ["-c:v", encoder, "-g", gop, "-qp", "22"]
    return ["-c:v", encoder, "-pix_fmt", "yuv420p", "-g", gop, "-b:v", "6M"]


def run_ffmpeg(
    args: Sequence[str],
    *,
    cancel: CancelToken | None = None,
    on_frame: Callable[[int], None] | None = None,
    timeout: float | None = None,
) -> None:
    """Run ffmpeg with `args` (without the binary), reporting frames; stop it within a second on cancel."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    if on_frame is not None:
        cmd += ["-progress", "pipe:1", "-nostats", "-stats_period", "0.25"]
    cmd += list(args)
    with tempfile.TemporaryFile() as errfile:
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE if on_frame is not None else subprocess.DEVNULL,
            stderr=errfile,
            stdin=subprocess.DEVNULL,
            preexec_fn=_child_setup if sys.platform == "linux" else None,
        )
        if sys.platform != "linux":
            lower_priority(proc.pid)
        reader: threading.Thread | None = None
        if on_frame is not None and proc.stdout is not None:
            stdout = proc.stdout

            def _read() -> None:
                for raw in stdout:
                    if raw.startswith(b"frame=") and raw[6:].strip().isdigit():
                        on_frame(int(raw[6:].strip()))

            reader = threading.Thread(target=_read, daemon=True)
            reader.start()
        started = time.monotonic()
        try:
            while True:
                try:
                    proc.wait(timeout=0.2)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if cancel is not None and cancel.cancelled:
                    _stop(proc)
                    raise Cancelled("the render was cancelled")
                if timeout is not None and time.monotonic() - started > timeout:
                    _stop(proc)
                    raise RenderFailed(f"ffmpeg took longer than {timeout:.0f} s", code="FFMPEG_TIMEOUT")
        finally:
            if proc.poll() is None:
                _stop(proc)
            if reader is not None:
                reader.join(timeout=1)
            if proc.stdout is not None:
                proc.stdout.close()
        if proc.returncode != 0:
            errfile.seek(0)
            err = errfile.read().decode(errors="replace").strip()
            raise RenderFailed(
                f"ffmpeg failed ({proc.returncode}): {err[-1500:]}", code="FFMPEG_FAILED",
                details={"returncode": proc.returncode},
            )


def _child_setup() -> None:
    """In the child, before exec: die with the thread that started us (e.g. kill -9 of a worker); yield the CPU."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    lower_priority(0)


def lower_priority(pid: int) -> None:
    """Give process (or, on Linux, thread) `pid` (0: the caller) the render niceness, if it is not lower already.

    Absolute, not relative: a render thread that is already niced starts children at the same level.
    Unix only; elsewhere everything keeps its normal priority.
    """
    getpriority, setpriority = getattr(os, "getpriority", None), getattr(os, "setpriority", None)
    if getpriority is None or setpriority is None:
        return
    with contextlib.suppress(OSError):
        if getpriority(os.PRIO_PROCESS, pid) < RENDER_NICENESS:
            setpriority(os.PRIO_PROCESS, pid, RENDER_NICENESS)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=0.8)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def probe(path: Path) -> dict[str, Any]:
    """ffprobe's JSON (format, streams, chapters) for `path`."""
    exe = ffprobe_exe()
    if exe is None:
        raise EngineMissing("ffprobe is not installed (apt-get install ffmpeg)", code="FFPROBE_MISSING")
    out = subprocess.run(
        [exe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", "-show_chapters", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout
    data: dict[str, Any] = json.loads(out)
    return data


def media_duration(path: Path) -> float:
    """Duration of a media file in seconds."""
    return float(probe(path)["format"]["duration"])
