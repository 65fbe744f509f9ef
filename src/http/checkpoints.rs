//! Checkpoints of a rep: the stored status of each, and a fresh
//! evaluation over the rep's consented calls.

use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, AuthUser};
use super::views::{rfc3339, rfc3339_opt};
use super::AppState;
use crate::checkpoint::{self, CheckpointReport};

/// The stored status of one checkpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusView {
    /// Checkpoint id.
    pub checkpoint_id: String,
    /// Whether enough calls counted.
    pub passed: bool,
    /// Qualifying calls needed.
    pub required_calls: u32,
    /// Ids of the calls that counted.
    pub counted_calls: Vec<String>,
    /// First time the checkpoint passed.
    pub passed_at: Option<String>,
    /// Time of the evaluation.
    pub evaluated_at: String,
}

/// Returns the routes of checkpoints.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reps/{id}/checkpoints", get(statuses))
        .route("/reps/{id}/checkpoints/evaluate", post(evaluate))
}

/// Returns the stored checkpoint statuses of a rep.
#[utoipa::path(get, path = "/api/v1/reps/{id}/checkpoints", tag = "checkpoints",
    params(("id" = String, Path, description = "Rep id")),
    responses(
        (status = 200, description = "Statuses by checkpoint id", body = [StatusView]),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Outside the caller's reach", body = super::ErrorBody),
        (status = 404, description = "Unknown rep", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn statuses(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<Vec<StatusView>>> {
    let rep = caller.readable_user(&state, &id).await?;
    let statuses = state.store.checkpoint_statuses(&rep.id).await?;
    let views = statuses
        .into_iter()
        .map(|s| StatusView {
            checkpoint_id: s.checkpoint_id,
            passed: s.passed,
            required_calls: s.required_calls,
            counted_calls: s.counted_calls.iter().map(ToString::to_string).collect(),
            passed_at: rfc3339_opt(s.passed_at),
            evaluated_at: rfc3339(s.evaluated_at),
        })
        .collect();
    Ok(ApiJson(views))
}

/// Evaluates every checkpoint over the rep's calls and stores the statuses.
#[utoipa::path(post, path = "/api/v1/reps/{id}/checkpoints/evaluate", tag = "checkpoints",
    params(("id" = String, Path, description = "Rep id")),
    responses(
        (status = 200, description = "One report per checkpoint", body = [Object]),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Not a coach, manager or admin of the rep", body = super::ErrorBody),
        (status = 404, description = "Unknown rep", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn evaluate(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<Vec<CheckpointReport>>> {
    let rep = caller.staff_over(&state, &id).await?;
    let path = state.config.checkpoints_file.clone();
    let corpus = state.corpus.clone();
    let definitions =
        tokio::task::spawn_blocking(move || checkpoint::load_definitions(&path, Some(&corpus)))
            .await?
            .map_err(ApiError::internal)?;
    let reports = checkpoint::rep_status(&state.store, &definitions, &rep.id)
        .await
        .map_err(ApiError::internal)?;
    crate::worker::reevaluate_permissions(&state.store, state.rules.as_deref(), &rep.id).await;
    Ok(ApiJson(reports))
}
