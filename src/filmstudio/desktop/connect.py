"""File -> Connect to a studio…: the dialog, and the check it makes before the app switches studios.

`check_studio` asks the server two things over its public API: `/health` (is it FilmStudio, and of
this app's version) and `/api/v1/account` (does it take this key; whose account, plan and credits).
Each way it can fail has its own stable code and a message that says what to do
(`STUDIO_KEY_REFUSED`, `STUDIO_UNREACHABLE`, `STUDIO_TLS_ERROR`, `STUDIO_VERSION_MISMATCH`, ...). The
dialog runs the check on the task pool and only accepts once it passed, so a failure leaves the
app where it was (on this computer's studio).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

import filmstudio
from filmstudio.desktop.backend_contract import (
    StudioIncompatible,
    StudioTlsError,
    StudioUnreachable,
    error_code,
    error_text,
)
from filmstudio.desktop.studios import normalize_url, studio_name
from filmstudio.desktop.tasks import TaskRunner
from filmstudio.domain.errors import BadRequest, Forbidden, Unauthorized

CHECK_TIMEOUT_S = 10.0

@dataclass(frozen=True)
class StudioCheck:
    """What a passed check learned: the server's version and the key's account."""

    url: str
    version: str
    account: str
    plan: str
    credits: int | None  # None: no credit limit

    @property
    def summary(self) -> str:
        """`alice · pro plan · 120 credits` for the status bar."""
        credits = "unlimited credits" if self.credits is None else \
            f"{self.credits} credit{'' if self.credits == 1 else 's'}"
        return f"{self.account} · {self.plan} plan · {credits}"


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """The system's certificates, or only the studio's own CA file (self-signed studios)."""
    if ca_file is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise StudioTlsError(f"The CA file {ca_file} could not be read as PEM certificates ({exc}).",
                             code="STUDIO_CA_FILE_INVALID", details={"ca_file": str(ca_file)}) from exc


def same_version(server: str, client: str) -> bool:
    """Major and minor must match: the app and the studio then speak the same API and fields."""
    return server.split(".")[:2] == client.split(".")[:2]


def _ssl_reason(exc: BaseException) -> ssl.SSLError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _network_error(url: str, exc: httpx.HTTPError) -> StudioUnreachable | StudioTlsError:
    name = studio_name(url)
    reason = _ssl_reason(exc)
    if reason is not None or "SSL" in str(exc) or "CERTIFICATE" in str(exc):
        text = str(reason or exc)
        if "WRONG_VERSION_NUMBER" in text or "record layer failure" in text:
            hint = "the server there does not speak TLS: if it is a studio on plain HTTP, use http://"
        elif "CERTIFICATE_VERIFY_FAILED" in text:
            hint = ("its certificate is not trusted here: choose the CA file the studio gave you, "
                    "or ask its owner for one")
        else:
            hint = "the secure connection could not be set up"
        return StudioTlsError(f"TLS error with {name}: {hint} ({text}).", details={"url": url})
    if isinstance(exc, httpx.TimeoutException):
        return StudioUnreachable(f"{name} did not answer within {CHECK_TIMEOUT_S:.0f} s: check the address and "
                                 "that the studio's computer is on.", code="STUDIO_TIMEOUT", details={"url": url})
    return StudioUnreachable(f"Nothing answers at {url} (connection refused or no such host): check the address "
                             "and that `filmstudio serve` runs there.", code="STUDIO_UNREACHABLE",
                             details={"url": url, "reason": str(exc)})


def _envelope(response: httpx.Response) -> tuple[str, str]:
    try:
        err = response.json().get("error") or {}
        return str(err.get("code", "")), str(err.get("message", ""))
    except (ValueError, AttributeError):
        return "", ""


def check_studio(url: str, key: str, ca_file: Path | None = None, *, client_version: str | None = None,
                 timeout: float = CHECK_TIMEOUT_S, transport: httpx.BaseTransport | None = None) -> StudioCheck:
    """Check that `url` is a FilmStudio studio of this version that takes `key`.

    Raises StudioUnreachable, StudioTlsError, StudioIncompatible, Unauthorized (STUDIO_KEY_REFUSED) or
    Forbidden, each with a message that says what to do.
    """
    url = normalize_url(url)
    key = key.strip()
    if not key:
        raise BadRequest("Enter the API key the studio's owner gave you (it starts with fs_).",
                         code="STUDIO_KEY_MISSING")
    mine = client_version or filmstudio.__version__
    verify: Any = tls_context(ca_file) if url.startswith("https://") else True
    try:
        with httpx.Client(base_url=url, verify=verify, timeout=timeout, transport=transport,
                          headers={"User-Agent": f"filmstudio-desktop/{mine}"}) as client:
            health = client.get("/health")
            try:
                info = health.json() if health.status_code == 200 else {}
            except ValueError:
                info = {}
            if not isinstance(info, dict) or "version" not in info:
                raise StudioIncompatible(f"{url} answers, but it is not a FilmStudio studio (GET /health gave "
                                         f"HTTP {health.status_code}).", code="STUDIO_NOT_FILMSTUDIO",
                                         details={"url": url, "status": health.status_code})
            theirs = str(info["version"])
            if not same_version(theirs, mine):
                raise StudioIncompatible(
                    f"{studio_name(url)} runs FilmStudio {theirs} and this app is {mine}: install the same "
                    "version on both (the studio's owner can tell you which).",
                    details={"server_version": theirs, "app_version": mine})
            account = client.get("/api/v1/account", headers={"Authorization": f"Bearer {key}"})
    except httpx.HTTPError as exc:
        raise _network_error(url, exc) from exc
    if account.status_code == 401:
        raise Unauthorized(f"{studio_name(url)} refused this API key: check it for typos, or ask the "
                           "studio's owner for a new one (a key is shown only once, when it is made).",
                           code="STUDIO_KEY_REFUSED", details={"url": url})
    if account.status_code == 403:
        _code, message = _envelope(account)
        raise Forbidden(f"{studio_name(url)} knows this key but does not let it in: {message or 'forbidden'}",
                        code="STUDIO_KEY_FORBIDDEN", details={"url": url, "reason": _code})
    if account.status_code == 429:
        wait = account.headers.get("Retry-After", "a few")
        raise StudioUnreachable(f"{studio_name(url)} is rate limiting this key: try again in {wait} s.",
                                code="RATE_LIMITED", details={"retry_after": wait})
    if account.status_code != 200:
        _code, message = _envelope(account)
        raise StudioUnreachable(f"{studio_name(url)} answered HTTP {account.status_code}: {message or 'error'}",
                                code="STUDIO_ERROR", details={"status": account.status_code, "reason": _code})
    body = account.json()
    return StudioCheck(url=url, version=theirs, account=str(body.get("name", "")), plan=str(body.get("plan", "")),
                       credits=body.get("credit_balance"))


@dataclass(frozen=True)
class StudioLogin:
    """What the dialog hands back once the check passed."""

    url: str
    key: str
    ca_file: Path | None
    check: StudioCheck


class ConnectDialog(QDialog):
    """URL, API key and an optional CA file; Connect checks them and accepts only when they work."""

    checked = Signal(object)  # StudioLogin, or the exception the check raised

    def __init__(self, tasks: TaskRunner, *, url: str = "", key: str = "", ca_file: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.setWindowTitle("Connect to a studio")
        self.setObjectName("connectDialog")
        self.login: StudioLogin | None = None
        self.url = QLineEdit(url)
        self.url.setObjectName("studioUrl")
        self.url.setPlaceholderText("https://studio.lan:8765")
        self.key = QLineEdit(key)
        self.key.setObjectName("studioKey")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("fs_live_…")
        self.ca_file = QLineEdit(ca_file)
        self.ca_file.setObjectName("studioCaFile")
        self.ca_file.setPlaceholderText("optional: the studio's CA certificate (PEM)")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_ca)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_file, 1)
        ca_row.addWidget(browse)
        intro = QLabel("Work on a studio's server from this computer. The key is kept in this computer's "
                       "keyring, for this studio only.")
        intro.setWordWrap(True)
        self.message = QLabel("")
        self.message.setObjectName("connectMessage")
        self.message.setWordWrap(True)
        self.message.setMinimumWidth(420)
        form = QFormLayout()
        form.addRow("Studio address", self.url)
        form.addRow("API key", self.key)
        form.addRow("CA file", ca_row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.connect_button = self.buttons.addButton("Connect", QDialogButtonBox.ButtonRole.AcceptRole)
        self.connect_button.setObjectName("connectButton")
        self.connect_button.setDefault(True)
        self.buttons.accepted.connect(self.try_connect)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def _choose_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "The studio's CA certificate", "",
                                              "Certificates (*.pem *.crt *.cer);;All files (*)")
        if path:
            self.ca_file.setText(path)

    def try_connect(self) -> None:
        """Check the studio off the GUI thread; accept on success, say what is wrong otherwise."""
        url, key, ca = self.url.text(), self.key.text(), self.ca_file.text().strip()
        ca_path = Path(ca).expanduser() if ca else None
        self.connect_button.setEnabled(False)
        self.message.setStyleSheet("")
        self.message.setText("Checking the studio…")

        def work() -> StudioLogin:
            check = check_studio(url, key, ca_path)
            return StudioLogin(check.url, key.strip(), ca_path, check)

        self.tasks.run(work, self._passed, self._failed)

    def _passed(self, login: StudioLogin) -> None:
        self.login = login
        self.connect_button.setEnabled(True)
        self.message.setText(f"Connected: {studio_name(login.url)} ({login.check.summary})")
        self.checked.emit(login)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.connect_button.setEnabled(True)
        self.message.setStyleSheet("color: #d04040;")
        self.message.setText(error_text(exc))
        self.message.setToolTip(f"Details: {error_code(exc)}")
        self.checked.emit(exc)
