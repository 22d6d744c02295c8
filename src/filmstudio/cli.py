"""The `filmstudio` command: app | render | write | demo | doctor | models | serve | worker | keys | accounts."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from filmstudio import __version__
from filmstudio.domain.errors import FilmStudioError
from filmstudio.domain.settings import (
    FPS_VALUES,
    MOTION_BUDGETS,
    MUSIC_GENRES,
    RESOLUTIONS,
    STYLES,
    parse_settings,
)

EXAMPLE = "lighthouse.fountain"


def example_script() -> Path:
    """The bundled example screenplay."""
    return Path(str(resources.files("filmstudio.assets") / "examples" / EXAMPLE))


def default_cache_dir() -> Path:
    home = os.environ.get("FILMSTUDIO_HOME")
    if home:
        return Path(home) / "cache"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("filmstudio")) / "render"


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    return Path(path).read_text(encoding="utf-8")


def _settings_from_args(args: argparse.Namespace, script_path: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if args.settings:
        data.update(json.loads(Path(args.settings).read_text(encoding="utf-8")))
    for field, value in (
        ("duration", args.duration), ("style", args.style), ("resolution", args.size), ("fps", args.fps),
        ("music_genre", args.music), ("language", args.language), ("title", args.title),
        ("captions", args.captions), ("reading_speed", getattr(args, "reading_speed", None)),
        ("motion", getattr(args, "motion", None)),
    ):
        if value is not None:
            # The settings take exact values (as the API schema says); a typed flag may be any case.
            data[field] = value.strip().lower().replace("×", "x") if isinstance(value, str) and field != "title" else value
    if args.subtitles is not None:
        if args.subtitles.strip().lower() in ("", "none", "off"):
            data["include_subtitles"] = False
        else:
            data["subtitle_languages"] = [s.strip().lower() for s in args.subtitles.split(",") if s.strip()]
    if args.burn_subtitles:
        data["burn_subtitles"] = True
    if args.characters:
        cast = json.loads(Path(args.characters).read_text(encoding="utf-8"))
        data["characters"] = cast["characters"] if isinstance(cast, dict) else cast
    translations = dict(data.get("translations", {}))
    for item in args.translations or []:
        lang, _, path = item.partition("=")
        if not path:
            raise FilmStudioError(f"--translations wants LANG=FILE, got {item!r}", code="INVALID_ARGUMENT")
        translations[lang.strip()] = Path(path).read_text(encoding="utf-8")
    if translations:
        data["translations"] = translations
    return data


def cmd_render(args: argparse.Namespace) -> int:
    from filmstudio.app.compose import render_here
    from filmstudio.pipeline.context import CancelToken
    from filmstudio.pipeline.request import RenderRequest, images_in

    if bool(args.script) == bool(args.idea):
        raise FilmStudioError("give a script file or --idea \"...\" (not both)", code="INVALID_ARGUMENT")
    data = _settings_from_args(args, args.script or "")
    settings = parse_settings(data)
    script_path = _write_from_idea(args, settings.duration) if args.idea else args.script
    script_text = _read_text(script_path)
    output = Path(args.output or Path(script_path).with_suffix(".mp4").name).resolve()
    images = images_in(Path(args.images)) if args.images else ()
    if args.images and not Path(args.images).is_dir():
        raise FilmStudioError(f"--images wants a folder of pictures; {args.images} is not one", code="INVALID_ARGUMENT")
    cache_dir = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    cancel = CancelToken()
    work_dir = Path(tempfile.mkdtemp(prefix="filmstudio-"))
    request = RenderRequest(script=script_text, settings=settings, output=output, work_dir=work_dir,
                            cache_dir=cache_dir, images=images, encoder=args.encoder, jobs=args.jobs,
                            continuity=f"file:{output}", duration_from_script="duration" not in data)
    if not args.quiet:
        print(f"motion:    {_motion_estimate(script_text, settings, images, cache_dir=cache_dir).summary()}")
    try:
        with _ProgressBar(enabled=not args.quiet) as bar:
            try:
                manifest = render_here(request, progress=bar.update, cancel=cancel)
            except KeyboardInterrupt:
                cancel.cancel()
                print("cancelled: nothing was written at", output, file=sys.stderr)
                return 130
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    _print_summary(manifest)
    return 0


def _write_from_idea(args: argparse.Namespace, duration: int) -> str:
    """`render --idea`: the screenplay written first, kept beside the film (OUTPUT.fountain) to edit and re-render."""
    from filmstudio.cli_writer import write_script
    from filmstudio.pipeline.context import atomic_output

    args.duration = duration
    play = write_script(args, args.idea, quiet=args.quiet)
    output = Path(args.output or "film.mp4").resolve()
    script = output.with_suffix(".fountain")
    script.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(script) as tmp:
        tmp.write_text(play.text, encoding="utf-8")
    print(f"screenplay: {script}  ({play.title!r}: {play.scenes} scenes, {play.words} words)")
    args.output = str(output)
    return str(script)


def cmd_storyboard(args: argparse.Namespace) -> int:
    """The shot list with each still's prompt, without rendering."""
    from filmstudio.domain.settings import RenderSettings
    from filmstudio.pipeline.prompts import tokens_of
    from filmstudio.pipeline.script.analysis import analyse
    from filmstudio.pipeline.storyboard import build_storyboard

    text = _read_text(args.script)
    data: dict[str, Any] = {"style": args.style.strip().lower()} if args.style else {}
    if args.characters:
        cast = json.loads(Path(args.characters).read_text(encoding="utf-8"))
        data["characters"] = cast["characters"] if isinstance(cast, dict) else cast
    if args.motion:
        data["motion"] = args.motion
    settings = RenderSettings.model_validate(data)
    engine = _picture_engine()
    board = build_storyboard(analyse(text, settings), settings, text=text, tokens=tokens_of(engine))
    pictures = _picture_engine_info(engine)
    motion = _motion_estimate(text, settings, board=board)
    if args.json:
        print(json.dumps({**board.as_dict(), "pictures": pictures, "motion": motion.as_dict()}, indent=2,
                         ensure_ascii=False))
        return 0
    print(f"pictures: {pictures['name']}" + "".join(f"\n  {m}" for m in pictures.get("missing", [])))
    print(f"motion: {motion.summary()}")
    refs = pictures["references"]
    print(f"character references: {refs['adapter']} at scale {refs['scale']}" if refs["used"]
          else f"character references: not used ({refs['advice']})")
    for c in board.characters:
        print(f"{c.name}: {c.description} (seed {c.seed})")
    for shot in board.shots:
        where = shot.heading or f"passage {shot.scene_index + 1}"
        print(f"\n#{shot.number} {shot.camera} · {where} · seed {shot.seed} · {shot.tokens}/{board.token_limit} "
              f"tokens ({board.tokens}) · {'moving' if shot.motion else 'still'} ({shot.motion_reason})"
              f"\n  {shot.text}\n  prompt: {shot.prompt}")
        if shot.warning:
            print(f"  warning: {shot.warning}")
    return 0


def _motion_estimate(text: str, settings: Any, images: Sequence[Path] = (), board: Any = None,
                     cache_dir: Path | None = None) -> Any:
    """What motion adds to a render of `text` here (`motion_plan.MotionEstimate`), before it starts."""
    from filmstudio.app.compose import motion_choice
    from filmstudio.config import load_settings
    from filmstudio.pipeline.motion_estimate import estimate_motion
    from filmstudio.pipeline.script.analysis import analyse
    from filmstudio.pipeline.storyboard import build_storyboard

    config = load_settings()
    board = board or build_storyboard(analyse(text, settings), settings, text=text, images=images)
    w, h = settings.size
    choice = motion_choice(config.models_dir, device=config.pictures_device)
    return estimate_motion(board, settings.motion, choice.engine, w / h, cache_dir or default_cache_dir(),
                           choice.advice)


def _picture_engine() -> Any:
    """The picture engine a render here would use (None: procedural backdrops)."""
    from filmstudio.app.compose import picture_engine
    from filmstudio.config import load_settings

    settings = load_settings()
    return picture_engine(settings.models_dir, settings.picture_model, device=settings.pictures_device)


def _picture_engine_info(engine: Any) -> dict[str, Any]:
    """Which engine would draw the stills here (or how to get one)."""
    from filmstudio.pipeline.engines import PROCEDURAL_PICTURES
    from filmstudio.pipeline.providers.reference_adapter import PULL_ADVICE

    info = engine.info() if engine is not None else PROCEDURAL_PICTURES
    refs = info.references
    references = {"used": True, **refs.as_dict()} if refs is not None else {
        "used": False, "advice": info.references_advice or PULL_ADVICE}
    return {"name": info.name, "missing": list(info.missing), "references": references}


def _print_summary(manifest: dict[str, Any]) -> None:
    out = manifest["outputs"]
    print(f"film:      {out['video']}  ({manifest['duration']:.1f} s, {manifest['encoder']})")
    if manifest.get("script_duration"):
        how = "the film takes it" if manifest.get("duration_from_script") else \
            f"{manifest['requested_duration']} s were asked for"
        print(f"length:    the script wants about {manifest['script_duration']} s; {how}")
    print(f"thumbnail: {out['thumbnail']}")
    for lang, files in out["subtitles"].items():
        print(f"subtitles: {lang}: {files['srt']}  {files['vtt']}")
    if manifest.get("subtitles"):
        from filmstudio.pipeline.media.readability import summary

        print(summary(manifest["subtitles"]))
    print(f"manifest:  {out['manifest']}")
    for name, voice in manifest["casting"].items():
        # A pitch its engine declares a shift from the voice's own: said in semitones, as the desktop does.
        shift = f" ({voice['semitones']:+g} semitones)" if voice.get("semitones") else ""
        print(f"cast:      {name}: {voice['engine']}:{voice['voice']}"
              + (f" #{voice['speaker']}" if voice.get("speaker") else "") + shift)
    for warning in manifest["warnings"]:
        print(f"warning:   {warning}")
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in manifest["stage_seconds"].items())
    print(f"took {manifest['total_seconds']:.1f} s ({stages})")


class _ProgressBar:
    """A rich progress bar showing the current step; plain lines when not a terminal."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None
        self._last_step = ""

    def __enter__(self) -> _ProgressBar:
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("[bold]{task.fields[step]:<18}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(), transient=False,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("render", total=1.0, step="starting")
        return self

    def update(self, step: str, fraction: float) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=fraction, step=step)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)


def cmd_demo(args: argparse.Namespace) -> int:
    """Render the bundled example film."""
    out = Path(args.output).resolve()
    argv = ["render", str(example_script()), "-o", str(out), "--duration", str(args.duration)]
    if args.size:
        argv += ["--size", args.size]
    if args.quiet:
        argv += ["--quiet"]
    return main(argv)


def cmd_doctor(args: argparse.Namespace) -> int:
    from filmstudio.app.doctor import doctor_here

    result = doctor_here()
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        for section, info in result.items():
            ok = info.get("ok", True)
            print(f"{'ok     ' if ok else 'MISSING'} {section}: {info.get('summary', '')}")
            if section == "ffmpeg" and info.get("hardware_encoders_built"):
                print(f"        hardware H.264 built in: {', '.join(info['hardware_encoders_built'])}; "
                      f"working here: {', '.join(info['hardware_encoders_working']) or 'none'}")
            for engine in info.get("engines", []):
                state = "ok" if engine["ok"] else "not usable"
                print(f"        {engine['kind']:<10} {engine['name']} {engine['version']} on {engine['device']} ({state})")
            for hint in info.get("install", []):
                print(f"        install: {hint}")
            for hint in info.get("start", []):
                print(f"        start:   {hint}")
    return 0 if all(v.get("ok", True) for k, v in result.items() if v.get("required")) else 1


def cmd_app(args: argparse.Namespace) -> int:
    """The desktop app, with the embedded API server and a render worker."""
    from filmstudio.app.embedded import run_desktop

    return run_desktop()


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="filmstudio", description="A local AI film studio.")
    parser.add_argument("--version", action="version", version=f"filmstudio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    r = sub.add_parser("render", help="render a script (Fountain or prose) into an MP4")
    r.add_argument("script", nargs="?", help="script file (.fountain or plain text), or - for stdin")
    r.add_argument("--idea", help="no script: have the local writer write one from this idea first "
                                  "(kept as OUTPUT.fountain)")
    r.add_argument("-o", "--output", help="output MP4 path (default: SCRIPT name .mp4 here)")
    r.add_argument("--duration", type=int,
                   help="film length in seconds (5-600; default: the script's natural length)")
    r.add_argument("--style", help=f"visual style: {', '.join(STYLES)}")
    r.add_argument("--size", help=f"resolution: {', '.join(RESOLUTIONS[:4])} (drafts: {', '.join(RESOLUTIONS[4:])})")
    r.add_argument("--fps", type=int, help=f"frames per second: {', '.join(map(str, FPS_VALUES))}")
    r.add_argument("--music", help=f"music genre: {', '.join(MUSIC_GENRES)}")
    r.add_argument("--language", help="language of the script and voices (ISO 639-1, default en)")
    r.add_argument("--subtitles", help="subtitle languages, comma separated (e.g. en,es), or none")
    r.add_argument("--burn-subtitles", action="store_true", help="also burn the first subtitle language in")
    r.add_argument("--captions", choices=("standard", "karaoke"),
                   help="karaoke: big burned-in captions a few words at a time, the spoken word lit (for shorts)")
    r.add_argument("--reading-speed", type=int, metavar="CPS",
                   help="subtitle reading speed, characters a second (10-25; default 17, 20 for a vertical "
                        "film of 3 minutes or less)")
    r.add_argument("--motion", choices=MOTION_BUDGETS,
                   help="which shots a video model animates: none, key (default: establishing, a scene's first, "
                        "action that moves) or all")
    r.add_argument("--characters", help="JSON file: [{name, age, gender, voice}] to steer casting")
    r.add_argument("--translations", action="append", metavar="LANG=FILE",
                   help="a translated script for subtitles in LANG (same line structure); repeatable")
    r.add_argument("--images", help="folder of your own images for scene backgrounds")
    r.add_argument("--title", help="film title (default: from the script)")
    r.add_argument("--settings", help="JSON file of settings (API field names); flags override it")
    r.add_argument("--encoder", help="force a video encoder (e.g. libx264, h264_nvenc)")
    r.add_argument("--jobs", type=int, help="parallel workers (default: CPU count)")
    r.add_argument("--cache-dir", help="stage cache folder (default: the user cache dir)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    try:
        from filmstudio.cli_writer import add_writer_options
    except ImportError:  # pragma: no cover
        pass
    else:
        add_writer_options(r)
    r.set_defaults(func=cmd_render)

    sb = sub.add_parser("storyboard", help="the shot list and each still's prompt, without rendering")
    sb.add_argument("script", help="script file (.fountain or plain text), or - for stdin")
    sb.add_argument("--style", help=f"visual style: {', '.join(STYLES)}")
    sb.add_argument("--characters", help="JSON file: [{name, age, gender, voice, description}]")
    sb.add_argument("--motion", choices=MOTION_BUDGETS, help="which shots move: none, key (default) or all")
    sb.add_argument("--json", action="store_true")
    sb.set_defaults(func=cmd_storyboard)

    d = sub.add_parser("demo", help="render the bundled example film")
    d.add_argument("-o", "--output", default="out/the-last-lighthouse.mp4")
    d.add_argument("--duration", type=int, default=60)
    d.add_argument("--size", default="1280x720")
    d.add_argument("-q", "--quiet", action="store_true")
    d.set_defaults(func=cmd_demo)

    app = sub.add_parser("app", help="the desktop app (the default when a display is present)")
    app.set_defaults(func=cmd_app)

    doc = sub.add_parser("doctor", help="which engines were found and what to install")
    doc.add_argument("--json", action="store_true")
    doc.set_defaults(func=cmd_doctor)

    try:
        from filmstudio.cli_studio import add_studio_commands
    except ImportError:  # pragma: no cover - the studio server is optional in a slim build
        pass
    else:
        add_studio_commands(sub)
    try:
        from filmstudio.cli_models import add_model_commands
    except ImportError:  # pragma: no cover - the model manager is optional in a slim build
        pass
    else:
        add_model_commands(sub)
    try:
        from filmstudio.cli_writer import add_writer_commands
    except ImportError:  # pragma: no cover - the writer is optional in a slim build
        pass
    else:
        add_writer_commands(sub)
    try:
        from filmstudio.cli_youtube import add_youtube_commands
    except ImportError:  # pragma: no cover - publishing is optional in a slim build
        pass
    else:
        add_youtube_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv and _has_display():
        argv = ["app"]
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except FilmStudioError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        if exc.details and getattr(args, "json", False):  # the machine-readable block only when asked for
            print(json.dumps(exc.details, indent=2, ensure_ascii=False), file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"error: FILE_NOT_FOUND: {exc.filename}", file=sys.stderr)
        return 2
