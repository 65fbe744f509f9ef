//! Coach review: overrides of a phrase match or an overall score, and the
//! effective result that applies them.
//!
//! Overrides live in [`crate::store::overrides`], which never changes the
//! scorer's result and keeps every override in the history. The effective
//! result is the original [`DrillScore`] with the latest override of each
//! phrase and of the overall score applied: a phrase override changes the
//! phrase's credit, its strategy's coverage, the best strategy and the
//! overall score computed from them, and an overall-score override then
//! replaces the overall score.
//!
//! A phrase is named `STRATEGY/PHRASE`, the strategy id and the canonical
//! phrase text, as [`phrase_id`] builds it. Call exchanges add a prefix,
//! see [`crate::call`].

use serde::Serialize;

use crate::scoring::{overall_score, DrillScore, PhraseMatch};
use crate::store::drills::DrillAttempt;
use crate::store::overrides::{EffectiveOverrides, NewOverride, Override, OverrideChange};
use crate::store::users::Role;
use crate::store::{DrillAttemptId, RecordKind, Store, UserId};

/// Errors of coach review.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The phrase id names no phrase of the scored result.
    #[error("phrase {phrase_id:?} is not in the result: expected one of {valid}")]
    UnknownPhrase {
        /// The requested phrase id.
        phrase_id: String,
        /// Every phrase id of the result, comma-separated.
        valid: String,
    },
    /// The user may not review scores.
    #[error("user {user} has role {role}: only a coach, manager or admin may override scores")]
    NotACoach {
        /// The user.
        user: String,
        /// The user's role.
        role: String,
    },
    /// The attempt or call has no scoring result yet.
    #[error("{kind} {id} has no scoring result to review yet")]
    NotScored {
        /// Drill or call.
        kind: RecordKind,
        /// Its id.
        id: String,
    },
    /// The stored result is not a valid scoring result.
    #[error("stored result of {kind} {id} cannot be read: {detail}")]
    InvalidResult {
        /// Drill or call.
        kind: RecordKind,
        /// Its id.
        id: String,
        /// What failed.
        detail: String,
    },
    /// The store failed or rejected a value.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
}

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One override as applied to a result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppliedOverride {
    /// The override, with its comment, coach and time.
    #[serde(flatten)]
    pub entry: Override,
    /// The scorer's value: 0 or 1 for a phrase match, the overall score otherwise.
    pub original: f64,
}

/// A result with the latest overrides applied, next to the original.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reviewed {
    /// The scorer's result, unchanged.
    pub original: DrillScore,
    /// The result with the latest overrides applied.
    pub effective: DrillScore,
    /// The latest override of each field that changed the result.
    pub applied: Vec<AppliedOverride>,
}

/// A drill attempt's review: effective result and full override history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttemptReview {
    /// The attempt id.
    pub attempt_id: DrillAttemptId,
    /// Original and effective results.
    #[serde(flatten)]
    pub reviewed: Reviewed,
    /// Every override, oldest first.
    pub history: Vec<Override>,
}

/// Returns the id of a phrase of a strategy, `STRATEGY/PHRASE`.
pub fn phrase_id(strategy_id: &str, phrase: &str) -> String {
    format!("{strategy_id}/{phrase}")
}

/// Returns every phrase id of a result, in result order.
pub fn phrase_ids(score: &DrillScore) -> Vec<String> {
    score
        .coverage
        .strategies
        .iter()
        .flat_map(|s| {
            s.phrases
                .iter()
                .map(|p| phrase_id(&s.strategy_id, &p.phrase))
        })
        .collect()
}

/// Applies the latest overrides to a result. Phrase overrides whose id
/// starts with `prefix` apply, with the prefix removed; pass `""` for a
/// drill attempt.
pub fn apply_overrides(
    original: &DrillScore,
    overrides: &EffectiveOverrides,
    prefix: &str,
) -> Reviewed {
    let mut effective = original.clone();
    let mut applied = Vec::new();
    for (id, entry) in &overrides.phrases {
        let Some(local) = id.strip_prefix(prefix) else {
            continue;
        };
        let OverrideChange::PhraseMatch { matched, .. } = entry.change else {
            continue;
        };
        if let Some(phrase) = find_phrase(&mut effective, local) {
            let was = if phrase.matched { 1.0 } else { 0.0 };
            set_match(phrase, matched);
            applied.push(AppliedOverride {
                entry: entry.clone(),
                original: was,
            });
        }
    }
    recompute(&mut effective);
    if let Some(entry) = &overrides.overall_score {
        if let OverrideChange::OverallScore { score } = entry.change {
            applied.push(AppliedOverride {
                entry: entry.clone(),
                original: original.overall.score,
            });
            effective.overall.score = score.value();
        }
    }
    Reviewed {
        original: original.clone(),
        effective,
        applied,
    }
}

fn find_phrase<'a>(score: &'a mut DrillScore, local_id: &str) -> Option<&'a mut PhraseMatch> {
    let (strategy, phrase) = local_id.split_once('/')?;
    let coverage = score
        .coverage
        .strategies
        .iter_mut()
        .find(|s| s.strategy_id == strategy)?;
    coverage.phrases.iter_mut().find(|p| p.phrase == phrase)
}

fn set_match(phrase: &mut PhraseMatch, matched: bool) {
    if matched && !phrase.matched {
        phrase.credit = 1.0;
    }
    if !matched {
        phrase.credit = 0.0;
    }
    phrase.matched = matched;
}

/// Recomputes coverage, best strategy, missed phrases and overall score
/// from the phrase credits. The feedback example stays that of the
/// scorer's best strategy.
fn recompute(score: &mut DrillScore) {
    let factor = score.coverage.stuffing.factor;
    for strategy in &mut score.coverage.strategies {
        let total: f64 = strategy.phrases.iter().map(|p| f64::from(p.weight)).sum();
        let earned: f64 = strategy
            .phrases
            .iter()
            .map(|p| f64::from(p.weight) * p.credit)
            .sum();
        strategy.coverage = if total > 0.0 { earned / total } else { 0.0 };
        strategy.adjusted_coverage = strategy.coverage * factor;
    }
    let mut best: Option<&crate::scoring::StrategyCoverage> = None;
    for strategy in &score.coverage.strategies {
        if best.is_none_or(|b| strategy.coverage > b.coverage) {
            best = Some(strategy);
        }
    }
    if let Some(best) = best {
        score.coverage.best_strategy_id = best.strategy_id.clone();
        score.coverage.best_coverage = best.adjusted_coverage;
        score.feedback.strategy_id = best.strategy_id.clone();
        score.feedback.missed = best
            .phrases
            .iter()
            .filter(|p| !p.matched)
            .map(|p| crate::scoring::feedback::MissedPhrase {
                phrase: p.phrase.clone(),
                weight: p.weight,
            })
            .collect();
    }
    score.overall = overall_score(
        score.coverage.best_coverage,
        score.latency.score,
        score.delivery.score,
    );
}

/// Checks that `coach` may review scores.
///
/// # Errors
///
/// [`Error::NotACoach`] for a rep, and store errors for an unknown user.
pub async fn check_coach(store: &Store, coach: &UserId) -> Result<()> {
    let user = store.user(coach).await?;
    if user.role == Role::Rep {
        return Err(Error::NotACoach {
            user: coach.to_string(),
            role: user.role.as_str().to_string(),
        });
    }
    Ok(())
}

/// Returns the stored result of a drill attempt.
///
/// # Errors
///
/// [`Error::NotScored`] before scoring, [`Error::InvalidResult`] for a
/// result that is not a [`DrillScore`], and store errors.
pub async fn attempt_score(
    store: &Store,
    id: &DrillAttemptId,
) -> Result<(DrillAttempt, DrillScore)> {
    let attempt = store.drill_attempt(id).await?;
    let value = attempt.result.clone().ok_or_else(|| Error::NotScored {
        kind: RecordKind::Drill,
        id: id.to_string(),
    })?;
    let score = serde_json::from_value(value).map_err(|err| Error::InvalidResult {
        kind: RecordKind::Drill,
        id: id.to_string(),
        detail: err.to_string(),
    })?;
    Ok((attempt, score))
}

/// Adds a coach's override to a drill attempt and returns the new review.
///
/// # Errors
///
/// [`Error::NotACoach`], [`Error::UnknownPhrase`] for a phrase id that is
/// not in the attempt's result (the message lists the valid ids), and
/// store errors such as an empty comment.
pub async fn override_attempt(
    store: &Store,
    id: &DrillAttemptId,
    change: OverrideChange,
    comment: &str,
    coach: &UserId,
) -> Result<AttemptReview> {
    check_coach(store, coach).await?;
    let (_, score) = attempt_score(store, id).await?;
    if let OverrideChange::PhraseMatch { phrase_id, .. } = &change {
        check_phrase(&phrase_ids(&score), phrase_id)?;
    }
    let new = NewOverride {
        target_kind: RecordKind::Drill,
        target_id: id.to_string(),
        change,
        comment: comment.to_string(),
        coach_id: coach.clone(),
    };
    let entry = store.add_override(&new).await?;
    tracing::info!(attempt = %id, coach = %coach, seq = entry.seq, "score override added");
    review_attempt(store, id).await
}

/// Returns a drill attempt's original and effective results and history.
///
/// # Errors
///
/// As [`attempt_score`].
pub async fn review_attempt(store: &Store, id: &DrillAttemptId) -> Result<AttemptReview> {
    let (_, score) = attempt_score(store, id).await?;
    let effective = store
        .effective_overrides(RecordKind::Drill, id.as_str())
        .await?;
    let history = store
        .override_history(RecordKind::Drill, id.as_str())
        .await?;
    Ok(AttemptReview {
        attempt_id: id.clone(),
        reviewed: apply_overrides(&score, &effective, ""),
        history,
    })
}

/// Checks that `phrase_id` is one of `valid`.
///
/// # Errors
///
/// [`Error::UnknownPhrase`] listing the valid ids.
pub fn check_phrase(valid: &[String], phrase_id: &str) -> Result<()> {
    if valid.iter().any(|v| v == phrase_id) {
        return Ok(());
    }
    Err(Error::UnknownPhrase {
        phrase_id: phrase_id.to_string(),
        valid: valid.join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::Corpus;
    use crate::scoring::{score_answer, ScoreOptions};
    use crate::store::{OverrideId, Score};
    use crate::transcribe::{Segment, Transcript, Word};

    fn transcript(text: &str) -> Transcript {
        let words: Vec<Word> = text
            .split_whitespace()
            .zip(0u64..)
            .map(|(w, i)| Word {
                start_ms: 1000 + i * 300,
                end_ms: 1250 + i * 300,
                text: format!(" {w}"),
                probability: 0.9,
            })
            .collect();
        let end_ms = words.last().map_or(0, |w| w.end_ms);
        Transcript {
            language: "en".into(),
            duration_ms: end_ms + 500,
            no_speech: false,
            text: text.into(),
            segments: vec![Segment {
                start_ms: 1000,
                end_ms,
                text: text.into(),
                words,
            }],
        }
    }

    fn scored() -> DrillScore {
        let corpus = Corpus::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"))
            .expect("bundled corpus loads");
        let scenario = corpus
            .scenario("price_too_expensive")
            .expect("scenario exists");
        let text = "I hear you. Let us look at the total cost of ownership over three years \
                    and see what your current process costs today.";
        score_answer(scenario, &transcript(text), &[], &ScoreOptions::default())
            .expect("answer scores")
    }

    fn entry(change: OverrideChange, seq: u32) -> Override {
        Override {
            id: OverrideId::generate(),
            target_kind: RecordKind::Drill,
            target_id: "drill_x".into(),
            change,
            comment: "checked the recording".into(),
            coach_id: UserId::generate(),
            created_at: crate::store::now(),
            seq,
        }
    }

    #[test]
    fn phrase_override_raises_coverage() {
        let original = scored();
        let id = phrase_id("total_cost", "would the price still be");
        let mut overrides = EffectiveOverrides::default();
        overrides.phrases.insert(
            id.clone(),
            entry(
                OverrideChange::PhraseMatch {
                    phrase_id: id,
                    matched: true,
                },
                1,
            ),
        );

        let reviewed = apply_overrides(&original, &overrides, "");

        assert!(reviewed.effective.overall.score > original.overall.score);
        assert_eq!(reviewed.applied.len(), 1);
        assert_eq!(reviewed.original, original);
    }

    #[test]
    fn overall_override_replaces_score() {
        let original = scored();
        let score = Score::new(42.0).expect("valid score");
        let overrides = EffectiveOverrides {
            overall_score: Some(entry(OverrideChange::OverallScore { score }, 2)),
            ..EffectiveOverrides::default()
        };

        let reviewed = apply_overrides(&original, &overrides, "");

        assert!((reviewed.effective.overall.score - 42.0).abs() < 1e-9);
        assert!((reviewed.applied[0].original - original.overall.score).abs() < 1e-9);
    }

    #[test]
    fn unmatch_override_drops_credit() {
        let original = scored();
        let id = phrase_id("total_cost", "total cost of ownership");
        let mut overrides = EffectiveOverrides::default();
        overrides.phrases.insert(
            id.clone(),
            entry(
                OverrideChange::PhraseMatch {
                    phrase_id: id,
                    matched: false,
                },
                1,
            ),
        );

        let reviewed = apply_overrides(&original, &overrides, "");

        assert!(reviewed.effective.coverage.best_coverage < original.coverage.best_coverage);
        assert!(reviewed
            .effective
            .feedback
            .missed
            .iter()
            .any(|m| m.phrase == "total cost of ownership"));
    }

    #[test]
    fn unknown_phrase_lists_valid_ids() {
        let err = check_phrase(&["a/b".to_string()], "a/c").unwrap_err();

        assert!(err.to_string().contains("a/b"));
    }
}
