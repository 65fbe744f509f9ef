//! Checkpoints: a rep passes one with N authorized real calls whose answers
//! in the checkpoint's scenarios meet its thresholds.
//!
//! Definitions come from a TOML file (`config/checkpoints.toml`). A call
//! counts when at least one scored answer in the checkpoint's scenarios
//! reaches the minimum overall score and coverage and, when required, has
//! its latency inside the scenario's band. Scores are the effective ones:
//! the analysis with the latest coach overrides applied. [`evaluate`] is
//! pure; [`rep_status`] reads the rep's calls and saves each status.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::call::{CallAnalysis, Exchange};
use crate::coach::apply_overrides;
use crate::knowledge::Corpus;
use crate::scoring::LatencyClass;
use crate::store::checkpoints::CheckpointEvaluation;
use crate::store::overrides::{EffectiveOverrides, OverrideChange};
use crate::store::{CallId, RecordKind, Store, UserId};

/// Qualifying calls a checkpoint needs when its definition gives none.
pub const DEFAULT_REQUIRED_CALLS: u32 = 3;

/// Errors of checkpoint definitions and evaluation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The definitions file could not be read.
    #[error("failed to read checkpoint definitions {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The definitions file is not valid TOML of the expected shape.
    #[error("invalid checkpoint definitions {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A definition breaks a rule.
    #[error("invalid checkpoint {id:?} in {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Checkpoint id.
        id: String,
        /// What is wrong and what to write instead.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
}

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Thresholds that a call's answer must meet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Minimum overall score, 0 to 100.
    pub min_overall: f64,
    /// Minimum adjusted coverage of the best strategy, 0 to 1.
    pub min_coverage: f64,
    /// Whether the response latency must lie inside the scenario's band.
    #[serde(default)]
    pub latency_in_band: bool,
}

/// One checkpoint definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Stable id, referenced by unlock rules.
    pub id: String,
    /// Skill the checkpoint certifies.
    #[serde(default)]
    pub description: String,
    /// Scenario ids whose answers count.
    pub scenarios: Vec<String>,
    /// Thresholds a counted answer must reach.
    pub thresholds: Thresholds,
    /// Qualifying calls needed to pass.
    #[serde(default = "default_required")]
    pub required_calls: u32,
}

fn default_required() -> u32 {
    DEFAULT_REQUIRED_CALLS
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DefinitionsFile {
    checkpoint: Vec<Checkpoint>,
}

/// Reads and checks a definitions file; with `corpus`, every scenario id
/// must exist in it.
///
/// # Errors
///
/// [`Error::Io`], [`Error::Parse`] and [`Error::Invalid`], naming the file.
pub fn load_definitions(path: &Path, corpus: Option<&Corpus>) -> Result<Vec<Checkpoint>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_definitions(&text, path, corpus)
}

/// Parses and checks definitions from TOML text; `path` names the source
/// in errors.
///
/// # Errors
///
/// [`Error::Parse`] and [`Error::Invalid`].
pub fn parse_definitions(
    text: &str,
    path: &Path,
    corpus: Option<&Corpus>,
) -> Result<Vec<Checkpoint>> {
    let file: DefinitionsFile = toml::from_str(text).map_err(|err| Error::Parse {
        path: path.to_path_buf(),
        message: err.message().to_string(),
    })?;
    let mut seen = BTreeSet::new();
    for checkpoint in &file.checkpoint {
        let invalid = |message: String| Error::Invalid {
            path: path.to_path_buf(),
            id: checkpoint.id.clone(),
            message,
        };
        if !seen.insert(checkpoint.id.as_str()) {
            return Err(invalid(
                "the id appears twice: give each checkpoint its own id".into(),
            ));
        }
        check_checkpoint(checkpoint, corpus).map_err(invalid)?;
    }
    Ok(file.checkpoint)
}

fn check_checkpoint(checkpoint: &Checkpoint, corpus: Option<&Corpus>) -> Result<(), String> {
    let id_ok = checkpoint
        .id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if checkpoint.id.is_empty() || !id_ok {
        return Err("expected a snake_case id (a-z, 0-9, _)".into());
    }
    if checkpoint.scenarios.is_empty() {
        return Err("scenarios is empty: list at least one scenario id".into());
    }
    if let Some(missing) = corpus.and_then(|c| {
        checkpoint
            .scenarios
            .iter()
            .find(|s| c.scenario(s).is_none())
    }) {
        return Err(format!(
            "unknown scenario {missing:?}: use an id from the corpus"
        ));
    }
    let t = &checkpoint.thresholds;
    if !(0.0..=100.0).contains(&t.min_overall) {
        return Err(format!("min_overall {}: expected 0 to 100", t.min_overall));
    }
    if !(0.0..=1.0).contains(&t.min_coverage) {
        return Err(format!("min_coverage {}: expected 0 to 1", t.min_coverage));
    }
    if checkpoint.required_calls == 0 {
        return Err("required_calls 0: expected at least 1".into());
    }
    Ok(())
}

/// A stored call as the evaluation reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallEvidence {
    /// Call id.
    pub call_id: CallId,
    /// Whether the call has a consent record.
    pub authorized: bool,
    /// The stored analysis, if the call was analysed and it reads back.
    pub analysis: Option<CallAnalysis>,
    /// The latest overrides of the call.
    pub overrides: EffectiveOverrides,
}

/// A call that counted, with the answer that qualified it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountedCall {
    /// Call id.
    pub call_id: CallId,
    /// Rep turn of the qualifying answer.
    pub turn: usize,
    /// Its scenario.
    pub scenario_id: String,
    /// Its effective overall score.
    pub overall: f64,
    /// Its effective coverage.
    pub coverage: f64,
    /// Its response latency, in milliseconds.
    pub latency_ms: Option<i64>,
}

/// A call that did not count, with every reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectedCall {
    /// Call id.
    pub call_id: CallId,
    /// Why it did not count; for a call with answers in the scenarios,
    /// the reasons of its best answer.
    pub reasons: Vec<String>,
}

/// The status of one checkpoint for one rep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckpointReport {
    /// Checkpoint id.
    pub checkpoint_id: String,
    /// Whether enough calls counted.
    pub passed: bool,
    /// Qualifying calls needed.
    pub required_calls: u32,
    /// Calls that counted.
    pub counted: Vec<CountedCall>,
    /// Calls that did not count.
    pub rejected: Vec<RejectedCall>,
}

/// Evaluates one checkpoint over a rep's calls.
pub fn evaluate(checkpoint: &Checkpoint, calls: &[CallEvidence]) -> CheckpointReport {
    let mut counted = Vec::new();
    let mut rejected = Vec::new();
    for call in calls {
        match judge_call(checkpoint, call) {
            Ok(entry) => counted.push(entry),
            Err(reasons) => rejected.push(RejectedCall {
                call_id: call.call_id.clone(),
                reasons,
            }),
        }
    }
    CheckpointReport {
        checkpoint_id: checkpoint.id.clone(),
        passed: counted.len() >= checkpoint.required_calls as usize,
        required_calls: checkpoint.required_calls,
        counted,
        rejected,
    }
}

fn judge_call(checkpoint: &Checkpoint, call: &CallEvidence) -> Result<CountedCall, Vec<String>> {
    if !call.authorized {
        return Err(vec!["no consent record".into()]);
    }
    let Some(analysis) = &call.analysis else {
        return Err(vec!["not analysed".into()]);
    };
    let mut best: Option<(f64, Vec<String>)> = None;
    for exchange in &analysis.exchanges {
        let Some(answer) = effective_answer(checkpoint, exchange, &call.overrides) else {
            continue;
        };
        let reasons = shortfalls(&checkpoint.thresholds, &answer);
        if reasons.is_empty() {
            return Ok(CountedCall {
                call_id: call.call_id.clone(),
                turn: answer.turn,
                scenario_id: answer.scenario_id,
                overall: answer.overall,
                coverage: answer.coverage,
                latency_ms: answer.latency_ms,
            });
        }
        if best
            .as_ref()
            .is_none_or(|(overall, _)| answer.overall > *overall)
        {
            best = Some((answer.overall, reasons));
        }
    }
    Err(best.map(|(_, reasons)| reasons).unwrap_or_else(|| {
        vec![format!(
            "no scored answer in scenarios {}",
            checkpoint.scenarios.join(", ")
        )]
    }))
}

/// An answer's effective values, as the thresholds compare them.
struct Answer {
    turn: usize,
    scenario_id: String,
    overall: f64,
    coverage: f64,
    latency_ms: Option<i64>,
    class: Option<LatencyClass>,
}

/// Returns the prefix of override phrase ids that belong to one rep turn
/// of a call: `turnN/`, followed by `STRATEGY/PHRASE`.
pub fn turn_prefix(turn: usize) -> String {
    format!("turn{turn}/")
}

fn effective_answer(
    checkpoint: &Checkpoint,
    exchange: &Exchange,
    overrides: &EffectiveOverrides,
) -> Option<Answer> {
    let scenario = exchange.scenario.as_ref()?;
    if !checkpoint.scenarios.contains(&scenario.scenario_id) {
        return None;
    }
    let (score, turn) = (exchange.score.as_ref()?, exchange.rep_turn?);
    let phrase_only = EffectiveOverrides {
        overall_score: None,
        phrases: overrides.phrases.clone(),
    };
    let effective = apply_overrides(score, &phrase_only, &turn_prefix(turn)).effective;
    // A call-wide overall override is the coach's score for every answer.
    let overall = match overrides.overall_score.as_ref().map(|o| &o.change) {
        Some(OverrideChange::OverallScore { score }) => score.value(),
        _ => effective.overall.score,
    };
    Some(Answer {
        turn,
        scenario_id: scenario.scenario_id.clone(),
        overall,
        coverage: effective.coverage.best_coverage,
        latency_ms: effective.latency.latency_ms,
        class: effective.latency.class,
    })
}

fn shortfalls(thresholds: &Thresholds, answer: &Answer) -> Vec<String> {
    let mut reasons = Vec::new();
    let turn = answer.turn;
    if answer.overall < thresholds.min_overall {
        reasons.push(format!(
            "turn {turn} ({}): overall {:.1} below {:.1}",
            answer.scenario_id, answer.overall, thresholds.min_overall
        ));
    }
    if answer.coverage < thresholds.min_coverage {
        reasons.push(format!(
            "turn {turn} ({}): coverage {:.2} below {:.2}",
            answer.scenario_id, answer.coverage, thresholds.min_coverage
        ));
    }
    if thresholds.latency_in_band && answer.class != Some(LatencyClass::InBand) {
        let latency = answer
            .latency_ms
            .map_or_else(|| "unknown".to_string(), |ms| format!("{ms} ms"));
        reasons.push(format!(
            "turn {turn} ({}): latency {latency} outside the band",
            answer.scenario_id
        ));
    }
    reasons
}

/// Evaluates every checkpoint for a rep over all the rep's stored calls,
/// saves each status and returns the reports.
///
/// # Errors
///
/// Store errors, such as an unknown rep.
pub async fn rep_status(
    store: &Store,
    checkpoints: &[Checkpoint],
    rep: &UserId,
) -> Result<Vec<CheckpointReport>> {
    store.user(rep).await?;
    let until = crate::store::now() + time::Duration::days(1);
    let calls = store
        .rep_calls(rep, time::OffsetDateTime::UNIX_EPOCH, until)
        .await?;
    let mut evidence = Vec::with_capacity(calls.len());
    for call in calls {
        let overrides = store
            .effective_overrides(RecordKind::Call, call.id.as_str())
            .await?;
        let analysis = call.analysis.and_then(|value| {
            serde_json::from_value::<CallAnalysis>(value)
                .inspect_err(|err| tracing::warn!(call = %call.id, error = %err, "stored call analysis unreadable"))
                .ok()
        });
        evidence.push(CallEvidence {
            call_id: call.id,
            authorized: !call.consent.note.trim().is_empty(),
            analysis,
            overrides,
        });
    }

    let mut reports = Vec::with_capacity(checkpoints.len());
    for checkpoint in checkpoints {
        let report = evaluate(checkpoint, &evidence);
        let evaluation = CheckpointEvaluation {
            checkpoint_id: report.checkpoint_id.clone(),
            required_calls: report.required_calls,
            counted_calls: report.counted.iter().map(|c| c.call_id.clone()).collect(),
        };
        store.save_checkpoint_status(rep, &evaluation).await?;
        reports.push(report);
    }
    Ok(reports)
}
