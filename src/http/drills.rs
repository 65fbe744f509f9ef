//! Drill attempts: a rep uploads a recorded answer to a scenario
//! (`POST /drills/attempts`), a worker transcribes and scores it, and
//! `GET /drills/attempts/{id}` returns the scored result.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::audio::{snippet_url, strategy_of_file};
use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use super::jobs::{enqueue, parse_language, store_upload, wait_duration, wait_for_job, WaitQuery};
use super::upload::AudioUpload;
use super::views::{rfc3339, rfc3339_opt, JobView};
use super::AppState;
use crate::drill::{self, DrillPrompt};
use crate::language::Language;
use crate::store::drills::{DrillAttempt, NewDrillAttempt};
use crate::store::jobs::Job;
use crate::store::users::Role;
use crate::store::{DrillAttemptId, JobId};
use crate::worker::JobSubject;

/// Query parameters of a drill upload; multipart fields of the same names work too.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttemptQuery {
    /// Scenario the answer responds to.
    pub scenario_id: Option<String>,
    /// Language of the answer, `en` (default) or `zh`.
    pub language: Option<String>,
    /// Milliseconds to wait for the scored result before answering.
    pub wait_ms: Option<u64>,
}

/// A drill attempt with its score once the job is done.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    /// Attempt id.
    pub id: String,
    /// The rep who answered.
    pub rep_id: String,
    /// Scenario drilled.
    pub scenario_id: String,
    /// Day of the drill, `YYYY-MM-DD`.
    pub drill_date: String,
    /// Language of the answer.
    pub language: String,
    /// Overall score 0 to 100, once scored.
    pub overall_score: Option<f64>,
    /// The full scoring result (coverage, latency, delivery, feedback).
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// Submission time.
    pub created_at: String,
    /// Time the score was stored.
    pub scored_at: Option<String>,
    /// The transcription job of the recording.
    pub job: Option<JobView>,
    /// API path of the recorded answer, when one was stored.
    pub audio_url: Option<String>,
}

impl AttemptView {
    fn new(state: &AppState, mut attempt: DrillAttempt, job: Option<Job>) -> AttemptView {
        if let Some(result) = attempt.result.as_mut() {
            add_example_url(state, &attempt.scenario_id, result);
        }
        AttemptView {
            id: attempt.id.to_string(),
            rep_id: attempt.rep_id.to_string(),
            scenario_id: attempt.scenario_id,
            drill_date: attempt.drill_date.to_string(),
            language: attempt.language.code().to_string(),
            overall_score: attempt.overall_score.map(|s| s.value()),
            audio_url: attempt
                .audio_sha256
                .as_ref()
                .map(|_| format!("/api/v1/drills/attempts/{}/audio", attempt.id)),
            result: attempt.result,
            created_at: rfc3339(attempt.created_at),
            scored_at: rfc3339_opt(attempt.scored_at),
            job: job.map(JobView::from),
        }
    }
}

/// Returns the routes of drill attempts.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/drills/attempts", post(create_attempt))
        .route("/drills/attempts/{id}", get(attempt))
        .route("/drills/today", get(today))
}

/// Query parameters of today's drill.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TodayQuery {
    /// Language of the prompt and the expected answer, `en` (default) or `zh`.
    pub language: Option<String>,
}

/// Returns the rep's drill of the day, drawing it on the first request.
#[utoipa::path(get, path = "/api/v1/drills/today", tag = "drills", params(TodayQuery),
    responses(
        (status = 200, description = "Scenario, customer line and answer limit; \
            customer_audio.url plays the line", body = Object),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Caller is not a rep", body = super::ErrorBody),
        (status = 422, description = "Invalid language", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn today(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<TodayQuery>,
) -> ApiResult<ApiJson<serde_json::Value>> {
    caller.require_role(&[Role::Rep])?;
    let language = parse_language(query.language.as_deref())?.unwrap_or(Language::En);
    let date = crate::store::now().date();
    let prompt = drill::today(&state.store, &state.corpus, caller.id(), date, language).await?;
    Ok(ApiJson(prompt_with_url(&state, &prompt)?))
}

/// Stores a rep's recorded answer and queues its scoring.
///
/// NOTE: the whole recording is transcribed after the upload, so feedback
/// comes a full decode after the answer ends; only `drill::AnswerSession`
/// transcribes while the rep speaks.
#[utoipa::path(post, path = "/api/v1/drills/attempts", tag = "drills", params(AttemptQuery),
    request_body(description = "audio body, or multipart/form-data with an `audio` part and \
        `scenario_id` and `language` fields", content_type = "audio/wav"),
    responses(
        (status = 202, description = "Stored and queued", body = AttemptView),
        (status = 200, description = "Scored within wait_ms", body = AttemptView),
        (status = 400, description = "Empty upload", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Caller is not a rep", body = super::ErrorBody),
        (status = 413, description = "Over the size or duration limit", body = super::ErrorBody),
        (status = 415, description = "Not audio", body = super::ErrorBody),
        (status = 422, description = "Unknown scenario or language", body = super::ErrorBody),
        (status = 503, description = "Queue full; see Retry-After", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_attempt(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<AttemptQuery>,
    upload: AudioUpload,
) -> ApiResult<Response> {
    caller.require_role(&[Role::Rep])?;
    let wait = wait_duration(&state, query.wait_ms)?;
    let scenario_id = query
        .scenario_id
        .as_deref()
        .or(upload.field("scenario_id"))
        .map(str::trim)
        .ok_or_else(|| ApiError::invalid("scenario_id is missing: name the drilled scenario"))?
        .to_string();
    if state.corpus.scenario(&scenario_id).is_none() {
        return Err(ApiError::invalid(format!(
            "scenario_id {scenario_id:?} is not in the corpus: see GET /api/v1/scenarios"
        )));
    }
    let language = parse_language(query.language.as_deref().or(upload.field("language")))?
        .unwrap_or(Language::En);
    super::jobs::check_model_language(&state, Some(language))?;

    let stored = store_upload(&state, &upload).await?;
    let new = NewDrillAttempt {
        rep_id: caller.id().clone(),
        scenario_id,
        drill_date: crate::store::now().date(),
        language,
        audio_sha256: Some(stored.sha256.clone()),
    };
    let attempt = state.store.create_drill_attempt(&new).await?;
    let subject = JobSubject::Drill(attempt.id.clone());
    let job = enqueue(&state, &subject, &stored, Some(language)).await?;

    let job = wait_for_job(&state, &job.id, wait).await?;
    let attempt = state.store.drill_attempt(&attempt.id).await?;
    let status = if attempt.scored_at.is_some() {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let location = format!("/api/v1/drills/attempts/{}", attempt.id);
    let view = AttemptView::new(&state, attempt, Some(job));
    Ok((status, [(header::LOCATION, location)], ApiJson(view)).into_response())
}

/// Returns a drill attempt and its score once scored.
#[utoipa::path(get, path = "/api/v1/drills/attempts/{id}", tag = "drills",
    params(("id" = String, Path, description = "Attempt id"), WaitQuery),
    responses(
        (status = 200, description = "The attempt", body = AttemptView),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Outside the caller's reach", body = super::ErrorBody),
        (status = 404, description = "Unknown attempt", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn attempt(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<WaitQuery>,
) -> ApiResult<ApiJson<AttemptView>> {
    let wait = wait_duration(&state, query.wait_ms)?;
    let id = DrillAttemptId::parse(&id)?;
    let attempt = state.store.drill_attempt(&id).await?;
    caller
        .readable_user(&state, attempt.rep_id.as_str())
        .await?;
    let job = match latest_job(&state, "drill", id.as_str()).await? {
        Some(job_id) => Some(wait_for_job(&state, &job_id, wait).await?),
        None => None,
    };
    let attempt = state.store.drill_attempt(&id).await?;
    Ok(ApiJson(AttemptView::new(&state, attempt, job)))
}

/// Returns the id of the newest job of a drill attempt or call.
pub(crate) async fn latest_job(
    state: &AppState,
    kind: &str,
    subject_id: &str,
) -> ApiResult<Option<JobId>> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM transcription_jobs WHERE subject_kind = $1 AND subject_id = $2 \
         ORDER BY enqueued_at DESC, id DESC LIMIT 1",
    )
    .bind(kind)
    .bind(subject_id)
    .fetch_optional(state.store.pool())
    .await
    .map_err(|err| ApiError::from(crate::store::Error::from(err)))?;
    Ok(row.map(|(id,)| JobId::parse(&id)).transpose()?)
}

/// Serializes the prompt and adds `customer_audio.url`, the audio route of
/// the customer's line.
fn prompt_with_url(state: &AppState, prompt: &DrillPrompt) -> ApiResult<serde_json::Value> {
    let mut value = serde_json::to_value(prompt).map_err(ApiError::internal)?;
    let scenario = state.corpus.scenario(&prompt.scenario_id);
    let clip = prompt.customer_audio.as_ref().zip(scenario);
    let strategy = clip.and_then(|(clip, scenario)| {
        strategy_of_file(&state.corpus.dir, scenario, prompt.language, &clip.path)
    });
    if let (Some(strategy), Some(target)) = (strategy, value.get_mut("customer_audio")) {
        let url = snippet_url(
            &prompt.scenario_id,
            &strategy.id,
            prompt.language,
            "customer",
        );
        target["url"] = serde_json::Value::String(url);
    }
    Ok(value)
}

/// Adds `feedback.example.snippet.url`, the audio route of the top-seller
/// answer, to a stored scoring result.
fn add_example_url(state: &AppState, scenario_id: &str, result: &mut serde_json::Value) {
    let Some(example) = result.pointer_mut("/feedback/example") else {
        return;
    };
    let lang = example["language"]
        .as_str()
        .and_then(|l| l.parse::<Language>().ok());
    let audio = example.pointer("/snippet/audio").and_then(|a| a.as_str());
    let (Some(lang), Some(audio), Some(scenario)) =
        (lang, audio, state.corpus.scenario(scenario_id))
    else {
        return;
    };
    let path = std::path::Path::new(audio);
    if let Some(strategy) = strategy_of_file(&state.corpus.dir, scenario, lang, path) {
        let url = snippet_url(scenario_id, &strategy.id, lang, "answer");
        example["snippet"]["url"] = serde_json::Value::String(url);
    }
}
