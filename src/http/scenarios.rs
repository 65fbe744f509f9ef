//! The scenario corpus and its search: `GET /scenarios`,
//! `GET /scenarios/{id}` and `GET /search?q=&lang=`.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use super::jobs::parse_language;
use super::AppState;
use crate::knowledge::{DocKind, Scenario, SearchHit, SearchRequest};

/// Most hits one search may ask for.
pub const MAX_SEARCH_LIMIT: usize = 100;
/// Longest accepted query, in characters.
pub const MAX_QUERY_CHARS: usize = 500;

/// A scenario in the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScenarioSummary {
    /// Scenario id.
    pub id: String,
    /// Title in English.
    pub title_en: String,
    /// Title in Mandarin.
    pub title_zh: String,
    /// Skill dimension ids the scenario exercises.
    pub dimensions: Vec<String>,
    /// Number of response strategies.
    pub strategies: usize,
}

impl From<&Scenario> for ScenarioSummary {
    fn from(scenario: &Scenario) -> ScenarioSummary {
        ScenarioSummary {
            id: scenario.id.clone(),
            title_en: scenario.title_en.clone(),
            title_zh: scenario.title_zh.clone(),
            dimensions: scenario
                .dimensions
                .iter()
                .map(|d| d.id().to_string())
                .collect(),
            strategies: scenario.strategies.len(),
        }
    }
}

/// Query parameters of a search.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Query text in English or Mandarin.
    pub q: Option<String>,
    /// `en` or `zh`; detected from the query when absent.
    pub lang: Option<String>,
    /// Maximum number of hits, 1 to 100 (default 10).
    pub limit: Option<usize>,
    /// Restricts hits to one scenario id.
    pub scenario: Option<String>,
    /// Restricts hits to `title`, `trigger`, `answer` or `phrase` documents.
    pub kind: Option<String>,
}

/// Returns the routes of scenarios and search.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/scenarios", get(list_scenarios))
        .route("/scenarios/{id}", get(scenario))
        .route("/search", get(search))
}

/// Lists every scenario of the corpus.
#[utoipa::path(get, path = "/api/v1/scenarios", tag = "scenarios", responses(
    (status = 200, description = "Scenarios in corpus order", body = [ScenarioSummary]),
    (status = 401, description = "Missing or invalid token", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_scenarios(
    State(state): State<AppState>,
    _caller: AuthUser,
) -> ApiJson<Vec<ScenarioSummary>> {
    ApiJson(
        state
            .corpus
            .scenarios()
            .map(ScenarioSummary::from)
            .collect(),
    )
}

/// Returns one scenario with its triggers, strategies and key phrases.
#[utoipa::path(get, path = "/api/v1/scenarios/{id}", tag = "scenarios",
    params(("id" = String, Path, description = "Scenario id")),
    responses(
        (status = 200, description = "The scenario", body = Object),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 404, description = "Unknown scenario", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn scenario(
    State(state): State<AppState>,
    _caller: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<Scenario>> {
    let scenario = state
        .corpus
        .scenario(&id)
        .ok_or_else(|| ApiError::NotFound(format!("scenario {id:?} is not in the corpus")))?;
    Ok(ApiJson(scenario.clone()))
}

/// Searches answers, trigger lines and key phrases.
#[utoipa::path(get, path = "/api/v1/search", tag = "scenarios", params(SearchQuery),
    responses(
        (status = 200, description = "Hits, best first", body = [Object]),
        (status = 400, description = "Missing query", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 422, description = "Invalid language, kind or limit", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn search(
    State(state): State<AppState>,
    _caller: AuthUser,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> ApiResult<ApiJson<Vec<SearchHit>>> {
    let request = search_request(query)?;
    let index = state.index.clone();
    let span = tracing::Span::current();
    let hits = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        index.0.search(&request)
    })
    .await??;
    Ok(ApiJson(hits))
}

fn search_request(query: SearchQuery) -> ApiResult<SearchRequest> {
    let text = query.q.unwrap_or_default();
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::BadRequest {
            code: "missing_query",
            detail: "the query is empty: pass ?q=words to search".to_string(),
        });
    }
    let chars = text.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(ApiError::invalid(format!(
            "the query has {chars} characters, above the maximum of {MAX_QUERY_CHARS}"
        )));
    }
    let limit = query.limit.unwrap_or(10);
    if limit == 0 || limit > MAX_SEARCH_LIMIT {
        return Err(ApiError::invalid(format!(
            "limit {limit}: expected 1 to {MAX_SEARCH_LIMIT}"
        )));
    }
    let kind = query.kind.as_deref().map(parse_kind).transpose()?;
    Ok(SearchRequest {
        query: text.to_string(),
        lang: parse_language(query.lang.as_deref())?,
        limit,
        kind,
        scenario: query.scenario.filter(|s| !s.trim().is_empty()),
    })
}

fn parse_kind(text: &str) -> ApiResult<DocKind> {
    [
        DocKind::Title,
        DocKind::Trigger,
        DocKind::Answer,
        DocKind::Phrase,
    ]
    .into_iter()
    .find(|kind| kind.as_str() == text.trim())
    .ok_or_else(|| {
        ApiError::invalid(format!(
            "kind {text:?}: expected title, trigger, answer or phrase"
        ))
    })
}
