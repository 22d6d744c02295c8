"""Webhooks without a network: the SSRF policy matrix, signatures checked by `standardwebhooks`,
the retry schedule under a fake clock, 410 and exhaustion disabling the endpoint."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
import standardwebhooks

from filmstudio.config import load_settings
from filmstudio.domain.models import WebhookCreate
from filmstudio.services import accounts, events, keys, netpolicy, webhooks
from filmstudio.services.secrets import MemorySecrets
from filmstudio.services.studio import NoQueue, Studio
from filmstudio.services.webhook_sender import JITTER, SCHEDULE, WebhookSender, sign
from filmstudio.store.db import Store
from filmstudio.store.migrations import migrate

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


class FakeResolver:
    """Answers from a table and counts lookups; a rebinding name answers differently each time."""

    def __init__(self, table: dict[str, Sequence[Sequence[str]]]) -> None:
        self.table = table
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        answers = self.table[host]
        nth = self.calls.count(host) - 1
        return list(answers[min(nth, len(answers) - 1)])


POLICY = netpolicy.Policy(loopback_ok=True)
REMOTE = netpolicy.Policy(loopback_ok=False)


@pytest.mark.parametrize(("url", "policy"), [
    ("http://10.0.0.5/h", POLICY),
    ("http://192.168.1.1/h", POLICY),
    ("http://172.16.3.4/h", POLICY),
    ("http://169.254.169.254/latest/meta-data", POLICY),
    ("http://[fe80::1]/h", POLICY),
    ("http://[fd00::1]/h", POLICY),
    ("http://0.0.0.0:8000/h", POLICY),
    ("http://[::]/h", POLICY),
    ("http://[::ffff:127.0.0.1]/h", POLICY),
    ("http://[::ffff:10.0.0.1]/h", POLICY),
    ("http://2130706433/h", POLICY),
    ("http://0x7f000001/h", POLICY),
    ("http://0177.0.0.1/h", POLICY),
    ("http://127.1/h", POLICY),
    ("http://127.0.0.1:9000/h", REMOTE),
    ("http://[::1]/h", REMOTE),
    ("http://224.0.0.1/h", POLICY),
    ("ftp://example.com/h", POLICY),
    ("http://user:pw@example.com/h", POLICY),
])
def test_literal_targets_refused_without_any_lookup(url: str, policy: netpolicy.Policy) -> None:
    resolver = FakeResolver({})
    with pytest.raises(netpolicy.TargetRefused):
        netpolicy.check_url(url, policy, resolver)
    assert resolver.calls == []


def test_loopback_allowed_only_while_loopback_only_and_settings_extend() -> None:
    t = netpolicy.check_url("http://127.0.0.1:9000/h?x=1", POLICY, FakeResolver({}))
    assert t is not None and t.connect_url == "http://127.0.0.1:9000/h?x=1"
    assert netpolicy.check_url("http://10.1.2.3/h", netpolicy.Policy(False, ("private",))) is not None
    assert netpolicy.check_url("http://10.1.2.3/h", netpolicy.Policy(False, ("10.1.0.0/16",))) is not None
    with pytest.raises(netpolicy.TargetRefused):
        netpolicy.check_url("http://10.2.0.1/h", netpolicy.Policy(False, ("10.1.0.0/16",)))
    assert netpolicy.check_url("http://93.184.216.34/h", REMOTE) is not None


def test_ipv6_loopback_is_loopback_not_forbidden() -> None:
    # ::1 sits in ::/8, which ipaddress calls reserved; it must be classed loopback first.
    assert netpolicy.classify(netpolicy.ipaddress.ip_address("::1")) == "loopback"
    target = netpolicy.check_url("http://[::1]:9000/h", POLICY, FakeResolver({}))
    assert target is not None and target.connect_url == "http://[::1]:9000/h"
    # `localhost` on a host that maps it to ::1 as well as 127.0.0.1.
    both = FakeResolver({"localhost": [["::1", "127.0.0.1"]]})
    local = netpolicy.check_url("http://localhost:9000/h", POLICY, both)
    assert local is not None and local.address == "::1"
    with pytest.raises(netpolicy.TargetRefused):
        netpolicy.check_url("http://localhost:9000/h", REMOTE, both)


def test_hostnames_resolve_once_every_address_checked_connect_to_the_checked_one() -> None:
    resolver = FakeResolver({
        "hooks.example": [["93.184.216.34"]],
        "mixed.example": [["93.184.216.34", "10.0.0.7"]],
        "rebind.example": [["93.184.216.34"], ["127.0.0.1"]],
        "inside.example": [["192.168.0.10"]],
        "mapped.example": [["::ffff:169.254.169.254"]],
    })
    target = netpolicy.check_url("https://hooks.example/in", REMOTE, resolver)
    assert target is not None and target.address == "93.184.216.34" and target.host_header == "hooks.example"
    for name in ("mixed.example", "inside.example", "mapped.example"):
        with pytest.raises(netpolicy.TargetRefused):
            netpolicy.check_url(f"https://{name}/in", REMOTE, resolver)
    # A rebinding name: the first (checked) answer is the one connected to; it is looked up once.
    before = len(resolver.calls)
    rebound = netpolicy.check_url("http://rebind.example/x", REMOTE, resolver)
    assert rebound is not None and rebound.connect_url == "http://93.184.216.34:80/x"
    assert len(resolver.calls) == before + 1
    # Its second answer (loopback) is refused beyond loopback.
    with pytest.raises(netpolicy.TargetRefused):
        netpolicy.check_url("http://rebind.example/x", REMOTE, resolver)


def test_signature_verifies_with_the_standardwebhooks_package() -> None:
    body = events.payload("msg_1", "job.completed", "2026-01-01T00:00:00.000Z", {"job_id": "j"})
    import time

    stamp = int(time.time())
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(stamp), "webhook-signature": sign(SECRET, "msg_1", stamp, body)}
    assert standardwebhooks.Webhook(SECRET).verify(body, headers)["data"] == {"job_id": "j"}
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(SECRET).verify(body.replace("j", "k"), headers)


def test_published_standard_webhooks_vector() -> None:
    # The vector from the Standard Webhooks spec's reference test suite.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = '{"test": 2432232314}'
    assert sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == \
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Studio, str, keys.Principal]:
    store = Store(tmp_path / "s.db")
    migrate(store)
    studio = Studio(store=store, secrets=MemorySecrets(), queue=NoQueue(), settings=load_settings({}, home=tmp_path))
    acct = accounts.create_account(store, "w")
    key = keys.create_key(store, acct.account_id, name="k", scopes=["webhooks"])
    who = keys.authenticate(store, key.secret, None)
    hook = webhooks.create_webhook(studio, who, WebhookCreate(url="http://127.0.0.1:9/h", events=["job.failed"],
                                                               secret=SECRET))
    return studio, hook.webhook_id, who


def _emit(studio: Studio, account_id: str) -> str:
    with studio.store.write() as db:
        (mid,) = events.emit(db, account_id, "job.failed", "job-1", "proj-1", "failed")
    return mid


def test_retry_schedule_under_a_fake_clock_then_disable(setup: tuple[Studio, str, keys.Principal]) -> None:
    studio, hook_id, who = setup
    clock = Clock(1_000_000.0)
    seen: list[tuple[str, float]] = []

    def post(target: netpolicy.Target, headers: dict[str, str], body: bytes, timeout: float) -> int:
        seen.append((headers["webhook-id"], clock.now))
        return 503

    sender = WebhookSender(studio, clock=clock, rng=lambda: 1.0, post=post)
    mid = _emit(studio, who.account_id)
    for _ in range(40):
        sender.run_due()
        row = studio.store.one("SELECT due_at, status FROM webhook_deliveries WHERE id = ?", [mid])
        assert row is not None
        if row["status"] != "pending":
            break
        clock.now = max(clock.now + 1, row["due_at"])
    assert {m for m, _ in seen} == {mid} and len(seen) == len(SCHEDULE)
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(seen)]
    assert gaps == pytest.approx([s * (1 + JITTER) for s in SCHEDULE[1:]])
    assert sum(gaps) / 3600 > 24  # hours long
    hook = studio.store.one("SELECT status, disabled_reason FROM webhooks WHERE id = ?", [hook_id])
    assert hook is not None and hook["status"] == "disabled" and "8 attempts" in hook["disabled_reason"]
    log = webhooks.list_deliveries(studio, who, hook_id).deliveries[0]
    assert log.status == "failed" and [a.status_code for a in log.attempt_log] == [503] * 8
    assert all(a.latency_ms >= 0 for a in log.attempt_log)


def test_jitter_stays_within_twenty_percent(setup: tuple[Studio, str, keys.Principal]) -> None:
    from filmstudio.services.webhook_sender import next_delay

    assert next_delay(3, lambda: 0.0) == pytest.approx(1800 * 0.8)
    assert next_delay(3, lambda: 0.5) == pytest.approx(1800)
    assert next_delay(len(SCHEDULE), lambda: 0.5) is None


def test_gone_disables_at_once_and_redirects_count_as_failures(setup: tuple[Studio, str, keys.Principal]) -> None:
    studio, hook_id, who = setup
    answers = iter([302, 410])
    sender = WebhookSender(studio, post=lambda t, h, b, to: next(answers))
    mid = _emit(studio, who.account_id)
    sender.run_due()
    row = studio.store.one("SELECT status, last_error FROM webhook_deliveries WHERE id = ?", [mid])
    assert row is not None and row["status"] == "pending" and "redirects are not followed" in row["last_error"]
    studio.store.db.execute("UPDATE webhook_deliveries SET due_at = 0 WHERE id = ?", [mid])
    sender.run_due()
    hook = studio.store.one("SELECT status, disabled_reason FROM webhooks WHERE id = ?", [hook_id])
    assert hook is not None and hook["status"] == "disabled" and "410" in hook["disabled_reason"]
    # A disabled endpoint gets no new events.
    with studio.store.write() as db:
        assert events.emit(db, who.account_id, "job.failed", "j2", "p", "failed") == []


def test_secret_lives_in_the_secret_store_not_sqlite(setup: tuple[Studio, str, keys.Principal], tmp_path: Path) -> None:
    studio, hook_id, _ = setup
    assert studio.secrets.get(webhooks.secret_name(hook_id)) == SECRET  # type: ignore[attr-defined]
    dump = "\n".join(studio.store.db.conn.iterdump())
    assert SECRET not in dump and SECRET[6:] not in dump
    assert json.loads(studio.store.one("SELECT events FROM webhooks")["events"]) == ["job.failed"]  # type: ignore[index]


@pytest.mark.parametrize("secret", ["your_webhook_secret", "correct horse battery staple", "x" * 256, SECRET])
def test_user_chosen_secrets_sign_so_standardwebhooks_verifies_them_as_given(
        setup: tuple[Studio, str, keys.Principal], secret: str) -> None:
    """The reference's `"secret": "your_webhook_secret"` registers; plain secrets are the HMAC key's bytes."""
    studio, old_hook, who = setup
    webhooks.delete_webhook(studio, who, old_hook)
    webhooks.create_webhook(studio, who, WebhookCreate.model_validate(
        {"url": "http://127.0.0.1:9/h", "events": ["job.failed"], "secret": secret}))
    sent: list[tuple[dict[str, str], bytes]] = []

    def post(target: netpolicy.Target, headers: dict[str, str], body: bytes, timeout: float) -> int:
        sent.append((headers, body))
        return 200

    _emit(studio, who.account_id)
    WebhookSender(studio, post=post).run_due()
    (headers, body), = sent
    # A whsec_ secret is given to the library as the string; a plain one as its bytes (the library
    # would read a plain string as base64, which "your_webhook_secret" is not).
    given: str | bytes = secret if secret.startswith("whsec_") else secret.encode()
    assert standardwebhooks.Webhook(given).verify(body, headers)["event"] == "job.failed"


@pytest.mark.parametrize("secret", ["too-short-secret"[:15], "x" * 257, " leading-space-secret", "trailing-space-secret ",
                                    "tab\tinside-the-secret", "é-not-ascii-secret-value", "whsec_not base64!!!!!!",
                                    "whsec_" + base64.b64encode(b"k" * 8).decode()])
def test_unreasonable_secrets_refused_with_one_code(secret: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as err:
        WebhookCreate.model_validate({"url": "http://127.0.0.1:9/h", "events": ["job.failed"], "secret": secret})
    assert err.value.errors()[0]["type"] == "INVALID_WEBHOOK_SECRET"
