//! Scoring of a recorded drill answer: live transcription while the audio
//! arrives, then VAD and [`crate::scoring::score_answer`].
//!
//! [`AnswerSession`] feeds audio into a [`LiveTranscriber`], which decodes
//! every chunk that ends in a pause while the rep is still talking. When the
//! answer ends, only the audio after the last pause is left to decode, so
//! the feedback follows the end of the answer closely.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Error, Result};
use crate::audio::vad::{detect_speech, SpeechRegion, VadConfig};
use crate::audio::SAMPLE_RATE_HZ;
use crate::knowledge::Scenario;
use crate::language::Language;
use crate::scoring::{score_answer, DrillScore, LatencyKind, ScoreOptions};
use crate::transcribe::{
    Engine, LanguageChoice, LiveReport, LiveTranscriber, Settings, Transcript,
};

/// Audio pushed per call by [`score_samples`], in milliseconds: about what
/// a browser recorder delivers per event.
pub const PUSH_PIECE_MS: usize = 250;

/// Overhang of a VAD region past the end of the prompt that still counts
/// as the customer's line, in milliseconds: VAD extends region edges by up
/// to 200 ms, so the customer's last region can end just after the prompt.
const PROMPT_OVERHANG_MS: u64 = 300;

/// Text that tiny.en and other English-only models write for speech in
/// another language.
const FOREIGN_MARKERS: [&str; 3] = [
    "foreign language",
    "speaking chinese",
    "speaking in chinese",
];

/// Settings of one drill answer.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerOptions {
    /// Language of the answer, or detection.
    pub language: LanguageChoice,
    /// End of the customer's line on the recording's clock, in milliseconds;
    /// 0 when the recording starts after the line.
    pub prompt_end_ms: u64,
    /// Longest answer before the result is flagged, in milliseconds.
    pub max_answer_ms: u64,
    /// CPU threads for inference.
    pub threads: usize,
}

impl Default for AnswerOptions {
    fn default() -> Self {
        AnswerOptions {
            language: LanguageChoice::Auto,
            prompt_end_ms: 0,
            max_answer_ms: super::ANSWER_LIMIT_MS,
            threads: Settings::default().threads,
        }
    }
}

/// A scored answer with the time scoring took after the audio ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoredAnswer {
    /// The score, transcript and feedback.
    #[serde(flatten)]
    pub score: DrillScore,
    /// Time from the end of the audio to the finished feedback, in milliseconds.
    pub feedback_ms: u64,
    /// Counts of the live decoding work, and whether any of it was left
    /// when the audio ended.
    #[serde(skip)]
    pub transcription: LiveReport,
}

/// A drill answer being recorded and transcribed.
pub struct AnswerSession {
    scenario: Scenario,
    options: AnswerOptions,
    model_is_multilingual: bool,
    model: std::path::PathBuf,
    transcriber: LiveTranscriber,
    samples: Vec<f32>,
}

impl AnswerSession {
    /// Starts transcription of an answer to `scenario`.
    ///
    /// # Errors
    ///
    /// [`Error::NeedsMultilingualModel`] for a Mandarin answer with an
    /// English-only model, and transcription setting errors.
    pub fn start(engine: &Engine, scenario: &Scenario, options: AnswerOptions) -> Result<Self> {
        let multilingual = engine.is_multilingual();
        let language = match (options.language, multilingual) {
            (LanguageChoice::Fixed(Language::Zh), false) => {
                return Err(needs_base(engine, "zh"));
            }
            (LanguageChoice::Auto, false) => LanguageChoice::Fixed(Language::En),
            (choice, _) => choice,
        };
        let settings = Settings {
            language,
            threads: options.threads,
            fit_audio_context: true,
            ..Settings::default()
        };
        let transcriber = LiveTranscriber::start(engine.clone(), settings)?;
        Ok(AnswerSession {
            scenario: scenario.clone(),
            options,
            model_is_multilingual: multilingual,
            model: engine.model_path().to_path_buf(),
            transcriber,
            samples: Vec::new(),
        })
    }

    /// Appends 16 kHz mono samples of the answer as they arrive.
    pub fn push(&mut self, samples: &[f32]) {
        self.samples.extend_from_slice(samples);
        self.transcriber.push(samples);
    }

    /// Returns the length of the audio pushed so far, in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.samples.len() as u64 * 1000 / u64::from(SAMPLE_RATE_HZ)
    }

    /// Transcribes the rest of the audio and scores the answer.
    ///
    /// # Errors
    ///
    /// Transcription and scoring errors, and
    /// [`Error::NeedsMultilingualModel`] when an English-only model heard
    /// speech in another language.
    pub fn finish(self) -> Result<ScoredAnswer> {
        let started = Instant::now();
        let (transcript, transcription) = self.transcriber.finish_with_report()?;
        if !self.model_is_multilingual && is_foreign_marker(&transcript.text) {
            return Err(Error::NeedsMultilingualModel {
                model: self.model,
                language: "a language other than English".into(),
            });
        }
        let prompt_end_ms = self.options.prompt_end_ms;
        let speech = answer_regions(
            &detect_speech(&self.samples, &VadConfig::default()),
            prompt_end_ms,
        );
        let transcript = answer_transcript(&transcript, prompt_end_ms);
        let language = match self.options.language {
            LanguageChoice::Fixed(language) => Some(language),
            LanguageChoice::Auto => None,
        };
        let options = ScoreOptions {
            language,
            prompt_end_ms: self.options.prompt_end_ms,
            latency_kind: LatencyKind::Drill,
            max_answer_ms: self.options.max_answer_ms,
        };

        let score = score_answer(&self.scenario, &transcript, &speech, &options)?;
        let feedback_ms = millis(started.elapsed());
        tracing::debug!(feedback_ms, ?transcription, "answer scored");
        Ok(ScoredAnswer {
            score,
            feedback_ms,
            transcription,
        })
    }
}

/// Scores a whole recording, pushing it in [`PUSH_PIECE_MS`] pieces as a
/// recorder would.
///
/// # Errors
///
/// As [`AnswerSession::start`] and [`AnswerSession::finish`].
pub fn score_samples(
    engine: &Engine,
    scenario: &Scenario,
    samples_16k: &[f32],
    options: AnswerOptions,
) -> Result<ScoredAnswer> {
    let mut session = AnswerSession::start(engine, scenario, options)?;
    let piece = PUSH_PIECE_MS * SAMPLE_RATE_HZ as usize / 1000;
    for chunk in samples_16k.chunks(piece) {
        session.push(chunk);
    }
    session.finish()
}

/// Drops the customer's regions: those that start before the prompt ends
/// and end less than [`PROMPT_OVERHANG_MS`] after it.
fn answer_regions(regions: &[SpeechRegion], prompt_end_ms: u64) -> Vec<SpeechRegion> {
    regions
        .iter()
        .filter(|r| r.start_ms >= prompt_end_ms || r.end_ms > prompt_end_ms + PROMPT_OVERHANG_MS)
        .copied()
        .collect()
}

/// Keeps the words said after the prompt, so the customer's line in the
/// recording is not scored as the answer.
fn answer_transcript(transcript: &Transcript, prompt_end_ms: u64) -> Transcript {
    if prompt_end_ms == 0 {
        return transcript.clone();
    }
    let spans = [
        (0, prompt_end_ms),
        (prompt_end_ms, transcript.duration_ms.max(prompt_end_ms)),
    ];
    let mut parts = crate::call::split_transcript(transcript, &spans);
    let mut answer = parts.pop().unwrap_or_else(|| transcript.clone());
    answer.duration_ms = transcript.duration_ms;
    answer
}

fn needs_base(engine: &Engine, language: &str) -> Error {
    Error::NeedsMultilingualModel {
        model: engine.model_path().to_path_buf(),
        language: language.into(),
    }
}

fn is_foreign_marker(text: &str) -> bool {
    let lower = text.to_lowercase();
    FOREIGN_MARKERS.iter().any(|m| lower.contains(m))
}

fn millis(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_tail_region_is_dropped() {
        let regions = [
            SpeechRegion {
                start_ms: 0,
                end_ms: 2150,
            },
            SpeechRegion {
                start_ms: 3200,
                end_ms: 6000,
            },
        ];

        let kept = answer_regions(&regions, 2000);

        assert_eq!(kept, vec![regions[1]]);
    }

    #[test]
    fn foreign_marker_is_recognised() {
        assert!(is_foreign_marker(" (speaking in foreign language)"));
        assert!(!is_foreign_marker("the total cost of ownership"));
    }
}
