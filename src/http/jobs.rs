//! Transcription jobs: `POST /transcriptions` stores a recording and queues
//! a job, `GET /transcriptions/{id}` returns its state and result.
//!
//! The upload is decoded once to reject bad audio, written content-addressed
//! with `fsync`, and the job row is committed before the 202 response. With
//! `?wait_ms=N` the answer waits up to N ms and carries the result (200)
//! when the job finishes in time. The helpers here serve drill and call
//! uploads too.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use super::upload::AudioUpload;
use super::views::{is_finished, JobView};
use super::AppState;
use crate::language::Language;
use crate::store::audio_blobs::StoredAudio;
use crate::store::jobs::Job;
use crate::store::users::User;
use crate::store::JobId;
use crate::worker::JobSubject;

/// Maximum pause between two reads of a job while a request waits for it.
const WAIT_POLL: Duration = Duration::from_millis(250);

/// Query parameters of an upload.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// Spoken language (`en` or `zh`); detected when absent.
    pub language: Option<String>,
    /// Milliseconds to wait for the result before responding.
    pub wait_ms: Option<u64>,
}

/// Query parameters of a status request.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Milliseconds to wait for the job to finish before responding.
    pub wait_ms: Option<u64>,
}

/// Returns the routes of transcription jobs.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/transcriptions", post(create_transcription))
        .route("/transcriptions/{id}", get(transcription))
}

/// Stores a recording and queues its transcription.
#[utoipa::path(post, path = "/api/v1/transcriptions", tag = "transcriptions",
    params(UploadQuery),
    request_body(description = "audio/* or application/octet-stream body, or multipart/form-data \
        with an `audio` file part and an optional `language` field", content_type = "audio/wav"),
    responses(
        (status = 202, description = "Stored and queued", body = JobView),
        (status = 200, description = "Finished within wait_ms", body = JobView),
        (status = 400, description = "Empty upload", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 413, description = "Over the size or duration limit", body = super::ErrorBody),
        (status = 415, description = "Not audio, or wrong content type", body = super::ErrorBody),
        (status = 422, description = "Damaged audio or invalid language", body = super::ErrorBody),
        (status = 503, description = "Queue full; see Retry-After", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_transcription(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<UploadQuery>,
    upload: AudioUpload,
) -> ApiResult<Response> {
    let wait = wait_duration(&state, query.wait_ms)?;
    let language = parse_language(query.language.as_deref().or(upload.field("language")))?;
    check_model_language(&state, language)?;
    let stored = store_upload(&state, &upload).await?;
    let subject = JobSubject::Standalone(caller.id().clone());
    let job = enqueue(&state, &subject, &stored, language).await?;
    let job = wait_for_job(&state, &job.id, wait).await?;
    Ok(job_response(job))
}

/// Returns a job's state, and its result once done.
#[utoipa::path(get, path = "/api/v1/transcriptions/{id}", tag = "transcriptions",
    params(("id" = String, Path, description = "Job id"), WaitQuery),
    responses(
        (status = 200, description = "The job", body = JobView),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Another user's job", body = super::ErrorBody),
        (status = 404, description = "Unknown job", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn transcription(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<WaitQuery>,
) -> ApiResult<ApiJson<JobView>> {
    let wait = wait_duration(&state, query.wait_ms)?;
    let id = JobId::parse(&id)?;
    let job = state.store.job(&id).await?;
    let owner = job_owner(&state, &job).await?;
    caller.check_user(&owner)?;
    let job = wait_for_job(&state, &id, wait).await?;
    Ok(ApiJson(job.into()))
}

/// Answers 200 with a finished job, else 202 with a `Location` to poll.
pub(crate) fn job_response(job: Job) -> Response {
    let status = if is_finished(&job) {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let location = format!("/api/v1/transcriptions/{}", job.id);
    let view: JobView = job.into();
    (status, [(header::LOCATION, location)], ApiJson(view)).into_response()
}

async fn job_owner(state: &AppState, job: &Job) -> ApiResult<User> {
    let owner = match JobSubject::of(job)? {
        JobSubject::Standalone(user) => user,
        JobSubject::Drill(attempt) => state.store.drill_attempt(&attempt).await?.rep_id,
        JobSubject::Call(call) => state.store.call(&call).await?.rep_id,
    };
    Ok(state.store.user(&owner).await?)
}

/// Rejects with 422 a language that the loaded model cannot transcribe, so
/// the job does not fail on every retry after a 202.
pub(crate) fn check_model_language(state: &AppState, language: Option<Language>) -> ApiResult<()> {
    let english_only = state
        .engine
        .as_ref()
        .is_some_and(|engine| !engine.is_multilingual());
    if english_only && language == Some(Language::Zh) {
        return Err(ApiError::invalid(
            "language \"zh\": the service runs an English-only Whisper model; \
             start it with the multilingual model (`callcoach model install base`, \
             then CALLCOACH_MODEL=models/ggml-base.bin)",
        ));
    }
    Ok(())
}

/// Parses an optional language code, rejecting unknown codes with 422.
pub(crate) fn parse_language(text: Option<&str>) -> ApiResult<Option<Language>> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    text.parse::<Language>()
        .map(Some)
        .map_err(|_| ApiError::invalid(format!("language {text:?}: expected en, zh or auto")))
}

/// Checks `wait_ms` against the configured maximum.
pub(crate) fn wait_duration(state: &AppState, wait_ms: Option<u64>) -> ApiResult<Duration> {
    let wait_ms = wait_ms.unwrap_or(0);
    if wait_ms > state.config.max_wait_ms {
        return Err(ApiError::invalid(format!(
            "wait_ms {wait_ms} is above the maximum of {} ms",
            state.config.max_wait_ms
        )));
    }
    Ok(Duration::from_millis(wait_ms))
}

/// Rejects with 503 when the queue is full, then decodes and stores the upload.
pub(crate) async fn store_upload(state: &AppState, upload: &AudioUpload) -> ApiResult<StoredAudio> {
    let queued = state.store.count_queued_jobs().await?;
    let limit = state.config.max_queued_jobs;
    if queued >= limit {
        return Err(ApiError::QueueFull {
            queued,
            limit,
            retry_after_secs: state.config.queue_retry_after_secs,
        });
    }
    let audio = upload.decode(state.config.max_audio_ms).await?;
    let stored = state
        .store
        .put_audio(upload.bytes.to_vec(), upload.extension.as_deref())
        .await?;
    tracing::info!(
        recording = %stored.sha256,
        size_bytes = stored.size_bytes,
        duration_ms = audio.duration_ms(),
        "recording stored"
    );
    Ok(stored)
}

/// Commits the job row of `subject` and wakes a worker.
pub(crate) async fn enqueue(
    state: &AppState,
    subject: &JobSubject,
    stored: &StoredAudio,
    language: Option<Language>,
) -> ApiResult<Job> {
    let new = subject.new_job(
        stored.sha256.clone(),
        language,
        state.config.job_max_attempts,
    );
    let job = state.store.enqueue_job(&new).await?;
    state.signals.notify_queued();
    tracing::info!(job = %job.id, recording = %stored.sha256, "job queued");
    Ok(job)
}

/// Returns the job once it is done or failed, or when `wait` has passed.
pub(crate) async fn wait_for_job(state: &AppState, id: &JobId, wait: Duration) -> ApiResult<Job> {
    let deadline = Instant::now() + wait;
    loop {
        let finished = state.signals.finished();
        tokio::pin!(finished);
        finished.as_mut().enable();
        let job = state.store.job(id).await?;
        let now = Instant::now();
        if is_finished(&job) || now >= deadline {
            return Ok(job);
        }
        let pause = (deadline - now).min(WAIT_POLL);
        tokio::select! {
            () = &mut finished => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
}
