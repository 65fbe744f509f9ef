//! Re-evaluation of one rep against the stored records: loads the rep's
//! permissions, checkpoint statuses and score samples, runs [`evaluate`]
//! and writes each grant or revocation through the store with its audit
//! entry.
//!
//! The audit reason of an engine change is the [`AuditEntry`] as JSON, so
//! the rule, the rule-set version, the actor and the evidence stay readable
//! next to the permission ([`decode_audit_reason`]).

use std::collections::BTreeSet;

use time::OffsetDateTime;

use super::{evaluate, Action, Actor, AuditEntry, CheckpointStatus, EngineConfig, Evaluation};
use super::{RepState, RuleSet, Rules, DEFAULT_WINDOW_DAYS};
use crate::heatmap::team::convert_sample;
use crate::store::permissions::PermissionChange;
use crate::store::scores::SampleFilter;
use crate::store::{Store, UserId};

/// Errors of re-evaluating a rep.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store could not be read or written.
    #[error("failed to apply unlock rules to rep {rep}")]
    Store {
        /// Rep being evaluated.
        rep: UserId,
        /// Underlying store error.
        source: crate::store::Error,
    },
    /// The reps to re-evaluate could not be listed.
    #[error("failed to list the reps to re-evaluate")]
    ListReps(#[source] crate::store::Error),
    /// A user actor's id is not a valid user id.
    #[error("invalid actor {0:?}: expected the rules engine or a user id")]
    InvalidActor(String),
}

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Re-evaluates every enabled rep, as after the rules changed, and returns
/// the reps evaluated and the changes applied.
///
/// # Errors
///
/// The first store error; reps evaluated before it keep their changes.
pub async fn reevaluate_all(
    store: &Store,
    rules: &RuleSet,
    actor: &Actor,
    now: OffsetDateTime,
) -> Result<(usize, usize)> {
    let reps = store.active_reps().await.map_err(Error::ListReps)?;
    let mut changes = 0;
    for rep in &reps {
        changes += reevaluate(store, rules, &rep.id, actor, now)
            .await?
            .changes
            .len();
    }
    Ok((reps.len(), changes))
}

/// Re-evaluates the rules in force for `rep` at `now` and stores every
/// grant and revocation with an audit entry by `actor`.
///
/// Each change is its own store transaction (permission row and audit
/// entry together). A change that the store finds already applied, for
/// example by a concurrent evaluation, writes nothing and is left out of
/// the returned [`Evaluation::changes`], so running it twice is harmless.
pub async fn reevaluate(
    store: &Store,
    rules: &RuleSet,
    rep: &UserId,
    actor: &Actor,
    now: OffsetDateTime,
) -> Result<Evaluation> {
    let store_error = |source| Error::Store {
        rep: rep.clone(),
        source,
    };
    let rules = rules.current();
    let stored_actor = actor_id(actor)?;
    let input = load_input(store, &rules, rep, now)
        .await
        .map_err(store_error)?;
    let state = RepState {
        rep_id: rep.as_str(),
        permissions: &input.permissions,
        checkpoints: &input.checkpoints,
        samples: &input.samples,
    };

    let mut evaluation = evaluate(&rules, &state, now, &EngineConfig::default());

    let mut applied = Vec::with_capacity(evaluation.changes.len());
    for mut entry in std::mem::take(&mut evaluation.changes) {
        entry.actor = actor.clone();
        let changed = apply_change(store, rep, &entry, stored_actor.as_ref())
            .await
            .map_err(store_error)?;
        if changed {
            applied.push(entry);
        }
    }
    evaluation.changes = applied;
    Ok(evaluation)
}

/// Decodes the audit reason of an engine change; `None` for a reason in
/// words, such as that of a manual change.
pub fn decode_audit_reason(reason: &str) -> Option<AuditEntry> {
    serde_json::from_str(reason).ok()
}

/// Returns the longest score window of any rule, in days.
pub fn max_window_days(rules: &Rules) -> u32 {
    rules
        .rules
        .iter()
        .flat_map(|rule| rule.min_scores.iter().map(|score| score.window_days))
        .max()
        .unwrap_or(DEFAULT_WINDOW_DAYS)
}

struct Input {
    permissions: BTreeSet<String>,
    checkpoints: Vec<CheckpointStatus>,
    samples: Vec<crate::heatmap::ScoreSample>,
}

async fn load_input(
    store: &Store,
    rules: &Rules,
    rep: &UserId,
    now: OffsetDateTime,
) -> crate::store::Result<Input> {
    let permissions = store.user_permissions(rep).await?;
    let checkpoints = store.checkpoint_statuses(rep).await?;
    let filter = SampleFilter {
        rep_id: Some(rep.clone()),
        team_id: None,
        from: now - time::Duration::days(i64::from(max_window_days(rules))),
        to: now,
    };
    let samples = store.score_samples(&filter).await?;

    Ok(Input {
        permissions: permissions.into_iter().map(|p| p.permission).collect(),
        checkpoints: checkpoints
            .into_iter()
            .map(|status| CheckpointStatus {
                checkpoint_id: status.checkpoint_id,
                passed: status.passed,
                calls: status
                    .counted_calls
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            })
            .collect(),
        samples: samples.into_iter().map(convert_sample).collect(),
    })
}

async fn apply_change(
    store: &Store,
    rep: &UserId,
    entry: &AuditEntry,
    actor: Option<&UserId>,
) -> crate::store::Result<bool> {
    let change = PermissionChange {
        user_id: rep.clone(),
        permission: entry.permission.clone(),
        rule_id: entry.rule_permission.clone(),
        actor_id: actor.cloned(),
        // Serialising these plain data types cannot fail.
        reason: serde_json::to_string(entry).unwrap_or_default(),
    };
    let changed = match entry.action {
        Action::Grant => store.grant_permission(&change).await?,
        Action::Revoke => store.revoke_permission(&change).await?,
    };
    if changed {
        tracing::info!(
            rep = %rep,
            permission = %entry.permission,
            action = ?entry.action,
            rule_set_version = entry.rule_set_version,
            "permission changed by unlock rules"
        );
    }
    Ok(changed)
}

fn actor_id(actor: &Actor) -> Result<Option<UserId>> {
    match actor {
        Actor::RulesEngine => Ok(None),
        Actor::User(id) => UserId::parse(id)
            .map(Some)
            .map_err(|_| Error::InvalidActor(id.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heatmap::DimensionSet;
    use std::path::Path;

    #[test]
    fn engine_reason_round_trips() {
        let entry = AuditEntry {
            rep_id: "usr_1".into(),
            permission: "large_account_quote".into(),
            action: Action::Grant,
            at: time::macros::datetime!(2025-04-01 00:00 UTC),
            rule_permission: Some("large_account_quote".into()),
            rule_set_version: Some(1),
            actor: Actor::RulesEngine,
            evidence: Vec::new(),
        };

        let reason = serde_json::to_string(&entry).expect("serialise entry");

        assert_eq!(decode_audit_reason(&reason), Some(entry));
    }

    #[test]
    fn manual_reason_is_not_decoded() {
        assert_eq!(decode_audit_reason("promoted after review"), None);
    }

    #[test]
    fn max_window_covers_every_rule() {
        let dimensions = DimensionSet::default();
        let text = "version = 1\n[[rule]]\npermission = \"a\"\n\
            [[rule.min_score]]\ndimension = \"closing\"\nat_least = 50\nwindow_days = 90\n\
            [[rule]]\npermission = \"b\"\n\
            [[rule.min_score]]\ndimension = \"closing\"\nat_least = 50\n";

        let rules = Rules::parse(text, Path::new("unlock.toml"), &dimensions).expect("valid");

        assert_eq!(max_window_days(&rules), 90);
    }
}
