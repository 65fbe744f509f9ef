//! The HTTP edge: shared state, the versioned JSON API under `/api/v1`,
//! health probes, the web pages, and the layers every request passes.
//!
//! Each submodule owns one area and exposes `router()`; [`router`] merges
//! them here. Handlers parse the request, check the caller with
//! [`extract::AuthUser`], call the store or a domain module and map errors
//! through [`error::ApiError`], so every error body has the same shape.
//! Domain modules never see axum types.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{header, HeaderName, HeaderValue, Method, Uri};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::knowledge::{Corpus, KnowledgeIndex};
use crate::store::Store;
use crate::transcribe::Engine;
use crate::worker::QueueSignals;

pub mod audio;
pub mod calls;
pub mod checkpoints;
pub mod drills;
pub mod error;
pub mod extract;
pub mod health;
pub mod heatmaps;
pub mod jobs;
pub mod me;
pub mod openapi;
pub mod overrides;
pub mod permissions;
pub mod records;
pub mod reviews;
pub mod rules;
pub mod scenarios;
pub mod training;
pub mod upload;
pub mod views;
pub mod web;

pub use error::{ApiError, ApiResult, ErrorBody};

/// Header that carries the request id, set when the client sends none.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Largest error body of another layer that is carried into the JSON detail.
const MAX_FOREIGN_DETAIL_BYTES: usize = 1024;

/// Shared state of every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database and audio files.
    pub store: Store,
    /// The settings read at start-up.
    pub config: Arc<Config>,
    /// The scenario corpus.
    pub corpus: Arc<Corpus>,
    /// The search index of the corpus.
    pub index: Arc<KnowledgeIndexHandle>,
    /// The loaded Whisper model, when one was found.
    pub engine: Option<Engine>,
    /// Wake-ups between uploads, workers and waiting requests.
    pub signals: Arc<QueueSignals>,
    /// Unlock rules, when the rule file loaded.
    pub rules: Option<Arc<crate::unlock::RuleSet>>,
}

/// The open search index; a newtype so that the state can derive `Debug`.
pub struct KnowledgeIndexHandle(pub KnowledgeIndex);

impl std::fmt::Debug for KnowledgeIndexHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KnowledgeIndex({} documents)", self.0.document_count())
    }
}

/// Builds the whole application: every area's routes, the fallbacks and
/// the request layers.
pub fn router(state: AppState) -> Router {
    let upload_limit = DefaultBodyLimit::max(state.config.max_upload_bytes);
    let api = Router::new()
        .merge(jobs::router())
        .merge(drills::router())
        .merge(calls::router())
        .layer(upload_limit)
        .merge(scenarios::router())
        .merge(overrides::router())
        .merge(heatmaps::router())
        .merge(training::router())
        .merge(permissions::router())
        .merge(rules::router())
        .merge(checkpoints::router())
        .merge(reviews::router())
        .merge(audio::router())
        .merge(me::router())
        .merge(records::router())
        .merge(openapi::router());
    Router::new()
        .nest("/api/v1", api)
        .merge(health::router())
        .merge(web::router(&state.config.web_dir))
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(map_response(json_errors))
        .layer(trace_layer())
        .layer(PropagateRequestIdLayer::new(request_id_header()))
        .layer(SetRequestIdLayer::new(request_id_header(), RandomRequestId))
        .with_state(state)
}

fn request_id_header() -> HeaderName {
    HeaderName::from_static(REQUEST_ID_HEADER)
}

type HttpTrace = TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    fn(&Request) -> tracing::Span,
>;

fn trace_layer() -> HttpTrace {
    TraceLayer::new_for_http().make_span_with(request_span as fn(&Request) -> tracing::Span)
}

/// Opens the span of one request: method, matched route and request id,
/// never the raw URI, headers or body.
fn request_span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        request_id,
        user = tracing::field::Empty,
    )
}

/// Request ids of 16 random hex digits.
#[derive(Debug, Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let id = format!("{:016x}", rand::random::<u64>());
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

async fn unknown_route(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound(format!(
        "no route for {method} {}: the API lives under /api/v1, see /api/v1/openapi.json",
        uri.path()
    ))
}

async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!(
        "{} does not accept {method}: see /api/v1/openapi.json for its methods",
        uri.path()
    ))
}

/// Rewrites any error response that is not JSON yet (from a framework or
/// tower layer) into the `{"error", "detail"}` shape, keeping its status
/// and headers.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }

    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FOREIGN_DETAIL_BYTES)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_string();
    let detail = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };

    let error = extract::from_status(status, detail);
    let code = error.code();
    let body = ErrorBody {
        error: code.to_string(),
        detail: error.to_string(),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    let json = axum::Json(body).into_response();
    let (json_parts, json_body) = json.into_parts();
    parts.headers.extend(json_parts.headers);
    Response::from_parts(parts, json_body)
}
