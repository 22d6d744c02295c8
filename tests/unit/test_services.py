"""Service use cases over an in-memory store: accounts, keys, projects, jobs, estimates, secrets, config."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from filmstudio.config import Settings, load_settings
from filmstudio.domain.errors import (
    Conflict,
    FilmStudioError,
    Forbidden,
    InsufficientCredits,
    InvalidSettings,
    NotFound,
    SecretsUnavailable,
    Unauthorized,
)
from filmstudio.domain.jobs import JobRow
from filmstudio.domain.models import GenerateRequest, ProjectCreate, ProjectUpdate
from filmstudio.services import accounts, estimates, jobs, keys, projects
from filmstudio.services.keys import Principal
from filmstudio.services.secrets import FileSecrets, KeyringSecrets, MemorySecrets
from filmstudio.services.studio import Studio
from filmstudio.store.db import Store
from filmstudio.store.jobs import job_row
from filmstudio.store.migrations import migrate

SMALL = {"duration": 5, "resolution": "320x180", "fps": 12}


class RecordingQueue:
    def __init__(self) -> None:
        self.ids: list[str] = []

    def enqueue(self, job_id: str) -> None:
        self.ids.append(job_id)


@pytest.fixture
def studio(tmp_path: Path) -> Studio:
    store = Store(":memory:")
    migrate(store)
    return Studio(store=store, secrets=MemorySecrets(), queue=RecordingQueue(), settings=load_settings({}, home=tmp_path))


def _who(studio: Studio, name: str = "acme", credits: int | None = 10) -> Principal:
    acct = accounts.create_account(studio.store, name, plan="pro", credits=credits)
    key = keys.create_key(studio.store, acct.account_id, name="k")
    return keys.authenticate(studio.store, key.secret, "127.0.0.1")


def _project(studio: Studio, who: Principal, **settings: object) -> str:
    body = ProjectCreate.model_validate({"title": "t", "script": "Hello there.", "settings": {**SMALL, **settings}})
    return projects.create_project(studio, who, body).project_id


def test_key_format_and_storage(studio: Studio) -> None:
    acct = accounts.create_account(studio.store, "k")
    made = keys.create_key(studio.store, acct.account_id, name="script")
    assert made.secret.startswith("fs_live_") and len(made.secret.split("_")) == 4
    assert made.secret.startswith(made.prefix)
    dump = json.dumps(studio.store.all("SELECT * FROM api_keys"))
    assert made.secret not in dump and keys.digest(made.secret) in dump
    assert keys.list_keys(studio.store)[0].model_dump().get("secret") is None


def test_authenticate_codes(studio: Studio) -> None:
    acct = accounts.create_account(studio.store, "k")
    good = keys.create_key(studio.store, acct.account_id, name="a", scopes=["jobs:read"], allowed_ips=["192.0.2.0/24"])
    for secret, code in ((None, "MISSING_API_KEY"), ("nope", "INVALID_API_KEY"), (keys._new_secret(), "INVALID_API_KEY")):
        with pytest.raises(Unauthorized) as err:
            keys.authenticate(studio.store, secret, "192.0.2.7")
        assert err.value.code == code
    with pytest.raises(Forbidden) as ip:
        keys.authenticate(studio.store, good.secret, "198.51.100.1")
    assert ip.value.code == "IP_NOT_ALLOWED"
    who = keys.authenticate(studio.store, good.secret, "192.0.2.7")
    assert who.allows("jobs:read") and not who.allows("projects:write")
    with pytest.raises(Forbidden):
        who.require("projects:write")
    keys.revoke_key(studio.store, good.key_id)
    with pytest.raises(Unauthorized) as rev:
        keys.authenticate(studio.store, good.secret, "192.0.2.7")
    assert rev.value.code == "API_KEY_REVOKED"
    with pytest.raises(FilmStudioError):
        keys.create_key(studio.store, acct.account_id, name="x", scopes=["root"])
    with pytest.raises(FilmStudioError):
        keys.create_key(studio.store, acct.account_id, name="x", allowed_ips=["not-an-ip"])


def test_owner_gets_one_admin_key(studio: Studio) -> None:
    first = accounts.ensure_owner(studio.store)
    assert first is not None and first.scopes == ["admin"]
    assert accounts.ensure_owner(studio.store) is None
    owner = accounts.account_by_name(studio.store, "owner")
    assert owner.plan == "enterprise" and owner.credit_balance is None


def test_project_lifecycle(studio: Studio) -> None:
    who = _who(studio)
    pid = _project(studio, who)
    got = projects.get_project(studio, who, pid)
    assert got.status == "draft" and got.settings["duration"] == 5 and got.assets.video_url is None
    edited = projects.update_project(studio, who, pid, ProjectUpdate(settings={"style": "retro"}))
    assert edited.settings["style"] == "retro" and edited.settings["duration"] == 5
    with pytest.raises(InvalidSettings) as bad:
        projects.update_project(studio, who, pid, ProjectUpdate(settings={"fps": 7}))
    assert bad.value.code == "UNSUPPORTED_FPS"
    other = _who(studio, "other")
    with pytest.raises(NotFound):
        projects.get_project(studio, other, pid)
    projects.delete_project(studio, who, pid)
    with pytest.raises(NotFound):
        projects.get_project(studio, who, pid)
    assert projects.list_projects(studio, who).total_count == 0


def test_generate_deducts_once_and_replays_idempotently(studio: Studio) -> None:
    who = _who(studio, credits=3)
    pid = _project(studio, who, duration=40)  # 2 credits
    first = jobs.generate(studio, who, pid, GenerateRequest(settings={"style": "minimal"}), idempotency_key="k1")
    again = jobs.generate(studio, who, pid, None, idempotency_key="k1")
    assert again.job_id == first.job_id and first.credits_deducted == 2
    assert studio.queue.ids == [first.job_id]  # type: ignore[attr-defined]
    assert accounts.get_account(studio.store, who.account_id).credit_balance == 1
    with pytest.raises(Conflict):
        jobs.generate(studio, who, pid)
    with pytest.raises(Conflict):
        projects.delete_project(studio, who, pid)
    cancelled = jobs.cancel_job(studio, who, first.job_id)
    assert cancelled.status == "cancelled"
    assert accounts.get_account(studio.store, who.account_id).credit_balance == 3
    assert projects.get_project(studio, who, pid).status == "draft"
    assert projects.get_project(studio, who, pid).settings["style"] == "minimal"
    pid2 = _project(studio, who, duration=80)  # 4 credits > 3
    with pytest.raises(InsufficientCredits) as poor:
        jobs.generate(studio, who, pid2)
    assert poor.value.details == {"required": 4, "available": 3}


def test_list_jobs_and_validation(studio: Studio) -> None:
    who = _who(studio, credits=None)
    made = [jobs.generate(studio, who, _project(studio, who)).job_id for _ in range(3)]
    page = jobs.list_jobs(studio, who, per_page=2, order="asc")
    assert [j.job_id for j in page.jobs] == made[:2] and page.total_pages == 2
    assert jobs.list_jobs(studio, who, status="completed").total_count == 0
    with pytest.raises(FilmStudioError):
        jobs.list_jobs(studio, who, per_page=500)
    with pytest.raises(FilmStudioError) as bad:
        projects.list_projects(studio, who, status="weird", sort="title")
    assert {e["field"] for e in bad.value.details["errors"]} == {"status", "sort"}


def _job(fields: dict[str, object]) -> JobRow:
    """A render job row as the store reads it, from the columns a test sets."""
    return job_row({"id": "j", "account_id": "a", "kind": "render", **fields})


def test_estimates_use_rate_and_history(studio: Studio) -> None:
    assert estimates.humanize(90) == "90 seconds" and estimates.humanize(600) == "10 minutes"
    assert estimates.humanize_range(240) == "3-6 minutes"
    base = estimates.expected_total(studio.store, 60)
    assert base == estimates.DEFAULT_SECONDS_PER_FILM_SECOND * 60
    who = _who(studio, credits=None)
    job_id = jobs.generate(studio, who, _project(studio, who)).job_id
    with studio.store.write() as db:
        db.execute("UPDATE jobs SET status='completed', finished_at='z', stage_timings=? WHERE id=?",
                   [json.dumps({"voice_synthesis": 5.0, "rendering": 10.0}), job_id])
    assert estimates.expected_total(studio.store, 10) == pytest.approx(30.0)  # 15 s per 5 film seconds
    row = {"status": "processing", "started_at": "2026-01-01T00:00:00Z", "progress": 50,
           "settings": json.dumps({"duration": 10})}
    from datetime import UTC, datetime

    left = estimates.remaining_seconds(studio.store, _job(row), now=datetime(2026, 1, 1, 0, 0, 20, tzinfo=UTC))
    assert left == pytest.approx(0.5 * 20 + 0.5 * 10)  # observed rate 20 s left, prior 10 s left

    # With the job's own stage timings, the measured stage speeds give the answer, counting down
    # within a step: voice synthesis (1 s per film second) is done, rendering (2 s) has had 4 s.
    step_row = {**row, "current_step": "rendering", "stage_timings": json.dumps({"voice_synthesis": 9.0,
                                                                               "rendering": 4.0})}
    assert estimates.remaining_seconds(studio.store, _job(step_row)) == pytest.approx(20.0 - 4.0)
    later = {**step_row, "stage_timings": json.dumps({"voice_synthesis": 9.0, "rendering": 7.0})}
    assert estimates.remaining_seconds(studio.store, _job(later)) == pytest.approx(20.0 - 7.0)
    first = {**step_row, "current_step": "voice_synthesis", "stage_timings": json.dumps({"voice_synthesis": 2.0})}
    assert estimates.remaining_seconds(studio.store, _job(first)) == pytest.approx((10.0 - 2.0) + 20.0)


def test_the_clips_of_moving_shots_are_taken_out_of_the_stage_speeds_too(studio: Studio) -> None:
    who = _who(studio, credits=None)
    job_id = jobs.generate(studio, who, _project(studio, who)).job_id
    # 20 s of stills and 10 s of clips inside a 32 s visual_generation: 2 s at film pace.
    with studio.store.write() as db:
        db.execute("UPDATE jobs SET status='completed', finished_at='z', stage_timings=?, result=? WHERE id=?",
                   [json.dumps({"visual_generation": 32.0, "rendering": 10.0}),
                    json.dumps({"stills": 6, "stills_seconds": 20.0, "clips_made": 2, "clips_seconds": 10.0}),
                    job_id])
    assert estimates.seconds_per_film_second(studio.store) == pytest.approx({"visual_generation": 2.0 / 5,
                                                                              "rendering": 10.0 / 5})


def test_estimates_count_the_stills_to_draw(studio: Studio) -> None:
    who = _who(studio, credits=None)
    job_id = jobs.generate(studio, who, _project(studio, who)).job_id
    # A finished job that drew stills for 30 s of its 32 s visual_generation: the drawing is not film pace.
    with studio.store.write() as db:
        db.execute("UPDATE jobs SET status='completed', finished_at='z', stage_timings=?, result=? WHERE id=?",
                   [json.dumps({"visual_generation": 32.0, "rendering": 10.0}),
                    json.dumps({"stills": 6, "stills_drawn": 6, "stills_seconds": 30.0}), job_id])
    assert estimates.seconds_per_film_second(studio.store) == pytest.approx({"visual_generation": 2.0 / 5,
                                                                              "rendering": 10.0 / 5})
    stills = json.dumps({"stills": {"shots": 8, "to_draw": 4, "seconds_per_still": 5.0, "measured": True}})
    queued = {"status": "queued", "settings": json.dumps({"duration": 10}), "params": stills}
    assert estimates.stills_seconds(_job(queued)) == 20.0
    assert estimates.remaining_seconds(studio.store, _job(queued)) == pytest.approx(24.0 + 20.0)
    assert estimates.remaining_seconds(studio.store, _job({**queued, "params": "{}"})) == pytest.approx(24.0)
    # Drawing: its step's expected time is the film-pace part plus the drawing, counting down.
    drawing = {**queued, "status": "processing", "started_at": "2026-01-01T00:00:00Z", "progress": 40,
               "current_step": "visual_generation", "stage_timings": json.dumps({"visual_generation": 6.0})}
    assert estimates.remaining_seconds(studio.store, _job(drawing)) == pytest.approx((4.0 + 20.0 - 6.0) + 20.0)
    rendering = {**drawing, "current_step": "rendering",
                 "stage_timings": json.dumps({"visual_generation": 24.0, "rendering": 5.0})}
    assert estimates.remaining_seconds(studio.store, _job(rendering)) == pytest.approx(20.0 - 5.0)


def test_file_secrets_are_private_and_stable(tmp_path: Path) -> None:
    store = FileSecrets(tmp_path / "secrets.json")
    value = store.get_or_create("sign")
    assert FileSecrets(tmp_path / "secrets.json").get_or_create("sign") == value
    assert stat.S_IMODE(os.stat(tmp_path / "secrets.json").st_mode) == 0o600


def test_no_keyring_is_a_clear_error_not_a_fallback(tmp_path: Path) -> None:
    import keyring
    import keyring.backends.fail

    before = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        with pytest.raises(SecretsUnavailable) as err:
            KeyringSecrets(tmp_path)
    finally:
        keyring.set_keyring(before)
    assert "FILMSTUDIO_SECRETS_BACKEND=file" in err.value.message
    assert not (tmp_path / "secrets.json").exists()


def test_real_keyring_round_trip(tmp_path: Path) -> None:
    """Needs a Secret Service (CI runs the suite under dbus-run-session + gnome-keyring)."""
    import keyring

    a = KeyringSecrets(tmp_path / "a")
    value = a.get_or_create("sign")
    assert KeyringSecrets(tmp_path / "a").get_or_create("sign") == value
    assert KeyringSecrets(tmp_path / "b").get_or_create("sign") != value
    assert "fail" not in type(keyring.get_keyring()).__module__


def test_config_reads_prefixed_environment(tmp_path: Path) -> None:
    s = load_settings({"FILMSTUDIO_HOME": str(tmp_path), "FILMSTUDIO_PORT": "9000", "FILMSTUDIO_WORKERS": "2",
                       "FILMSTUDIO_ALLOWED_HOSTS": '["studio.lan"]', "OTHER": "x"})
    assert (s.home, s.port, s.workers, s.allowed_hosts) == (tmp_path, 9000, 2, ("studio.lan",))
    assert s.db_path == tmp_path / "studio.db" and s.loopback_only and s.show_docs
    assert load_settings({"FILMSTUDIO_ALLOWED_HOSTS": "a.example, b.example"}).allowed_hosts == ("a.example",
                                                                                               "b.example")
    wide = Settings(home=tmp_path, host="0.0.0.0", allowed_hosts=("studio.lan",))
    assert not wide.loopback_only and not wide.show_docs
    assert Settings(home=tmp_path, host="::1").loopback_only
    assert Settings(home=tmp_path, host="0.0.0.0", docs_enabled=True).show_docs


class _FlatStills:
    """A picture engine that draws nothing here: generate only counts the stills it would draw."""

    def info(self) -> object:
        from filmstudio.pipeline.engines import EngineInfo

        return EngineInfo(kind="pictures", name="flat", details={"model": "flat", "revision": "1"})

    def native_side(self) -> int:
        return 64

    def identity(self) -> object:
        from filmstudio.pipeline.engines import PicturesIdentity

        return PicturesIdentity(model="flat", revision="1", steps=None)

    def prompt_tokens(self) -> object:
        from filmstudio.pipeline.prompts import EstimatedTokens

        return EstimatedTokens()

    def stills(self, requests: object, **kw: object) -> list[Path]:
        raise AssertionError("generate must not draw")


def test_generate_analyses_the_script_once(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    """The preflight and the stills count share one analysis of the script."""
    from filmstudio.pipeline.script import analysis
    from filmstudio.services import storyboard

    studio = studio.with_pictures(_FlatStills())  # type: ignore[arg-type]
    who = _who(studio)
    pid = _project(studio, who)
    calls: list[str] = []
    real = analysis.analyse

    def counted(text: str, settings: object) -> object:
        calls.append(text)
        return real(text, settings)  # type: ignore[arg-type]

    for module in (analysis, jobs, storyboard):
        monkeypatch.setattr(module, "analyse", counted)
    accepted = jobs.generate(studio, who, pid)
    params = json.loads(studio.store.one("SELECT params FROM jobs WHERE id = ?", [accepted.job_id])["params"])
    assert params["stills"]["shots"] >= 1  # the storyboard was built
    assert calls == ["Hello there."]
