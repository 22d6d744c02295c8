"""studio.db: migrations, pragmas, IMMEDIATE write transactions, table helpers."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from filmstudio.store import jobs as job_rows
from filmstudio.store.db import Store, utcnow
from filmstudio.store.migrations import MIGRATIONS, migrate, schema_version


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "studio.db")
    migrate(s)
    return s


def test_migrations_create_every_table_once(store: Store) -> None:
    assert schema_version(store) == MIGRATIONS[-1][0]
    assert migrate(store) == MIGRATIONS[-1][0]  # idempotent
    assert set(store.db.table_names()) >= {
        "accounts", "api_keys", "projects", "jobs", "credit_ledger", "webhooks", "webhook_deliveries"}
    cols = store.db["jobs"].columns_dict
    for col in ("lease_until", "attempts", "cancel_requested", "idempotency_key", "stage_timings", "warnings"):
        assert col in cols
    assert "secret" not in store.db["api_keys"].columns_dict
    assert "digest" in store.db["api_keys"].columns_dict


def test_pragmas(store: Store) -> None:
    assert store.one("PRAGMA journal_mode") == {"journal_mode": "wal"}
    assert store.one("PRAGMA foreign_keys") == {"foreign_keys": 1}
    assert store.one("PRAGMA busy_timeout")["timeout"] >= 5000
    with pytest.raises(sqlite3.IntegrityError), store.write() as db:
        db.execute("INSERT INTO projects (id, account_id, title, script, settings, created_at, updated_at) "
                    "VALUES ('p', 'no-such-account', 't', 's', '{}', 'now', 'now')")


def test_write_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.write() as db:
        db.execute("INSERT INTO accounts (id, name, created_at) VALUES ('a', 'a', ?)", [utcnow()])
        raise RuntimeError("boom")
    assert store.one("SELECT count(*) AS n FROM accounts") == {"n": 0}


def test_connections_are_per_thread(store: Store) -> None:
    seen: list[int] = []

    def grab() -> None:
        seen.append(id(store.db.conn))
        store.close()

    t = threading.Thread(target=grab)
    t.start()
    t.join()
    assert seen and seen[0] != id(store.db.conn)


def test_claim_is_exclusive_and_respects_leases(store: Store) -> None:
    with store.write() as db:
        db.execute("INSERT INTO accounts (id, name, created_at) VALUES ('a', 'a', 'x')")
        db.execute("INSERT INTO projects (id, account_id, title, script, settings, created_at, updated_at) "
                   "VALUES ('p', 'a', 't', 's', '{}', 'x', 'x')")
        job_rows.add_job(db, {"id": "j", "project_id": "p", "account_id": "a", "script": "s", "settings": "{}",
                              "created_at": "x"})
    with store.write() as db:
        assert job_rows.claim(db, "j", "w1", now=100.0, lease_until=110.0, started_at="t")
        assert not job_rows.claim(db, "j", "w2", now=105.0, lease_until=115.0, started_at="t")  # lease alive
        assert not job_rows.update_leased(db, "j", "w2", {"progress": 5})
        assert job_rows.update_leased(db, "j", "w1", {"progress": 5})
        assert job_rows.claim(db, "j", "w2", now=111.0, lease_until=121.0, started_at="t")  # stale -> taken over
        assert not job_rows.update_leased(db, "j", "w1", {"progress": 9})  # the old owner lost it
    row = job_rows.get_job(store, "j")
    assert row is not None and row.attempts == 2 and row.lease_owner == "w2" and row.progress == 5
    assert [r.id for r in job_rows.jobs_to_reconcile(store, now=200.0, queued_before="z")] == ["j"]


def test_memory_store_works_for_unit_tests() -> None:
    s = Store(":memory:")
    migrate(s)
    with s.write() as db:
        db.execute("INSERT INTO accounts (id, name, created_at) VALUES ('a', 'a', 'x')")
    assert s.one("SELECT name FROM accounts") == {"name": "a"}


def _counts(store: Store) -> dict[tuple[str, str], int]:
    return {(r["account_id"], r["status"]): r["n"] for r in store.all("SELECT * FROM project_counts") if r["n"]}


def _truth(store: Store) -> dict[tuple[str, str], int]:
    rows = store.all("SELECT account_id, status, count(*) AS n FROM projects WHERE deleted_at IS NULL GROUP BY 1, 2")
    return {(r["account_id"], r["status"]): r["n"] for r in rows}


def test_project_counts_follow_every_change(tmp_path: Path) -> None:
    from filmstudio.store.migrations import _statements

    s = Store(tmp_path / "old.db")
    # A database at version 1 with data, then migrated: the counts are backfilled.
    with s.write() as db:
        for statement in _statements(MIGRATIONS[0][1]):
            db.execute(statement)
        db.execute("PRAGMA user_version = 1")
        db.execute("INSERT INTO accounts (id, name, created_at) VALUES ('a', 'a', 'x'), ('b', 'b', 'x')")
        for i in range(5):
            db.execute("INSERT INTO projects (id, account_id, title, script, settings, created_at, updated_at) "
                       "VALUES (?, ?, 't', 's', '{}', 'x', 'x')", [f"p{i}", "a" if i < 3 else "b"])
    migrate(s)
    assert _counts(s) == _truth(s) == {("a", "draft"): 3, ("b", "draft"): 2}
    with s.write() as db:
        db.execute("UPDATE projects SET status = 'completed' WHERE id = 'p0'")
        db.execute("UPDATE projects SET deleted_at = 'now' WHERE id = 'p1'")
        db.execute("UPDATE projects SET title = 'only the title' WHERE id = 'p2'")
        db.execute("DELETE FROM projects WHERE id = 'p3'")
        db.execute("UPDATE projects SET deleted_at = 'now' WHERE id = 'p1'")  # deleting twice counts once
    assert _counts(s) == _truth(s) == {("a", "draft"): 1, ("a", "completed"): 1, ("b", "draft"): 1}


def test_job_params_are_typed_per_kind_and_keep_what_they_do_not_know() -> None:
    from pydantic import ValidationError

    from filmstudio.domain.jobs import (
        JobParams,
        ModelPullParams,
        PublishParams,
        RenderParams,
        StillsPlanned,
        WriteParams,
        params_json,
        parse_params,
    )

    written = params_json(RenderParams(stills=StillsPlanned(shots=4, to_draw=3, seconds_per_still=2.5)))
    assert json.loads(written) == {"stills": {"shots": 4, "to_draw": 3, "seconds_per_still": 2.5, "measured": False}}
    parsed = parse_params("render", written)
    assert isinstance(parsed, RenderParams)
    assert parsed.stills is not None and parsed.stills.seconds == 7.5 and parsed.publish is None
    assert parse_params("render", None) == RenderParams()
    # A render queued before publish targets kept only YouTube's options: read as the same publish.
    newer = parse_params("render", '{"publish": {"privacy": "unlisted", "channel_id": "UC1"}, "later": 1}')
    assert isinstance(newer, RenderParams) and newer.publish is not None
    assert (newer.publish.target, newer.publish.options, newer.publish.destination.id) == (
        "youtube", {"privacy": "unlisted", "channel_id": "UC1"}, "UC1")
    assert json.loads(params_json(newer))["later"] == 1
    pull = parse_params("model_pull", params_json(ModelPullParams(model_id="sd15")))
    assert isinstance(pull, ModelPullParams) and pull.model_id == "sd15"
    with pytest.raises(ValidationError):
        parse_params("model_pull", "{}")
    assert parse_params("write", '{"idea": "a lighthouse"}') == WriteParams(idea="a lighthouse")
    old_publish = parse_params("publish", '{"youtube": {"privacy": "private"}, "channel_id": "UC2", "state": {"a": 1}}')
    assert isinstance(old_publish, PublishParams)
    assert (old_publish.target, old_publish.options, old_publish.destination.id, old_publish.state) == (
        "youtube", {"privacy": "private", "channel_id": "UC2"}, "UC2", {"a": 1})
    other = parse_params("cut_trailer", '{"anything": [1, 2]}')
    assert type(other) is JobParams and json.loads(params_json(other)) == {"anything": [1, 2]}


def test_a_job_row_is_read_with_its_json_parsed(store: Store) -> None:
    """store.jobs is the one place a row becomes a JobRow: JSON columns parsed, params by kind."""
    from filmstudio.domain.jobs import ModelPullParams, RenderParams

    with store.write() as db:
        db.execute("INSERT INTO accounts (id, name, created_at) VALUES ('a', 'a', 'x')")
        db.execute("INSERT INTO projects (id, account_id, title, script, settings, created_at, updated_at) "
                   "VALUES ('p', 'a', 't', 's', '{}', 'x', 'x')")
        job_rows.add_job(db, {"id": "r", "project_id": "p", "account_id": "a", "script": "s",
                              "settings": '{"duration": 20}', "created_at": "x", "result": '{"title": "T"}',
                              "warnings": '["w"]', "stage_timings": '{"voice_synthesis": 1.5}',
                              "params": '{"stills": {"to_draw": 2, "seconds_per_still": 3.0}}',
                              "error_code": "E", "error_details": '{"n": 1}', "cancel_requested": 1})
        job_rows.add_job(db, {"id": "m", "kind": "model_pull", "account_id": "a", "created_at": "y",
                              "params": '{"model_id": "sd15"}'})
        locked = job_rows.lock_job(db, "r")
    row = job_rows.get_job(store, "r")
    assert row is not None and row == locked
    assert (row.kind, row.project_id, row.duration, row.result, row.warnings, row.stage_timings) == (
        "render", "p", 20, {"title": "T"}, ("w",), {"voice_synthesis": 1.5})
    assert (row.error_code, row.error_details, row.cancel_requested) == ("E", {"n": 1}, True)
    assert row.params_as(RenderParams).stills is not None and row.params_as(RenderParams).stills.seconds == 6.0
    with pytest.raises(TypeError):
        row.params_as(ModelPullParams)
    pull = job_rows.get_job(store, "m")
    assert pull is not None and pull.project_id is None and pull.result is None and pull.duration == 60
    assert pull.params_as(ModelPullParams).model_id == "sd15"
    assert job_rows.get_job(store, "nope") is None


def _migrated_to(path: Path, version: int) -> Store:
    from filmstudio.store.migrations import _statements

    store = Store(path)
    with store.write() as db:
        for number, sql in MIGRATIONS[:version]:
            for statement in _statements(sql):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")
    return store


def test_a_new_job_kind_needs_no_table_rebuild_only_the_code_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Migration 6 dropped the CHECK on jobs.kind: the kinds are checked by add_job, in code."""
    store = _migrated_to(tmp_path / "studio.db", 5)
    with store.write() as db:
        db.execute("INSERT INTO accounts (id, name, plan, created_at) VALUES ('a', 'a', 'free', 't')")
        db.execute("INSERT INTO projects (id, account_id, title, script, settings, created_at, updated_at) "
                   "VALUES ('p', 'a', 'T', 's', '{}', 't', 't')")
        db.execute("INSERT INTO jobs (id, kind, account_id, params, created_at) VALUES ('m', 'model_pull', 'a', "
                   "'{\"model_id\": \"x\"}', 't')")
    with pytest.raises(sqlite3.IntegrityError), store.write() as db:  # before 6: a kind outside the CHECK fails
        db.execute("INSERT INTO jobs (id, kind, project_id, account_id, created_at) "
                   "VALUES ('n', 'cut_trailer', 'p', 'a', 't')")
    assert migrate(store) == MIGRATIONS[-1][0]
    assert store.one("SELECT id, kind, params FROM jobs") == {"id": "m", "kind": "model_pull",
                                                            "params": '{"model_id": "x"}'}
    assert "error_details" in store.db["jobs"].columns_dict
    row = {"id": "n", "kind": "cut_trailer", "project_id": "p", "account_id": "a", "created_at": utcnow()}
    with pytest.raises(ValueError, match="unknown job kind"), store.write() as db:
        job_rows.add_job(db, row)
    monkeypatch.setattr(job_rows, "JOB_KINDS", (*job_rows.JOB_KINDS, "cut_trailer"))  # the one line a kind takes
    with store.write() as db:
        job_rows.add_job(db, row)
    assert store.one("SELECT kind FROM jobs WHERE id = 'n'") == {"kind": "cut_trailer"}
    with pytest.raises(sqlite3.IntegrityError), store.write() as db:  # a publish still needs a project
        db.execute("INSERT INTO jobs (id, kind, account_id, created_at) VALUES ('p', 'publish', 'a', 't')")


def test_migration_7_gives_existing_channels_to_the_owner_account(tmp_path: Path) -> None:
    store = _migrated_to(tmp_path / "studio.db", 5)
    with store.write() as db:
        db.execute("INSERT INTO accounts (id, name, plan, created_at) VALUES ('b', 'bob', 'free', 't')")
        db.execute("INSERT INTO youtube_channels (channel_id, title, client_id, token_uri, connected_at) "
                   "VALUES ('UC1', 'Reyes Films', 'c', 'https://t', 't')")
    migrate(store)
    owner = store.one("SELECT id, plan, credit_balance FROM accounts WHERE name = 'owner'")
    assert owner is not None and owner["plan"] == "enterprise" and owner["credit_balance"] is None
    assert len(owner["id"]) == 36 and owner["id"].count("-") == 4  # a uuid's shape, as create_account makes
    assert store.one("SELECT account_id FROM youtube_channels") == {"account_id": owner["id"]}
    assert store.all("PRAGMA foreign_key_check") == []


def test_migration_7_makes_no_owner_where_no_channel_was_connected(tmp_path: Path) -> None:
    store = _migrated_to(tmp_path / "studio.db", 5)
    migrate(store)
    assert store.one("SELECT count(*) AS n FROM accounts") == {"n": 0}
