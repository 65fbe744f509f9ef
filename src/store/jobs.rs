//! The durable transcription job queue.
//!
//! A job moves `queued` → `running` → `done` or `failed`. A worker claims
//! the oldest claimable job with a lease and renews it with heartbeats.
//! A job whose lease expired, because its worker died, is claimable again.
//! Each claim counts as an attempt, and a job that used up its attempts
//! fails instead of running again.
//!
//! The claim is one `UPDATE … WHERE id = (oldest candidate) AND status is
//! still claimable … RETURNING` in a write transaction. On SQLite the
//! transaction holds the write lock, so claims are serial. On PostgreSQL a
//! concurrent claimer of the same row blocks on the row lock, rechecks the
//! status after the first commit and updates nothing, and then retries with
//! the next candidate. No job is ever claimed twice.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use super::audio_blobs::AudioSha256;
use super::record::{json_text, parse_column, parse_json, RecordKind};
use super::{from_ms, from_ms_opt, now, to_ms, Error, JobId, Result, Store};
use crate::language::Language;

/// Claim rounds before `claim_job` gives up when other workers keep winning.
const MAX_CLAIM_ROUNDS: usize = 16;
/// Attempts of a job unless the caller sets another number.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// State of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for a worker.
    Queued,
    /// Claimed by a worker that holds a lease.
    Running,
    /// Finished with a result.
    Done,
    /// Given up, with the last error.
    Failed,
}

impl JobStatus {
    /// Returns the stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }
}

impl FromStr for JobStatus {
    type Err = Error;

    fn from_str(text: &str) -> Result<JobStatus> {
        [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Done,
            JobStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
        .ok_or_else(|| Error::invalid("job status", format!("unknown value {text:?}")))
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of record whose audio a job transcribes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// A drill attempt, scored after transcription.
    Drill,
    /// A real, consented call, analysed after transcription.
    Call,
    /// A plain transcription; the subject id is the uploader's user id.
    Transcription,
}

impl SubjectKind {
    /// Returns the stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Drill => "drill",
            SubjectKind::Call => "call",
            SubjectKind::Transcription => "transcription",
        }
    }
}

impl From<RecordKind> for SubjectKind {
    fn from(kind: RecordKind) -> SubjectKind {
        match kind {
            RecordKind::Drill => SubjectKind::Drill,
            RecordKind::Call => SubjectKind::Call,
        }
    }
}

impl FromStr for SubjectKind {
    type Err = Error;

    fn from_str(text: &str) -> Result<SubjectKind> {
        [
            SubjectKind::Drill,
            SubjectKind::Call,
            SubjectKind::Transcription,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
        .ok_or_else(|| {
            Error::invalid(
                "job subject kind",
                format!("{text:?}: expected drill, call or transcription"),
            )
        })
    }
}

impl fmt::Display for SubjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A transcription to run.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// The audio to transcribe.
    pub audio_sha256: AudioSha256,
    /// The record that receives the transcript.
    pub subject_kind: SubjectKind,
    /// Id of that drill attempt or call, or of the uploader of a transcription.
    pub subject_id: String,
    /// Spoken language, or `None` to detect it.
    pub language: Option<Language>,
    /// Claims allowed before the job fails, at least 1.
    pub max_attempts: u32,
}

/// A job row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    /// Job id.
    pub id: JobId,
    /// The audio to transcribe.
    pub audio_sha256: AudioSha256,
    /// The record that receives the transcript.
    pub subject_kind: SubjectKind,
    /// Id of that drill attempt or call, or of the uploader of a transcription.
    pub subject_id: String,
    /// Spoken language, or `None` to detect it.
    pub language: Option<Language>,
    /// Current state.
    pub status: JobStatus,
    /// Claims so far.
    pub attempts: u32,
    /// Claims allowed before the job fails.
    pub max_attempts: u32,
    /// Worker of the latest claim.
    pub worker_id: Option<String>,
    /// End of the current lease while running.
    pub lease_expires_at: Option<OffsetDateTime>,
    /// Time the job was queued.
    pub enqueued_at: OffsetDateTime,
    /// Time of the latest claim.
    pub started_at: Option<OffsetDateTime>,
    /// Time of the latest heartbeat or claim.
    pub heartbeat_at: Option<OffsetDateTime>,
    /// Time the job finished or failed.
    pub finished_at: Option<OffsetDateTime>,
    /// Transcript JSON of a finished job.
    pub result: Option<serde_json::Value>,
    /// Error of the latest failed attempt.
    pub error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: String,
    audio_sha256: String,
    subject_kind: String,
    subject_id: String,
    language: Option<String>,
    status: String,
    attempts: i64,
    max_attempts: i64,
    worker_id: Option<String>,
    lease_expires_at: Option<i64>,
    enqueued_at: i64,
    started_at: Option<i64>,
    heartbeat_at: Option<i64>,
    finished_at: Option<i64>,
    result_json: Option<String>,
    error: Option<String>,
}

impl TryFrom<JobRow> for Job {
    type Error = Error;

    fn try_from(row: JobRow) -> Result<Job> {
        let count =
            |value: i64| u32::try_from(value).map_err(|e| Error::corrupt("job attempts", &e));
        Ok(Job {
            id: JobId::try_from(row.id)?,
            audio_sha256: AudioSha256::try_from(row.audio_sha256)?,
            subject_kind: parse_column("transcription_jobs.subject_kind", &row.subject_kind)?,
            subject_id: row.subject_id,
            language: row
                .language
                .map(|text| parse_column("transcription_jobs.language", &text))
                .transpose()?,
            status: parse_column("transcription_jobs.status", &row.status)?,
            attempts: count(row.attempts)?,
            max_attempts: count(row.max_attempts)?,
            worker_id: row.worker_id,
            lease_expires_at: from_ms_opt(row.lease_expires_at)?,
            enqueued_at: from_ms(row.enqueued_at)?,
            started_at: from_ms_opt(row.started_at)?,
            heartbeat_at: from_ms_opt(row.heartbeat_at)?,
            finished_at: from_ms_opt(row.finished_at)?,
            result: parse_json("transcription_jobs.result_json", row.result_json)?,
            error: row.error,
        })
    }
}

const JOB_COLUMNS: &str = "id, audio_sha256, subject_kind, subject_id, language, status, \
    attempts, max_attempts, worker_id, lease_expires_at, enqueued_at, started_at, heartbeat_at, \
    finished_at, result_json, error";

/// Condition of a job that a worker may claim at time `$3`.
const CLAIMABLE: &str = "(status = 'queued' OR (status = 'running' AND lease_expires_at < $3)) \
    AND attempts < max_attempts";

impl Store {
    /// Adds a job to the queue and returns it.
    pub async fn enqueue_job(&self, new: &NewJob) -> Result<Job> {
        if new.max_attempts == 0 {
            return Err(Error::invalid(
                "job",
                "max_attempts is 0: allow at least 1 attempt",
            ));
        }
        let id = JobId::generate();

        sqlx::query(
            "INSERT INTO transcription_jobs (id, audio_sha256, subject_kind, subject_id, \
             language, status, attempts, max_attempts, enqueued_at) \
             VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $7)",
        )
        .bind(id.as_str())
        .bind(new.audio_sha256.as_str())
        .bind(new.subject_kind.as_str())
        .bind(&new.subject_id)
        .bind(new.language.map(Language::code))
        .bind(i64::from(new.max_attempts))
        .bind(to_ms(now()))
        .execute(self.pool())
        .await
        .map_err(|err| Error::from_db(err, format!("job for audio {}", new.audio_sha256)))?;
        self.job(&id).await
    }

    /// Returns the job with `id`.
    pub async fn job(&self, id: &JobId) -> Result<Job> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM transcription_jobs WHERE id = $1");
        let row: Option<JobRow> = sqlx::query_as(&sql)
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.ok_or_else(|| Error::NotFound {
            entity: "job",
            id: id.to_string(),
        })?
        .try_into()
    }

    /// Claims the oldest claimable job for `worker` with a lease of `lease`.
    ///
    /// Returns `None` when no job is claimable. Jobs whose lease expired
    /// after their last allowed attempt are marked failed first.
    pub async fn claim_job(&self, worker: &str, lease: Duration) -> Result<Option<Job>> {
        self.fail_exhausted_jobs().await?;
        for _ in 0..MAX_CLAIM_ROUNDS {
            if let Some(job) = self.try_claim(worker, lease).await? {
                tracing::debug!(job = %job.id, worker, attempt = job.attempts, "job claimed");
                return Ok(Some(job));
            }
            if !self.has_claimable_job().await? {
                return Ok(None);
            }
        }
        Ok(None)
    }

    async fn try_claim(&self, worker: &str, lease: Duration) -> Result<Option<Job>> {
        let at = now();
        let sql = format!(
            "UPDATE transcription_jobs SET status = 'running', worker_id = $1, \
             lease_expires_at = $2, started_at = $3, heartbeat_at = $3, attempts = attempts + 1 \
             WHERE id = (SELECT id FROM transcription_jobs WHERE {CLAIMABLE} \
             ORDER BY enqueued_at, id LIMIT 1) AND {CLAIMABLE} RETURNING {JOB_COLUMNS}"
        );
        let mut tx = self.begin().await?;

        let row: Option<JobRow> = sqlx::query_as(&sql)
            .bind(worker)
            .bind(to_ms(at + lease))
            .bind(to_ms(at))
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(Job::try_from).transpose()
    }

    async fn has_claimable_job(&self) -> Result<bool> {
        // CLAIMABLE names the time `$3`, which is the only placeholder here.
        let sql = format!(
            "SELECT COUNT(*) FROM transcription_jobs WHERE {} ",
            CLAIMABLE.replace("$3", "$1")
        );
        let (count,): (i64,) = sqlx::query_as(&sql)
            .bind(to_ms(now()))
            .fetch_one(self.pool())
            .await?;
        Ok(count > 0)
    }

    async fn fail_exhausted_jobs(&self) -> Result<u64> {
        let result = sqlx::query(
            "UPDATE transcription_jobs SET status = 'failed', finished_at = $1, \
             lease_expires_at = NULL, \
             error = COALESCE(error, 'lease expired on the last allowed attempt') \
             WHERE status = 'running' AND lease_expires_at < $1 AND attempts >= max_attempts",
        )
        .bind(to_ms(now()))
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected())
    }

    /// Extends the lease of a running job held by `worker`.
    ///
    /// # Errors
    ///
    /// [`Error::LeaseLost`] when the job is not running under `worker`.
    pub async fn heartbeat_job(&self, id: &JobId, worker: &str, lease: Duration) -> Result<()> {
        let at = now();
        let result = sqlx::query(
            "UPDATE transcription_jobs SET lease_expires_at = $1, heartbeat_at = $2 \
             WHERE id = $3 AND status = 'running' AND worker_id = $4",
        )
        .bind(to_ms(at + lease))
        .bind(to_ms(at))
        .bind(id.as_str())
        .bind(worker)
        .execute(self.pool())
        .await?;
        self.check_held(result.rows_affected(), id, worker).await
    }

    /// Marks a running job held by `worker` as done with its transcript JSON.
    pub async fn complete_job(
        &self,
        id: &JobId,
        worker: &str,
        result: &serde_json::Value,
    ) -> Result<()> {
        let outcome = sqlx::query(
            "UPDATE transcription_jobs SET status = 'done', result_json = $1, finished_at = $2, \
             lease_expires_at = NULL, error = NULL \
             WHERE id = $3 AND status = 'running' AND worker_id = $4",
        )
        .bind(json_text(result))
        .bind(to_ms(now()))
        .bind(id.as_str())
        .bind(worker)
        .execute(self.pool())
        .await?;
        self.check_held(outcome.rows_affected(), id, worker).await
    }

    /// Records a failed attempt and returns the job's new status.
    ///
    /// The job goes back to the queue while attempts remain and fails otherwise.
    pub async fn fail_job(&self, id: &JobId, worker: &str, error: &str) -> Result<JobStatus> {
        let outcome = sqlx::query(
            "UPDATE transcription_jobs SET error = $1, lease_expires_at = NULL, \
             status = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'failed' END, \
             finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE CAST($2 AS BIGINT) END \
             WHERE id = $3 AND status = 'running' AND worker_id = $4",
        )
        .bind(error)
        .bind(to_ms(now()))
        .bind(id.as_str())
        .bind(worker)
        .execute(self.pool())
        .await?;
        self.check_held(outcome.rows_affected(), id, worker).await?;
        Ok(self.job(id).await?.status)
    }

    /// Puts every running job back in the queue and returns how many moved.
    ///
    /// Call it at start-up when this process is the only worker of the
    /// database (the embedded setup): jobs still running then were cut off
    /// by a crash. Jobs that used their last attempt fail instead.
    pub async fn requeue_running_jobs(&self) -> Result<u64> {
        self.requeue_where("status = 'running'", None).await
    }

    /// Puts the running jobs of `worker` back in the queue, for graceful shutdown.
    pub async fn requeue_worker_jobs(&self, worker: &str) -> Result<u64> {
        self.requeue_where("status = 'running' AND worker_id = $W", Some(worker))
            .await
    }

    /// Requeues jobs matching `condition`, where `$W` stands for `worker`.
    async fn requeue_where(&self, condition: &str, worker: Option<&str>) -> Result<u64> {
        let fail_condition = condition.replace("$W", "$2");
        let requeue_condition = condition.replace("$W", "$1");
        let fail = format!(
            "UPDATE transcription_jobs SET status = 'failed', finished_at = $1, \
             lease_expires_at = NULL, \
             error = COALESCE(error, 'interrupted on the last allowed attempt') \
             WHERE {fail_condition} AND attempts >= max_attempts"
        );
        let requeue = format!(
            "UPDATE transcription_jobs SET status = 'queued', lease_expires_at = NULL \
             WHERE {requeue_condition}"
        );
        let at = to_ms(now());
        let mut tx = self.begin().await?;

        let mut failed = sqlx::query(&fail).bind(at);
        let mut queued = sqlx::query(&requeue);
        if let Some(worker) = worker {
            failed = failed.bind(worker);
            queued = queued.bind(worker);
        }
        let failed = failed.execute(&mut *tx).await?.rows_affected();
        let moved = queued.execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        tracing::info!(requeued = moved, failed, "running jobs released");
        Ok(moved)
    }

    /// Counts queued jobs, for back-pressure on uploads.
    pub async fn count_queued_jobs(&self) -> Result<u64> {
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM transcription_jobs WHERE status = 'queued'")
                .fetch_one(self.pool())
                .await?;
        u64::try_from(count).map_err(|err| Error::corrupt("job count", &err))
    }

    async fn check_held(&self, rows: u64, id: &JobId, worker: &str) -> Result<()> {
        if rows > 0 {
            return Ok(());
        }
        self.job(id).await?;
        Err(Error::LeaseLost {
            job: id.to_string(),
            worker: worker.to_string(),
        })
    }
}
