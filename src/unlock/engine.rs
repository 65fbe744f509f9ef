//! Evaluation of unlock rules for one rep: requirement statuses, grants and
//! revocations against the rep's current permissions, and audit entries.
//!
//! A permission is granted when every requirement is met and revoked when
//! any requirement is not met, for example when a score drops below its
//! threshold. A score with fewer samples than the minimum is unknown: it
//! neither grants nor revokes, so a quiet month keeps the current state.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Error, Result, Rule, Rules};
use crate::heatmap::{mean_score, SampleWeights, ScoreSample, Window};

/// Actor string of changes that the engine makes.
pub const RULES_ENGINE_ACTOR: &str = "rules engine";

/// Outcome of one checkpoint or score against a rep's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointStatus {
    /// Checkpoint id.
    pub checkpoint_id: String,
    /// Whether the rep has passed it.
    pub passed: bool,
    /// Calls that gave the evidence.
    #[serde(default)]
    pub calls: Vec<String>,
}

/// Settings of score requirements.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EngineConfig {
    /// Minimum number of samples for a known score (default 3, as in heatmaps).
    pub min_samples: usize,
    /// Weights of drill and call samples.
    pub weights: SampleWeights,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            min_samples: 3,
            weights: SampleWeights::default(),
        }
    }
}

/// Input state of one rep for evaluation.
#[derive(Debug, Clone, Copy)]
pub struct RepState<'a> {
    /// Rep id.
    pub rep_id: &'a str,
    /// Permissions the rep has now, granted by any actor.
    pub permissions: &'a BTreeSet<String>,
    /// Latest status of each checkpoint; a missing checkpoint is not passed.
    pub checkpoints: &'a [CheckpointStatus],
    /// Score samples; the engine picks the rep's own within each window.
    pub samples: &'a [ScoreSample],
}

/// Whether one requirement holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequirementStatus {
    /// The requirement holds.
    Met,
    /// The requirement fails.
    NotMet,
    /// Too few samples to decide.
    Unknown,
}

/// One requirement with the values it was judged on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// A required checkpoint.
    Checkpoint {
        /// Checkpoint id.
        checkpoint_id: String,
        /// Whether it was passed; `false` when no status was given.
        passed: bool,
        /// Calls behind the status.
        calls: Vec<String>,
        /// Met when passed.
        status: RequirementStatus,
    },
    /// A minimum score.
    Score {
        /// Dimension id.
        dimension: String,
        /// Weighted mean over the window, when any sample exists.
        mean: Option<f64>,
        /// Samples in the window.
        samples: usize,
        /// Threshold of the rule.
        at_least: f64,
        /// Window of the rule in days.
        window_days: u32,
        /// Met, not met, or unknown for too few samples.
        status: RequirementStatus,
    },
    /// A note by the user who changed a permission by hand.
    Note {
        /// The note.
        text: String,
    },
}

/// Result of one rule for the rep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Every requirement is met.
    Granted,
    /// At least one requirement is not met.
    Denied,
    /// None fails but some are unknown; the current state stays.
    Undetermined,
}

/// One rule evaluated for the rep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PermissionEvaluation {
    /// Permission of the rule.
    pub permission: String,
    /// Description of the rule.
    pub description: Option<String>,
    /// Granted, denied or undetermined.
    pub decision: Decision,
    /// Whether the rep has the permission after this evaluation.
    pub held: bool,
    /// Every requirement with its values.
    pub evidence: Vec<Evidence>,
}

/// Grant or revoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The permission was given.
    Grant,
    /// The permission was taken away.
    Revoke,
}

/// Actor of a permission change: the engine or a user.
///
/// Serialises as the string `"rules engine"` or as the user id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Actor {
    /// The rules engine.
    RulesEngine,
    /// A user, by id.
    User(String),
}

impl Actor {
    /// Builds a user actor, rejecting empty ids and the engine's own name.
    pub fn user(id: &str) -> Result<Actor> {
        if id.trim().is_empty() || id == RULES_ENGINE_ACTOR {
            return Err(Error::InvalidActor(id.to_string()));
        }
        Ok(Actor::User(id.to_string()))
    }
}

impl From<Actor> for String {
    fn from(actor: Actor) -> String {
        match actor {
            Actor::RulesEngine => RULES_ENGINE_ACTOR.to_string(),
            Actor::User(id) => id,
        }
    }
}

impl TryFrom<String> for Actor {
    type Error = Error;

    fn try_from(value: String) -> Result<Actor> {
        if value == RULES_ENGINE_ACTOR {
            return Ok(Actor::RulesEngine);
        }
        Actor::user(&value)
    }
}

/// One permission change, as stored in the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Rep whose permission changed.
    pub rep_id: String,
    /// Permission that changed.
    pub permission: String,
    /// Grant or revoke.
    pub action: Action,
    /// Time of the change.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Permission of the rule that decided, `None` for manual changes.
    pub rule_permission: Option<String>,
    /// Version of the rule set in force.
    pub rule_set_version: Option<u32>,
    /// Engine or user.
    pub actor: Actor,
    /// Requirements and values behind the change.
    pub evidence: Vec<Evidence>,
}

/// Every rule evaluated for one rep, with the resulting changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Rep id.
    pub rep_id: String,
    /// Evaluation time; score windows end here.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Version of the rules used.
    pub rule_set_version: u32,
    /// One entry per rule, in file order.
    pub permissions: Vec<PermissionEvaluation>,
    /// Permissions held after the changes, including ones no rule manages.
    pub held_after: BTreeSet<String>,
    /// Grants and revocations, one audit entry each.
    pub changes: Vec<AuditEntry>,
}

impl Evaluation {
    /// Returns the permissions that this evaluation granted.
    pub fn grants(&self) -> impl Iterator<Item = &str> {
        self.changes_of(Action::Grant)
    }

    /// Returns the permissions that this evaluation revoked.
    pub fn revocations(&self) -> impl Iterator<Item = &str> {
        self.changes_of(Action::Revoke)
    }

    fn changes_of(&self, action: Action) -> impl Iterator<Item = &str> {
        self.changes
            .iter()
            .filter(move |c| c.action == action)
            .map(|c| c.permission.as_str())
    }
}

/// Evaluates every rule for a rep at time `now`.
///
/// Permissions that no rule names are left as they are, so manual grants
/// survive evaluation.
///
/// NOTE: a manual grant of a permission that a rule names is revoked at
/// the rep's next evaluation while the rule's requirements do not hold.
pub fn evaluate(
    rules: &Rules,
    rep: &RepState<'_>,
    now: OffsetDateTime,
    config: &EngineConfig,
) -> Evaluation {
    let mut held = rep.permissions.clone();
    let mut permissions = Vec::with_capacity(rules.rules.len());
    let mut changes = Vec::new();
    for rule in &rules.rules {
        let evidence = collect_evidence(rule, rep, now, config);
        let decision = decide(&evidence);
        let was_held = held.contains(&rule.permission);
        let action = match decision {
            Decision::Granted if !was_held => Some(Action::Grant),
            Decision::Denied if was_held => Some(Action::Revoke),
            _ => None,
        };
        if let Some(action) = action {
            apply(&mut held, &rule.permission, action);
            tracing::debug!(
                rep = rep.rep_id,
                permission = %rule.permission,
                ?action,
                "permission changed by rules"
            );
            changes.push(AuditEntry {
                rep_id: rep.rep_id.to_string(),
                permission: rule.permission.clone(),
                action,
                at: now,
                rule_permission: Some(rule.permission.clone()),
                rule_set_version: Some(rules.version),
                actor: Actor::RulesEngine,
                evidence: evidence.clone(),
            });
        }
        permissions.push(PermissionEvaluation {
            permission: rule.permission.clone(),
            description: rule.description.clone(),
            decision,
            held: held.contains(&rule.permission),
            evidence,
        });
    }
    Evaluation {
        rep_id: rep.rep_id.to_string(),
        at: now,
        rule_set_version: rules.version,
        permissions,
        held_after: held,
        changes,
    }
}

fn apply(held: &mut BTreeSet<String>, permission: &str, action: Action) {
    match action {
        Action::Grant => held.insert(permission.to_string()),
        Action::Revoke => held.remove(permission),
    };
}

fn collect_evidence(
    rule: &Rule,
    rep: &RepState<'_>,
    now: OffsetDateTime,
    config: &EngineConfig,
) -> Vec<Evidence> {
    let mut evidence = Vec::with_capacity(rule.requires_checkpoints.len() + rule.min_scores.len());
    for checkpoint_id in &rule.requires_checkpoints {
        let found = rep
            .checkpoints
            .iter()
            .find(|c| &c.checkpoint_id == checkpoint_id);
        let passed = found.is_some_and(|c| c.passed);
        evidence.push(Evidence::Checkpoint {
            checkpoint_id: checkpoint_id.clone(),
            passed,
            calls: found.map(|c| c.calls.clone()).unwrap_or_default(),
            status: if passed {
                RequirementStatus::Met
            } else {
                RequirementStatus::NotMet
            },
        });
    }
    for min in &rule.min_scores {
        let window = Window::ending_at(now, min.window_days);
        let acc = mean_score(
            rep.samples,
            rep.rep_id,
            &min.dimension,
            &window,
            &config.weights,
            |_| true,
        );
        let status = match acc.mean() {
            Some(_) if acc.samples < config.min_samples => RequirementStatus::Unknown,
            Some(mean) if mean >= min.at_least => RequirementStatus::Met,
            Some(_) => RequirementStatus::NotMet,
            None => RequirementStatus::Unknown,
        };
        evidence.push(Evidence::Score {
            dimension: min.dimension.clone(),
            mean: acc.mean(),
            samples: acc.samples,
            at_least: min.at_least,
            window_days: min.window_days,
            status,
        });
    }
    evidence
}

fn decide(evidence: &[Evidence]) -> Decision {
    let statuses = evidence.iter().filter_map(|e| match e {
        Evidence::Checkpoint { status, .. } | Evidence::Score { status, .. } => Some(*status),
        Evidence::Note { .. } => None,
    });
    let mut decision = Decision::Granted;
    for status in statuses {
        match status {
            RequirementStatus::NotMet => return Decision::Denied,
            RequirementStatus::Unknown => decision = Decision::Undetermined,
            RequirementStatus::Met => {}
        }
    }
    decision
}

/// Builds the audit entry of a permission that a user granted or revoked.
pub fn record_manual_change(
    rep_id: &str,
    permission: &str,
    action: Action,
    user_id: &str,
    note: &str,
    at: OffsetDateTime,
) -> Result<AuditEntry> {
    let actor = Actor::user(user_id)?;
    let evidence = if note.trim().is_empty() {
        Vec::new()
    } else {
        vec![Evidence::Note {
            text: note.to_string(),
        }]
    };
    Ok(AuditEntry {
        rep_id: rep_id.to_string(),
        permission: permission.to_string(),
        action,
        at,
        rule_permission: None,
        rule_set_version: None,
        actor,
        evidence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_serialises_as_plain_string() {
        let json = serde_json::to_string(&Actor::RulesEngine).expect("serialises");

        assert_eq!(json, "\"rules engine\"");
        assert_eq!(
            serde_json::from_str::<Actor>("\"coach-7\"").expect("parses"),
            Actor::User("coach-7".into())
        );
    }

    #[test]
    fn empty_user_id_is_rejected() {
        let at = time::macros::datetime!(2025-04-01 00:00 UTC);

        let err = record_manual_change("r1", "p", Action::Grant, " ", "", at).unwrap_err();

        assert!(matches!(err, Error::InvalidActor(_)));
    }

    #[test]
    fn unknown_requirement_keeps_decision_open() {
        let evidence = [
            Evidence::Checkpoint {
                checkpoint_id: "a".into(),
                passed: true,
                calls: vec![],
                status: RequirementStatus::Met,
            },
            Evidence::Score {
                dimension: "closing".into(),
                mean: Some(90.0),
                samples: 1,
                at_least: 70.0,
                window_days: 30,
                status: RequirementStatus::Unknown,
            },
        ];

        assert_eq!(decide(&evidence), Decision::Undetermined);
        assert_eq!(decide(&evidence[..1]), Decision::Granted);
    }
}
