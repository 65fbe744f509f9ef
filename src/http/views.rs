//! Response bodies built from store records, with times as RFC 3339 text.

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::store::jobs::{Job, JobStatus};

/// Formats a time as RFC 3339 text, such as `2024-03-07T09:30:00Z`.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Formats an optional time as RFC 3339 text.
pub fn rfc3339_opt(at: Option<OffsetDateTime>) -> Option<String> {
    at.map(rfc3339)
}

/// A transcription job and, once done, its result.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    /// Job id.
    pub id: String,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// SHA-256 of the stored recording.
    pub recording_sha256: String,
    /// Claims so far.
    pub attempts: u32,
    /// Claims allowed before the job fails.
    pub max_attempts: u32,
    /// Time the job was queued.
    pub enqueued_at: String,
    /// Time of the latest claim.
    pub started_at: Option<String>,
    /// Time the job finished or failed.
    pub finished_at: Option<String>,
    /// `{"transcript": ...}` once done.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// Error of the latest failed attempt.
    pub error: Option<String>,
}

impl From<Job> for JobView {
    fn from(job: Job) -> JobView {
        JobView {
            id: job.id.to_string(),
            status: job.status.to_string(),
            recording_sha256: job.audio_sha256.to_string(),
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            enqueued_at: rfc3339(job.enqueued_at),
            started_at: rfc3339_opt(job.started_at),
            finished_at: rfc3339_opt(job.finished_at),
            result: job.result,
            error: job.error,
        }
    }
}

/// Returns whether a job has reached `done` or `failed`.
pub fn is_finished(job: &Job) -> bool {
    matches!(job.status, JobStatus::Done | JobStatus::Failed)
}
