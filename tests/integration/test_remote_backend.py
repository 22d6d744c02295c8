"""RemoteBackend over a real studio server on loopback: projects, conflicts, jobs, files, failures.

Each test starts its own uvicorn (`live_server`) over its own home folder with the file secrets
backend, and drives it only through `RemoteBackend`, as the desktop app on a laptop would.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from filmstudio.config import Settings
from filmstudio.desktop.backend_contract import (
    ProjectConflict,
    StudioIncompatible,
    StudioTlsError,
    StudioUnreachable,
    error_text,
)
from filmstudio.desktop.remote import RemoteBackend
from filmstudio.domain.errors import Unauthorized
from filmstudio.domain.models import JobPublic
from integration.conftest_server import (
    SCRIPT,
    SMALL,
    FakeRenderer,
    LiveServer,
    free_port,
    live_server,
    server_settings,
)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(server_settings(tmp_path / "home", secrets_backend="file")) as live:
        yield live


def remote(live: LiveServer, tmp_path: Path, key: str | None = None, **kw: object) -> RemoteBackend:
    return RemoteBackend(live.base, key or live.new_key(), cache_dir=tmp_path / "cache", **kw)  # type: ignore[arg-type]


def test_projects_round_trip(served: LiveServer, tmp_path: Path) -> None:
    backend = remote(served, tmp_path)
    try:
        account = backend.connect()
        assert account.name == "alice" and backend.unlimited == (account.credit_balance is None)
        made = backend.create_project("Night lab", SCRIPT, SMALL)
        assert made.title == "Night lab" and made.settings["resolution"] == "320x180"
        assert [p.project_id for p in backend.list_projects()] == [made.project_id]
        assert backend.list_projects(search="lab")[0].project_id == made.project_id
        assert backend.list_projects(search="nothing like it") == []
        saved = backend.save_valid(made.project_id, "Night lab II", SCRIPT + "\n\nDR. REYES\nAgain.", {**SMALL, "fps": 7})
        assert saved.project.title == "Night lab II" and "Again." in saved.project.script
        assert set(saved.problems) == {"fps"} and saved.project.settings["fps"] == 12  # the stored fps stayed
        again = backend.get_project(made.project_id)
        assert again.title == "Night lab II"
        # A second save from the same client goes against the version its first save made.
        assert backend.save_valid(made.project_id, "Night lab III", again.script, SMALL).project.title == "Night lab III"
        copy = backend.duplicate_project(made.project_id)
        assert copy.title == "Night lab III (copy)" and copy.script == again.script
        backend.delete_project(copy.project_id)
        assert [p.project_id for p in backend.list_projects()] == [made.project_id]
        assert backend.project_titles() == {made.project_id: "Night lab III"}
    finally:
        backend.close()


def test_a_second_clients_save_is_a_conflict_that_keeps_the_text(served: LiveServer, tmp_path: Path) -> None:
    key = served.new_key()
    first, second = remote(served, tmp_path / "a", key), remote(served, tmp_path / "b", key)
    try:
        pid = first.create_project("Shared", SCRIPT, SMALL).project_id
        second.get_project(pid)  # both opened it
        first.save_valid(pid, "Shared — first", SCRIPT, SMALL)
        mine = SCRIPT + "\n\nDR. REYES\nMy own line."
        with pytest.raises(ProjectConflict) as caught:
            second.save_valid(pid, "Shared — second", mine, SMALL)
        conflict = caught.value
        assert conflict.code == "PRECONDITION_FAILED" and conflict.http_status == 412
        assert conflict.current is not None and conflict.current.title == "Shared — first"
        assert "changed on the studio" in error_text(conflict)
        stored = first.get_project(pid)
        assert stored.title == "Shared — first" and "My own line." not in stored.script  # nothing overwritten
        # The conflict holds until the second client opens the studio's version again: then it may save over it.
        with pytest.raises(ProjectConflict):
            second.save_valid(pid, "Shared — second", mine, SMALL)
        second.get_project(pid)
        assert second.save_valid(pid, "Shared — second", mine, SMALL).project.title == "Shared — second"
    finally:
        first.close()
        second.close()


def test_wrong_key_refused_port_and_another_version(served: LiveServer, tmp_path: Path) -> None:
    wrong = remote(served, tmp_path, key="fs_not_a_real_key")
    with pytest.raises(Unauthorized) as caught:
        wrong.connect()
    assert caught.value.code == "STUDIO_KEY_REFUSED" and "refused the API key" in error_text(caught.value)
    with pytest.raises(Unauthorized):
        wrong.list_projects()  # every call checks the connection first
    wrong.close()

    nobody = RemoteBackend(f"http://127.0.0.1:{free_port()}", "fs_x", cache_dir=tmp_path / "c2",
                           sleep=lambda _s: None)
    notices: list[str] = []
    nobody.set_notice_handler(notices.append)
    with pytest.raises(StudioUnreachable) as refused:
        nobody.connect()
    assert refused.value.code == "STUDIO_UNREACHABLE" and "Nothing answers" in error_text(refused.value)
    assert "reconnecting to the studio…" in notices  # the GET was retried before giving up
    nobody.close()


def test_a_server_of_another_major_version_is_refused(served: LiveServer, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from filmstudio.desktop import remote as remote_module

    monkeypatch.setattr(remote_module, "APP_VERSION", "7.0.0")  # this app, as if it were far newer than the studio
    backend = remote(served, tmp_path)
    with pytest.raises(StudioIncompatible) as caught:
        backend.connect()
    assert caught.value.code == "STUDIO_VERSION_MISMATCH" and "update the older" in error_text(caught.value)
    backend.close()


def _follow(backend: RemoteBackend, job_id: str) -> tuple[JobPublic, list[JobPublic], list[str]]:
    seen: list[JobPublic] = []
    notices: list[str] = []
    backend.set_notice_handler(notices.append)
    final = backend.follow_job(job_id, seen.append)
    return final, seen, notices


@pytest.mark.parametrize("events", [True, False], ids=["sse", "polling"])
def test_generate_and_follow_then_download_the_film(tmp_path: Path, events: bool) -> None:
    settings = server_settings(tmp_path / "home", secrets_backend="file")
    with live_server(settings, FakeRenderer(step_seconds=0.3)) as live:
        backend = remote(live, tmp_path, use_events=events)
        try:
            pid = backend.create_project("Rendered", SCRIPT, SMALL).project_id
            accepted = backend.generate(pid)
            final, seen, _ = _follow(backend, accepted.job_id)
            assert final.status == "completed", final
            assert len({j.progress for j in seen}) >= 3 and seen[-1].status == "completed"
            assert [j.progress for j in seen] == sorted(j.progress for j in seen)
            # The render moved the project's version (status, films); the text is as this client saw it,
            # so its next save is no conflict.
            assert backend.save_valid(pid, "Rendered, retitled", SCRIPT, SMALL).project.title == "Rendered, retitled"
            files = backend.film_files(pid)
            assert files.has_film and files.video is None and files.video_url is not None
            assert files.thumbnail is not None and files.thumbnail.read_bytes()[:2] == b"\xff\xd8"
            target = tmp_path / "out" / "film.mp4"
            target.parent.mkdir()
            backend.export_film(pid, target)
            probe = json.loads(subprocess.run(
                ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", str(target)],
                capture_output=True, text=True, check=True).stdout)
            assert {s["codec_type"] for s in probe["streams"]} == {"video", "audio"}
            assert probe["streams"][0]["width"] == 320
        finally:
            backend.close()


def test_export_resumes_after_an_interruption(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from filmstudio.desktop import remote_http

    settings = server_settings(tmp_path / "home", secrets_backend="file")
    with live_server(settings) as live:
        backend = remote(live, tmp_path)
        try:
            project = backend.create_project("Resumed", SCRIPT, SMALL)
            assert backend.follow_job(backend.generate(project.project_id).job_id, lambda _j: None).status == "completed"
            served_file = next(live.parts.studio.media_dir.rglob("*.mp4"))
            target = tmp_path / "film.mp4"
            part = target.with_name("film.mp4.part")
            monkeypatch.setattr(remote_http, "CHUNK", 4096)  # many chunks from a small test film

            class Dropped(Exception):
                pass

            def drop(done: int, _total: int | None) -> None:
                if done >= 8192:
                    raise Dropped  # the laptop's export stops mid-file (the app quit, the Wi-Fi went)

            with pytest.raises(Dropped):
                backend.export_film(project.project_id, target, drop)
            kept = part.stat().st_size
            assert 0 < kept < served_file.stat().st_size and not target.exists()
            resumed: list[tuple[int, int | None]] = []
            backend.export_film(project.project_id, target, lambda done, total: resumed.append((done, total)))
            assert resumed[0] == (kept, served_file.stat().st_size)  # it went on from the kept bytes
            assert target.read_bytes() == served_file.read_bytes() and not part.exists()
        finally:
            backend.close()


def _self_signed(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a certificate it signed for 127.0.0.1 (cryptography): (ca.pem, cert.pem, key.pem)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test studio CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


@contextmanager
def tls_server(settings: Settings, cert: Path, key: Path) -> Iterator[LiveServer]:
    """The studio's app served over TLS by uvicorn on loopback (as behind `uvicorn --ssl-certfile`)."""
    import threading

    import uvicorn

    from filmstudio.app.compose import build_server

    parts = build_server(settings, renderer=FakeRenderer())
    config = uvicorn.Config(parts.app, host="127.0.0.1", port=settings.port, log_level="warning",
                            ssl_certfile=str(cert), ssl_keyfile=str(key))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the TLS server did not start")
            time.sleep(0.05)
        yield LiveServer(parts, f"https://127.0.0.1:{settings.port}")
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def test_tls_without_the_studios_ca_fails_and_with_it_works(tmp_path: Path) -> None:
    ca, cert, key = _self_signed(tmp_path)
    with tls_server(server_settings(tmp_path / "home", secrets_backend="file"), cert, key) as live:
        secret = live.new_key()
        untrusting = RemoteBackend(live.base, secret, cache_dir=tmp_path / "c1")
        with pytest.raises(StudioTlsError) as caught:
            untrusting.connect()
        assert caught.value.code == "STUDIO_TLS_ERROR" and "CA file" in error_text(caught.value)
        untrusting.close()
        trusting = RemoteBackend(live.base, secret, ca_file=ca, cache_dir=tmp_path / "c2")
        try:
            assert trusting.connect().name == "alice"
            assert trusting.create_project("Over TLS", SCRIPT, SMALL).title == "Over TLS"
        finally:
            trusting.close()
    with pytest.raises(StudioTlsError) as bad_ca:
        RemoteBackend("https://127.0.0.1:1", "fs_x", ca_file=tmp_path / "key.pem", cache_dir=tmp_path / "c3")
    assert bad_ca.value.code == "STUDIO_CA_FILE_INVALID"
