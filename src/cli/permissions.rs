//! `callcoach permissions`: lists a rep's granted permissions with the
//! evidence of the grant, and with `--evaluate` applies the unlock rules
//! first and prints the changes.

use std::path::PathBuf;

use anyhow::Context;
use serde::Serialize;

use super::drill::{block_on, parse_user, Format};
use crate::heatmap::DimensionSet;
use crate::store::permissions::{AuditEntry as StoredAuditEntry, GrantedPermission};
use crate::store::{Store, UserId};
use crate::unlock::apply::{decode_audit_reason, reevaluate};
use crate::unlock::{Actor, AuditEntry, Evidence, RuleSet};

/// Arguments of `callcoach permissions`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The rep's user id.
    #[arg(long)]
    rep: String,
    /// Applies the unlock rules to the rep before listing.
    #[arg(long)]
    evaluate: bool,
    /// Unlock rule file, read with --evaluate.
    #[arg(long, default_value = "config/unlock.toml")]
    rules: PathBuf,
    /// Dimension list that the rules refer to, read with --evaluate.
    #[arg(long, default_value = "config/dimensions.toml")]
    dimensions: PathBuf,
    /// Data directory.
    #[arg(long, default_value = "data")]
    data: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// A granted permission with the audit entry of its grant.
#[derive(Debug, Serialize)]
struct GrantReport {
    permission: String,
    #[serde(with = "time::serde::rfc3339")]
    granted_at: time::OffsetDateTime,
    rule_id: Option<String>,
    actor_id: Option<String>,
    rule_set_version: Option<u32>,
    /// Requirements and values behind the grant; empty for manual grants.
    evidence: Vec<Evidence>,
    /// Reason of a manual grant.
    reason: Option<String>,
}

/// Output of the command.
#[derive(Debug, Serialize)]
struct Report {
    rep_id: String,
    /// Changes of `--evaluate`, absent without it.
    changes: Option<Vec<AuditEntry>>,
    granted: Vec<GrantReport>,
}

/// Runs `callcoach permissions`.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let rep = parse_user(&args.rep, "--rep")?;
    let rules = if args.evaluate {
        Some(load_rules(args)?)
    } else {
        None
    };

    let report = block_on(&args.data, |store| async move {
        store.user(&rep).await.context("cannot read the rep")?;
        let mut changes = None;
        if let Some(rules) = &rules {
            let now = crate::store::now();
            let evaluation = reevaluate(&store, rules, &rep, &Actor::RulesEngine, now).await?;
            changes = Some(evaluation.changes);
        }
        let granted = granted_with_evidence(&store, &rep).await?;
        Ok(Report {
            rep_id: rep.to_string(),
            changes,
            granted,
        })
    })?;

    match args.format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => print_text(&report),
    }
    Ok(())
}

fn load_rules(args: &Args) -> anyhow::Result<RuleSet> {
    let dimensions = DimensionSet::load(&args.dimensions)
        .with_context(|| format!("cannot load --dimensions {}", args.dimensions.display()))?;
    RuleSet::load(&args.rules, dimensions)
        .with_context(|| format!("cannot load --rules {}", args.rules.display()))
}

async fn granted_with_evidence(store: &Store, rep: &UserId) -> anyhow::Result<Vec<GrantReport>> {
    let granted = store.user_permissions(rep).await?;
    let audit = store.permission_audit(rep).await?;
    Ok(granted
        .into_iter()
        .map(|g| grant_report(g, &audit))
        .collect())
}

fn grant_report(grant: GrantedPermission, audit: &[StoredAuditEntry]) -> GrantReport {
    // The newest grant entry of the permission is the one behind the
    // current row, because a revocation deletes the row.
    let entry = audit.iter().rev().find(|entry| {
        entry.permission == grant.permission
            && entry.action == crate::store::permissions::PermissionAction::Grant
    });
    let decoded = entry.and_then(|e| decode_audit_reason(&e.reason));
    GrantReport {
        rule_set_version: decoded.as_ref().and_then(|d| d.rule_set_version),
        reason: match decoded {
            Some(_) => None,
            None => entry.map(|e| e.reason.clone()),
        },
        evidence: decoded.map(|d| d.evidence).unwrap_or_default(),
        permission: grant.permission,
        granted_at: grant.granted_at,
        rule_id: grant.rule_id,
        actor_id: grant.actor_id.map(|id| id.to_string()),
    }
}

fn print_text(report: &Report) {
    if let Some(changes) = &report.changes {
        outln!("{} change(s) by the unlock rules", changes.len());
        for change in changes {
            outln!("  {:?} {}", change.action, change.permission);
        }
    }
    if report.granted.is_empty() {
        outln!("rep {} holds no permissions", report.rep_id);
    }
    for grant in &report.granted {
        let by = match (&grant.rule_id, &grant.actor_id) {
            (_, Some(actor)) => format!("by {actor}"),
            (Some(rule), None) => format!("by rule {rule}"),
            (None, None) => "by an unrecorded actor".to_string(),
        };
        outln!("{} (granted {} {by})", grant.permission, grant.granted_at);
        grant.evidence.iter().for_each(print_evidence);
        if let Some(reason) = &grant.reason {
            outln!("  reason: {reason}");
        }
    }
}

fn print_evidence(evidence: &Evidence) {
    match evidence {
        Evidence::Checkpoint {
            checkpoint_id,
            passed,
            ..
        } => outln!("  checkpoint {checkpoint_id}: passed {passed}"),
        Evidence::Score {
            dimension,
            mean,
            samples,
            at_least,
            window_days,
            ..
        } => {
            let mean = mean.map_or_else(|| "none".to_string(), |m| format!("{m:.1}"));
            outln!(
                "  {dimension}: mean {mean} over {samples} sample(s) in {window_days} days, \
                 at least {at_least}"
            );
        }
        Evidence::Note { text } => outln!("  note: {text}"),
    }
}
