//! Real customer calls: `POST /calls` stores a consented recording and
//! queues its analysis, `GET /calls/{id}` returns the call and, once
//! analysed, its turns, scenario scores and latencies.
//!
//! A call without its consent record (method and note) is rejected with
//! 422 before anything is stored.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::drills::latest_job;
use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use super::jobs::{enqueue, parse_language, store_upload, wait_duration, wait_for_job, WaitQuery};
use super::upload::AudioUpload;
use super::views::{rfc3339, rfc3339_opt, JobView};
use super::AppState;
use crate::store::calls::{Call, Consent, NewCall, RepChannel};
use crate::store::jobs::Job;
use crate::store::users::Role;
use crate::store::CallId;
use crate::worker::JobSubject;

/// Query parameters of a call upload; multipart fields of the same names work too.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallQuery {
    /// Consent method: `verbal_on_recording`, `written` or `electronic`.
    pub consent_method: Option<String>,
    /// Location of the consent evidence, such as "0:00-0:12 of the recording".
    pub consent_note: Option<String>,
    /// When consent was given, RFC 3339; default now.
    pub consent_recorded_at: Option<String>,
    /// When the call took place, RFC 3339; default now.
    pub occurred_at: Option<String>,
    /// Spoken language, `en` or `zh`; detected when absent.
    pub language: Option<String>,
    /// Channel of the rep in a stereo recording, `0` (left) or `1` (right,
    /// the default); mono recordings ignore it.
    pub rep_channel: Option<String>,
    /// Milliseconds to wait for the analysis before responding.
    pub wait_ms: Option<u64>,
}

/// A call with its consent and, once analysed, its analysis.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallView {
    /// Call id.
    pub id: String,
    /// The rep on the call.
    pub rep_id: String,
    /// When the call took place.
    pub occurred_at: String,
    /// Consent method.
    pub consent_method: String,
    /// Location of the consent evidence.
    pub consent_note: String,
    /// When consent was given.
    pub consent_recorded_at: String,
    /// Channel of the rep in a stereo recording, 0 or 1.
    pub rep_channel: u8,
    /// Turns, exchanges and summary, once analysed.
    #[schema(value_type = Option<Object>)]
    pub analysis: Option<serde_json::Value>,
    /// Time the analysis was stored.
    pub analyzed_at: Option<String>,
    /// Score 0 to 100 per scenario found in the call.
    pub scenario_scores: Vec<(String, f64)>,
    /// The analysis job.
    pub job: Option<JobView>,
}

impl CallView {
    fn new(call: Call, job: Option<Job>) -> CallView {
        CallView {
            id: call.id.to_string(),
            rep_id: call.rep_id.to_string(),
            occurred_at: rfc3339(call.occurred_at),
            consent_method: call.consent.method.to_string(),
            consent_note: call.consent.note,
            consent_recorded_at: rfc3339(call.consent.recorded_at),
            rep_channel: call.rep_channel.index(),
            analysis: call.analysis,
            analyzed_at: rfc3339_opt(call.analyzed_at),
            scenario_scores: call
                .scenario_scores
                .into_iter()
                .map(|(id, score)| (id, score.value()))
                .collect(),
            job: job.map(JobView::from),
        }
    }
}

/// Returns the routes of calls.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/calls", post(create_call))
        .route("/calls/{id}", get(call))
}

/// Stores a consented call recording and queues its analysis.
#[utoipa::path(post, path = "/api/v1/calls", tag = "calls", params(CallQuery),
    request_body(description = "audio body, or multipart/form-data with an `audio` part and \
        the consent fields", content_type = "audio/wav"),
    responses(
        (status = 202, description = "Stored and queued", body = CallView),
        (status = 200, description = "Analysed within wait_ms", body = CallView),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Caller is not a rep", body = super::ErrorBody),
        (status = 413, description = "Over the size or duration limit", body = super::ErrorBody),
        (status = 415, description = "Not audio", body = super::ErrorBody),
        (status = 422, description = "Consent missing or invalid, or rep_channel not 0 or 1",
            body = super::ErrorBody),
        (status = 503, description = "Queue full; see Retry-After", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_call(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<CallQuery>,
    upload: AudioUpload,
) -> ApiResult<Response> {
    caller.require_role(&[Role::Rep])?;
    let wait = wait_duration(&state, query.wait_ms)?;
    let field = |query: &Option<String>, name: &str| {
        query
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .or(upload.field(name))
            .map(str::to_string)
    };
    let consent = consent(
        &caller,
        field(&query.consent_method, "consent_method"),
        field(&query.consent_note, "consent_note"),
        field(&query.consent_recorded_at, "consent_recorded_at"),
    )?;
    let occurred_at = parse_time("occurred_at", field(&query.occurred_at, "occurred_at"))?;
    let language = parse_language(field(&query.language, "language").as_deref())?;
    super::jobs::check_model_language(&state, language)?;
    let rep_channel = match field(&query.rep_channel, "rep_channel") {
        Some(text) => RepChannel::parse(&text)?,
        None => RepChannel::DEFAULT,
    };

    let stored = store_upload(&state, &upload).await?;
    let new = NewCall {
        rep_id: caller.id().clone(),
        audio_sha256: stored.sha256.clone(),
        language,
        occurred_at,
        consent,
    };
    let call = state
        .store
        .create_call_on_channel(&new, rep_channel)
        .await?;
    let job = enqueue(
        &state,
        &JobSubject::Call(call.id.clone()),
        &stored,
        language,
    )
    .await?;

    let job = wait_for_job(&state, &job.id, wait).await?;
    let call = state.store.call(&call.id).await?;
    let status = if call.analyzed_at.is_some() {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let location = format!("/api/v1/calls/{}", call.id);
    let view = CallView::new(call, Some(job));
    Ok((status, [(header::LOCATION, location)], ApiJson(view)).into_response())
}

fn consent(
    caller: &AuthUser,
    method: Option<String>,
    note: Option<String>,
    recorded_at: Option<String>,
) -> ApiResult<Consent> {
    let missing = |what: &str| ApiError::Unprocessable {
        code: "consent_missing",
        detail: format!(
            "{what} is missing: a call is stored only with the customer's consent \
             (consent_method and consent_note)"
        ),
    };
    let method = method.ok_or_else(|| missing("consent_method"))?;
    let note = note.ok_or_else(|| missing("consent_note"))?;
    Ok(Consent {
        recorded_by: caller.id().clone(),
        recorded_at: parse_time("consent_recorded_at", recorded_at)?,
        method: method.parse()?,
        note,
    })
}

fn parse_time(name: &str, text: Option<String>) -> ApiResult<OffsetDateTime> {
    let Some(text) = text else {
        return Ok(crate::store::now());
    };
    OffsetDateTime::parse(&text, &Rfc3339).map_err(|err| {
        ApiError::invalid(format!(
            "{name} {text:?} is not an RFC 3339 time such as 2024-03-07T09:30:00Z: {err}"
        ))
    })
}

/// Returns a call and its analysis once done.
#[utoipa::path(get, path = "/api/v1/calls/{id}", tag = "calls",
    params(("id" = String, Path, description = "Call id"), WaitQuery),
    responses(
        (status = 200, description = "The call", body = CallView),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Outside the caller's reach", body = super::ErrorBody),
        (status = 404, description = "Unknown call", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn call(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<WaitQuery>,
) -> ApiResult<ApiJson<CallView>> {
    let wait = wait_duration(&state, query.wait_ms)?;
    let id = CallId::parse(&id)?;
    let call = state.store.call(&id).await?;
    caller.readable_user(&state, call.rep_id.as_str()).await?;
    let job = match latest_job(&state, "call", id.as_str()).await? {
        Some(job_id) => Some(wait_for_job(&state, &job_id, wait).await?),
        None => None,
    };
    let call = state.store.call(&id).await?;
    Ok(ApiJson(CallView::new(call, job)))
}
