"""File -> Connect to a studio…: each way a connection fails has its message, and the app stays local."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from filmstudio.app.embedded import EmbeddedApi, next_free_port
from filmstudio.desktop.app import app_settings, build_session
from filmstudio.desktop.backend import Backend
from filmstudio.desktop.backend_contract import StudioTlsError
from filmstudio.desktop.connect import check_studio
from filmstudio.desktop.studio_session import StudioSession
from filmstudio.desktop.studios import LOCAL, StudioKeys
from filmstudio.services.secrets import MemorySecrets
from gui.conftest import SCRIPT, SMALL
from gui.studio_server import StudioServer, free_port, studio_server  # noqa: F401  (the fixture)


@dataclass
class Studios:
    session: StudioSession
    local: Backend
    api: EmbeddedApi
    data_dir: Path


def make_session(qtbot, tmp_path: Path, open_remote=None) -> tuple[StudioSession, Backend, EmbeddedApi]:  # type: ignore[no-untyped-def]
    from filmstudio.config import Settings

    settings = Settings.model_validate({
        "home": tmp_path / "studio", "port": next_free_port("127.0.0.1", 20000 + os.getpid() % 20000),
        "workers": 0, "secrets_backend": "file"})
    api = EmbeddedApi(settings, secrets=MemorySecrets())
    api.start()
    local = Backend(api.studio, api, api.engines)
    keys = StudioKeys("file", tmp_path / "client" / "studio-keys.json")
    session = build_session(local, app_settings(tmp_path / "app.ini"), data_dir=tmp_path / "client", keys=keys,
                            open_remote=open_remote)
    # Not qtbot.addWidget: a switch deletes the windows it replaced; the fixture closes the last one.
    session.window.ask_unsaved = lambda _text: QMessageBox.StandardButton.Discard  # type: ignore[method-assign]
    session.window.show()
    return session, local, api


@pytest.fixture
def studios(qtbot, tmp_path: Path) -> Iterator[Studios]:  # type: ignore[no-untyped-def]
    session, local, api = make_session(qtbot, tmp_path)
    try:
        yield Studios(session, local, api, tmp_path / "client")
    finally:
        session.window.close()
        session.tasks.shutdown()
        session.close()
        api.stop(finish_jobs=False, timeout=5)
        local.close()


def _connect(qtbot, studios: Studios, url: str, key: str, ca_file: str = "") -> str:  # type: ignore[no-untyped-def]
    dialog = studios.session.connect_dialog()
    dialog.url.setText(url)
    dialog.key.setText(key)
    dialog.ca_file.setText(ca_file)
    dialog.connect_button.click()
    qtbot.waitUntil(lambda: dialog.connect_button.isEnabled() and dialog.message.text() != "Checking the studio…",
                    timeout=30_000)
    return dialog.message.text()


def _still_local(qtbot, studios: Studios) -> None:  # type: ignore[no-untyped-def]
    """After a failed connect: the window, title and status line are this computer's, and work."""
    session = studios.session
    assert session.url == LOCAL and session.backend is studios.local
    assert session.window.windowTitle() == "FilmStudio — This computer"
    assert session.window.studio_label.text() == "This computer"
    assert session.recent.all() == []
    made = studios.local.create_project("Still here", SCRIPT, SMALL)
    session.window.projects.refresh()
    qtbot.waitUntil(lambda: made.project_id in [p.project_id for p in session.window.projects.projects],
                    timeout=10_000)


def test_a_wrong_key_is_refused_in_words(qtbot, studios: Studios, studio_server: StudioServer) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    text = _connect(qtbot, studios, studio_server.url, "fs_live_not-a-real-key")
    assert "refused this API key" in text and "127.0.0.1" in text
    assert studios.session.dialog is not None and studios.session.dialog.isVisible()  # the user can fix it
    assert "STUDIO_KEY_REFUSED" in studios.session.dialog.message.toolTip()
    assert studios.session.keys.get(studio_server.url) is None  # a refused key is never kept
    _still_local(qtbot, studios)


def test_a_refused_port_says_nothing_answers(qtbot, studios: Studios) -> None:  # type: ignore[no-untyped-def]
    port = free_port()  # bound and released: nothing listens there
    text = _connect(qtbot, studios, f"http://127.0.0.1:{port}", "fs_live_whatever")
    assert text.startswith(f"Nothing answers at http://127.0.0.1:{port}")
    assert "STUDIO_UNREACHABLE" in studios.session.dialog.message.toolTip()  # type: ignore[union-attr]
    _still_local(qtbot, studios)


def test_tls_to_a_plain_http_studio_is_a_tls_error(qtbot, studios: Studios, studio_server: StudioServer) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    text = _connect(qtbot, studios, studio_server.url.replace("http://", "https://"), studio_server.key)
    assert text.startswith("TLS error with 127.0.0.1") and "use http://" in text
    _still_local(qtbot, studios)


class _FakeStudio(BaseHTTPRequestHandler):
    """Answers /health and /api/v1/account like a studio of `version`."""

    version = "9.9.0"

    def do_GET(self) -> None:
        body = {"status": "ok", "version": self.version, "schema_version": 1, "queue": "x"} \
            if self.path == "/health" else {"name": "carol", "plan": "pro", "credit_balance": 7}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        return


def _serve(handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_studio_of_another_version_is_named(qtbot, studios: Studios) -> None:  # type: ignore[no-untyped-def]
    server = _serve(_FakeStudio)
    try:
        text = _connect(qtbot, studios, f"http://127.0.0.1:{server.server_port}", "fs_live_x")
    finally:
        server.shutdown()
    assert "runs FilmStudio 9.9.0 and this app is" in text
    assert "STUDIO_VERSION_MISMATCH" in studios.session.dialog.message.toolTip()  # type: ignore[union-attr]
    _still_local(qtbot, studios)


def test_a_self_signed_studio_needs_its_ca_file(tmp_path: Path) -> None:
    """Untrusted certificate: a TLS error naming the CA file; with the studio's CA file it connects."""
    import filmstudio

    cert, key = tmp_path / "studio.pem", tmp_path / "studio.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)

    class SameVersion(_FakeStudio):
        version = filmstudio.__version__

    server = _serve(SameVersion, tls)
    url = f"https://127.0.0.1:{server.server_port}"
    try:
        with pytest.raises(StudioTlsError) as caught:
            check_studio(url, "fs_live_x")
        assert caught.value.code == "STUDIO_TLS_ERROR" and "CA file" in caught.value.message
        passed = check_studio(url, "fs_live_x", cert)
    finally:
        server.shutdown()
    assert (passed.url, passed.account, passed.plan, passed.credits) == (url, "carol", "pro", 7)
    assert passed.summary == "carol · pro plan · 7 credits"
    with pytest.raises(StudioTlsError) as bad_ca:
        check_studio(url, "fs_live_x", tmp_path / "studio.key")  # not a certificate
    assert bad_ca.value.code == "STUDIO_CA_FILE_INVALID"


def test_a_good_key_passes_the_check(studio_server: StudioServer) -> None:  # noqa: F811
    check = check_studio(studio_server.url + "/api/v1/", studio_server.key)
    assert check.url == studio_server.url
    assert (check.account, check.plan, check.credits) == ("alice", "enterprise", 500)
