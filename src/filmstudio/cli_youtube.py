"""`filmstudio youtube connect | status | disconnect` and `filmstudio publish`: thin handlers over services.youtube."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import Any

from filmstudio.domain.errors import BadRequest


def add_youtube_commands(subparsers: Any) -> None:
    """Add `youtube` (connect, status, disconnect) and `publish` to an argparse subparsers object."""
    y = subparsers.add_parser(
        "youtube", help="connect a YouTube channel to publish films to",
        description="Uses OAuth client credentials from your own Google Cloud project (see the README, "
        "'Publish to YouTube'). The login is kept in the OS keyring.",
    )
    ysub = y.add_subparsers(dest="youtube_command", metavar="SUBCOMMAND")
    p = ysub.add_parser("connect", help="sign in with Google and pick the channel")
    p.add_argument("--client-secrets", required=True, metavar="FILE", help="client_secrets.json (a Desktop app client)")
    p.add_argument("--no-browser", action="store_true",
                   help="print the sign-in URL and read the code back (self-hosted studios, SSH sessions)")
    p.add_argument("--account", help="the account the channel belongs to (default: the studio's owner account)")
    p.set_defaults(func=cmd_connect)
    p = ysub.add_parser("status", help="connected channels")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)
    p = ysub.add_parser("disconnect", help="forget a channel's login (all channels without --channel)")
    p.add_argument("--channel", help="channel id")
    p.set_defaults(func=cmd_disconnect)
    for name, undo, what in (("share", False, "let another account publish to a channel"),
                             ("unshare", True, "stop another account publishing to a channel")):
        p = ysub.add_parser(name, help=what)
        p.add_argument("--channel", required=True, help="channel id")
        p.add_argument("--account", required=True, help="account name")
        p.set_defaults(func=cmd_share, undo=undo)
    y.set_defaults(func=lambda args: (y.print_help(), 2)[1])

    pub = subparsers.add_parser("publish", help="publish a project's film (or an MP4) to YouTube",
                                description="Uploads the film with its captions, chapters and thumbnail. "
                                "Private unless --privacy says otherwise; running it again resumes an interrupted upload.")
    pub.add_argument("target", metavar="PROJECT_OR_FILM", help="a project id, or a film .mp4 (sidecars beside it)")
    pub.add_argument("--youtube", action="store_true", required=True, help="publish to the connected YouTube channel")
    pub.add_argument("--privacy", choices=("private", "unlisted", "public"), default="private")
    pub.add_argument("--title")
    pub.add_argument("--description", default="")
    pub.add_argument("--tags", default="", help="comma-separated")
    pub.add_argument("--category-id", default="1")
    pub.add_argument("--made-for-kids", action="store_true")
    pub.add_argument("--publish-at", help="ISO 8601 time for a scheduled release (stays private until then)")
    pub.add_argument("--channel", help="channel id, when several are connected")
    pub.add_argument("--json", action="store_true")
    pub.set_defaults(func=cmd_publish)


def _studio() -> Any:
    from filmstudio.app.compose import local_studio
    from filmstudio.config import load_settings

    return local_studio(load_settings())


def cmd_connect(args: argparse.Namespace) -> int:
    from filmstudio.services.youtube import auth

    def read_code(url: str) -> str:
        print("Open this address in a browser, sign in and allow FilmStudio:\n\n  " + url + "\n", flush=True)
        print("The browser then ends on an address that does not load (127.0.0.1:1).", flush=True)
        return input("Paste that whole address (or its code= value): ")

    path = Path(args.client_secrets)
    if not path.is_file():
        raise BadRequest(f"no client secrets file at {path}", code="FILE_NOT_FOUND")
    studio = _studio()
    account_id = None
    if args.account:
        from filmstudio.services.accounts import account_by_name

        account_id = account_by_name(studio.store, args.account).account_id
    channel = auth.connect(studio, path, open_browser=not args.no_browser, read_code=read_code, account_id=account_id)
    print(f"Connected YouTube channel {channel['title']} ({channel['channel_id']}).")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from filmstudio.services.youtube import auth

    channels = auth.status(_studio())
    if args.json:
        print(json.dumps(channels, indent=2))
    elif not channels:
        print("No YouTube channel connected: filmstudio youtube connect --client-secrets client_secrets.json")
    for c in [] if args.json else channels:
        saved = "login saved" if c["login_saved"] else "login missing: connect again"
        shared = f", shared with {', '.join(c['shared_with'])}" if c["shared_with"] else ""
        print(f"{c['title']}  {c['channel_id']}  connected {c['connected_at']} by {c['account']}{shared}  ({saved})")
    return 0


def cmd_share(args: argparse.Namespace) -> int:
    from filmstudio.services.youtube import auth

    changed = auth.share(_studio(), args.channel, args.account, undo=args.undo)
    verb = "no longer publishes" if args.undo else "may publish"
    print(f"{args.account} {verb} to {args.channel}." if changed else "Nothing to change.")
    return 0


def cmd_disconnect(args: argparse.Namespace) -> int:
    from filmstudio.services.youtube import auth

    gone = auth.disconnect(_studio(), args.channel)
    print(f"Disconnected {len(gone)} channel(s)." if gone else "No such channel connected.")
    return 0


def _options(args: argparse.Namespace) -> Any:
    from filmstudio.domain.models import YouTubeOptions

    return YouTubeOptions(privacy=args.privacy, title=args.title, description=args.description,
                          tags=tuple(t.strip() for t in args.tags.split(",") if t.strip()),
                          category_id=args.category_id, made_for_kids=args.made_for_kids,
                          publish_at=args.publish_at, channel_id=args.channel)


def cmd_publish(args: argparse.Namespace) -> int:
    from filmstudio.app.compose import publish_here
    from filmstudio.services.youtube.publish import publish_file

    studio = _studio()
    target = Path(args.target)
    if target.suffix == ".mp4" and target.is_file():
        result = publish_file(studio, target, _options(args), chunk_bytes=studio.settings.youtube_chunk_bytes)
    else:
        done: dict[str, Any] = {}

        def work() -> None:
            try:
                done["job"] = publish_here(studio, args.target, _options(args))
            except BaseException as exc:  # shown by the main thread, as any command's error
                done["error"] = exc

        worker = threading.Thread(target=work, name="publish")
        worker.start()
        while worker.is_alive():
            worker.join(0.5)
            _show_progress(studio, quiet=args.json)
        if "error" in done:
            raise done["error"]
        job = done["job"]
        if job.status != "completed":
            print(f"error: {job.error_message} [{job.error_code}]", file=sys.stderr)
            return 2
        result = dict(job.result or {})
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"\nPublished: {result['url']}  ({result['privacy']}, captions: {', '.join(result['captions']) or 'none'}, "
              f"chapters: {result['chapters']})")
        for warning in result.get("warnings", []):
            print(f"warning: {warning}", file=sys.stderr)
    return 0


def _show_progress(studio: Any, *, quiet: bool) -> None:
    if quiet or not sys.stderr.isatty():
        return
    from filmstudio.store.jobs import latest_publish

    row = latest_publish(studio.store)
    detail = dict(row.result or {}) if row is not None else {}
    if detail.get("bytes_total"):
        pct = 100 * detail.get("bytes_done", 0) / detail["bytes_total"]
        rate = detail.get("bytes_per_second", 0) / 1e6
        print(f"\r  uploading {pct:5.1f}%  {rate:6.1f} MB/s", end="", file=sys.stderr, flush=True)
