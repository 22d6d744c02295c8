"""`filmstudio doctor`: which engines were found on this machine, and what to install for the rest."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from filmstudio.pipeline.engines import Engines


def _ffmpeg(engines: Engines | None = None) -> dict[str, Any]:
    from filmstudio.pipeline.media import ffmpeg

    try:
        exe = ffmpeg.ffmpeg_exe()
        version = subprocess.run([exe, "-version"], capture_output=True, text=True, check=False).stdout.split("\n")[0]
    except Exception as exc:
        return {"ok": False, "required": True, "summary": str(exc),
                "install": ["apt-get install ffmpeg", "pip install imageio-ffmpeg"]}
    enc = ffmpeg.encoders()
    hw_built = [e for e in ffmpeg.HARDWARE_H264 if e in enc]
    hw_ok = list(ffmpeg.working_hardware_encoders())
    probe = ffmpeg.ffprobe_exe()
    info: dict[str, Any] = {
        "ok": "libx264" in enc or bool(hw_ok),
        "required": True,
        "path": exe,
        "version": version,
        "ffprobe": probe,
        "h264_encoders": [e for e in ("libx264", *ffmpeg.HARDWARE_H264) if e in enc],
        "hardware_encoders_built": hw_built,
        "hardware_encoders_working": hw_ok,
        "selected_encoder": engines.encoder.video_encoder() if engines is not None else ffmpeg.video_encoder(),
        "aac": "aac" in enc,
        "mov_text": "mov_text" in enc,
    }
    info["summary"] = (f"{version}; H.264 via {info['selected_encoder']}"
                       f"{' (hardware: ' + ', '.join(hw_ok) + ')' if hw_ok else ' (no working hardware encoder)'}")
    install = []
    if probe is None:
        install.append("apt-get install ffmpeg  (for ffprobe: checks and tests)")
    if "libx264" not in enc:
        install.append("an ffmpeg built with libx264 (apt-get install ffmpeg, or pip install imageio-ffmpeg)")
    info["install"] = install
    return info


def _tts() -> dict[str, Any]:
    try:
        from filmstudio.pipeline.providers.tts import tts_info

        info = dict(tts_info())
    except Exception as exc:
        return {"ok": False, "required": True, "summary": f"no speech engine: {exc}",
                "install": ["pip install pyttsx3 espeakng-loader", "or apt-get install espeak-ng"]}
    # A library that cannot read its voice data still initialises: no voices means no speech.
    info.setdefault("ok", bool(info.get("voices", 1)))
    info["required"] = True
    if not info["ok"]:
        info["install"] = ["espeak-ng found no voices: its library and voice data do not match "
                           f"(library {info.get('library_path', '?')}, data {info.get('data_path', '?')})",
                           "pip install --force-reinstall espeakng-loader, or apt-get install espeak-ng"]
    info.setdefault("summary", f"{info.get('engine', 'espeak-ng')} with {info.get('voices', '?')} voices "
                               f"in {len(info.get('languages', []))} languages ({info.get('library_path', '?')})")
    return info


def _fonts() -> dict[str, Any]:
    try:
        from filmstudio.pipeline.media.text import font_report

        info: dict[str, Any] = dict(font_report())
    except Exception as exc:
        return {"ok": False, "required": False, "summary": f"font check failed: {exc}", "install": []}
    info.setdefault("ok", True)
    info["required"] = False
    scripts = info.get("scripts", {})
    parts = [f"bundled {', '.join(info.get('bundled', []))}", f"shaping {info.get('shaping', '?')}"]
    for name, found in scripts.items():
        font = found.get("font")
        parts.append(f"{name}: {font.rsplit('/', 1)[-1] if font else 'none'}")
    info["summary"] = "; ".join(parts)
    info["install"] = [f"apt-get install {pkg}" for pkg in info.get("install", [])]
    return info


START_SECRET_SERVICE = ("dbus-run-session -- sh -c 'echo -n PASSWORD | gnome-keyring-daemon --unlock "
                        "--components=secrets >/dev/null; filmstudio serve'")
FILE_BACKEND = ("or opt in to the file backend: FILMSTUDIO_SECRETS_BACKEND=file (secrets.json, mode 0600, "
                "in the data dir)")


def _keyring(backend: Any = None, which: Callable[[str], str | None] = shutil.which) -> dict[str, Any]:
    try:
        import keyring
        from keyring.backends import fail

        backend = backend if backend is not None else keyring.get_keyring()
        name = f"{type(backend).__module__}.{type(backend).__name__}"
        ok = not isinstance(backend, fail.Keyring)
    except Exception as exc:
        return {"ok": False, "required": False, "summary": f"keyring unavailable: {exc}", "install": []}
    if ok:
        return {"ok": True, "required": False, "backend": name, "summary": name, "install": []}
    if which("gnome-keyring-daemon"):
        # The packages are there: what is missing is a Secret Service running in this session.
        return {"ok": False, "required": False, "backend": name, "install": [],
                "summary": "gnome-keyring is installed but no Secret Service is running in this session "
                           "(a headless server has none until one is started)",
                "start": [f"log in to a desktop session, or start one for the server: {START_SECRET_SERVICE}",
                          FILE_BACKEND]}
    return {"ok": False, "required": False, "backend": name, "summary": f"no OS keyring ({name})",
            "install": ["a Secret Service (apt-get install gnome-keyring dbus-x11) for the studio server's "
                        "secrets,", FILE_BACKEND]}


def _translation(models_dir: Path | None) -> dict[str, Any]:
    """The catalogue's subtitle translation models, and which are installed."""
    from filmstudio.pipeline.models.catalogue import load_catalogue
    from filmstudio.pipeline.models.library import ModelLibrary

    models = [e.id for e in load_catalogue().of_kind("translation")]
    installed = [m for m in models if models_dir and ModelLibrary(models_dir).is_installed(m)]
    summary = (f"installed: {', '.join(installed) or 'none'}; in the catalogue: {', '.join(models)}"
               + ("" if installed else f" (`filmstudio models pull {models[0]}`)" if models else ""))
    return {"ok": True, "required": False, "models": models, "installed": installed, "summary": summary}


def _engines(engines: Engines) -> dict[str, Any]:
    """Every engine the studio would use here, each with what it lacks."""
    infos = [info.as_dict() for info in engines.infos()]
    summary = "; ".join(f"{i['kind']}: {i['name']}{'' if i['ok'] else ' (not usable)'}" for i in infos)
    install = [m for i in infos for m in i["missing"]]
    return {"ok": True, "required": False, "engines": infos, "summary": summary, "install": install}


def _hardware(models_dir: Path | None) -> dict[str, Any]:
    """CPU, RAM and GPUs, and which catalogue models fit this machine (and which are installed)."""
    from filmstudio.pipeline.models.catalogue import load_catalogue
    from filmstudio.pipeline.models.hardware import detect_hardware, fits
    from filmstudio.pipeline.models.library import ModelLibrary

    machine = detect_hardware()
    catalogue = load_catalogue()
    installed = {m.id for m in ModelLibrary(models_dir).installed()} if models_dir else set()
    fitting = [e.id for e in catalogue if fits(e, machine)[0]]
    return {"ok": True, "required": False, **machine.to_dict(), "models_fit": fitting,
            "models_installed": sorted(installed),
            "summary": f"{machine.summary()}; {len(fitting)} of {len(catalogue)} catalogue models fit, "
                       f"{len(installed)} installed (`filmstudio models list`)"}


def report(engines: Engines | None = None, models_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """Everything `filmstudio doctor` prints, as data."""
    out = {"ffmpeg": _ffmpeg(engines), "tts": _tts(), "fonts": _fonts(), "keyring": _keyring(),
           "hardware": _hardware(models_dir), "translation": _translation(models_dir)}
    if engines is not None:
        out["engines"] = _engines(engines)
    return out


def doctor_here() -> dict[str, dict[str, Any]]:
    """`filmstudio doctor`: the report for this machine's studio home."""
    from filmstudio.app.compose import engines_for
    from filmstudio.config import load_settings

    settings = load_settings()
    return report(engines_for(settings), settings.models_dir)
