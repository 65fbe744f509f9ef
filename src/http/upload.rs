//! Audio uploads: a raw body (`audio/*` or `application/octet-stream`) or a
//! `multipart/form-data` body with an `audio` file part and text fields.
//!
//! The byte limit is checked while reading, so a body over the limit is never
//! held whole in memory, and the answer is 413 with the limit in the detail.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::StatusCode;

use super::error::{ApiError, ApiResult};
use super::extract::from_status;
use super::AppState;
use crate::audio::{self, Audio, DecodeLimits};

/// Name of the multipart part that holds the recording.
pub const AUDIO_PART: &str = "audio";
/// Content types accepted as a raw audio body, with their decoder hint.
const RAW_TYPES: [(&str, Option<&str>); 14] = [
    ("audio/wav", Some("wav")),
    ("audio/x-wav", Some("wav")),
    ("audio/wave", Some("wav")),
    ("audio/vnd.wave", Some("wav")),
    ("audio/flac", Some("flac")),
    ("audio/x-flac", Some("flac")),
    ("audio/mpeg", Some("mp3")),
    ("audio/mp3", Some("mp3")),
    ("audio/ogg", Some("ogg")),
    ("audio/mp4", Some("m4a")),
    ("audio/m4a", Some("m4a")),
    ("audio/x-m4a", Some("m4a")),
    ("audio/aac", Some("m4a")),
    ("application/octet-stream", None),
];

/// An uploaded recording with the text fields that came with it.
#[derive(Debug)]
pub struct AudioUpload {
    /// The recording's bytes, never empty.
    pub bytes: Bytes,
    /// File extension hint for the decoder (`wav`, `mp3`, ...).
    pub extension: Option<String>,
    /// Text fields of a multipart body, by name.
    pub fields: BTreeMap<String, String>,
}

impl FromRequest<AppState> for AudioUpload {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> ApiResult<Self> {
        let limit = state.config.max_upload_bytes;
        check_declared_length(&request, limit)?;
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        let upload = if essence == "multipart/form-data" {
            read_multipart(request, state, limit).await?
        } else if let Some((_, hint)) = RAW_TYPES.iter().find(|(name, _)| *name == essence) {
            let extension = hint.map(str::to_string);
            let bytes = read_raw(request, limit).await?;
            AudioUpload {
                bytes,
                extension,
                fields: BTreeMap::new(),
            }
        } else if essence.starts_with("audio/") {
            let bytes = read_raw(request, limit).await?;
            AudioUpload {
                bytes,
                extension: None,
                fields: BTreeMap::new(),
            }
        } else {
            return Err(unsupported_type(&essence));
        };
        if upload.bytes.is_empty() {
            return Err(ApiError::BadRequest {
                code: "empty_upload",
                detail: "the upload is empty: send the recording's bytes".to_string(),
            });
        }
        Ok(upload)
    }
}

impl AudioUpload {
    /// Returns a text field, trimmed, if present and not empty.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Decodes the recording on the blocking pool, checking duration limits.
    ///
    /// Decoding at upload time rejects files that are not audio (415), too
    /// long (413) or damaged (422) before anything is stored.
    pub async fn decode(&self, max_audio_ms: u64) -> ApiResult<Audio> {
        let bytes = self.bytes.clone();
        let extension = self.extension.clone();
        let limits = DecodeLimits {
            max_duration_ms: max_audio_ms,
            ..DecodeLimits::default()
        };
        let span = tracing::Span::current();
        let decoded = tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            audio::decode_bytes(&bytes, extension.as_deref(), &limits)
        })
        .await?;
        Ok(decoded?)
    }
}

fn unsupported_type(essence: &str) -> ApiError {
    let shown = if essence.is_empty() { "none" } else { essence };
    ApiError::UnsupportedMediaType(format!(
        "content type {shown:?} is not an upload type: send audio/* (such as audio/wav), \
         application/octet-stream or multipart/form-data with an {AUDIO_PART:?} part"
    ))
}

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the upload is larger than the limit of {limit} bytes: \
         send a shorter recording or raise max_upload_bytes"
    ))
}

fn check_declared_length(request: &Request, limit: usize) -> ApiResult<()> {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > limit as u64 => Err(too_large(limit)),
        _ => Ok(()),
    }
}

async fn read_raw(request: Request, limit: usize) -> ApiResult<Bytes> {
    match axum::body::to_bytes(request.into_body(), limit).await {
        Ok(bytes) => Ok(bytes),
        Err(err) => {
            let inner = err.into_inner();
            if inner
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                return Err(too_large(limit));
            }
            Err(ApiError::bad_request(format!(
                "failed to read the request body: {inner}"
            )))
        }
    }
}

async fn read_multipart(
    request: Request,
    state: &AppState,
    limit: usize,
) -> ApiResult<AudioUpload> {
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|rejection| from_status(rejection.status(), rejection.body_text()))?;
    let mut audio = None;
    let mut fields = BTreeMap::new();
    let part_error = |err: axum::extract::multipart::MultipartError| {
        if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return too_large(limit);
        }
        ApiError::bad_request(format!("malformed multipart body: {}", err.body_text()))
    };
    while let Some(field) = multipart.next_field().await.map_err(part_error)? {
        let name = field.name().unwrap_or("").to_string();
        if name == AUDIO_PART {
            let extension = field
                .file_name()
                .and_then(|f| std::path::Path::new(f).extension())
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            let bytes = field.bytes().await.map_err(part_error)?;
            audio = Some((bytes, extension));
        } else {
            let text = field.text().await.map_err(part_error)?;
            fields.insert(name, text);
        }
    }
    let (bytes, extension) = audio.ok_or_else(|| ApiError::BadRequest {
        code: "missing_audio",
        detail: format!("the multipart body has no {AUDIO_PART:?} part: attach the recording"),
    })?;
    Ok(AudioUpload {
        bytes,
        extension,
        fields,
    })
}
