"""A real `filmstudio serve` on loopback for the GUI tests of the remote backend and the Connect dialog.

Its own home folder, the file secrets backend (no keyring on the test machine), an account
("alice", enterprise: the GUI polls faster than a paid plan's per-minute limit) and a key made for
it with `filmstudio accounts create` / `keys create`, as a studio's owner would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class StudioServer:
    url: str
    key: str
    home: Path
    proc: subprocess.Popen[bytes]
    env: dict[str, str]
    port: int

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}/api/v1", headers={"Authorization": f"Bearer {self.key}"},
                            timeout=30)

    def cli(self, *args: str) -> str:
        """Run `filmstudio ARGS` against this studio's home; its stdout."""
        done = subprocess.run([sys.executable, "-m", "filmstudio", *args], env=self.env, cwd=REPO,
                              capture_output=True, text=True, timeout=120, check=True)
        return done.stdout


def studio_env(home: Path) -> dict[str, str]:
    env = {**os.environ, "FILMSTUDIO_HOME": str(home), "FILMSTUDIO_SECRETS_BACKEND": "file",
           "FILMSTUDIO_RECONCILE_SECONDS": "1"}
    env.pop("FILMSTUDIO_ALLOWED_HOSTS", None)
    return env


def start_serve(home: Path, env: dict[str, str], port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "serve.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "filmstudio", "serve", "--port", str(port),
                             "--workers", str(workers)], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)


def wait_up(url: str, proc: subprocess.Popen[bytes], home: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            log = (home / "serve.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"filmstudio serve did not come up at {url}:\n{log}")
        time.sleep(0.1)


def stop_serve(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


@contextmanager
def served_studio(home: Path, *, per_minute: int | None = None, workers: int = 1,
                  env: dict[str, str] | None = None) -> Iterator[StudioServer]:
    """`filmstudio serve` over `home` with an account "alice" and a key for it, until the block ends."""
    env = {**studio_env(home), **(env or {})}
    made = StudioServer("", "", home, None, env, 0)  # type: ignore[arg-type]
    made.cli("accounts", "create", "alice", "--plan", "enterprise", "--credits", "500")
    if per_minute is not None:
        made.cli("accounts", "set-plan", "alice", "enterprise", "--per-minute", str(per_minute))
    key = made.cli("keys", "create", "--name", "alice-laptop", "--account", "alice").strip().splitlines()[-1]
    assert key.startswith("fs_"), key
    port = free_port()
    proc = start_serve(home, env, port, workers)
    url = f"http://127.0.0.1:{port}"
    server = StudioServer(url, key, home, proc, env, port)
    try:
        wait_up(url, proc, home)
        yield server
    finally:
        stop_serve(server.proc)  # a test may have restarted it: the running one is stopped


@pytest.fixture(scope="session")
def studio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioServer]:
    """`filmstudio serve` with one render worker, on a free loopback port, for the whole session."""
    with served_studio(tmp_path_factory.mktemp("served-studio") / "home") as server:
        yield server
