//! Coaching feedback: the best strategy's missed phrases with its
//! top-seller example, and notes on stuffing, latency and delivery.

use serde::{Deserialize, Serialize};

use super::coverage::{Coverage, MissingReason};
use super::delivery::Delivery;
use super::latency::{Latency, LatencyClass};
use crate::knowledge::{Snippet, Strategy};
use crate::language::Language;

/// Filler ratio above which feedback suggests fewer fillers.
pub const MANY_FILLERS_RATIO: f64 = 0.05;

/// A key phrase of the best strategy that the answer did not say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissedPhrase {
    /// Canonical text of the phrase.
    pub phrase: String,
    /// Its weight inside the strategy.
    pub weight: f32,
}

/// A top-seller answer to learn from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExampleRef {
    /// Language of the example.
    pub language: Language,
    /// Seller who gave it.
    pub seller: String,
    /// The answer as spoken.
    pub text: String,
    /// The first recording of the answer, if any.
    pub snippet: Option<Snippet>,
}

/// A kind of coaching note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteCode {
    /// The answer has no words.
    EmptyAnswer,
    /// The best strategy has no key phrases in the answer's language.
    NoPhrasesInLanguage,
    /// The answer lists key phrases without connecting them.
    KeywordStuffing,
    /// The answer starts before the latency band.
    LatencyTooFast,
    /// The answer starts after the latency band.
    LatencyTooSlow,
    /// The speaking rate is below the target band.
    RateTooSlow,
    /// The speaking rate is above the target band.
    RateTooFast,
    /// Fillers exceed [`MANY_FILLERS_RATIO`] of the words.
    ManyFillers,
    /// The answer is longer than the length limit.
    OverTimeLimit,
}

/// One coaching note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    /// Stable code of the note.
    pub code: NoteCode,
    /// English text for the seller.
    pub message: String,
}

/// Feedback on one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    /// Strategy the feedback refers to (the best one).
    pub strategy_id: String,
    /// Its phrases that were not spoken, in corpus order.
    pub missed: Vec<MissedPhrase>,
    /// Its top-seller example in the answer's language, or its first one.
    pub example: Option<ExampleRef>,
    /// Notes in a fixed order: coverage, latency, delivery.
    pub notes: Vec<Note>,
}

/// Builds feedback for the best strategy of `coverage`.
pub fn build_feedback(
    strategy: &Strategy,
    coverage: &Coverage,
    latency: &Latency,
    delivery: &Delivery,
) -> Feedback {
    let missed = coverage
        .best()
        .map(|best| best.phrases.iter().filter(|p| !p.matched))
        .into_iter()
        .flatten()
        .map(|p| MissedPhrase {
            phrase: p.phrase.clone(),
            weight: p.weight,
        })
        .collect();
    let example = strategy
        .example(coverage.language)
        .or_else(|| strategy.examples.first());
    Feedback {
        strategy_id: strategy.id.clone(),
        missed,
        example: example.map(|e| ExampleRef {
            language: e.lang,
            seller: e.seller.clone(),
            text: e.text.clone(),
            snippet: e.snippets.first().cloned(),
        }),
        notes: build_notes(coverage, latency, delivery),
    }
}

fn build_notes(coverage: &Coverage, latency: &Latency, delivery: &Delivery) -> Vec<Note> {
    let mut notes = Vec::new();
    coverage_notes(coverage, &mut notes);
    latency_notes(latency, &mut notes);
    delivery_notes(delivery, &mut notes);
    notes
}

fn note(code: NoteCode, message: impl Into<String>) -> Note {
    Note {
        code,
        message: message.into(),
    }
}

fn coverage_notes(coverage: &Coverage, notes: &mut Vec<Note>) {
    let best_missing = coverage.best().and_then(|b| b.missing);
    if coverage.missing == Some(MissingReason::EmptyAnswer) {
        notes.push(note(
            NoteCode::EmptyAnswer,
            "no words were recognised in the answer",
        ));
    } else if best_missing == Some(MissingReason::NoPhrasesInLanguage) {
        let language = coverage.language;
        let message = format!("this strategy has no key phrases in language {language}");
        notes.push(note(NoteCode::NoPhrasesInLanguage, message));
    }
    if coverage.stuffing.flagged {
        let message = "connect the key phrases in full sentences instead of listing them";
        notes.push(note(NoteCode::KeywordStuffing, message));
    }
}

fn latency_notes(latency: &Latency, notes: &mut Vec<Note>) {
    let top_ms = latency.band.top_seller_ms;
    match latency.class {
        Some(LatencyClass::TooFast) => {
            let message = format!("let the customer finish: top sellers wait about {top_ms} ms");
            notes.push(note(NoteCode::LatencyTooFast, message));
        }
        Some(LatencyClass::TooSlow) => {
            let message = format!("start sooner: top sellers respond after about {top_ms} ms");
            notes.push(note(NoteCode::LatencyTooSlow, message));
        }
        Some(LatencyClass::InBand) | None => {}
    }
}

fn delivery_notes(delivery: &Delivery, notes: &mut Vec<Note>) {
    let (rate, min, max) = (delivery.rate, delivery.rate_min, delivery.rate_max);
    if delivery.unit_count > 0 && rate < min {
        let message =
            format!("speak a little faster: {rate:.0} against a target of {min:.0} to {max:.0}");
        notes.push(note(NoteCode::RateTooSlow, message));
    }
    if rate > max {
        let message = format!("slow down: {rate:.0} against a target of {min:.0} to {max:.0}");
        notes.push(note(NoteCode::RateTooFast, message));
    }
    if delivery.filler_ratio > MANY_FILLERS_RATIO {
        let percent = delivery.filler_ratio * 100.0;
        let message = format!(
            "{} fillers, {percent:.0}% of the words: pause instead",
            delivery.filler_count
        );
        notes.push(note(NoteCode::ManyFillers, message));
    }
    if delivery.over_limit {
        let (ran_s, limit_s) = (delivery.duration_ms / 1000, delivery.max_duration_ms / 1000);
        let message = format!("the response lasted {ran_s} s, over the {limit_s} s limit");
        notes.push(note(NoteCode::OverTimeLimit, message));
    }
}
