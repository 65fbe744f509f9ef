//! Audio playback: corpus snippets cut to the customer's line or the
//! top-seller answer (`GET /scenarios/{id}/audio`), and the stored
//! recordings of drill attempts and calls.
//!
//! An `<audio>` element cannot send an `Authorization` header, so these
//! routes, and only these, also accept the bearer token as the query
//! parameter `access_token`. The request span records the matched route,
//! never the URI, so the token stays out of the log.

use std::path::Path;

use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::{self, AUTHORIZATION};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiPath, ApiQuery, AuthUser};
use super::jobs::parse_language;
use super::AppState;
use crate::audio::{decode_file, write_wav_16k, DecodeLimits, SAMPLE_RATE_HZ};
use crate::knowledge::{snippet_path, Scenario, Snippet, Strategy};
use crate::language::Language;
use crate::store::audio_blobs::AudioSha256;
use crate::store::{CallId, DrillAttemptId};

/// Content type of the cut snippets.
const WAV_TYPE: &str = "audio/wav";

/// The caller of an audio route: the bearer token comes from the
/// `Authorization` header or, when that is absent, from `?access_token=`.
#[derive(Debug, Clone)]
pub struct AudioCaller(pub AuthUser);

#[derive(Debug, Deserialize)]
struct TokenQuery {
    access_token: Option<String>,
}

impl FromRequestParts<AppState> for AudioCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let query = Query::<TokenQuery>::try_from_uri(&parts.uri).ok();
        let token = query.and_then(|q| q.0.access_token);
        let token = match token {
            Some(token) if !parts.headers.contains_key(AUTHORIZATION) => token,
            _ => {
                return AuthUser::from_request_parts(parts, state)
                    .await
                    .map(AudioCaller)
            }
        };
        let user = state.store.authenticate(token.trim()).await?;
        let user = user.ok_or_else(|| {
            ApiError::Unauthorized(
                "the access_token is unknown, revoked or expired: sign in again".to_string(),
            )
        })?;
        tracing::Span::current().record("user", tracing::field::display(&user.id));
        Ok(AudioCaller(AuthUser(user)))
    }
}

/// Query parameters of a scenario snippet.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SnippetQuery {
    /// Strategy whose recording to play; default the first one recorded
    /// in `lang`.
    pub strategy: Option<String>,
    /// Language of the recording, `en` (default) or `zh`.
    pub lang: Option<String>,
    /// `customer` for the customer's line (from the start of the file to
    /// the start of the answer) or `answer` (default) for the answer.
    pub part: Option<String>,
    /// The bearer token, for players that cannot send headers.
    pub access_token: Option<String>,
}

/// Returns the audio routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/scenarios/{id}/audio", get(scenario_audio))
        .route("/drills/attempts/{id}/audio", get(attempt_audio))
        .route("/calls/{id}/audio", get(call_audio))
}

/// Returns the API path of a scenario snippet.
pub fn snippet_url(scenario: &str, strategy: &str, lang: Language, part: &str) -> String {
    format!("/api/v1/scenarios/{scenario}/audio?strategy={strategy}&lang={lang}&part={part}")
}

/// Returns the strategy of `scenario` whose generated recording is `path`.
pub fn strategy_of_file<'a>(
    corpus_dir: &Path,
    scenario: &'a Scenario,
    lang: Language,
    path: &Path,
) -> Option<&'a Strategy> {
    let is_path = |p: &Path| path == p || path == corpus_dir.join(p);
    scenario.strategies.iter().find(|s| {
        let relative = snippet_path(&scenario.id, &s.id, lang);
        let mut snippets = s.examples.iter().flat_map(|e| e.snippets.iter());
        is_path(Path::new(&relative)) || snippets.any(|snippet| is_path(&snippet.audio))
    })
}

/// Returns a corpus recording cut to the customer's line or the answer.
#[utoipa::path(get, path = "/api/v1/scenarios/{id}/audio", tag = "audio",
    params(("id" = String, Path, description = "Scenario id"), SnippetQuery),
    responses(
        (status = 200, description = "16 kHz mono PCM16 WAV", content_type = "audio/wav"),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 404, description = "Unknown scenario or strategy, or no recording",
            body = super::ErrorBody),
        (status = 422, description = "Invalid lang or part", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn scenario_audio(
    State(state): State<AppState>,
    _caller: AudioCaller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<SnippetQuery>,
) -> ApiResult<Response> {
    let scenario = state
        .corpus
        .scenario(&id)
        .ok_or_else(|| ApiError::NotFound(format!("scenario {id:?} is not in the corpus")))?;
    let lang = parse_language(query.lang.as_deref())?.unwrap_or(Language::En);
    let is_customer = match query.part.as_deref().map(str::trim) {
        None | Some("answer") => false,
        Some("customer") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "part {other:?}: expected customer or answer"
            )))
        }
    };
    let snippet = find_snippet(scenario, query.strategy.as_deref(), lang)?;
    let (start_ms, end_ms) = match is_customer {
        true => (0, snippet.start_ms),
        false => (snippet.start_ms, snippet.end_ms),
    };

    let path = state.corpus.dir.join(&snippet.audio);
    let span = tracing::Span::current();
    let bytes = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        cut_wav(&path, start_ms, end_ms)
    })
    .await??;
    Ok(([(header::CONTENT_TYPE, WAV_TYPE)], bytes).into_response())
}

fn find_snippet<'a>(
    scenario: &'a Scenario,
    strategy: Option<&str>,
    lang: Language,
) -> ApiResult<&'a Snippet> {
    let recorded = |s: &'a Strategy| {
        let mut examples = s.examples.iter().filter(|e| e.lang == lang);
        examples.find_map(|e| e.snippets.first())
    };
    let Some(wanted) = strategy.map(str::trim) else {
        return scenario
            .strategies
            .iter()
            .find_map(recorded)
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "scenario {:?} has no recording in {lang}",
                    scenario.id
                ))
            });
    };
    let found = scenario.strategies.iter().find(|s| s.id == wanted);
    let found = found.ok_or_else(|| {
        ApiError::NotFound(format!(
            "strategy {wanted:?} is not in scenario {:?}",
            scenario.id
        ))
    })?;
    recorded(found).ok_or_else(|| {
        ApiError::NotFound(format!(
            "strategy {wanted:?} of scenario {:?} has no recording in {lang}",
            scenario.id
        ))
    })
}

/// Decodes `path` and re-encodes `[start_ms, end_ms)` as 16 kHz PCM16 WAV.
fn cut_wav(path: &Path, start_ms: u64, end_ms: u64) -> ApiResult<Vec<u8>> {
    let audio = decode_file(path, &DecodeLimits::default())?;
    let samples = audio.mono();
    let at = |ms: u64| usize::try_from(ms * u64::from(SAMPLE_RATE_HZ) / 1000).unwrap_or(usize::MAX);
    let end = at(end_ms).min(samples.len());
    let start = at(start_ms).min(end);
    if start == end {
        return Err(ApiError::NotFound(format!(
            "the recording {} has no audio between {start_ms} and {end_ms} ms",
            path.display()
        )));
    }

    let dir = tempfile::tempdir().map_err(ApiError::internal)?;
    let out = dir.path().join("cut.wav");
    write_wav_16k(&out, &samples[start..end])?;
    std::fs::read(&out).map_err(ApiError::internal)
}

/// Returns the recorded answer of a drill attempt.
#[utoipa::path(get, path = "/api/v1/drills/attempts/{id}/audio", tag = "audio",
    params(("id" = String, Path, description = "Attempt id"),
        ("access_token" = Option<String>, Query, description = "Bearer token")),
    responses(
        (status = 200, description = "The recording as uploaded", content_type = "audio/*"),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Outside the caller's reach", body = super::ErrorBody),
        (status = 404, description = "Unknown attempt or no recording", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn attempt_audio(
    State(state): State<AppState>,
    AudioCaller(caller): AudioCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let id = DrillAttemptId::parse(&id)?;
    let attempt = state.store.drill_attempt(&id).await?;
    caller
        .readable_user(&state, attempt.rep_id.as_str())
        .await?;
    let sha = attempt
        .audio_sha256
        .ok_or_else(|| ApiError::NotFound(format!("drill attempt {id} has no stored recording")))?;
    recording(&state, &sha).await
}

/// Returns the recording of a call.
#[utoipa::path(get, path = "/api/v1/calls/{id}/audio", tag = "audio",
    params(("id" = String, Path, description = "Call id"),
        ("access_token" = Option<String>, Query, description = "Bearer token")),
    responses(
        (status = 200, description = "The recording as uploaded", content_type = "audio/*"),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Outside the caller's reach", body = super::ErrorBody),
        (status = 404, description = "Unknown call", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn call_audio(
    State(state): State<AppState>,
    AudioCaller(caller): AudioCaller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let id = CallId::parse(&id)?;
    let call = state.store.call(&id).await?;
    caller.readable_user(&state, call.rep_id.as_str()).await?;
    recording(&state, &call.audio_sha256).await
}

async fn recording(state: &AppState, sha: &AudioSha256) -> ApiResult<Response> {
    let stored = state.store.audio(sha).await?;
    let bytes = state.store.read_audio(sha).await?;
    let kind = content_type(stored.extension.as_deref(), &bytes);
    Ok(([(header::CONTENT_TYPE, kind)], bytes).into_response())
}

/// Picks the content type from the upload's extension, then its first bytes.
fn content_type(extension: Option<&str>, bytes: &[u8]) -> &'static str {
    let by_extension = match extension.map(str::to_ascii_lowercase).as_deref() {
        Some("wav") => Some(WAV_TYPE),
        Some("mp3") => Some("audio/mpeg"),
        Some("ogg" | "oga" | "opus") => Some("audio/ogg"),
        Some("flac") => Some("audio/flac"),
        Some("m4a" | "mp4" | "aac") => Some("audio/mp4"),
        Some("webm") => Some("audio/webm"),
        _ => None,
    };
    by_extension.unwrap_or(match bytes {
        [b'R', b'I', b'F', b'F', ..] => WAV_TYPE,
        [b'O', b'g', b'g', b'S', ..] => "audio/ogg",
        [b'f', b'L', b'a', b'C', ..] => "audio/flac",
        [b'I', b'D', b'3', ..] => "audio/mpeg",
        _ => "application/octet-stream",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_prefers_extension() {
        assert_eq!(content_type(Some("MP3"), b"RIFF...."), "audio/mpeg");
    }

    #[test]
    fn content_type_sniffs_riff_header() {
        assert_eq!(content_type(None, b"RIFF\0\0\0\0WAVE"), WAV_TYPE);
        assert_eq!(
            content_type(Some("bin"), b"zzzz"),
            "application/octet-stream"
        );
    }

    #[test]
    fn cut_wav_keeps_requested_span() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("tone.wav");
        let samples: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.05).sin() * 0.3).collect();
        write_wav_16k(&path, &samples).expect("write");

        let bytes = cut_wav(&path, 250, 750).expect("cut");

        let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).expect("wav");
        assert_eq!(reader.spec().sample_rate, 16_000);
        assert_eq!(reader.duration(), 8_000);
    }
}
