"""Self-hosting a studio: `serve --host 0.0.0.0 --allowed-host NAME`, the systemd unit, the .desktop file."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from integration.conftest_server import free_port

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"


def _serve(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "FILMSTUDIO_HOME": str(home), "FILMSTUDIO_SECRETS_BACKEND": "file"}
    env.pop("FILMSTUDIO_ALLOWED_HOSTS", None)
    return subprocess.Popen([sys.executable, "-m", "filmstudio.cli_studio", "serve", "--workers", "0", *args],
                            env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _get(port: int, path: str, host: str, key: str | None = None) -> httpx.Response:
    headers = {"Host": host, **({"Authorization": f"Bearer {key}"} if key else {})}
    return httpx.get(f"http://127.0.0.1:{port}{path}", headers=headers, timeout=5)


def test_beyond_loopback_without_allowed_hosts_is_refused(tmp_path: Path) -> None:
    proc = _serve(tmp_path / "studio", "--host", "0.0.0.0", "--port", str(free_port()))
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "ALLOWED_HOSTS_REQUIRED" in out and "--allowed-host" in out


def test_serve_on_the_network_answers_only_its_names_and_only_with_keys(tmp_path: Path) -> None:
    port = free_port()
    proc = _serve(tmp_path / "studio", "--host", "0.0.0.0", "--port", str(port),
                  "--allowed-host", "studio.lan", "--allowed-host", "Films.Example")
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while not any(line.startswith("listening on") for line in lines):
            assert time.monotonic() < deadline and proc.poll() is None, "".join(lines)
            lines.append(proc.stdout.readline())
        log = "".join(lines)
        assert f"listening on 0.0.0.0:{port} (the network)" in log
        assert "studio.lan" in log and "films.example" in log
        key = re.search(r"fs_live_\S+", log)
        assert key is not None  # the owner's admin key, printed once on the first start
        deadline = time.monotonic() + 30
        while True:
            try:
                health = _get(port, "/health", "studio.lan")
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert _get(port, "/health", "films.example:8765").status_code == 200
        wrong = _get(port, "/health", "evil.example")
        assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "INVALID_HOST"
        assert _get(port, "/api/v1/projects", "studio.lan").status_code == 401
        assert _get(port, "/api/v1/projects", "studio.lan", key.group(0)).status_code == 200
        assert _get(port, "/api/v1/docs", "studio.lan").status_code == 404  # docs off beyond loopback
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_systemd_unit_runs_serve_on_the_network_with_allowed_hosts(tmp_path: Path) -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(PACKAGING / "filmstudio.service")
    exec_start = unit["Service"]["ExecStart"].split()
    assert exec_start[1:3] == ["serve", "--host"] and "--allowed-host" in exec_start
    # Repeated Environment= lines: configparser keeps only the last, so read them from the text.
    assert "Environment=FILMSTUDIO_SECRETS_BACKEND=file" in (PACKAGING / "filmstudio.service").read_text().splitlines()
    # The command line the unit runs parses as a real `filmstudio serve` (here: the venv's binary).
    venv_bin = Path(sys.executable).with_name("filmstudio")
    args = exec_start[1:]
    from filmstudio.cli import build_parser

    parsed = build_parser().parse_args(args)
    assert parsed.host == "0.0.0.0" and parsed.allowed_hosts == ["studio.lan"]
    local = tmp_path / "filmstudio.service"
    local.write_text((PACKAGING / "filmstudio.service").read_text().replace(exec_start[0], str(venv_bin)))
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None, "systemd-analyze (systemd) is needed to check the unit"
    verified = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0, verified.stderr


def test_desktop_entry_and_icon() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(PACKAGING / "filmstudio.desktop")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application" and desktop["Exec"] == "filmstudio app"
    assert desktop["Icon"] == "filmstudio" and desktop["Categories"].endswith(";")
    png = (PACKAGING / "filmstudio.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (256, 256)
