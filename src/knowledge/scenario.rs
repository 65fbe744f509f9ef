//! The scenario model: what customers say, how top sellers answer, and the
//! key phrases and recording snippets that carry each answer.
//!
//! These types are the in-memory form of one `corpus/*.toml` file and are
//! shared by the index, the drill draw and the scorer.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::language::Language;
use crate::skill::Dimension;

/// A high-frequency sales situation with its response strategies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Stable id, lowercase snake_case, equal to the file stem.
    pub id: String,
    /// Title in English.
    pub title_en: String,
    /// Title in Mandarin.
    pub title_zh: String,
    /// Skill dimensions this scenario exercises (at least one).
    pub dimensions: Vec<Dimension>,
    /// Customer phrasings of the situation, in both languages.
    pub triggers: Vec<Trigger>,
    /// Response latency that top sellers keep after this customer line.
    pub latency: LatencyBand,
    /// Response strategies (three in the bundled corpus).
    pub strategies: Vec<Strategy>,
}

/// One way a customer voices the scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// Language of the line.
    pub lang: Language,
    /// The customer's words.
    pub text: String,
}

/// Target response latency after the customer's line, in milliseconds.
///
/// Answering faster than `min_ms` interrupts the customer, slower than
/// `max_ms` stalls; `top_seller_ms` is the typical top-seller value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencyBand {
    /// Shortest latency that does not cut the customer off.
    pub min_ms: u32,
    /// Longest latency before the answer reads as a stall.
    pub max_ms: u32,
    /// Median latency of top sellers in this scenario.
    pub top_seller_ms: u32,
}

/// A response strategy with examples in both languages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Strategy {
    /// Id unique within the scenario.
    pub id: String,
    /// Short English name of the strategy.
    pub name_en: String,
    /// Short Mandarin name of the strategy.
    pub name_zh: String,
    /// Top-seller example answers (one per language in the bundled corpus).
    pub examples: Vec<Example>,
    /// Key phrases that carry this strategy, in both languages.
    pub key_phrases: Vec<KeyPhrase>,
}

/// A top-seller answer with its recording snippets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// Language of the answer.
    pub lang: Language,
    /// Name of the seller who gave it.
    pub seller: String,
    /// The answer as spoken.
    pub text: String,
    /// Recordings of this answer.
    #[serde(default)]
    pub snippets: Vec<Snippet>,
}

/// A stretch of a recording that contains an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snippet {
    /// Audio file, relative to the corpus directory unless absolute.
    pub audio: PathBuf,
    /// Start of the answer inside the file, in milliseconds.
    pub start_ms: u64,
    /// End of the answer inside the file, in milliseconds.
    pub end_ms: u64,
}

/// A phrase whose presence shows that an answer follows a strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyPhrase {
    /// Language of the phrase.
    pub lang: Language,
    /// Canonical wording, as top sellers say it.
    pub text: String,
    /// Relative weight inside the strategy, greater than zero.
    #[serde(default = "default_weight")]
    pub weight: f32,
    /// Other wordings with the same meaning.
    #[serde(default)]
    pub synonyms: Vec<String>,
    /// Word-form variants that stemming does not cover (irregular forms).
    #[serde(default)]
    pub variants: Vec<String>,
    /// Review state set by coaches.
    #[serde(default)]
    pub status: PhraseStatus,
}

fn default_weight() -> f32 {
    1.0
}

/// Review state of a key phrase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhraseStatus {
    /// Written or approved by a coach; used for scoring.
    #[default]
    Approved,
    /// Extracted automatically and waiting for review; not used for scoring.
    Proposed,
    /// Rejected by a coach; kept so that extraction does not propose it again.
    Rejected,
}

impl Scenario {
    /// Returns the first trigger line in `lang`, if any.
    pub fn trigger(&self, lang: Language) -> Option<&Trigger> {
        self.triggers.iter().find(|t| t.lang == lang)
    }

    /// Returns the strategy with `id`.
    pub fn strategy(&self, id: &str) -> Option<&Strategy> {
        self.strategies.iter().find(|s| s.id == id)
    }
}

impl Strategy {
    /// Returns the key phrases in `lang` that count for scoring.
    pub fn scoring_phrases(&self, lang: Language) -> impl Iterator<Item = &KeyPhrase> {
        self.key_phrases
            .iter()
            .filter(move |p| p.lang == lang && p.status == PhraseStatus::Approved)
    }

    /// Returns the example answer in `lang`, if any.
    pub fn example(&self, lang: Language) -> Option<&Example> {
        self.examples.iter().find(|e| e.lang == lang)
    }
}
