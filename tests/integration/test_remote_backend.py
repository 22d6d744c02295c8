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
from typing import Any

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
from filmstudio.domain.errors import BadRequest, Unauthorized
from filmstudio.domain.models import JobPublic
from integration.conftest_server import (
    SCRIPT,
    SMALL,
    FakeRenderer,
    LiveServer,
    free_port,
    live_server,
    server_settings,
    wait_healthy,
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


def _paths(backend: RemoteBackend) -> list[str]:
    """The path of every request `backend` sends from now on (an httpx event hook)."""
    sent: list[str] = []
    backend.http.client.event_hooks["request"].append(lambda request: sent.append(request.url.path))
    return sent


@pytest.mark.parametrize("events", [True, False], ids=["sse", "polling"])
def test_generate_and_follow_then_download_the_film(tmp_path: Path, events: bool) -> None:
    settings = server_settings(tmp_path / "home", secrets_backend="file")
    with live_server(settings, FakeRenderer(step_seconds=0.3)) as live:
        backend = remote(live, tmp_path, use_events=events)
        try:
            pid = backend.create_project("Rendered", SCRIPT, SMALL).project_id
            accepted = backend.generate(pid)
            sent = _paths(backend)
            final, seen, _ = _follow(backend, accepted.job_id)
            assert final.status == "completed", final
            assert len({j.progress for j in seen}) >= 3 and seen[-1].status == "completed"
            polls = sent.count(f"/api/v1/jobs/{accepted.job_id}")
            if events:  # one look at the job, then its changes arrive over the one events stream
                assert sent.count(f"/api/v1/jobs/{accepted.job_id}/events") == 1 and polls == 1, sent
            else:
                assert f"/api/v1/jobs/{accepted.job_id}/events" not in sent and polls >= 3, sent
            assert [j.progress for j in seen] == sorted(j.progress for j in seen)
            # The render moved the project's version (status, films); the text is as this client saw it,
            # so its next save is no conflict.
            assert backend.save_valid(pid, "Rendered, retitled", SCRIPT, SMALL).project.title == "Rendered, retitled"
            files = backend.film_files(pid)
            assert files.has_film and files.video is None and files.video_url is not None
            # A project list's thumbnails come from the listed projects: no second GET per project.
            backend.list_projects()
            listed = _paths(backend)
            assert backend.film_files(pid, chapters=False).thumbnail == files.thumbnail
            assert f"/api/v1/projects/{pid}" not in listed and len(listed) == 1, listed  # the thumbnail's 304
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


def test_rate_limited_calls_wait_for_retry_after_and_say_so(served: LiveServer, tmp_path: Path) -> None:
    from filmstudio.services import accounts

    store = served.parts.studio.store
    key = served.new_key("bob", plan="standard")
    accounts.set_plan(store, "bob", "enterprise", per_minute=3)
    waits: list[float] = []

    def minute_passes(seconds: float) -> None:  # instead of sleeping: the studio lifts the limit
        waits.append(seconds)
        accounts.set_plan(store, "bob", "enterprise")

    backend = RemoteBackend(served.base, key, cache_dir=tmp_path / "cache", sleep=minute_passes)
    notices: list[str] = []
    backend.set_notice_handler(notices.append)
    try:
        backend.connect()  # health (not counted) and the account: 1 of 3
        pid = backend.create_project("Busy", SCRIPT, SMALL).project_id  # POST and GET: 3 of 3
        assert backend.get_project(pid).title == "Busy"  # the 4th is refused with a 429, waited, sent again
        assert len(waits) == 1 and 1 <= waits[0] <= 60
        assert any(n.startswith("rate limited, waiting ") and n.endswith(" s") for n in notices), notices
        assert notices[-1] == ""  # and all clear once the answer came
    finally:
        backend.close()


@contextmanager
def serving(parts: Any, port: int) -> Iterator[None]:
    """uvicorn on loopback over already built parts, with their worker pool."""
    import threading

    from filmstudio.app.compose import run_server

    holder: dict[str, Any] = {}
    thread = threading.Thread(target=run_server, args=(parts,),
                              kwargs={"on_started": lambda s: holder.setdefault("s", s)}, daemon=True)
    thread.start()
    wait_healthy(f"http://127.0.0.1:{port}", timeout=60)
    try:
        yield
    finally:
        holder["s"].should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Stable Diffusion model (tests/tiny_sd.py), pulled from the fake hub into a model library."""
    from fakehub import FakeHub, model_toml
    from filmstudio.pipeline.models.catalogue import load_catalogue
    from filmstudio.pipeline.models.download import pull
    from filmstudio.pipeline.models.library import ModelLibrary
    from tiny_sd import build_tiny_sd, folder_files

    root = tmp_path_factory.mktemp("tiny-sd")
    files = folder_files(build_tiny_sd(root / "built"))
    catalogue = root / "catalogue.toml"
    catalogue.write_text(model_toml("tiny-sd", "test/tiny-sd", files).replace('kind = "voice"', 'kind = "picture"')
                         .replace('engine = "piper"', 'engine = "diffusers"'), encoding="utf-8")
    with FakeHub(repos={"test/tiny-sd": files}) as hub:
        pull(load_catalogue(catalogue).get("tiny-sd"), ModelLibrary(root / "models"), endpoint=hub.endpoint)
    return root / "models"


@pytest.mark.slow
def test_a_real_render_with_stills_downloaded_once(tmp_path: Path, tiny_models: Path) -> None:
    """The real pipeline (espeak-ng, the tiny picture model, ffmpeg) at 320x180; the storyboard's stills
    come into the cache and are not fetched again while unchanged."""
    import shutil

    from filmstudio.app.compose import build_engines, build_server
    from filmstudio.pipeline.providers.pictures import DiffusersPictures

    settings = server_settings(tmp_path / "home", secrets_backend="file")
    shutil.copytree(tiny_models, settings.models_dir)
    engines = build_engines(jobs=2, models_dir=settings.models_dir, cache_dir=settings.cache_dir)
    assert isinstance(engines.pictures, DiffusersPictures)
    engines.pictures.steps = 2  # the tiny model's two steps
    parts = build_server(settings, engines=engines)
    with serving(parts, settings.port):
        live = LiveServer(parts, f"http://127.0.0.1:{settings.port}")
        backend = remote(live, tmp_path)
        try:
            pid = backend.create_project("Real", SCRIPT, SMALL).project_id
            final, _, _ = _follow(backend, backend.generate(pid).job_id)
            assert final.status == "completed", final.error
            target = tmp_path / "real.mp4"
            backend.export_film(pid, target)
            probe = json.loads(subprocess.run(
                ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(target)],
                capture_output=True, text=True, check=True).stdout)
            video = next(s for s in probe["streams"] if s["codec_type"] == "video")
            assert (video["width"], video["height"]) == (320, 180) and float(probe["format"]["duration"]) > 4
            assert target.with_name("real.en.srt").read_text().startswith("1\n")

            board = backend.storyboard(pid)
            assert board.stills and all(p.read_bytes().startswith(b"\x89PNG") for p in board.stills.values())
            assert all(p.is_relative_to(backend.cache_dir) for p in board.stills.values())
            from PIL import Image

            first = next(iter(board.stills.values()))
            with Image.open(first) as im:
                assert im.size[0] > 0 and len(set(im.convert("L").getdata())) > 4  # a picture, not a flat fill
            stamps = {n: p.stat().st_mtime_ns for n, p in board.stills.items()}
            answers: list[tuple[str, int]] = []
            backend.http.client.event_hooks["response"].append(
                lambda r: answers.append((r.request.url.path, r.status_code)))
            again = backend.storyboard(pid)
            assert {n: p.stat().st_mtime_ns for n, p in again.stills.items()} == stamps
            still_answers = [status for path, status in answers if path.endswith("/still")]
            assert still_answers == [304] * len(stamps), answers  # asked again, nothing sent
            # The editor's audition and script check are the studio's own, over the API.
            check = backend.check_script(SCRIPT, SMALL)
            assert check.fits and check.characters == ("DR. REYES",) and check.voices["DR. REYES"]
            assert backend.check_script("   ", SMALL).error_code == "SCRIPT_EMPTY"
            assert backend.check_script(SCRIPT, {**SMALL, "fps": 7}).error_code == "UNSUPPORTED_FPS"
            import wave

            with wave.open(str(backend.audition(SCRIPT, "DR. REYES", "It finally works.", SMALL))) as w:
                assert w.getnframes() / w.getframerate() > 0.3
            from filmstudio.services.models import hardware

            assert backend.hardware_summary() == hardware().summary()  # the studio machine's, from GET /studio
            assert backend.translation_pairs() == set(engines.translator.pairs())
        finally:
            backend.close()


def _studio_cli(env: dict[str, str], *args: str) -> str:
    import sys

    done = subprocess.run([sys.executable, "-m", "filmstudio", *args], env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    return done.stdout


def _start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    import sys

    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "filmstudio.cli_studio", *args], env=env, stdout=out,
                                stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_the_server_killed_and_restarted_mid_render_reconnects_to_the_finished_job(tmp_path: Path) -> None:
    """`filmstudio serve` (API) and `filmstudio worker` (renders) as a studio runs them; the API is
    SIGKILLed while the client follows a render, and started again: the client says "reconnecting",
    then follows on to the finished film."""
    import os
    import signal
    import threading

    repo = Path(__file__).resolve().parents[2]
    home, port = tmp_path / "home", free_port()
    env = {**os.environ, "FILMSTUDIO_HOME": str(home), "FILMSTUDIO_SECRETS_BACKEND": "file",
           "FILMSTUDIO_PORT": str(port), "FILMSTUDIO_RECONCILE_SECONDS": "0.5",
           "PYTHONPATH": os.pathsep.join([str(repo / "src"), str(repo / "tests"), os.environ.get("PYTHONPATH", "")])}
    env.pop("FILMSTUDIO_ALLOWED_HOSTS", None)
    home.mkdir()
    _studio_cli(env, "accounts", "create", "alice", "--plan", "enterprise", "--credits", "50")
    key = _studio_cli(env, "keys", "create", "--name", "laptop", "--account", "alice").strip().splitlines()[-1]
    log = tmp_path / "studio.log"
    base = f"http://127.0.0.1:{port}"
    procs = {"serve": _start(env, log, "serve", "--workers", "0"),
             "worker": _start(env, log, "worker", "--renderer", "integration.conftest_server:make_slow_renderer")}
    backend: RemoteBackend | None = None
    try:
        wait_healthy(base, timeout=60, alive=lambda: procs["serve"].poll() is None)
        backend = RemoteBackend(base, key, cache_dir=tmp_path / "cache")
        pid = backend.create_project("Restarted", SCRIPT, SMALL).project_id
        job_id = backend.generate(pid).job_id
        seen: list[JobPublic] = []
        notices: list[str] = []
        backend.set_notice_handler(notices.append)
        result: dict[str, object] = {}

        def follow() -> None:
            assert backend is not None
            try:
                result["job"] = backend.follow_job(job_id, seen.append)
            except Exception as exc:  # handed to the test thread
                result["error"] = exc

        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        deadline = time.monotonic() + 60
        while not any(j.status == "processing" and j.progress > 0 for j in seen):
            assert time.monotonic() < deadline and follower.is_alive(), (seen, result)
            time.sleep(0.05)
        procs["serve"].send_signal(signal.SIGKILL)
        procs["serve"].wait(10)
        deadline = time.monotonic() + 30
        while "reconnecting to the studio…" not in notices:
            assert time.monotonic() < deadline, notices
            time.sleep(0.05)
        procs["serve"] = _start(env, log, "serve", "--workers", "0")
        follower.join(timeout=120)
        assert not follower.is_alive() and "error" not in result, result
        final = result["job"]
        assert isinstance(final, JobPublic) and final.status == "completed", (final, log.read_text()[-2000:])
        assert seen[-1].status == "completed" and notices[-1] == ""  # all clear once the studio answered again
        assert backend.film_files(pid).video_url is not None
    finally:
        if backend is not None:
            backend.close()
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)


def _owner(live: LiveServer) -> Any:
    from filmstudio.services import accounts
    from filmstudio.services.keys import Principal

    owner = accounts.owner_account(live.parts.studio.store)
    return Principal(account_id=owner.account_id, key_id="test", scopes=frozenset({"admin"}))


def test_storyboard_edits_a_dropped_picture_webhooks_and_models(served: LiveServer, tmp_path: Path) -> None:
    from PIL import Image

    sample = (Path(__file__).parents[1] / "data" / "samples" / "night-market.fountain").read_text(encoding="utf-8")
    backend = remote(served, tmp_path)
    try:
        pid = backend.create_project("Night", sample, {**SMALL, "duration": 60}).project_id
        view = backend.storyboard(pid)
        shots = view.board["shots"]
        assert len(shots) >= 6 and view.stills == {} and view.replacements == {}  # nothing drawn yet
        redo = backend.regenerate_shot(pid, 2)["shot"]
        assert redo["seed"] != shots[1]["seed"]
        assert backend.regenerate_shot(pid, 4, locked=True)["shot"]["locked"]
        name = view.board["characters"][0]["name"]
        looks = backend.update_character(pid, name, description="a tall woman in a yellow raincoat")
        assert "yellow raincoat" in json.dumps(looks)
        picture = tmp_path / "mine.png"
        Image.new("RGB", (64, 36), (10, 200, 30)).save(picture)
        backend.replace_shot(pid, 5, picture)
        replaced = backend.storyboard(pid).replacements
        assert set(replaced) == {5} and replaced[5].is_relative_to(backend.cache_dir)
        with Image.open(replaced[5]) as im:
            assert im.size == (64, 36) and im.convert("RGB").getpixel((3, 3)) == (10, 200, 30)
        backend.use_generated(pid, 5)
        assert backend.storyboard(pid).replacements == {}
        # Storyboard edits move the project's version; the editor's next save is still no conflict.
        assert backend.save_valid(pid, "Night, retitled", sample, {**SMALL, "duration": 60}).project.title \
            == "Night, retitled"

        hook = backend.create_webhook("https://example.com/hooks/film", ["job.completed"])
        assert hook.secret and [w.webhook_id for w in backend.list_webhooks()] == [hook.webhook_id]
        backend.delete_webhook(hook.webhook_id)
        assert backend.list_webhooks() == []
        from filmstudio.services import models

        assert [m.id for m in backend.list_models()] == [m.id for m in models.list_models(
            served.parts.studio, _owner(served))]  # the studio's catalogue, as it judges it
        assert backend.youtube_channels() == []
        with pytest.raises(BadRequest) as keys_refused:
            backend.list_keys()
        assert "filmstudio keys create" in error_text(keys_refused.value)
    finally:
        backend.close()


def test_a_render_cancelled_from_the_laptop_ends_followed_and_refunded(tmp_path: Path) -> None:
    settings = server_settings(tmp_path / "home", secrets_backend="file")
    with live_server(settings, FakeRenderer(step_seconds=0.5)) as live:
        key = live.new_key("carol", credits=10, plan="pro")
        backend = RemoteBackend(live.base, key, cache_dir=tmp_path / "cache")
        try:
            assert backend.connect().credit_balance == 10 and not backend.unlimited
            pid = backend.create_project("Stopped", SCRIPT, SMALL).project_id
            job = backend.generate(pid)
            assert job.credits_deducted > 0
            seen: list[JobPublic] = []

            def cancel_once_running(update: JobPublic) -> None:
                seen.append(update)
                if update.status == "processing" and update.progress > 0 and not update.cancel_requested:
                    backend.cancel_job(job.job_id)

            final = backend.follow_job(job.job_id, cancel_once_running)
            assert final.status == "cancelled" and any(j.cancel_requested for j in seen)
            assert backend.connect().credit_balance == 10  # refunded, as the account shows it
            assert backend.retry_job(job.job_id).project_id == pid
        finally:
            backend.close()
