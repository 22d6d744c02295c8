"""A local stand-in for YouTube over TLS (its own throwaway CA): OAuth, channels, resumable uploads, thumbnails, captions.

What it implements is what FilmStudio calls, as Google documents it:
- OAuth: `GET /o/oauth2/auth` redirects to `redirect_uri?code=...&state=...` (PKCE S256 checked at the
  token endpoint); `POST /token` for `authorization_code` and `refresh_token` grants (a revoked refresh
  token answers `400 invalid_grant`, as Google does).
- `GET /youtube/v3/channels?mine=true`.
- `POST /upload/youtube/v3/videos?uploadType=resumable` -> `200` + `Location` (the session URI);
  `PUT` chunks with `Content-Range: bytes a-b/SIZE` -> `308` + `Range: bytes=0-N` until the last ->
  `200` + the video resource; an empty `PUT` with `Content-Range: bytes */SIZE` asks how much arrived.
- `POST /upload/youtube/v3/thumbnails/set` (media) and `POST /upload/youtube/v3/captions` (multipart).

Google's metadata rules, enforced at the session start as YouTube does (400 and its reason):
`invalidTitle` (none, over 100 characters, `<` or `>`), `invalidDescription` (over 5,000 UTF-8 bytes,
`<` or `>`), `invalidTags` (over 500 characters counted Google's way: commas between tags, quotes
around a tag with a space). `upload_limit_exceeded` answers 400 `uploadLimitExceeded` (as Google does).

Misbehaviour on purpose: `failures[route]` statuses answered first (a 5xx burst), `cut_after`
(drop the connection after N bytes of one chunk), `stall_after` (hang once N upload bytes arrived,
so a worker can be killed mid-chunk), `quota_exceeded`, `thumbnails_forbidden` (an unverified
channel), `expire_sessions()`, `revoke()`. `bytes_received` counts every upload byte that arrived.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import json
import re
import secrets
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

CHANNEL_ID = "UCfakeFilmStudioChannel01"
CHANNEL_TITLE = "Reyes Films"


def make_ca(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1/localhost: (ca.pem, cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "FilmStudio test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


@dataclass
class Session:
    size: int
    metadata: dict[str, Any]
    data: bytearray = field(default_factory=bytearray)
    video_id: str | None = None
    expired: bool = False


@dataclass
class FakeYouTube:
    """start() binds 127.0.0.1 on a free port with TLS; `ca` is the bundle clients must trust."""

    folder: Path
    failures: dict[str, list[int]] = field(default_factory=dict)  # route -> statuses to answer first
    cut_after: int | None = None  # drop the connection after this many bytes of the next chunk (once)
    stall_after: int | None = None  # hang once this many upload bytes arrived in all (once)
    quota_exceeded: bool = False
    upload_limit_exceeded: bool = False  # the channel's daily uploads are used up: a 400, as Google sends it
    thumbnails_forbidden: bool = False
    chunk_delay: float = 0.0  # seconds before answering each chunk (a slow line)
    reject: tuple[str, str] | None = None  # (reason, message) for the next session start: a 400 like YouTube's
    sessions: dict[str, Session] = field(default_factory=dict)
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)
    thumbnails: dict[str, bytes] = field(default_factory=dict)
    captions: dict[str, dict[str, str]] = field(default_factory=dict)  # video id -> language -> SRT
    bytes_received: int = 0
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, content-range)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)  # code -> its redirect and PKCE challenge
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    released: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def __post_init__(self) -> None:
        self.ca, self.cert, self.key = make_ca(self.folder)

    @property
    def root(self) -> str:
        assert self._server is not None
        return f"https://127.0.0.1:{self._server.server_address[1]}/"

    def client_secrets(self, path: Path) -> Path:
        """A Desktop-app client_secrets.json whose auth_uri/token_uri point here."""
        path.write_text(json.dumps({"installed": {
            "client_id": "test-client.apps.googleusercontent.com", "client_secret": "test-secret",
            "auth_uri": f"{self.root}o/oauth2/auth", "token_uri": f"{self.root}token",
            "redirect_uris": ["http://localhost"]}}))
        return path

    def start(self) -> FakeYouTube:
        fake = self

        class Handler(_Handler):
            yt = fake

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeYouTube:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def revoke(self) -> None:
        """The user removed the app's access (or the token expired): refreshes now fail with invalid_grant."""
        with self.lock:
            self.refresh_tokens.clear()
            self.access_tokens.clear()

    def expire_access_tokens(self) -> None:
        """Access tokens last an hour: the next call answers 401 and the client must refresh."""
        with self.lock:
            self.access_tokens.clear()

    def expire_sessions(self) -> None:
        with self.lock:
            for s in self.sessions.values():
                s.expired = True

    def grant(self) -> str:
        """A refresh token as if the user had connected (for tests that skip the browser)."""
        token = "1//refresh-" + secrets.token_urlsafe(12)
        with self.lock:
            self.refresh_tokens.add(token)
        return token

    def take_failure(self, route: str) -> int | None:
        with self.lock:
            queue = self.failures.get(route) or []
            return queue.pop(0) if queue else None


def google_tags_length(tags: list[str]) -> int:
    """Google's count: each tag, plus 2 for the quotes around a tag with a space, plus the commas."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1)


def metadata_refusal(snippet: dict[str, Any]) -> tuple[str, str] | None:
    """(reason, message) when YouTube's documented rules refuse this snippet, else None."""
    title, text = str(snippet.get("title") or ""), str(snippet.get("description") or "")
    if not title or len(title) > 100 or "<" in title or ">" in title:
        return "invalidTitle", "The request metadata specifies an invalid or empty video title."
    if len(text.encode("utf-8")) > 5000 or "<" in text or ">" in text:
        return "invalidDescription", "The request metadata specifies an invalid video description."
    if google_tags_length(list(snippet.get("tags") or [])) > 500:
        return "invalidTags", "The request metadata specifies invalid video keywords."
    return None


def _error(status: int, reason: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": status, "message": message, "errors": [{"reason": reason, "message": message}]}}


class _Handler(BaseHTTPRequestHandler):
    yt: FakeYouTube
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    # -- plumbing ------------------------------------------------------------------------------

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _authorized(self) -> bool:
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        with self.yt.lock:
            ok = token in self.yt.access_tokens
        if not ok:
            self._send(*_error(401, "authError", "Invalid Credentials"))
        return ok

    def _route(self) -> tuple[str, dict[str, list[str]]]:
        url = urlparse(self.path)
        with self.yt.lock:
            self.yt.requests.append((self.command, url.path, self.headers.get("Content-Range", "")))
        return url.path, parse_qs(url.query)

    # -- verbs ---------------------------------------------------------------------------------

    def do_GET(self) -> None:
        path, q = self._route()
        if path == "/o/oauth2/auth":
            code = "4/code-" + secrets.token_urlsafe(8)
            with self.yt.lock:
                self.yt.codes[code] = {"redirect_uri": q["redirect_uri"][0],
                                       "challenge": q.get("code_challenge", [""])[0]}
            target = q["redirect_uri"][0] + "?" + urlencode({"code": code, "state": q.get("state", [""])[0],
                                                             "scope": " ".join(q.get("scope", [""]))})
            self._send(302, headers={"Location": target})
        elif path == "/youtube/v3/channels":
            if self._authorized():
                self._send(200, {"items": [{"id": CHANNEL_ID, "snippet": {"title": CHANNEL_TITLE}}]})
        else:
            self._send(404, {"error": {"code": 404, "message": "not found"}})

    def do_POST(self) -> None:
        path, q = self._route()
        if path == "/token":
            self._token(parse_qs(self._body().decode()))
            return
        body = self._body()
        if not self._authorized():
            return
        route = {"/upload/youtube/v3/videos": "start", "/upload/youtube/v3/thumbnails/set": "thumbnail",
                 "/upload/youtube/v3/captions": "captions"}.get(path)
        failure = self.yt.take_failure(route or "")
        if failure is not None:
            self._send(*_error(failure, "backendError", "Backend Error"))
        elif self.yt.quota_exceeded:
            self._send(*_error(403, "quotaExceeded", "The request cannot be completed because you have exceeded "
                                                     "your quota."))
        elif route == "start" and self.yt.upload_limit_exceeded:
            self._send(*_error(400, "uploadLimitExceeded", "The user has exceeded the number of videos they may "
                                                           "upload."))
        elif route == "start" and self.yt.reject is not None:
            self._send(*_error(400, *self.yt.reject))
        elif route == "start":
            meta = json.loads(body or b"{}")
            refused = metadata_refusal(meta.get("snippet", {}))
            if refused is not None:
                self._send(*_error(400, *refused))
                return
            upload_id = secrets.token_urlsafe(12)
            with self.yt.lock:
                self.yt.sessions[upload_id] = Session(int(self.headers["X-Upload-Content-Length"]), meta)
            self._send(200, headers={"Location": f"{self.yt.root}upload/youtube/v3/videos?uploadType=resumable"
                                                 f"&upload_id={upload_id}"})
        elif route == "thumbnail":
            if self.yt.thumbnails_forbidden:
                self._send(*_error(403, "forbidden", "The authenticated user doesn't have permissions to upload "
                                                     "and set custom video thumbnails."))
                return
            self.yt.thumbnails[q["videoId"][0]] = body
            self._send(200, {"kind": "youtube#thumbnailSetResponse", "items": [{"default": {"url": "x"}}]})
        elif route == "captions":
            snippet, srt = _multipart(self.headers.get("Content-Type", ""), body)
            lang = snippet["snippet"]["language"]
            self.yt.captions.setdefault(snippet["snippet"]["videoId"], {})[lang] = srt.decode()
            self._send(200, {"kind": "youtube#caption", "id": f"cap-{lang}", "snippet": snippet["snippet"]})
        else:
            self._send(404, {"error": {"code": 404, "message": "not found"}})

    def do_PUT(self) -> None:
        path, q = self._route()
        session = self.yt.sessions.get(q.get("upload_id", [""])[0])
        length = int(self.headers.get("Content-Length") or 0)
        if path != "/upload/youtube/v3/videos" or session is None or session.expired:
            self.rfile.read(length)
            self._send(404, {"error": {"code": 404, "message": "Not Found"}})
            return
        if not self._authorized():
            self.rfile.read(length)
            return
        span = self.headers.get("Content-Range", "")
        if span.startswith("bytes */"):
            self._status(session)
            return
        m = re.match(r"bytes (\d+)-(\d+)/(\d+)", span)
        assert m, span
        start = int(m.group(1))
        got = self._read_chunk(length)
        if got is None:
            return  # the connection was cut on purpose
        time.sleep(self.yt.chunk_delay)
        failure = self.yt.take_failure("put")
        if failure is not None:
            self._send(*_error(failure, "backendError", "Backend Error"))
            return
        with self.yt.lock:
            if start <= len(session.data):
                del session.data[start:]
                session.data += got
        self._status(session)

    def _read_chunk(self, length: int) -> bytes | None:
        out = bytearray()
        while len(out) < length:
            with self.yt.lock:
                cut, stall = self.yt.cut_after, self.yt.stall_after
                if cut is not None and len(out) >= cut:
                    self.yt.cut_after = None
            if cut is not None and len(out) >= cut:
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return None
            if stall is not None and self.yt.bytes_received >= stall:
                self.yt.stall_after = None
                self.yt.released.wait(120)  # the worker is killed meanwhile; nothing of this chunk is kept
                self.close_connection = True
                return None
            piece = self.rfile.read(min(64 * 1024, length - len(out),
                                        *([cut - len(out)] if cut is not None and cut > len(out) else [])))
            if not piece:
                return None
            out += piece
            with self.yt.lock:
                self.yt.bytes_received += len(piece)
        return bytes(out)

    def _status(self, session: Session) -> None:
        if len(session.data) >= session.size:
            if session.video_id is None:
                session.video_id = "vid" + secrets.token_hex(4)
                meta = session.metadata
                self.yt.videos[session.video_id] = {
                    "kind": "youtube#video", "id": session.video_id, "snippet": meta.get("snippet", {}),
                    "status": {**meta.get("status", {}), "uploadStatus": "uploaded"},
                    "sha256": hashlib.sha256(session.data).hexdigest(), "size": len(session.data),
                }
            self._send(200, self.yt.videos[session.video_id])
            return
        headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
        self._send(308, headers={**headers, "X-GUploader-UploadID": "x"})

    def _token(self, form: dict[str, list[str]]) -> None:
        grant = form.get("grant_type", [""])[0]
        yt = self.yt
        if grant == "authorization_code":
            found = yt.codes.pop(form.get("code", [""])[0], None)
            verifier = form.get("code_verifier", [""])[0]
            expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if found is None or not found["challenge"] or expected != found["challenge"]:
                self._send(400, {"error": "invalid_grant", "error_description": "Bad code or PKCE verifier"})
                return
            refresh = yt.grant()
        elif grant == "refresh_token":
            refresh = form.get("refresh_token", [""])[0]
            with yt.lock:
                known = refresh in yt.refresh_tokens
            if not known:
                self._send(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
                return
        else:
            self._send(400, {"error": "unsupported_grant_type"})
            return
        access = "ya29." + secrets.token_urlsafe(16)
        with yt.lock:
            yt.access_tokens.add(access)
        body = {"access_token": access, "expires_in": 3599, "token_type": "Bearer",
                "scope": "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.force-ssl"}
        if grant == "authorization_code":
            body["refresh_token"] = refresh
        self._send(200, body)


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], bytes]:
    """The JSON part and the media part of a multipart/related upload."""
    boundary = content_type.split("boundary=")[1].strip('"')
    parts = [p for p in body.split(b"--" + boundary.encode()) if p.strip() not in (b"", b"--")]
    decoded = []
    for part in parts:
        _, _, content = part.partition(b"\r\n\r\n")
        if not content:
            _, _, content = part.partition(b"\n\n")
        decoded.append(content.rstrip(b"\r\n"))
    return json.loads(decoded[0]), decoded[1]


def wait_for(check: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met")
        time.sleep(0.05)
