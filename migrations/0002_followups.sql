-- Follow-ups to the initial schema, in the same portable SQL: a top-seller
-- flag on users, the rep's channel of a stereo call, and a job subject kind
-- for transcriptions that belong to no drill attempt or call.

-- Top sellers (reps only) are the baseline of heatmaps and monthly reviews.
ALTER TABLE users ADD COLUMN top_seller BIGINT NOT NULL DEFAULT 0
    CHECK (top_seller IN (0, 1));

-- Channel of the rep in a stereo recording; mono calls ignore it. Calls
-- stored before this column existed were analysed with the rep on channel 0,
-- so they keep 0, and new rows default to 1.
ALTER TABLE calls ADD COLUMN rep_channel BIGINT NOT NULL DEFAULT 1
    CHECK (rep_channel IN (0, 1));
UPDATE calls SET rep_channel = 0;

-- SQLite cannot alter the CHECK on transcription_jobs.subject_kind, so the
-- table is rebuilt (create, copy, drop, rename), which both engines run
-- inside the migration's transaction. Standalone transcriptions were stored
-- as drill jobs whose subject is the uploader's user id (prefix 'user_');
-- they move to the new kind. No table references transcription_jobs.
CREATE TABLE transcription_jobs_new (
    id TEXT PRIMARY KEY,
    audio_sha256 TEXT NOT NULL REFERENCES audio_blobs (sha256),
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('drill', 'call', 'transcription')),
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
INSERT INTO transcription_jobs_new (id, audio_sha256, subject_kind, subject_id, language,
    status, attempts, max_attempts, worker_id, lease_expires_at, enqueued_at, started_at,
    heartbeat_at, finished_at, result_json, error)
SELECT id, audio_sha256,
    CASE WHEN subject_kind = 'drill' AND substr(subject_id, 1, 5) = 'user_'
        THEN 'transcription' ELSE subject_kind END,
    subject_id, language, status, attempts, max_attempts, worker_id, lease_expires_at,
    enqueued_at, started_at, heartbeat_at, finished_at, result_json, error
FROM transcription_jobs;
DROP TABLE transcription_jobs;
ALTER TABLE transcription_jobs_new RENAME TO transcription_jobs;
CREATE INDEX transcription_jobs_status ON transcription_jobs (status, enqueued_at);
CREATE INDEX transcription_jobs_subject ON transcription_jobs (subject_kind, subject_id);
