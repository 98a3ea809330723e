-- autodeploy store, schema version 1 (PostgreSQL). Keep in step with
-- migrations/sqlite/0001_init.sql: same tables, columns and meaning.
-- Timestamps are unix milliseconds; JSON values are stored as text.

CREATE TABLE deployments (
    id              TEXT    NOT NULL PRIMARY KEY,
    owner           TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    request         TEXT    NOT NULL,
    cloud           TEXT,
    region          TEXT,
    strategy        TEXT,
    commit_sha      TEXT,
    status          TEXT    NOT NULL,
    phase           TEXT,
    url             TEXT,
    outputs         TEXT    NOT NULL DEFAULT '{}',
    plan            TEXT,
    last_good_plan  TEXT,
    error           TEXT,
    options         TEXT    NOT NULL DEFAULT '{}',
    workdir         TEXT,
    idempotency_key TEXT,
    -- last log seq handed out; bumped under the row's write lock by append_logs
    log_seq         BIGINT  NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
-- NULL keys are distinct, so only real keys collide.
CREATE UNIQUE INDEX deployments_owner_idempotency ON deployments (owner, idempotency_key);
CREATE INDEX deployments_owner_created ON deployments (owner, created_at DESC, id DESC);
CREATE INDEX deployments_created ON deployments (created_at DESC, id DESC);
CREATE INDEX deployments_status ON deployments (status);
CREATE INDEX deployments_owner_status ON deployments (owner, status);

CREATE TABLE jobs (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deployment_id    TEXT    NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    kind             TEXT    NOT NULL,
    -- queued | running | done | failed | cancelled
    status           TEXT    NOT NULL,
    attempt          BIGINT  NOT NULL DEFAULT 0,
    max_attempts     BIGINT  NOT NULL,
    worker           TEXT,
    lease_until      BIGINT,
    run_after        BIGINT  NOT NULL,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    last_error       TEXT,
    created_at       BIGINT  NOT NULL,
    claimed_at       BIGINT,
    finished_at      BIGINT
);
CREATE INDEX jobs_status_run_after ON jobs (status, run_after);
CREATE INDEX jobs_deployment ON jobs (deployment_id);

CREATE TABLE logs (
    deployment_id TEXT    NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    seq           BIGINT  NOT NULL,
    at            BIGINT  NOT NULL,
    stream        TEXT    NOT NULL,
    phase         TEXT,
    line          TEXT    NOT NULL,
    PRIMARY KEY (deployment_id, seq)
);

CREATE TABLE users (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    created_at BIGINT  NOT NULL
);

-- Only the sha256 of a token is kept; prefix is its first 12 characters so
-- people can tell tokens apart and revoke one by it.
CREATE TABLE tokens (
    hash         TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label        TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE analysis_cache (
    key        TEXT    NOT NULL PRIMARY KEY,
    value      TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
