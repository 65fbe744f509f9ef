-- Initial schema of callcoach. The same text runs on SQLite and PostgreSQL:
-- ids are TEXT, times are BIGINT milliseconds since the Unix epoch (UTC),
-- flags and counts are BIGINT, scores are DOUBLE PRECISION and structured
-- results are JSON stored as TEXT.

CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    team_id TEXT REFERENCES teams (id),
    email TEXT NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 320),
    display_name TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    role TEXT NOT NULL CHECK (role IN ('rep', 'coach', 'manager', 'admin')),
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);
CREATE INDEX users_team ON users (team_id);

-- Bearer tokens: only the SHA-256 of the token is stored.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    token_sha256 TEXT NOT NULL UNIQUE CHECK (length(token_sha256) = 64),
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Metadata of the content-addressed files under <data>/audio.
CREATE TABLE audio_blobs (
    sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    size_bytes BIGINT NOT NULL CHECK (size_bytes > 0),
    extension TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE transcription_jobs (
    id TEXT PRIMARY KEY,
    audio_sha256 TEXT NOT NULL REFERENCES audio_blobs (sha256),
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('drill', 'call')),
    subject_id TEXT NOT NULL,
    language TEXT CHECK (language IN ('en', 'zh')),
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts BIGINT NOT NULL CHECK (max_attempts >= 1),
    worker_id TEXT,
    lease_expires_at BIGINT,
    enqueued_at BIGINT NOT NULL,
    started_at BIGINT,
    heartbeat_at BIGINT,
    finished_at BIGINT,
    result_json TEXT,
    error TEXT
);
CREATE INDEX transcription_jobs_status ON transcription_jobs (status, enqueued_at);
CREATE INDEX transcription_jobs_subject ON transcription_jobs (subject_kind, subject_id);

-- Scenarios drawn for a rep on a day, in draw order.
CREATE TABLE drill_draws (
    rep_id TEXT NOT NULL REFERENCES users (id),
    draw_date TEXT NOT NULL CHECK (length(draw_date) = 10),
    position BIGINT NOT NULL CHECK (position >= 0),
    scenario_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (rep_id, draw_date, position),
    UNIQUE (rep_id, draw_date, scenario_id)
);

CREATE TABLE drill_attempts (
    id TEXT PRIMARY KEY,
    rep_id TEXT NOT NULL REFERENCES users (id),
    scenario_id TEXT NOT NULL,
    drill_date TEXT NOT NULL CHECK (length(drill_date) = 10),
    language TEXT NOT NULL CHECK (language IN ('en', 'zh')),
    audio_sha256 TEXT REFERENCES audio_blobs (sha256),
    result_json TEXT,
    overall_score DOUBLE PRECISION CHECK (overall_score BETWEEN 0 AND 100),
    created_at BIGINT NOT NULL,
    scored_at BIGINT
);
CREATE INDEX drill_attempts_rep ON drill_attempts (rep_id, created_at);

-- Real calls. A row exists only with its consent record.
CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    rep_id TEXT NOT NULL REFERENCES users (id),
    audio_sha256 TEXT NOT NULL REFERENCES audio_blobs (sha256),
    language TEXT CHECK (language IN ('en', 'zh')),
    occurred_at BIGINT NOT NULL,
    consent_recorded_by TEXT NOT NULL REFERENCES users (id),
    consent_recorded_at BIGINT NOT NULL,
    consent_method TEXT NOT NULL
        CHECK (consent_method IN ('verbal_on_recording', 'written', 'electronic')),
    consent_note TEXT NOT NULL,
    analysis_json TEXT,
    analyzed_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX calls_rep ON calls (rep_id, occurred_at);

CREATE TABLE call_scenario_scores (
    call_id TEXT NOT NULL REFERENCES calls (id),
    scenario_id TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL CHECK (score BETWEEN 0 AND 100),
    PRIMARY KEY (call_id, scenario_id)
);

-- Heatmap input: one score per rep, scenario, dimension and source.
CREATE TABLE score_samples (
    id TEXT PRIMARY KEY,
    rep_id TEXT NOT NULL REFERENCES users (id),
    scenario_id TEXT NOT NULL,
    dimension TEXT NOT NULL CHECK (length(dimension) BETWEEN 1 AND 100),
    source_kind TEXT NOT NULL CHECK (source_kind IN ('drill', 'call')),
    source_id TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL CHECK (score BETWEEN 0 AND 100),
    sampled_at BIGINT NOT NULL,
    UNIQUE (source_kind, source_id, scenario_id, dimension)
);
CREATE INDEX score_samples_rep_time ON score_samples (rep_id, sampled_at);
CREATE INDEX score_samples_time ON score_samples (sampled_at);

-- Coach corrections. Rows are never updated, so the history is the table
-- and the effective value is the latest row per target and field.
CREATE TABLE score_overrides (
    id TEXT PRIMARY KEY,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('drill', 'call')),
    target_id TEXT NOT NULL,
    field TEXT NOT NULL CHECK (field IN ('phrase_match', 'overall_score')),
    phrase_id TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    comment TEXT NOT NULL CHECK (length(comment) BETWEEN 1 AND 4000),
    coach_id TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    UNIQUE (target_kind, target_id, seq),
    CHECK (
        (field = 'phrase_match' AND length(phrase_id) > 0 AND value IN (0, 1))
        OR (field = 'overall_score' AND phrase_id = '' AND value BETWEEN 0 AND 100)
    )
);

CREATE TABLE checkpoint_status (
    rep_id TEXT NOT NULL REFERENCES users (id),
    checkpoint_id TEXT NOT NULL,
    passed BIGINT NOT NULL CHECK (passed IN (0, 1)),
    qualifying_calls BIGINT NOT NULL CHECK (qualifying_calls >= 0),
    required_calls BIGINT NOT NULL CHECK (required_calls >= 1),
    passed_at BIGINT,
    evaluated_at BIGINT NOT NULL,
    PRIMARY KEY (rep_id, checkpoint_id)
);

CREATE TABLE checkpoint_calls (
    rep_id TEXT NOT NULL,
    checkpoint_id TEXT NOT NULL,
    call_id TEXT NOT NULL REFERENCES calls (id),
    PRIMARY KEY (rep_id, checkpoint_id, call_id),
    FOREIGN KEY (rep_id, checkpoint_id) REFERENCES checkpoint_status (rep_id, checkpoint_id)
);

CREATE TABLE user_permissions (
    user_id TEXT NOT NULL REFERENCES users (id),
    permission TEXT NOT NULL CHECK (length(permission) BETWEEN 1 AND 100),
    granted_at BIGINT NOT NULL,
    rule_id TEXT,
    actor_id TEXT REFERENCES users (id),
    PRIMARY KEY (user_id, permission)
);

CREATE TABLE permission_audit (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    permission TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('grant', 'revoke')),
    rule_id TEXT,
    actor_id TEXT REFERENCES users (id),
    reason TEXT NOT NULL,
    at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    UNIQUE (user_id, seq)
);
CREATE INDEX permission_audit_user ON permission_audit (user_id, at);

CREATE TABLE training_tasks (
    id TEXT PRIMARY KEY,
    rep_id TEXT NOT NULL REFERENCES users (id),
    dimension TEXT NOT NULL,
    scenario_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'done', 'cancelled')),
    assigned_by TEXT REFERENCES users (id),
    assigned_at BIGINT NOT NULL,
    due_at BIGINT,
    closed_at BIGINT
);
-- At most one open task per rep, dimension and scenario ('' = any scenario).
CREATE UNIQUE INDEX training_tasks_open
    ON training_tasks (rep_id, dimension, scenario_id) WHERE status = 'open';
