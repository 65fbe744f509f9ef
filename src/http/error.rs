//! The one error type of the HTTP edge and its JSON body.
//!
//! Every error response is `{"error": code, "detail": text}` with a stable
//! machine-readable `code`. Domain errors convert here, in one place each.
//! A 500 gets a generic detail, and its full error chain goes to the log
//! once, inside the request span.

use std::error::Error as StdError;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{audio, knowledge, store};

/// The JSON body of every error response.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorBody {
    /// Stable error code, such as `not_found` or `queue_full`.
    pub error: String,
    /// Human-readable explanation with the offending value.
    pub detail: String,
}

/// An error returned to an HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed (bad syntax, missing part, empty upload).
    #[error("{detail}")]
    BadRequest {
        /// Error code.
        code: &'static str,
        /// Explanation.
        detail: String,
    },
    /// 401: no bearer token, or one that is unknown, revoked or expired.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the caller's role or team does not allow the request.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no route, or no record with the given id.
    #[error("{0}")]
    NotFound(String),
    /// 405: the route exists but not with this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 409: a record with the same unique key exists, or the state forbids the change.
    #[error("{0}")]
    Conflict(String),
    /// 413: the upload is larger than the byte or duration limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415: the body's content type or audio format is not supported.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: the request is well formed but a value is invalid.
    #[error("{detail}")]
    Unprocessable {
        /// Error code.
        code: &'static str,
        /// Explanation.
        detail: String,
    },
    /// 503 with `Retry-After`: the transcription queue is full.
    #[error("the transcription queue holds {queued} jobs, the limit is {limit}: retry later")]
    QueueFull {
        /// Jobs queued now.
        queued: u64,
        /// The configured maximum.
        limit: u64,
        /// Seconds to wait before retrying.
        retry_after_secs: u64,
    },
    /// 503: a component the request needs is not available.
    #[error("{0}")]
    Unavailable(String),
    /// 500: an internal fault; the client sees a generic detail.
    #[error("internal error")]
    Internal(#[source] Box<dyn StdError + Send + Sync>),
}

/// Result alias of handlers.
pub type ApiResult<T, E = ApiError> = std::result::Result<T, E>;

impl ApiError {
    /// Returns the HTTP status of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::QueueFull { .. } | ApiError::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Returns the stable error code of the body.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. } | ApiError::Unprocessable { code, .. } => code,
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::QueueFull { .. } => "queue_full",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// Builds a 400 with the code `bad_request`.
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code: "bad_request",
            detail: detail.into(),
        }
    }

    /// Builds a 422 with the code `invalid_input`.
    pub fn invalid(detail: impl Into<String>) -> ApiError {
        ApiError::Unprocessable {
            code: "invalid_input",
            detail: detail.into(),
        }
    }

    /// Wraps an internal fault as a 500.
    pub fn internal(err: impl StdError + Send + Sync + 'static) -> ApiError {
        ApiError::Internal(Box::new(err))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(source) = &self {
            tracing::error!(error = %error_chain(source.as_ref()), "request failed");
        } else {
            tracing::debug!(status = status.as_u16(), code = self.code(), detail = %self);
        }
        let detail = match &self {
            ApiError::Internal(_) => "internal error: the server log has the cause".to_string(),
            other => other.to_string(),
        };
        let body = ErrorBody {
            error: self.code().to_string(),
            detail,
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let ApiError::QueueFull {
            retry_after_secs, ..
        } = self
        {
            let value = HeaderValue::from(retry_after_secs);
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if status == StatusCode::UNAUTHORIZED {
            let value = HeaderValue::from_static("Bearer");
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// Joins an error and its sources into one line.
pub fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut next = err.source();
    while let Some(source) = next {
        parts.push(source.to_string());
        next = source.source();
    }
    parts.join(": ")
}

impl From<store::Error> for ApiError {
    fn from(err: store::Error) -> ApiError {
        match err {
            store::Error::Conflict { .. } => ApiError::Conflict(err.to_string()),
            store::Error::Invalid { .. } => ApiError::invalid(err.to_string()),
            store::Error::NotFound { .. } => ApiError::NotFound(err.to_string()),
            other => ApiError::internal(other),
        }
    }
}

impl From<audio::Error> for ApiError {
    fn from(err: audio::Error) -> ApiError {
        use audio::Error as E;
        match err {
            E::NotAudio { .. } | E::UnsupportedCodec { .. } => {
                ApiError::UnsupportedMediaType(err.to_string())
            }
            E::TooLong { .. } => ApiError::PayloadTooLarge(err.to_string()),
            E::NoSamples => ApiError::BadRequest {
                code: "empty_audio",
                detail: err.to_string(),
            },
            E::Corrupt { .. }
            | E::TooShort { .. }
            | E::UnsupportedChannels { .. }
            | E::UnsupportedSampleRate { .. } => ApiError::Unprocessable {
                code: "invalid_audio",
                detail: err.to_string(),
            },
            other => ApiError::internal(other),
        }
    }
}

impl From<knowledge::Error> for ApiError {
    fn from(err: knowledge::Error) -> ApiError {
        match err {
            knowledge::Error::UnknownScenario(_) | knowledge::Error::UnknownStrategy { .. } => {
                ApiError::NotFound(err.to_string())
            }
            knowledge::Error::MissingIndex(_) => ApiError::Unavailable(err.to_string()),
            other => ApiError::internal(other),
        }
    }
}

impl From<crate::drill::Error> for ApiError {
    fn from(err: crate::drill::Error) -> ApiError {
        use crate::drill::Error as E;
        match err {
            E::Store(inner) => inner.into(),
            E::UnknownScenario { .. } => ApiError::NotFound(err.to_string()),
            E::NotARep { .. } => ApiError::Forbidden(err.to_string()),
            E::EmptyCorpus | E::NeedsMultilingualModel { .. } => {
                ApiError::Unavailable(err.to_string())
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(err: tokio::task::JoinError) -> ApiError {
        ApiError::internal(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_not_found_maps_to_404() {
        let err = store::Error::NotFound {
            entity: "job",
            id: "job_x".to_string(),
        };

        let api = ApiError::from(err);

        assert_eq!(api.status(), StatusCode::NOT_FOUND);
        assert_eq!(api.code(), "not_found");
    }

    #[test]
    fn audio_too_long_maps_to_413() {
        let err = audio::Error::TooLong {
            duration_ms: 10,
            max_ms: 5,
        };

        let api = ApiError::from(err);

        assert_eq!(api.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(api.to_string().contains("5 ms"));
    }

    #[test]
    fn queue_full_sets_retry_after() {
        let err = ApiError::QueueFull {
            queued: 3,
            limit: 3,
            retry_after_secs: 7,
        };

        let response = err.into_response();

        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
    }
}
