//! Key-phrase coverage of every strategy of a scenario, and the choice of
//! the strategy that an answer follows.
//!
//! Coverage is the weighted share of a strategy's scoring phrases (approved
//! phrases in the answer's language) that the answer contains:
//! `sum(weight * credit) / sum(weight)`. The best strategy has the highest
//! coverage, and the earlier strategy wins a tie. Stuffing detection runs
//! over the occurrences of all strategies together, and its factor scales
//! every strategy's `adjusted_coverage`.

use serde::{Deserialize, Serialize};

use super::matcher::{match_phrase, Occurrence, PhraseMatch, PreparedAnswer};
use super::phrase::PreparedPhrase;
use super::stuffing::{detect_stuffing, Stuffing};
use super::token::TimedToken;
use super::{Error, Result};
use crate::knowledge::{Scenario, Strategy};
use crate::language::Language;

/// Reason for a zero coverage that is not the speaker missing phrases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingReason {
    /// The answer has no words.
    EmptyAnswer,
    /// The strategy has no approved key phrases in the answer's language.
    NoPhrasesInLanguage,
}

/// Coverage of one strategy with the result of each of its phrases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyCoverage {
    /// Id of the strategy.
    pub strategy_id: String,
    /// Weighted share of its phrases spoken, 0 to 1.
    pub coverage: f64,
    /// `coverage` times the stuffing factor, 0 to 1.
    pub adjusted_coverage: f64,
    /// One entry per scoring phrase, in corpus order.
    pub phrases: Vec<PhraseMatch>,
    /// Set when no phrase could be matched at all, with the reason.
    pub missing: Option<MissingReason>,
}

/// Coverage of every strategy of a scenario by one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Language whose phrases were matched.
    pub language: Language,
    /// Id of the strategy the answer follows most closely.
    pub best_strategy_id: String,
    /// Adjusted coverage of the best strategy, 0 to 1.
    pub best_coverage: f64,
    /// Every strategy in scenario order.
    pub strategies: Vec<StrategyCoverage>,
    /// Keyword-stuffing measurements.
    pub stuffing: Stuffing,
    /// Set when the answer is empty.
    pub missing: Option<MissingReason>,
}

impl Coverage {
    /// Returns the coverage entry of the best strategy.
    pub fn best(&self) -> Option<&StrategyCoverage> {
        self.strategies
            .iter()
            .find(|s| s.strategy_id == self.best_strategy_id)
    }
}

/// Measures how well `tokens` cover every strategy of `scenario`, using the
/// phrases in `language`.
///
/// # Errors
///
/// [`Error::NoStrategies`] for a scenario without strategies,
/// [`Error::InvalidPhraseWeight`] for a weight that is not a positive
/// number, and [`Error::EmptyPhrase`] for a phrase form without words.
pub fn measure_coverage(
    scenario: &Scenario,
    tokens: &[TimedToken],
    language: Language,
) -> Result<Coverage> {
    if scenario.strategies.is_empty() {
        return Err(Error::NoStrategies {
            scenario: scenario.id.clone(),
        });
    }
    let answer = PreparedAnswer::new(tokens);
    let mut strategies = Vec::new();
    for strategy in &scenario.strategies {
        let phrases = prepare_phrases(scenario, strategy, language)?;
        strategies.push(cover_strategy(&answer, strategy, &phrases));
    }

    let occurrences: Vec<&Occurrence> = strategies
        .iter()
        .flat_map(|s| &s.phrases)
        .flat_map(|p| &p.all)
        .collect();
    let stuffing = detect_stuffing(tokens, &occurrences);
    for strategy in &mut strategies {
        strategy.adjusted_coverage = strategy.coverage * stuffing.factor;
    }
    let best = pick_best(&strategies);
    Ok(Coverage {
        language,
        best_strategy_id: best.strategy_id.clone(),
        best_coverage: best.adjusted_coverage,
        missing: tokens.is_empty().then_some(MissingReason::EmptyAnswer),
        strategies,
        stuffing,
    })
}

fn prepare_phrases(
    scenario: &Scenario,
    strategy: &Strategy,
    language: Language,
) -> Result<Vec<PreparedPhrase>> {
    let mut prepared = Vec::new();
    for phrase in strategy.scoring_phrases(language) {
        if !(phrase.weight.is_finite() && phrase.weight > 0.0) {
            return Err(Error::InvalidPhraseWeight {
                scenario: scenario.id.clone(),
                strategy: strategy.id.clone(),
                phrase: phrase.text.clone(),
                weight: phrase.weight,
            });
        }
        let ready = PreparedPhrase::new(phrase).map_err(|empty| Error::EmptyPhrase {
            scenario: scenario.id.clone(),
            strategy: strategy.id.clone(),
            phrase: phrase.text.clone(),
            form: empty.0,
        })?;
        prepared.push(ready);
    }
    Ok(prepared)
}

fn cover_strategy(
    answer: &PreparedAnswer<'_>,
    strategy: &Strategy,
    phrases: &[PreparedPhrase],
) -> StrategyCoverage {
    let matches: Vec<PhraseMatch> = phrases.iter().map(|p| match_phrase(answer, p)).collect();
    let total: f64 = matches.iter().map(|m| f64::from(m.weight)).sum();
    let earned: f64 = matches.iter().map(|m| f64::from(m.weight) * m.credit).sum();
    let missing = if phrases.is_empty() {
        Some(MissingReason::NoPhrasesInLanguage)
    } else if answer.tokens().is_empty() {
        Some(MissingReason::EmptyAnswer)
    } else {
        None
    };
    let coverage = if total > 0.0 {
        (earned / total).clamp(0.0, 1.0)
    } else {
        0.0
    };
    StrategyCoverage {
        strategy_id: strategy.id.clone(),
        coverage,
        adjusted_coverage: coverage,
        phrases: matches,
        missing,
    }
}

/// Returns the strategy with the highest raw coverage, the first on ties.
fn pick_best(strategies: &[StrategyCoverage]) -> &StrategyCoverage {
    let mut best = &strategies[0];
    for strategy in &strategies[1..] {
        if strategy.coverage > best.coverage {
            best = strategy;
        }
    }
    best
}
