"""`filmstudio write` (a screenplay from an idea) and `filmstudio writer-key` (the writer server's key)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from filmstudio.domain.settings import STYLES


def brief_from_args(args: argparse.Namespace, idea: str) -> Any:
    from filmstudio.pipeline.writer import DEFAULT_DURATION, Brief

    return Brief(idea=idea, duration=args.duration or DEFAULT_DURATION, style=args.style or "cinematic",
                 language=args.language or "en", audience=getattr(args, "audience", None) or "",
                 tone=getattr(args, "tone", None) or "", characters=getattr(args, "cast_size", None))


def writer_settings(args: argparse.Namespace) -> Any:
    """The studio's settings with this command's writer flags over them."""
    from filmstudio.config import load_settings

    overrides = {k: v for k, v in (("writer_url", getattr(args, "writer_url", None)),
                                   ("writer_model", getattr(args, "writer_model", None)),
                                   ("writer_seed", getattr(args, "seed", None)),
                                   ("writer_temperature", getattr(args, "temperature", None))) if v is not None}
    if overrides.get("writer_url"):
        overrides.setdefault("writer", "server")
    return load_settings(**overrides)


def write_script(args: argparse.Namespace, idea: str, *, quiet: bool) -> Any:
    """Write a screenplay from `idea`, the model's text streamed to stderr as it comes (unless quiet)."""
    from filmstudio.app.compose import write_here
    from filmstudio.pipeline.context import CancelToken

    shown = {"round": 0}

    def show(round_: int, delta: str) -> None:
        if quiet:
            return
        if round_ != shown["round"]:
            shown["round"] = round_
            print(f"\n--- {'draft' if round_ == 1 else f'repair {round_ - 1}'} ---", file=sys.stderr, flush=True)
        sys.stderr.write(delta)
        sys.stderr.flush()

    cancel = CancelToken()
    try:
        play = write_here(brief_from_args(args, idea), on_text=show, cancel=cancel, settings=writer_settings(args))
    except KeyboardInterrupt:
        cancel.cancel()
        raise
    if not quiet:
        print("", file=sys.stderr)
    return play


def cmd_write(args: argparse.Namespace) -> int:
    from filmstudio.pipeline.context import atomic_output

    idea = sys.stdin.read() if args.idea == "-" else args.idea
    try:
        play = write_script(args, idea, quiet=args.quiet or args.json)
    except KeyboardInterrupt:
        print("cancelled: nothing was written", file=sys.stderr)
        return 130
    if args.output:
        out = Path(args.output).resolve()
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(out) as tmp:
            tmp.write_text(play.text, encoding="utf-8")
    if args.json:
        print(json.dumps({**play.as_dict(), "output": str(Path(args.output).resolve()) if args.output else None,
                          "script": play.text}, indent=2, ensure_ascii=False))
        return 0
    if not args.output:
        print(play.text, end="")
    else:
        print(f"screenplay: {Path(args.output).resolve()}  ({play.title!r}: {play.scenes} scenes, "
              f"{play.words} of about {play.budget} words, {play.rounds} answer{'s' if play.rounds != 1 else ''})")
    for advice in play.advice:
        print(f"note:       {advice}", file=sys.stderr)
    return 0


def cmd_writer_key(args: argparse.Namespace) -> int:
    """Keep (or forget) the API key of an OpenAI-compatible writer server in the studio's secret store."""
    from filmstudio.config import load_settings
    from filmstudio.services.secrets import open_secrets

    settings = load_settings()
    store = open_secrets(settings.secrets_backend, settings.home)
    name = f"writer-key:{args.url.rstrip('/')}"
    if args.forget:
        store.delete(name)
        print(f"forgot the key for {args.url}")
        return 0
    key = sys.stdin.readline().strip() if not sys.stdin.isatty() else getpass.getpass(f"API key for {args.url}: ")
    if not key:
        print("error: KEY_EMPTY: no key given", file=sys.stderr)
        return 2
    store.put(name, key)
    print(f"kept the key for {args.url} in the {settings.secrets_backend}")
    return 0


def add_writer_options(p: argparse.ArgumentParser) -> None:
    """The writer's flags, shared by `write` and `render --idea`."""
    p.add_argument("--audience", help="who the film is for (e.g. children, general)")
    p.add_argument("--tone", help="the film's tone (e.g. warm, tense, funny)")
    p.add_argument("--cast-size", type=int, help="how many speaking characters (0-8)")
    p.add_argument("--writer-url", help="an OpenAI-compatible server's /v1 address (default: FILMSTUDIO_WRITER_URL, "
                                        "else the built-in model if pulled, else Ollama on 127.0.0.1:11434)")
    p.add_argument("--writer-model", help="the server's model name (default: its first, from /models)")
    p.add_argument("--seed", type=int, help="the writer's seed (default 0: the same idea writes the same draft)")
    p.add_argument("--temperature", type=float, help="the writer's temperature, 0-2 (default 0.7; 0: greedy)")


def add_writer_commands(sub: Any) -> None:
    w = sub.add_parser("write", help="write a screenplay from an idea with a local language model")
    w.add_argument("idea", help="the idea, a sentence to a page (or - for stdin)")
    w.add_argument("-o", "--output", help="the .fountain file to write (default: print it)")
    w.add_argument("--duration", type=int, help="the film's length in seconds (default 60): sizes the screenplay")
    w.add_argument("--language", help="the screenplay's language (ISO 639-1, default en)")
    w.add_argument("--style", help=f"visual style: {', '.join(STYLES)}")
    add_writer_options(w)
    w.add_argument("--json", action="store_true")
    w.add_argument("-q", "--quiet", action="store_true", help="don't stream the model's text")
    w.set_defaults(func=cmd_write)

    k = sub.add_parser("writer-key", help="keep the API key of a writer server in the keyring (read from stdin)")
    k.add_argument("url", help="the server's /v1 address, as in FILMSTUDIO_WRITER_URL")
    k.add_argument("--forget", action="store_true", help="remove the key instead")
    k.set_defaults(func=cmd_writer_key)
