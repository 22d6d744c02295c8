"""Connecting a YouTube channel: Google's installed-app OAuth flow (loopback redirect, PKCE).

The OAuth client is the user's own (a `client_secrets.json` from their Google Cloud project); its
`auth_uri` and `token_uri` are used as given. The refresh token goes to the OS keyring, never
SQLite and never a log line; `youtube_channels` keeps the channel's name and id.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from filmstudio.domain.errors import BadRequest, NotFound, YouTubeAuthExpired
from filmstudio.services.accounts import account_by_name, list_accounts, owner_account
from filmstudio.services.studio import Studio
from filmstudio.services.youtube.client import SCOPES, Endpoint, api, error_for, secret_key
from filmstudio.store import channels as channel_rows
from filmstudio.store.db import utcnow

# The no-browser form: the browser (maybe on another machine) ends on this address, which does not
# load; the user copies the address (or its `code=`) back. Loopback, so Google accepts it for desktop clients.
NO_BROWSER_REDIRECT = "http://127.0.0.1:1/"


def _flow(client_secrets: Path, endpoint: Endpoint) -> Any:
    from google_auth_oauthlib.flow import InstalledAppFlow

    try:
        flow = InstalledAppFlow.from_client_secrets_file(str(client_secrets), scopes=list(SCOPES))
    except (ValueError, KeyError) as exc:
        raise BadRequest(f"{client_secrets} is not an OAuth client secrets file for a desktop app: {exc}",
                         code="YOUTUBE_CLIENT_SECRETS_INVALID") from exc
    # The token endpoint behind a proxy, or the tests' fake: requests lets REQUESTS_CA_BUNDLE win over a
    # session's own `verify`, so it is passed with the call (run_local_server calls self.fetch_token).
    flow.fetch_token = functools.partial(flow.fetch_token, verify=endpoint.verify)
    return flow


def code_from(answer: str) -> str:
    """The authorization code from what the user pasted: the whole redirect address or just the code."""
    answer = answer.strip()
    if "code=" in answer:
        values = parse_qs(urlparse(answer).query or answer.split("?", 1)[-1]).get("code")
        if values:
            return values[0]
    if not answer:
        raise BadRequest("no authorization code was given", code="YOUTUBE_CONNECT_CANCELLED")
    return answer


def connect(
    studio: Studio, client_secrets: Path, *, open_browser: bool = True, browser: str | None = None,
    read_code: Callable[[str], str] | None = None, account_id: str | None = None,
) -> dict[str, Any]:
    """Run the OAuth flow, save the refresh token in the keyring and the channel row; return the channel.

    The channel belongs to `account_id` (default: the studio's owner account). A channel another account
    connected first stays that account's; this one then gets it shared (it has just signed in to it).

    `open_browser`: a loopback server on a free port catches the redirect. Otherwise `read_code(url)`
    shows the URL and returns what the user pasted back.
    """
    endpoint = Endpoint.of(studio)
    flow = _flow(client_secrets, endpoint)
    if open_browser:
        creds = flow.run_local_server(
            host="127.0.0.1", port=0, open_browser=True, browser=browser, access_type="offline", prompt="consent",
            authorization_prompt_message="If no browser opened, visit:\n{url}",
            success_message="FilmStudio is connected to YouTube. You can close this tab.",
        )
    else:
        if read_code is None:
            raise BadRequest("the no-browser connection needs a way to read the code", code="BAD_REQUEST")
        flow.redirect_uri = NO_BROWSER_REDIRECT
        url, _ = flow.authorization_url(access_type="offline", prompt="consent")
        flow.fetch_token(code=code_from(read_code(url)))
        creds = flow.credentials
    if not creds.refresh_token:
        raise YouTubeAuthExpired("Google sent no refresh token; remove FilmStudio's access at "
                                 "https://myaccount.google.com/permissions and connect again")
    channel = _my_channel(creds, endpoint)
    client = flow.client_config
    studio.secrets.put(secret_key(channel["id"]), json.dumps({
        "refresh_token": creds.refresh_token, "client_secret": client.get("client_secret"),
    }))
    row = {"channel_id": channel["id"], "title": channel["snippet"]["title"], "client_id": client["client_id"],
           "token_uri": client["token_uri"], "scopes": json.dumps(list(creds.scopes or SCOPES)),
           "connected_at": utcnow(), "account_id": account_id or owner_account(studio.store).account_id}
    with studio.store.write() as db:
        channel_rows.upsert_channel(db, row)
        if channel_rows.channel_owner(db, row["channel_id"]) != row["account_id"]:
            channel_rows.share_channel(db, row["channel_id"], row["account_id"])
    return {k: row[k] for k in ("channel_id", "title", "connected_at")}


def _my_channel(creds: Any, endpoint: Endpoint) -> dict[str, Any]:
    from googleapiclient.errors import HttpError

    try:
        found: dict[str, Any] = api(creds, endpoint).channels().list(part="snippet", mine=True).execute(num_retries=3)
    except HttpError as exc:
        raise error_for(exc.resp.status, exc.content, action="reading your channel") from exc
    items = found.get("items") or []
    if not items:
        raise BadRequest("this Google account has no YouTube channel yet; create one at youtube.com first",
                         code="YOUTUBE_NO_CHANNEL")
    item: dict[str, Any] = items[0]
    return item


def status(studio: Studio, account_id: str | None = None) -> list[dict[str, Any]]:
    """Connected channels (an account's own and shared ones; all of them for the machine's operator), each
    with whether its login is still in the keyring (never the token itself) and who may publish to it."""
    found = (channel_rows.list_channels(studio.store) if account_id is None
             else channel_rows.channels_for(studio.store, account_id))
    names = {a.account_id: a.name for a in list_accounts(studio.store)}
    return [
        {"channel_id": c["channel_id"], "title": c["title"], "connected_at": c["connected_at"],
         "login_saved": studio.secrets.get(secret_key(c["channel_id"])) is not None,
         "account": names.get(c["account_id"]),
         "shared_with": [names.get(a, a) for a in channel_rows.shares(studio.store, c["channel_id"])]}
        for c in found
    ]


def disconnect(studio: Studio, channel_id: str | None = None) -> list[str]:
    """Forget one channel (or all): its keyring entry, its row and its shares. Returns the ids removed."""
    gone = [c["channel_id"] for c in channel_rows.list_channels(studio.store)
            if channel_id is None or c["channel_id"] == channel_id]
    for cid in gone:
        studio.secrets.delete(secret_key(cid))
        with studio.store.write() as db:
            channel_rows.delete_channel(db, cid)
    return gone


def share(studio: Studio, channel_id: str, account_name: str, *, undo: bool = False) -> bool:
    """An admin's act: let another account publish to a studio channel (or stop it). True if it changed."""
    channel = channel_rows.get_channel(studio.store, channel_id)
    if channel is None:
        raise NotFound(f"no YouTube channel {channel_id} is connected", code="YOUTUBE_CHANNEL_NOT_FOUND",
                       details={"channel_id": channel_id})
    account = account_by_name(studio.store, account_name)
    if account.account_id == channel["account_id"]:
        return False  # its own channel
    with studio.store.write() as db:
        if undo:
            return channel_rows.unshare_channel(db, channel_id, account.account_id)
        channel_rows.share_channel(db, channel_id, account.account_id)
    return True
