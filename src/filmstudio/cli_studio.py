"""`filmstudio serve | worker | keys | accounts`: thin argparse handlers over the composition root and services."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from filmstudio.domain.errors import FilmStudioError
from filmstudio.domain.models import PLANS, SCOPES

if TYPE_CHECKING:
    from filmstudio.config import Settings


def add_studio_commands(subparsers: Any) -> None:
    """Add serve, worker, keys and accounts to an argparse subparsers object."""
    p = subparsers.add_parser(
        "serve", help="run the API and an in-process render worker",
        description="Serve /api/v1 on 127.0.0.1 with an in-process render worker. Settings come from "
        "FILMSTUDIO_* variables (FILMSTUDIO_HOME, FILMSTUDIO_ALLOWED_HOSTS, FILMSTUDIO_DOCS_ENABLED, ...). "
        "Secrets live in the OS keyring; on a machine without one, FILMSTUDIO_SECRETS_BACKEND=file opts "
        "into <home>/secrets.json (mode 0600).",
    )
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8765)")
    p.add_argument("--workers", type=int, help="in-process render workers (0: only the API)")
    p.add_argument("--allowed-host", action="append", dest="allowed_hosts", metavar="NAME",
                   help="a host name clients use to reach the studio (repeatable; required beyond loopback; "
                   "default FILMSTUDIO_ALLOWED_HOSTS)")
    p.add_argument("--queue", dest="queue_url", metavar="URL",
                   help="sqlite (default: queue.db beside studio.db) or redis://host:6379/0 (FILMSTUDIO_QUEUE_URL)")
    p.add_argument("--farm-segments", action="store_true", default=None, dest="segment_farm",
                   help="send segment encodes to `filmstudio worker --server` processes on other machines "
                   "(needs a Redis queue; FILMSTUDIO_SEGMENT_FARM=1)")
    p.set_defaults(func=cmd_serve)

    p = subparsers.add_parser(
        "worker", help="run a render worker against the same queue",
        description="Without --server: a job worker beside the server (same FILMSTUDIO_HOME). With --server "
        "URL and a worker-scoped --key: a segment worker on another machine that needs no studio.db; it pulls "
        "segment orders from the Redis --queue and uploads the segments over HTTP.",
    )
    p.add_argument("--workers", type=int, default=1, help="render threads (default 1)")
    p.add_argument("--renderer", help="module:attribute of a renderer to use instead of the pipeline")
    p.add_argument("--queue", dest="queue_url", metavar="URL", help="the queue (default FILMSTUDIO_QUEUE_URL)")
    p.add_argument("--server", metavar="URL", help="the main studio server (segment worker mode)")
    p.add_argument("--key", help="an API key with the worker scope (default FILMSTUDIO_WORKER_KEY)")
    p.add_argument("--work-dir", help="where segments are encoded (default <FILMSTUDIO_HOME>/segment-work)")
    p.add_argument("--name", help="this worker's name in manifests (default host:pid)")
    p.set_defaults(func=cmd_worker)

    p = subparsers.add_parser(
        "backup", help="copy the studio's data to a new folder (safe while the server runs)",
        description="Consistent copy of studio.db and queue.db (SQLite online backup API), the films and "
        "secrets.json (file secrets backend) into PATH, a new folder, with a manifest of checksums.",
    )
    p.add_argument("path", help="the backup folder to create (must not exist or be empty)")
    p.add_argument("--no-media", action="store_true", help="leave the rendered films out")
    p.set_defaults(func=cmd_backup)
    p = subparsers.add_parser(
        "restore", help="bring a backup back (refused while a server, worker or app uses the studio)",
        description="Checks the backup (checksums, PRAGMA integrity_check), moves the current data aside "
        "into <home>/pre-restore-<time>/ and copies the backup in. Stop serve, workers and the app first.",
    )
    p.add_argument("path", help="a folder made by `filmstudio backup`")
    p.set_defaults(func=cmd_restore)

    keys = subparsers.add_parser("keys", help="create, list, revoke and rotate API keys")
    ksub = keys.add_subparsers(dest="keys_command", required=True)
    p = ksub.add_parser("create", help="create a key and print it once")
    p.add_argument("--name", required=True)
    p.add_argument("--account", default="owner", help="account name (default: owner)")
    p.add_argument("--scope", action="append", choices=SCOPES, dest="scopes",
                   help="repeat for several (default: projects:read, projects:write, jobs:read, jobs:write, "
                   "webhooks: every endpoint of the public API)")
    p.add_argument("--allow-ip", action="append", default=[], dest="allowed_ips", help="IP or CIDR; repeatable")
    p.add_argument("--expires-days", type=float, help="expire after this many days (0 or none: never)")
    p.set_defaults(func=cmd_keys_create)
    p = ksub.add_parser("list", help="list keys (never their secrets)")
    p.add_argument("--account", help="only this account's keys")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_keys_list)
    p = ksub.add_parser("revoke", help="revoke a key now")
    p.add_argument("key", help="key id or display prefix")
    p.set_defaults(func=cmd_keys_revoke)
    p = ksub.add_parser("rotate", help="make a replacement; the old key keeps working for the overlap")
    p.add_argument("key", help="key id or display prefix")
    p.add_argument("--overlap-hours", type=float, default=24.0)
    p.set_defaults(func=cmd_keys_rotate)

    accounts = subparsers.add_parser("accounts", help="create and list accounts")
    asub = accounts.add_subparsers(dest="accounts_command", required=True)
    p = asub.add_parser("create", help="create an account")
    p.add_argument("name")
    p.add_argument("--plan", choices=PLANS, default="free")
    p.add_argument("--credits", type=int, default=0, help="starting credits")
    p.add_argument("--unlimited", action="store_true", help="no credit limit")
    p.set_defaults(func=cmd_accounts_create)
    p = asub.add_parser("list", help="list accounts")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_accounts_list)
    p = asub.add_parser("set-plan", help="change an account's plan (and enterprise limits)")
    p.add_argument("name", help="account name or id")
    p.add_argument("plan", choices=PLANS)
    p.add_argument("--per-minute", type=int, help="requests per minute (overrides the plan)")
    p.add_argument("--per-day", type=int, help="requests per UTC day (overrides the plan)")
    p.set_defaults(func=cmd_accounts_set_plan)
    p = asub.add_parser("grant", help="add credits to an account")
    p.add_argument("name", help="account name or id")
    p.add_argument("credits", type=int)
    p.set_defaults(func=cmd_accounts_grant)


def main(argv: list[str] | None = None) -> int:
    """Run one studio command (for tests and `python -m filmstudio.cli_studio`)."""
    parser = argparse.ArgumentParser(prog="filmstudio")
    add_studio_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


def _reports_errors(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn a FilmStudioError into one clear line on stderr and exit status 2 (no traceback)."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except FilmStudioError as exc:
            print(f"error: {exc.message} [{exc.code}]", file=sys.stderr)
            return 2

    return run


# -- handlers ---------------------------------------------------------------------------------


def _settings(**overrides: Any) -> Any:
    from filmstudio.config import load_settings

    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


def _store() -> Any:
    from filmstudio.store.db import Store
    from filmstudio.store.migrations import migrate

    settings = _settings()
    store = Store(settings.db_path)
    migrate(store)
    return store


@_reports_errors
def cmd_serve(args: argparse.Namespace) -> int:
    from filmstudio.app.compose import build_server, run_server
    from filmstudio.services.accounts import ensure_owner

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = _settings(host=args.host, port=args.port, workers=args.workers,
                         allowed_hosts=tuple(args.allowed_hosts) if args.allowed_hosts else None,
                         queue_url=args.queue_url, segment_farm=args.segment_farm)
    parts = build_server(settings)
    created = ensure_owner(parts.studio.store)
    if created is not None:
        print(f"Created the owner's admin API key (shown once, store it now):\n  {created.secret}")
    print(f"FilmStudio API on {settings.base_url}/api/v1 (docs: {'on' if settings.show_docs else 'off'}, "
          f"workers: {settings.workers}, secrets: {parts.studio.secrets.name})", flush=True)
    print(listening_line(settings), flush=True)
    run_server(parts)
    return 0


def listening_line(settings: Settings) -> str:
    """Where the server listens and which Host names it answers, for the log of a self-hosted studio."""
    host = f"[{settings.host}]" if ":" in settings.host and not settings.host.startswith("[") else settings.host
    scope = "this machine only" if settings.loopback_only else "the network"
    names = ", ".join(settings.trusted_hosts)
    return (f"listening on {host}:{settings.port} ({scope}); answers Host: {names}; "
            f"data in {settings.home}; every /api/v1 call needs an API key")


@_reports_errors
def cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from filmstudio.services.backup import backup_home

    made = backup_home(_settings().home, Path(args.path).resolve(), media=not args.no_media)
    print(f"backup: {made.path} ({', '.join(made.databases)}, {made.media_files} media files, "
          f"{made.total_bytes / 1e6:.1f} MB)")
    return 0


@_reports_errors
def cmd_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from filmstudio.services.backup import restore_home

    done = restore_home(Path(args.path).resolve(), _settings().home)
    print(f"restored {', '.join(done.databases)} and {done.media_files} media files into {done.home}")
    if done.previous is not None:
        print(f"the data it replaced is kept in {done.previous}")
    return 0


@_reports_errors
def cmd_worker(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from filmstudio.app.compose import run_segment_worker, run_worker

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = _settings(queue_url=args.queue_url)
    if not args.server:
        run_worker(settings, workers=args.workers, renderer_spec=args.renderer)
        return 0
    key = args.key or os.environ.get("FILMSTUDIO_WORKER_KEY")
    if not key:
        raise FilmStudioError("a segment worker needs a worker-scoped API key: --key or FILMSTUDIO_WORKER_KEY "
                              "(filmstudio keys create --name render-1 --scope worker)", code="WORKER_KEY_REQUIRED")
    run_segment_worker(settings, server=args.server, key=key, workers=args.workers, name=args.name,
                       work_dir=Path(args.work_dir) if args.work_dir else None)
    return 0


@_reports_errors
def cmd_keys_create(args: argparse.Namespace) -> int:
    from filmstudio.services import accounts, keys

    store = _store()
    account = accounts.owner_account(store) if args.account == "owner" else accounts.account_by_name(store, args.account)
    expires = keys.expiry_after(args.expires_days)
    created = keys.create_key(store, account.account_id, name=args.name, scopes=args.scopes or keys.DEFAULT_SCOPES,
                              allowed_ips=args.allowed_ips, expires_at=expires)
    print(created.secret)
    print(f"key {created.prefix}… for account {account.name}; scopes {', '.join(created.scopes)}. "
          "This is the only time the key is shown.", file=sys.stderr)
    return 0


@_reports_errors
def cmd_keys_list(args: argparse.Namespace) -> int:
    from filmstudio.services import accounts, keys

    store = _store()
    account_id = accounts.account_by_name(store, args.account).account_id if args.account else None
    found = keys.list_keys(store, account_id)
    if args.json:
        print(json.dumps([k.model_dump() for k in found], indent=2))
        return 0
    for k in found:
        state = "revoked" if k.revoked_at else (f"expires {k.expires_at}" if k.expires_at else "active")
        print(f"{k.key_id}  {k.prefix}…  {k.name!r}  {','.join(k.scopes)}  {state}")
    return 0


@_reports_errors
def cmd_keys_revoke(args: argparse.Namespace) -> int:
    from filmstudio.services import keys

    revoked = keys.revoke_key(_store(), args.key)
    print(f"revoked {revoked.prefix}… ({revoked.name})")
    return 0


@_reports_errors
def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from filmstudio.services import keys

    created = keys.rotate_key(_store(), args.key, overlap=timedelta(hours=args.overlap_hours))
    print(created.secret)
    print(f"the old key keeps working for {args.overlap_hours:g} hours; this is the only time the new key is shown",
          file=sys.stderr)
    return 0


@_reports_errors
def cmd_accounts_create(args: argparse.Namespace) -> int:
    from filmstudio.services import accounts

    made = accounts.create_account(_store(), args.name, plan=args.plan, credits=None if args.unlimited else args.credits)
    print(f"{made.account_id}  {made.name}  {made.plan}  credits={made.credit_balance}")
    return 0


@_reports_errors
def cmd_accounts_list(args: argparse.Namespace) -> int:
    from filmstudio.services import accounts

    found = accounts.list_accounts(_store())
    if args.json:
        print(json.dumps([a.model_dump() for a in found], indent=2))
        return 0
    for a in found:
        balance = "unlimited" if a.credit_balance is None else a.credit_balance
        print(f"{a.account_id}  {a.name}  {a.plan}  credits={balance}")
    return 0


@_reports_errors
def cmd_accounts_set_plan(args: argparse.Namespace) -> int:
    from filmstudio.services import accounts, ratelimit

    made = accounts.set_plan(_store(), args.name, args.plan, per_minute=args.per_minute, per_day=args.per_day)
    store = _store()
    from filmstudio.store import accounts as account_rows

    row = account_rows.get_account(store, made.account_id)
    assert row is not None
    limits = ratelimit.limits_for(row)
    print(f"{made.name}: plan {made.plan}, {limits.per_minute or 'unlimited'}/minute, "
          f"{limits.per_day or 'unlimited'}/day")
    return 0


@_reports_errors
def cmd_accounts_grant(args: argparse.Namespace) -> int:
    from filmstudio.services import accounts

    made = accounts.grant(_store(), args.name, args.credits)
    balance = "unlimited" if made.credit_balance is None else made.credit_balance
    print(f"{made.name}: credits={balance}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
