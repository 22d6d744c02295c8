"""The YouTube API as we call it: credentials from the keyring, a client on the configured root, error codes."""

from __future__ import annotations

import json
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from filmstudio.domain.errors import (
    FilmStudioError,
    NotFound,
    YouTubeAuthExpired,
    YouTubeNotConnected,
    YouTubeQuotaExceeded,
    YouTubeUploadRejected,
)
from filmstudio.services.studio import Studio
from filmstudio.store import channels as channel_rows

SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.force-ssl",  # captions.insert needs it
)
PACIFIC = ZoneInfo("America/Los_Angeles")
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded"})


def secret_key(channel_id: str) -> str:
    """The keyring entry of a channel's refresh token (with its OAuth client's secret)."""
    return f"youtube:{channel_id}"


@dataclass(frozen=True)
class Endpoint:
    """Where the API lives (Google, a proxy, the tests' fake) and the CA bundle to trust for it."""

    root: str
    ca_bundle: Path | None = None

    @classmethod
    def of(cls, studio: Studio) -> Endpoint:
        root = studio.settings.youtube_api_endpoint
        return cls(root if root.endswith("/") else root + "/", studio.settings.youtube_ca_bundle)

    @property
    def verify(self) -> str | bool:
        """For requests (the OAuth token endpoint)."""
        return str(self.ca_bundle) if self.ca_bundle else True

    def ssl_context(self) -> ssl.SSLContext:
        """For httpx (the upload)."""
        return ssl.create_default_context(cafile=str(self.ca_bundle) if self.ca_bundle else None)

    def session(self) -> Any:
        """A requests session that trusts our CA bundle even when REQUESTS_CA_BUNDLE names another."""
        import requests

        verify = self.verify

        class Session(requests.Session):
            def merge_environment_settings(self, *args: Any, **kw: Any) -> Any:
                merged = super().merge_environment_settings(*args, **kw)
                if verify is not True:
                    merged["verify"] = verify
                return merged

        return Session()


def channel_for(studio: Studio, account_id: str, channel_id: str | None = None) -> dict[str, Any]:
    """The channel this account publishes to: the one named, else its own (or a shared one) connected last.

    Only channels the account connected or an admin shared with it count: another account's channel is
    YOUTUBE_CHANNEL_NOT_FOUND (404, as if it did not exist), none at all is YOUTUBE_NOT_CONNECTED.
    """
    found = channel_rows.channels_for(studio.store, account_id)
    if channel_id:
        named = [c for c in found if c["channel_id"] == channel_id]
        if not named:
            raise NotFound(f"no YouTube channel {channel_id} is connected for this account",
                           code="YOUTUBE_CHANNEL_NOT_FOUND", details={"channel_id": channel_id})
        return named[0]
    if not found:
        raise YouTubeNotConnected(
            "no YouTube channel is connected for this account; run `filmstudio youtube connect --client-secrets "
            "client_secrets.json` (or ask an admin to share a studio channel: `filmstudio youtube share`)",
        )
    return found[-1]  # its own channels come after the shared ones: the last one it connected


def credentials(studio: Studio, channel: dict[str, Any]) -> Any:
    """OAuth credentials for a channel, from its keyring entry (refreshed on first use)."""
    from google.oauth2.credentials import Credentials

    stored = studio.secrets.get(secret_key(channel["channel_id"]))
    if not stored:
        raise YouTubeNotConnected(f"the channel {channel['title']} has no saved login on this machine; connect it again")
    secret = json.loads(stored)
    return Credentials(
        token=None, refresh_token=secret["refresh_token"], token_uri=channel["token_uri"],
        client_id=channel["client_id"], client_secret=secret.get("client_secret"),
        scopes=json.loads(channel["scopes"] or "[]") or list(SCOPES),
    )


def refresh(creds: Any, endpoint: Endpoint) -> str:
    """A fresh access token; YOUTUBE_AUTH_EXPIRED when Google says the refresh token is no good."""
    import google.auth.exceptions
    from google.auth.transport.requests import Request

    try:
        creds.refresh(Request(endpoint.session()))
    except google.auth.exceptions.RefreshError as exc:
        raise YouTubeAuthExpired(
            "YouTube no longer accepts this channel's login (revoked or expired); run "
            "`filmstudio youtube connect` again", details={"reason": str(exc.args[0]) if exc.args else ""},
        ) from exc
    except google.auth.exceptions.TransportError as exc:
        from filmstudio.domain.errors import YouTubeUnavailable

        raise YouTubeUnavailable(f"could not reach Google's token endpoint: {exc}") from exc
    token: str = creds.token
    return token


def api(creds: Any, endpoint: Endpoint) -> Any:
    """The YouTube Data API v3 client from the discovery document shipped in the package (no fetch)."""
    import google_auth_httplib2
    import httplib2
    from googleapiclient import discovery, discovery_cache

    doc = json.loads(discovery_cache.get_static_doc("youtube", "v3") or "{}")
    # Media uploads are built from rootUrl (client_options.api_endpoint only moves the JSON methods).
    doc["rootUrl"] = endpoint.root
    doc["baseUrl"] = endpoint.root + doc.get("servicePath", "youtube/v3/")
    http = httplib2.Http(ca_certs=str(endpoint.ca_bundle) if endpoint.ca_bundle else None, timeout=60)
    http.redirect_codes = http.redirect_codes - {308}  # 308 is "resume incomplete" here (as build_http does)
    authed = google_auth_httplib2.AuthorizedHttp(creds, http=http)
    return discovery.build_from_document(doc, http=authed)


def quota_resets_at(now: datetime | None = None) -> str:
    """When the daily YouTube quota resets: the next midnight, Pacific time (ISO 8601 with offset)."""
    here = (now or datetime.now(PACIFIC)).astimezone(PACIFIC)
    midnight = (here + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.isoformat()


def reasons(content: bytes | str) -> tuple[list[str], str]:
    """YouTube's error reasons and message from an error body."""
    try:
        err = json.loads(content or b"{}").get("error", {})
    except (ValueError, AttributeError):
        return [], content.decode(errors="replace")[:300] if isinstance(content, bytes) else str(content)[:300]
    found = [e.get("reason", "") for e in err.get("errors", []) if isinstance(e, dict)]
    return found, str(err.get("message", ""))


def error_for(status: int, content: bytes | str, *, action: str) -> FilmStudioError:
    """A stable-code error for a refused call (4xx); 5xx is the caller's to retry."""
    why, message = reasons(content)
    if status in (400, 403, 429) and QUOTA_REASONS & set(why):  # uploadLimitExceeded comes as a 400
        return YouTubeQuotaExceeded(
            f"the YouTube API quota of your Google Cloud project is used up ({action}); it resets at "
            "midnight Pacific time", details={"resets_at": quota_resets_at(), "reason": why[0] if why else ""},
        )
    if status == 401:
        return YouTubeAuthExpired("YouTube refused the channel's login; run `filmstudio youtube connect` again",
                                  details={"reason": message})
    return YouTubeUploadRejected(f"YouTube refused {action}: {message or status}",
                                 details={"status": status, "reason": why[0] if why else "", "message": message})
