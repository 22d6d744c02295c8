"""Numbered schema migrations for studio.db; `PRAGMA user_version` records the last one applied."""

from __future__ import annotations

import sqlite3

from filmstudio.store.db import Store

# Append only: a released migration never changes; a fix is a new number.
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE accounts (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            plan TEXT NOT NULL DEFAULT 'free'
                CHECK (plan IN ('free', 'standard', 'pro', 'enterprise')),
            credit_balance INTEGER,
            created_at TEXT NOT NULL
        );
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL REFERENCES accounts(id),
            name TEXT NOT NULL,
            prefix TEXT NOT NULL UNIQUE,
            digest TEXT NOT NULL,
            scopes TEXT NOT NULL,
            allowed_ips TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL,
            last_used_at TEXT,
            expires_at TEXT,
            revoked_at TEXT,
            rotated_from TEXT REFERENCES api_keys(id)
        );
        CREATE INDEX idx_api_keys_account ON api_keys(account_id);
        CREATE TABLE projects (
            id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL REFERENCES accounts(id),
            title TEXT NOT NULL,
            script TEXT NOT NULL,
            settings TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'processing', 'completed', 'failed')),
            assets TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            completed_at TEXT,
            deleted_at TEXT
        );
        CREATE INDEX idx_projects_list ON projects(account_id, deleted_at, status, created_at);
        CREATE INDEX idx_projects_updated ON projects(account_id, deleted_at, updated_at);
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            project_id TEXT NOT NULL REFERENCES projects(id),
            account_id TEXT NOT NULL REFERENCES accounts(id),
            status TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'cancelled')),
            progress INTEGER NOT NULL DEFAULT 0,
            current_step TEXT,
            script TEXT NOT NULL,
            settings TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            lease_owner TEXT,
            lease_until REAL,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            error_code TEXT,
            error_message TEXT,
            warnings TEXT NOT NULL DEFAULT '[]',
            stage_timings TEXT NOT NULL DEFAULT '{}',
            credits INTEGER NOT NULL DEFAULT 0,
            idempotency_key TEXT,
            output_dir TEXT,
            created_at TEXT NOT NULL,
            enqueued_at TEXT,
            started_at TEXT,
            finished_at TEXT,
            UNIQUE (account_id, idempotency_key)
        );
        CREATE INDEX idx_jobs_project ON jobs(project_id, created_at);
        CREATE INDEX idx_jobs_account ON jobs(account_id, status, created_at);
        CREATE INDEX idx_jobs_status ON jobs(status, lease_until);
        CREATE TABLE credit_ledger (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            account_id TEXT NOT NULL REFERENCES accounts(id),
            job_id TEXT REFERENCES jobs(id),
            kind TEXT NOT NULL CHECK (kind IN ('grant', 'deduct', 'refund')),
            amount INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (job_id, kind)
        );
        CREATE TABLE webhooks (
            id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL REFERENCES accounts(id),
            url TEXT NOT NULL,
            events TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
            created_at TEXT NOT NULL,
            deleted_at TEXT
        );
        CREATE TABLE webhook_deliveries (
            id TEXT PRIMARY KEY,
            webhook_id TEXT NOT NULL REFERENCES webhooks(id),
            event TEXT NOT NULL,
            payload TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'delivered', 'failed', 'abandoned')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            last_status_code INTEGER,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX idx_deliveries_due ON webhook_deliveries(status, next_attempt_at);
        """,
    ),
    (
        2,
        # Listing pages must come from the index alone (100k projects): sort columns right after the
        # account filter; rowid (implicit at the end of every index) breaks ties in insertion order.
        """
        DROP INDEX idx_projects_list;
        DROP INDEX idx_projects_updated;
        CREATE INDEX idx_projects_created ON projects(account_id, deleted_at, created_at);
        CREATE INDEX idx_projects_updated ON projects(account_id, deleted_at, updated_at);
        CREATE INDEX idx_projects_status_created ON projects(account_id, deleted_at, status, created_at);
        CREATE INDEX idx_projects_status_updated ON projects(account_id, deleted_at, status, updated_at);
        -- Live projects per (account, status), kept exact by triggers: count(*) over 100k rows costs
        -- ~10 ms, too slow for every page of GET /projects.
        CREATE TABLE project_counts (
            account_id TEXT NOT NULL,
            status TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (account_id, status)
        ) WITHOUT ROWID;
        INSERT INTO project_counts (account_id, status, n)
            SELECT account_id, status, count(*) FROM projects WHERE deleted_at IS NULL GROUP BY 1, 2;
        CREATE TRIGGER project_counts_insert AFTER INSERT ON projects WHEN NEW.deleted_at IS NULL
        BEGIN
            INSERT INTO project_counts (account_id, status, n) VALUES (NEW.account_id, NEW.status, 1)
                ON CONFLICT (account_id, status) DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER project_counts_update_old AFTER UPDATE OF status, deleted_at, account_id ON projects
            WHEN OLD.deleted_at IS NULL
        BEGIN
            UPDATE project_counts SET n = n - 1 WHERE account_id = OLD.account_id AND status = OLD.status;
        END;
        CREATE TRIGGER project_counts_update_new AFTER UPDATE OF status, deleted_at, account_id ON projects
            WHEN NEW.deleted_at IS NULL
        BEGIN
            INSERT INTO project_counts (account_id, status, n) VALUES (NEW.account_id, NEW.status, 1)
                ON CONFLICT (account_id, status) DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER project_counts_delete AFTER DELETE ON projects WHEN OLD.deleted_at IS NULL
        BEGIN
            UPDATE project_counts SET n = n - 1 WHERE account_id = OLD.account_id AND status = OLD.status;
        END;
        """,
    ),
    (
        3,
        # Issue #4: rate limits, idempotency, webhook outbox bookkeeping.
        """
        -- Per-account limit overrides (enterprise is configurable; NULL = the plan's default).
        ALTER TABLE accounts ADD COLUMN rate_per_minute INTEGER;
        ALTER TABLE accounts ADD COLUMN rate_per_day INTEGER;
        -- The balance can never go below zero, whatever code path moves it.
        CREATE TRIGGER accounts_balance_not_negative BEFORE UPDATE OF credit_balance ON accounts
            WHEN NEW.credit_balance IS NOT NULL AND NEW.credit_balance < 0
        BEGIN
            SELECT RAISE(ABORT, 'credit balance would go negative');
        END;
        -- Fixed-window request counters, one row per (account, window kind); survive restarts.
        CREATE TABLE rate_counters (
            account_id TEXT NOT NULL,
            window TEXT NOT NULL CHECK (window IN ('minute', 'day')),
            window_start INTEGER NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (account_id, window)
        ) WITHOUT ROWID;
        CREATE TABLE idempotency_keys (
            account_id TEXT NOT NULL,
            key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('processing', 'done')),
            locked_until REAL,
            response_status INTEGER,
            response_body TEXT,
            created_at REAL NOT NULL,
            PRIMARY KEY (account_id, key)
        ) WITHOUT ROWID;
        CREATE INDEX idx_idempotency_created ON idempotency_keys(created_at);
        ALTER TABLE webhooks ADD COLUMN disabled_reason TEXT;
        ALTER TABLE webhooks ADD COLUMN secret_ref TEXT;
        ALTER TABLE webhook_deliveries ADD COLUMN lease_until REAL;
        ALTER TABLE webhook_deliveries ADD COLUMN due_at REAL;
        CREATE INDEX idx_deliveries_sendable ON webhook_deliveries(status, due_at);
        CREATE INDEX idx_deliveries_webhook ON webhook_deliveries(webhook_id, created_at);
        CREATE TABLE webhook_attempts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id),
            attempt INTEGER NOT NULL,
            status_code INTEGER,
            error TEXT,
            latency_ms REAL NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_attempts_delivery ON webhook_attempts(delivery_id, attempt);
        """,
    ),
    (
        4,
        # Issue #9: jobs of more than one kind (render, model_pull, publish); a pull has no project,
        # and a job's outcome (a model's path, a video id) is kept as `result`. SQLite cannot relax a
        # NOT NULL in place, so the table is rebuilt (foreign keys off around it, checked before commit).
        """
        CREATE TABLE jobs_v4 (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL DEFAULT 'render' CHECK (kind IN ('render', 'model_pull', 'publish')),
            project_id TEXT REFERENCES projects(id),
            account_id TEXT NOT NULL REFERENCES accounts(id),
            status TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'cancelled')),
            progress INTEGER NOT NULL DEFAULT 0,
            current_step TEXT,
            script TEXT NOT NULL DEFAULT '',
            settings TEXT NOT NULL DEFAULT '{}',
            params TEXT NOT NULL DEFAULT '{}',
            result TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            lease_owner TEXT,
            lease_until REAL,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            error_code TEXT,
            error_message TEXT,
            warnings TEXT NOT NULL DEFAULT '[]',
            stage_timings TEXT NOT NULL DEFAULT '{}',
            credits INTEGER NOT NULL DEFAULT 0,
            idempotency_key TEXT,
            output_dir TEXT,
            created_at TEXT NOT NULL,
            enqueued_at TEXT,
            started_at TEXT,
            finished_at TEXT,
            UNIQUE (account_id, idempotency_key),
            CHECK (kind = 'model_pull' OR project_id IS NOT NULL)
        );
        INSERT INTO jobs_v4 (id, project_id, account_id, status, progress, current_step, script, settings,
            attempts, lease_owner, lease_until, cancel_requested, error_code, error_message, warnings,
            stage_timings, credits, idempotency_key, output_dir, created_at, enqueued_at, started_at, finished_at)
        SELECT id, project_id, account_id, status, progress, current_step, script, settings,
            attempts, lease_owner, lease_until, cancel_requested, error_code, error_message, warnings,
            stage_timings, credits, idempotency_key, output_dir, created_at, enqueued_at, started_at, finished_at
        FROM jobs ORDER BY rowid;
        DROP TABLE jobs;
        ALTER TABLE jobs_v4 RENAME TO jobs;
        CREATE INDEX idx_jobs_project ON jobs(project_id, created_at);
        CREATE INDEX idx_jobs_account ON jobs(account_id, status, created_at);
        CREATE INDEX idx_jobs_status ON jobs(status, lease_until);
        CREATE INDEX idx_jobs_kind ON jobs(kind, status);
        """,
    ),
    (
        5,
        # Issue #13: one row per connected YouTube channel. Its refresh token lives in the OS keyring
        # (secret `youtube:<channel_id>`), never here.
        """
        CREATE TABLE youtube_channels (
            channel_id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            client_id TEXT NOT NULL,
            token_uri TEXT NOT NULL,
            scopes TEXT NOT NULL DEFAULT '[]',
            connected_at TEXT NOT NULL
        );
        """,
    ),
    (
        6,
        # Issue 17: job kinds are checked in code (store/jobs.py JOB_KINDS), so a new kind needs no
        # table rebuild; this one rebuild drops the CHECK on `kind` (a render and a publish still need a
        # project). Issue 24: a failed job keeps its error's details (a quota's resets_at).
        """
        CREATE TABLE jobs_v6 (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL DEFAULT 'render',
            project_id TEXT REFERENCES projects(id),
            account_id TEXT NOT NULL REFERENCES accounts(id),
            status TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'cancelled')),
            progress INTEGER NOT NULL DEFAULT 0,
            current_step TEXT,
            script TEXT NOT NULL DEFAULT '',
            settings TEXT NOT NULL DEFAULT '{}',
            params TEXT NOT NULL DEFAULT '{}',
            result TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            lease_owner TEXT,
            lease_until REAL,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            error_code TEXT,
            error_message TEXT,
            error_details TEXT,
            warnings TEXT NOT NULL DEFAULT '[]',
            stage_timings TEXT NOT NULL DEFAULT '{}',
            credits INTEGER NOT NULL DEFAULT 0,
            idempotency_key TEXT,
            output_dir TEXT,
            created_at TEXT NOT NULL,
            enqueued_at TEXT,
            started_at TEXT,
            finished_at TEXT,
            UNIQUE (account_id, idempotency_key),
            CHECK (kind = 'model_pull' OR project_id IS NOT NULL)
        );
        INSERT INTO jobs_v6 (id, kind, project_id, account_id, status, progress, current_step, script, settings,
            params, result, attempts, lease_owner, lease_until, cancel_requested, error_code, error_message,
            warnings, stage_timings, credits, idempotency_key, output_dir, created_at, enqueued_at, started_at,
            finished_at)
        SELECT id, kind, project_id, account_id, status, progress, current_step, script, settings,
            params, result, attempts, lease_owner, lease_until, cancel_requested, error_code, error_message,
            warnings, stage_timings, credits, idempotency_key, output_dir, created_at, enqueued_at, started_at,
            finished_at
        FROM jobs ORDER BY rowid;
        DROP TABLE jobs;
        ALTER TABLE jobs_v6 RENAME TO jobs;
        CREATE INDEX idx_jobs_project ON jobs(project_id, created_at);
        CREATE INDEX idx_jobs_account ON jobs(account_id, status, created_at);
        CREATE INDEX idx_jobs_status ON jobs(status, lease_until);
        CREATE INDEX idx_jobs_kind ON jobs(kind, status);
        """,
    ),
    (
        7,
        # Issue 25: a channel belongs to the account that connected it, and an admin may share it with
        # others. Channels connected before belong to the built-in owner account (made here if need be).
        """
        INSERT INTO accounts (id, name, plan, credit_balance, created_at)
            SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2)
                         || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2)
                         || '-' || hex(randomblob(6))),
                   'owner', 'enterprise', NULL, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
            WHERE EXISTS (SELECT 1 FROM youtube_channels)
              AND NOT EXISTS (SELECT 1 FROM accounts WHERE name = 'owner');
        ALTER TABLE youtube_channels ADD COLUMN account_id TEXT REFERENCES accounts(id);
        UPDATE youtube_channels SET account_id = (SELECT id FROM accounts WHERE name = 'owner');
        CREATE INDEX idx_channels_account ON youtube_channels(account_id);
        CREATE TABLE youtube_channel_shares (
            channel_id TEXT NOT NULL REFERENCES youtube_channels(channel_id),
            account_id TEXT NOT NULL REFERENCES accounts(id),
            shared_at TEXT NOT NULL,
            PRIMARY KEY (channel_id, account_id)
        );
        """,
    ),
    (
        8,
        # Issue 19: a project may start from an idea; the writer fills its script from it.
        """
        ALTER TABLE projects ADD COLUMN idea TEXT;
        """,
    ),
    (
        9,
        # Issue 21: optimistic concurrency. A project's revision is its ETag ("r<n>"); every write of
        # the row bumps it, whoever writes it (an edit, a render starting or ending, a written script),
        # so no writer can forget. A write that sets the revision itself is left alone.
        """
        ALTER TABLE projects ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
        CREATE TRIGGER projects_revision AFTER UPDATE ON projects WHEN NEW.revision = OLD.revision
        BEGIN
            UPDATE projects SET revision = OLD.revision + 1 WHERE rowid = NEW.rowid;
        END;
        """,
    ),
)

# Migrations that rebuild a table others reference: run with foreign keys off (a no-op inside a
# transaction, so set around it), then `foreign_key_check` before the commit.
_REBUILDS = frozenset({4, 6})


def schema_version(store: Store) -> int:
    row = store.one("PRAGMA user_version")
    return int(next(iter(row.values()))) if row else 0


def migrate(store: Store) -> int:
    """Apply every migration newer than the database, each in its own transaction; return the version."""
    for number, sql in MIGRATIONS:
        rebuild = number in _REBUILDS
        if rebuild:
            store.db.execute("PRAGMA foreign_keys = OFF")
        try:
            with store.write() as db:
                # Re-read inside the write lock: two processes starting together must not both migrate.
                current = int(db.execute("PRAGMA user_version").fetchone()[0])
                if number <= current:
                    continue
                for statement in _statements(sql):
                    db.execute(statement)
                if rebuild and db.execute("PRAGMA foreign_key_check").fetchone() is not None:
                    raise sqlite3.IntegrityError(f"migration {number} broke a foreign key")
                db.execute(f"PRAGMA user_version = {number}")
        finally:
            if rebuild:
                store.db.execute("PRAGMA foreign_keys = ON")
    return schema_version(store)


def _statements(sql: str) -> list[str]:
    """Split a script into complete statements (trigger bodies contain semicolons)."""
    out: list[str] = []
    current = ""
    for line in sql.splitlines(keepends=True):
        if line.strip().startswith("--") and not current.strip():
            continue
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    if current.strip():
        out.append(current.strip())
    return out
