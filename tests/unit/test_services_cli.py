"""`filmstudio keys|accounts|serve` handlers, run in-process against a real studio.db."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from filmstudio.cli_studio import main
from filmstudio.services import keys
from filmstudio.store.db import Store


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FILMSTUDIO_HOME", str(tmp_path))
    return tmp_path


def test_keys_lifecycle(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--name", "my-script"]) == 0
    secret = capsys.readouterr().out.strip()
    assert secret.startswith("fs_live_")
    store = Store(home / "studio.db")
    who = keys.authenticate(store, secret, "127.0.0.1")
    assert who.allows("projects:write") and not who.allows("admin")
    assert main(["keys", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 1 and secret not in json.dumps(listed) and secret.startswith(listed[0]["prefix"])

    assert main(["keys", "rotate", listed[0]["prefix"], "--overlap-hours", "1"]) == 0
    rotated = capsys.readouterr().out.strip()
    assert rotated.startswith("fs_live_") and rotated != secret
    keys.authenticate(store, secret, "127.0.0.1")  # still valid during the overlap
    keys.authenticate(store, rotated, "127.0.0.1")

    assert main(["keys", "revoke", listed[0]["key_id"]]) == 0
    capsys.readouterr()
    with pytest.raises(Exception, match="revoked"):
        keys.authenticate(store, secret, "127.0.0.1")
    assert main(["keys", "revoke", "nope"]) == 2
    assert "API_KEY_NOT_FOUND" in capsys.readouterr().err


def test_accounts_and_scoped_keys(capsys: pytest.CaptureFixture[str], home: Path) -> None:
    assert main(["accounts", "create", "acme", "--plan", "pro", "--credits", "40"]) == 0
    assert main(["accounts", "create", "acme"]) == 2
    assert "ACCOUNT_EXISTS" in capsys.readouterr().err
    assert main(["keys", "create", "--name", "ro", "--account", "acme", "--scope", "projects:read",
                 "--allow-ip", "10.0.0.0/8", "--expires-days", "1"]) == 0
    secret = capsys.readouterr().out.strip()
    assert main(["accounts", "list", "--json"]) == 0
    found = {a["name"]: a for a in json.loads(capsys.readouterr().out)}
    assert found["acme"]["plan"] == "pro" and found["acme"]["credit_balance"] == 40
    who = keys.authenticate(Store(home / "studio.db"), secret, "10.1.2.3")
    assert who.account_id == found["acme"]["account_id"] and who.scopes == frozenset({"projects:read"})
    assert main(["keys", "create", "--name", "x", "--account", "ghost"]) == 2
    assert "ACCOUNT_NOT_FOUND" in capsys.readouterr().err


def test_serve_without_keyring_says_what_to_do(home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env["FILMSTUDIO_HOME"] = str(home)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"  # as on a headless box
    out = subprocess.run([sys.executable, "-m", "filmstudio.cli_studio", "serve", "--port", "1"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "KEYRING_UNAVAILABLE" in out.stderr and "FILMSTUDIO_SECRETS_BACKEND=file" in out.stderr
    assert not (home / "secrets.json").exists()  # never a silent plaintext fallback


def test_default_key_has_every_public_scope_and_expires_days_zero_means_never(
        home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--name", "x", "--expires-days", "0"]) == 0
    secret = capsys.readouterr().out.strip()
    who = keys.authenticate(Store(home / "studio.db"), secret, "127.0.0.1")
    for scope in ("projects:read", "projects:write", "jobs:read", "jobs:write", "webhooks"):
        assert who.allows(scope), scope
    assert not who.allows("admin") and not who.allows("worker")
    assert main(["keys", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["expires_at"] is None


@pytest.mark.parametrize("days", ["-1", "1e9", "nan", "inf"])
def test_expires_days_out_of_range_is_refused(home: Path, capsys: pytest.CaptureFixture[str], days: str) -> None:
    assert main(["keys", "create", "--name", "x", f"--expires-days={days}"]) == 2
    assert "INVALID_EXPIRY" in capsys.readouterr().err
    assert keys.list_keys(Store(home / "studio.db")) == []
