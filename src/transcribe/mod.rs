//! Speech to timed text with Whisper (whisper.cpp through whisper-rs).
//!
//! [`Engine`] owns one loaded model and is shared by every job; each call to
//! [`Engine::transcribe`] creates its own decoder state. Input is 16 kHz mono
//! `f32` from [`crate::audio`]; output is a [`Transcript`] with segment and
//! word timings in milliseconds. Recordings longer than one Whisper window
//! are cut at pauses found by voice activity detection, so each chunk is
//! decoded without the previous chunk's text as context, which prevents the
//! repetition loops that long conditioned decoding falls into.

pub mod accuracy;
mod chunk;
mod engine;
mod live;
mod words;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::language::Language;

pub use engine::Engine;
pub use live::{LiveReport, LiveTranscriber};

/// Errors of model loading and transcription.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No model file was found in any of the searched places.
    #[error(
        "no Whisper model found (looked for {searched}): run `make model` or pass --model PATH"
    )]
    ModelNotFound {
        /// The places that were searched, joined for display.
        searched: String,
    },
    /// whisper.cpp could not load the model file.
    #[error("failed to load Whisper model {path}: {reason} (is it a whisper.cpp ggml file?)")]
    ModelLoad {
        /// Path of the model file.
        path: PathBuf,
        /// whisper-rs error text.
        reason: String,
    },
    /// The model cannot transcribe the requested language.
    #[error("model {model} is English-only and cannot transcribe {language:?}: install the multilingual model with `callcoach model install base` and pass --model models/ggml-base.bin")]
    LanguageNotSupported {
        /// Path of the loaded model.
        model: PathBuf,
        /// Requested language code.
        language: String,
    },
    /// A setting has a value outside its range.
    #[error("invalid transcription setting {name} = {value:?}: {expected}")]
    InvalidSetting {
        /// Name of the setting.
        name: &'static str,
        /// The rejected value.
        value: String,
        /// Description of a valid value.
        expected: &'static str,
    },
    /// whisper.cpp failed while decoding.
    #[error("whisper inference failed: {0}")]
    Inference(String),
}

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Language selection for a transcription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LanguageChoice {
    /// Let Whisper detect the language (multilingual models only).
    #[default]
    Auto,
    /// Transcribe as this language.
    Fixed(Language),
}

impl std::str::FromStr for LanguageChoice {
    type Err = crate::language::UnknownLanguage;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        if s.trim().eq_ignore_ascii_case("auto") {
            return Ok(LanguageChoice::Auto);
        }
        s.parse().map(LanguageChoice::Fixed)
    }
}

/// Decoding settings of one transcription.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Language to transcribe, or detection.
    pub language: LanguageChoice,
    /// CPU threads for inference, at least 1.
    pub threads: usize,
    /// Beam width; 1 means greedy decoding.
    pub beam_size: usize,
    /// Text that primes the decoder with vocabulary or style.
    pub initial_prompt: Option<String>,
    /// Segments whose no-speech probability exceeds this are dropped (0 to 1).
    pub no_speech_threshold: f32,
    /// Shrinks Whisper's 30 s encoder window to the chunk length plus one
    /// second, and to no less than about 7.7 s, which makes short chunks
    /// four to five times faster to encode. Live drill transcription uses
    /// it. It is off by default because a shorter window makes the models mishear
    /// more small words, such as "cost and ownership" for "cost of
    /// ownership" (which key-phrase matching tolerates).
    pub fit_audio_context: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            language: LanguageChoice::Auto,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            beam_size: 1,
            initial_prompt: None,
            no_speech_threshold: 0.6,
            fit_audio_context: false,
        }
    }
}

impl Settings {
    /// Checks ranges, so that whisper.cpp never sees an invalid value.
    pub fn validate(&self) -> Result<()> {
        if self.threads == 0 || self.threads > 256 {
            return Err(invalid("threads", self.threads, "an integer from 1 to 256"));
        }
        if self.beam_size == 0 || self.beam_size > 16 {
            return Err(invalid(
                "beam_size",
                self.beam_size,
                "an integer from 1 to 16",
            ));
        }
        if !(0.0..=1.0).contains(&self.no_speech_threshold) {
            return Err(invalid(
                "no_speech_threshold",
                self.no_speech_threshold,
                "a number from 0 to 1",
            ));
        }
        if self
            .initial_prompt
            .as_deref()
            .is_some_and(|p| p.contains('\0'))
        {
            return Err(invalid(
                "initial_prompt",
                "<contains NUL>",
                "text without NUL characters",
            ));
        }
        Ok(())
    }
}

fn invalid(name: &'static str, value: impl std::fmt::Debug, expected: &'static str) -> Error {
    Error::InvalidSetting {
        name,
        value: format!("{value:?}"),
        expected,
    }
}

/// A timed transcript of one audio channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// ISO 639-1 code of the transcribed language.
    pub language: String,
    /// Length of the audio, in milliseconds.
    pub duration_ms: u64,
    /// True when the audio holds no speech; `text` is then empty.
    pub no_speech: bool,
    /// Full text, segments joined.
    pub text: String,
    /// Segments in time order.
    pub segments: Vec<Segment>,
}

/// A stretch of speech that Whisper decoded as one unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Start, in milliseconds from the start of the audio.
    pub start_ms: u64,
    /// End, in milliseconds from the start of the audio.
    pub end_ms: u64,
    /// Text of the segment, trimmed.
    pub text: String,
    /// Words with timings from Whisper's token timestamps.
    #[serde(default)]
    pub words: Vec<Word>,
}

/// A word (English) or a run of characters from one token group (Mandarin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    /// Start, in milliseconds from the start of the audio.
    pub start_ms: u64,
    /// End, in milliseconds from the start of the audio.
    pub end_ms: u64,
    /// The word, without surrounding spaces.
    pub text: String,
    /// Mean token probability, 0 to 1.
    pub probability: f32,
}

impl Transcript {
    /// Builds the transcript of audio without speech.
    pub fn silent(language: &str, duration_ms: u64) -> Transcript {
        Transcript {
            language: language.to_string(),
            duration_ms,
            no_speech: true,
            text: String::new(),
            segments: Vec::new(),
        }
    }

    /// Returns every word of every segment in time order.
    pub fn words(&self) -> impl Iterator<Item = &Word> {
        self.segments.iter().flat_map(|s| s.words.iter())
    }
}

/// Environment variable that names the default model file.
pub const MODEL_ENV: &str = "CALLCOACH_MODEL";

/// Finds the model file: `explicit`, then `CALLCOACH_MODEL`, then the
/// provisioned `models/ggml-tiny.en.bin` and `models/ggml-base.bin`.
pub fn locate_model(explicit: Option<&Path>) -> Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(path) = explicit {
        candidates.push(path.to_path_buf());
    } else if let Some(path) = std::env::var_os(MODEL_ENV) {
        candidates.push(PathBuf::from(path));
    } else {
        let dir = crate::cli::models_dir();
        candidates.push(dir.join("ggml-tiny.en.bin"));
        candidates.push(dir.join("ggml-base.bin"));
    }

    match candidates.iter().find(|p| p.is_file()) {
        Some(found) => Ok(found.clone()),
        None => Err(Error::ModelNotFound {
            searched: candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_reject_zero_threads() {
        let settings = Settings {
            threads: 0,
            ..Settings::default()
        };

        let err = settings.validate().unwrap_err();

        assert!(err.to_string().contains("threads"));
    }

    #[test]
    fn settings_reject_nul_prompt() {
        let settings = Settings {
            initial_prompt: Some("a\0b".into()),
            ..Settings::default()
        };

        assert!(settings.validate().is_err());
    }

    #[test]
    fn language_choice_parses_auto() {
        assert_eq!("auto".parse::<LanguageChoice>(), Ok(LanguageChoice::Auto));
        assert_eq!(
            "zh".parse::<LanguageChoice>(),
            Ok(LanguageChoice::Fixed(Language::Zh))
        );
    }

    #[test]
    fn missing_model_names_make_model() {
        let err = locate_model(Some(Path::new("/nonexistent/ggml.bin"))).unwrap_err();

        assert!(err.to_string().contains("make model"));
    }
}
