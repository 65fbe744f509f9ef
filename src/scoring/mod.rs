//! Scoring of a drill answer against a scenario's top-seller strategies.
//!
//! [`score_answer`] takes a timed [`Transcript`] and the answer's VAD
//! regions and returns a [`DrillScore`]: key-phrase coverage of every
//! strategy ([`coverage`], built on [`matcher`] and [`stuffing`]), response
//! latency ([`latency`]), delivery ([`delivery`]), the overall 0-100 score
//! ([`score`]) and coaching feedback ([`feedback`]). The formula and the
//! JSON field names are documented in `docs/scoring.md`.

pub mod coverage;
pub mod delivery;
pub mod feedback;
pub mod filler;
pub mod latency;
pub mod matcher;
mod phrase;
pub mod score;
pub mod stuffing;
pub mod token;

use serde::{Deserialize, Serialize};

use crate::audio::vad::SpeechRegion;
use crate::knowledge::Scenario;
use crate::language::Language;
use crate::transcribe::Transcript;

pub use coverage::{measure_coverage, Coverage, MissingReason, StrategyCoverage};
pub use delivery::{Delivery, RateUnit};
pub use feedback::{Feedback, NoteCode};
pub use filler::FillerCount;
pub use latency::{Latency, LatencyClass, LatencyKind};
pub use matcher::{MatchMode, Occurrence, PhraseMatch};
pub use phrase::FormKind;
pub use score::{overall_score, Overall};
pub use stuffing::{Stuffing, StuffingReason};
pub use token::{tokens_from_text, tokens_from_transcript, TimedToken};

/// Errors of scoring: invalid scenario data or options.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The scenario has no strategies to compare the answer with.
    #[error("scenario {scenario:?} has no strategies: add at least one to its corpus file")]
    NoStrategies {
        /// Id of the scenario.
        scenario: String,
    },
    /// A key phrase weight is zero, negative or not a number.
    #[error(
        "key phrase {phrase:?} of strategy {strategy:?} in scenario {scenario:?} \
         has weight {weight}: expected a number greater than 0"
    )]
    InvalidPhraseWeight {
        /// Id of the scenario.
        scenario: String,
        /// Id of the strategy.
        strategy: String,
        /// Canonical text of the phrase.
        phrase: String,
        /// The rejected weight.
        weight: f32,
    },
    /// A form of a key phrase has no words once punctuation is removed.
    #[error(
        "key phrase {phrase:?} of strategy {strategy:?} in scenario {scenario:?} \
         has form {form:?} without words: remove it or write it out"
    )]
    EmptyPhrase {
        /// Id of the scenario.
        scenario: String,
        /// Id of the strategy.
        strategy: String,
        /// Canonical text of the phrase.
        phrase: String,
        /// The empty form (canonical, synonym or variant text).
        form: String,
    },
    /// A latency band's edges are out of order.
    #[error(
        "invalid latency band: min_ms {min_ms}, top_seller_ms {top_seller_ms}, max_ms {max_ms}: \
         expected min_ms <= top_seller_ms <= max_ms and max_ms > 0"
    )]
    InvalidLatencyBand {
        /// Lower edge.
        min_ms: u32,
        /// Top-seller value.
        top_seller_ms: u32,
        /// Upper edge.
        max_ms: u32,
    },
    /// A VAD region ends before it starts.
    #[error("invalid speech region {start_ms}..{end_ms} ms: the end is before the start")]
    InvalidSpeechRegion {
        /// Start of the region.
        start_ms: u64,
        /// End of the region.
        end_ms: u64,
    },
    /// The transcript's language is not one that scoring supports.
    #[error(
        "transcript language {code:?} is not supported: \
         expected \"en\" or \"zh\", or set the answer language explicitly"
    )]
    UnsupportedLanguage {
        /// The transcript's language code.
        code: String,
    },
    /// The length limit is zero.
    #[error("invalid max_answer_ms 0: expected a length limit above 0 ms")]
    ZeroAnswerLimit,
}

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Settings of one scoring run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreOptions {
    /// Language of the answer; `None` takes the transcript's language, or
    /// detects it from the text when the transcript has no code.
    pub language: Option<Language>,
    /// End of the customer's line on the answer's clock, in milliseconds;
    /// 0 when the recording starts after the prompt.
    pub prompt_end_ms: u64,
    /// Drill or call latency.
    pub latency_kind: LatencyKind,
    /// Maximum answer length before it is flagged, in milliseconds.
    pub max_answer_ms: u64,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions {
            language: None,
            prompt_end_ms: 0,
            latency_kind: LatencyKind::Drill,
            max_answer_ms: delivery::DEFAULT_MAX_ANSWER_MS,
        }
    }
}

/// The score of one drill answer, as stored and sent as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillScore {
    /// Id of the scenario the answer was scored against.
    pub scenario_id: String,
    /// Language of the answer.
    pub language: Language,
    /// The transcript that was scored.
    pub transcript: Transcript,
    /// Coverage of every strategy, with the best one.
    pub coverage: Coverage,
    /// Response latency.
    pub latency: Latency,
    /// Speaking rate, fillers and length.
    pub delivery: Delivery,
    /// Overall score with its parts.
    pub overall: Overall,
    /// Missed phrases, the top-seller example and coaching notes.
    pub feedback: Feedback,
}

/// Scores an answer against every strategy of `scenario`.
///
/// # Errors
///
/// Invalid scenario data (see [`measure_coverage`] and
/// [`Error::InvalidLatencyBand`]), a VAD region that ends before it starts,
/// a transcript language other than English or Mandarin without an explicit
/// language, and a zero `max_answer_ms`.
#[tracing::instrument(skip_all, fields(scenario = %scenario.id))]
pub fn score_answer(
    scenario: &Scenario,
    transcript: &Transcript,
    speech: &[SpeechRegion],
    options: &ScoreOptions,
) -> Result<DrillScore> {
    if options.max_answer_ms == 0 {
        return Err(Error::ZeroAnswerLimit);
    }
    let language = answer_language(transcript, options)?;
    let tokens = tokens_from_transcript(transcript);
    let coverage = measure_coverage(scenario, &tokens, language)?;
    let word_onset = tokens.first().map(|t| t.start_ms);
    let latency = latency::measure_latency(
        &scenario.latency,
        speech,
        word_onset,
        options.prompt_end_ms,
        options.latency_kind,
    )?;
    let delivery = delivery::measure_delivery(
        transcript,
        &tokens,
        speech,
        language,
        options.prompt_end_ms,
        options.max_answer_ms,
    );
    let overall = overall_score(coverage.best_coverage, latency.score, delivery.score);

    let strategy = scenario
        .strategy(&coverage.best_strategy_id)
        .unwrap_or(&scenario.strategies[0]);
    let feedback = feedback::build_feedback(strategy, &coverage, &latency, &delivery);
    tracing::debug!(overall = overall.score, best = %coverage.best_strategy_id, "drill answer scored");
    Ok(DrillScore {
        scenario_id: scenario.id.clone(),
        language,
        transcript: transcript.clone(),
        coverage,
        latency,
        delivery,
        overall,
        feedback,
    })
}

fn answer_language(transcript: &Transcript, options: &ScoreOptions) -> Result<Language> {
    if let Some(language) = options.language {
        return Ok(language);
    }
    if transcript.language.trim().is_empty() {
        return Ok(Language::detect(&transcript.text));
    }
    transcript
        .language
        .parse()
        .map_err(|_| Error::UnsupportedLanguage {
            code: transcript.language.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript(language: &str, text: &str) -> Transcript {
        Transcript {
            language: language.into(),
            duration_ms: 1000,
            no_speech: text.is_empty(),
            text: text.into(),
            segments: Vec::new(),
        }
    }

    #[test]
    fn explicit_language_wins() {
        let options = ScoreOptions {
            language: Some(Language::Zh),
            ..ScoreOptions::default()
        };

        assert_eq!(
            answer_language(&transcript("en", "hi"), &options),
            Ok(Language::Zh)
        );
    }

    #[test]
    fn blank_language_code_is_detected() {
        let options = ScoreOptions::default();

        assert_eq!(
            answer_language(&transcript("", "价格太高"), &options),
            Ok(Language::Zh)
        );
    }

    #[test]
    fn unsupported_language_names_code() {
        let err =
            answer_language(&transcript("de", "Preis"), &ScoreOptions::default()).unwrap_err();

        assert!(err.to_string().contains("\"de\""));
    }
}
