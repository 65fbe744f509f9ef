//! Probes: `/healthz` answers while the process runs, `/readyz` when the
//! store answers, the model is loaded and the index is open.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult};
use super::extract::ApiJson;
use super::AppState;

/// Body of a successful probe.
#[derive(Debug, Serialize, ToSchema)]
pub struct Probe {
    /// `ok` for liveness, `ready` for readiness.
    pub status: &'static str,
    /// Documents in the search index (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_documents: Option<u64>,
    /// Path of the loaded Whisper model (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// Returns the routes of the probes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// Answers 200 while the process is up.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is up", body = Probe)))]
pub async fn healthz() -> ApiJson<Probe> {
    ApiJson(Probe {
        status: "ok",
        index_documents: None,
        model: None,
    })
}

/// Answers 200 when the store, the model and the index are usable, else 503.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "Ready to serve every endpoint", body = Probe),
    (status = 503, description = "A component is missing", body = super::ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<ApiJson<Probe>> {
    let mut problems = Vec::new();
    if let Err(err) = sqlx::query("SELECT 1").execute(state.store.pool()).await {
        problems.push(format!("store unreachable ({err})"));
    }
    let model = state
        .engine
        .as_ref()
        .map(|e| e.model_path().display().to_string());
    if model.is_none() {
        problems.push("Whisper model not loaded (run `make model`)".to_string());
    }
    let documents = state.index.0.document_count();
    if documents == 0 {
        problems.push("search index is empty (run `callcoach kb build`)".to_string());
    }
    if !problems.is_empty() {
        return Err(ApiError::Unavailable(format!(
            "not ready: {}",
            problems.join("; ")
        )));
    }
    Ok(ApiJson(Probe {
        status: "ready",
        index_documents: Some(documents),
        model,
    }))
}
