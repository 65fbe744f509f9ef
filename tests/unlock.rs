//! Unlock rule parsing errors, grants and revocations with audit entries,
//! and reloads that keep the last good rules.

use std::collections::BTreeSet;
use std::path::Path;

use callcoach::heatmap::{DimensionSet, ScoreSample, Source};
use callcoach::unlock::{
    evaluate, Action, Actor, CheckpointStatus, Decision, EngineConfig, Error, Evidence, RepState,
    RequirementStatus, RuleSet, Rules,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2025-04-01 00:00 UTC);

const RULES: &str = r#"version = 3

[[rule]]
permission = "large_account_quote"
description = "Quote large accounts"
requires_checkpoints = ["price_objection"]

[[rule.min_score]]
dimension = "value_statement"
at_least = 75
window_days = 30

[[rule]]
permission = "custom_proposal_approval"
requires_checkpoints = ["price_objection", "multi_stakeholder"]
"#;

fn parse(text: &str) -> Result<Rules, Error> {
    Rules::parse(
        text,
        Path::new("config/unlock.toml"),
        &DimensionSet::default(),
    )
}

fn line_of(err: &Error) -> usize {
    match err {
        Error::InvalidRules { line, .. } => *line,
        other => panic!("expected InvalidRules, got {other}"),
    }
}

fn scores(values: &[f64]) -> Vec<ScoreSample> {
    values
        .iter()
        .enumerate()
        .map(|(i, score)| ScoreSample {
            rep_id: "rep-1".into(),
            scenario_id: "roi_question".into(),
            dimensions: vec!["value_statement".into()],
            source: Source::Call,
            score: *score,
            at: NOW - Duration::days(i as i64 + 1),
            call_id: Some(format!("call-{i}")),
            attempt_id: None,
        })
        .collect()
}

fn passed(id: &str) -> CheckpointStatus {
    CheckpointStatus {
        checkpoint_id: id.into(),
        passed: true,
        calls: vec![format!("call-{id}")],
    }
}

#[test]
fn example_rules_parse() {
    let rules = parse(RULES).expect("valid rules");

    assert_eq!(rules.version, 3);
    assert_eq!(rules.rules.len(), 2);
    assert_eq!(rules.rules[0].min_scores[0].dimension, "value_statement");
}

#[test]
fn syntax_error_names_line() {
    let text = "version = 3\n\n[[rule]]\npermission = \"x\nrequires_checkpoints = [\"a\"]\n";

    let err = parse(text).unwrap_err();

    assert_eq!(line_of(&err), 4, "{err}");
    assert!(
        err.to_string().starts_with("config/unlock.toml:4:"),
        "{err}"
    );
}

#[test]
fn unknown_field_names_line() {
    let text = "version = 3\n[[rule]]\npermission = \"x\"\n\
                requires_checkpoints = [\"a\"]\nmax_score = 3\n";

    let err = parse(text).unwrap_err();

    assert!(err.to_string().contains("max_score"), "{err}");
    assert_eq!(line_of(&err), 5, "{err}");
}

#[test]
fn unknown_dimension_names_line() {
    let text = RULES.replace("\"value_statement\"", "\"charm\"");

    let err = parse(&text).unwrap_err();

    assert_eq!(line_of(&err), 9, "{err}");
    assert!(
        err.to_string().contains("unknown dimension \"charm\""),
        "{err}"
    );
    assert!(
        err.to_string().contains("value_statement"),
        "lists valid ids: {err}"
    );
}

#[test]
fn threshold_out_of_range_names_line() {
    let text = RULES.replace("at_least = 75", "at_least = 120");

    let err = parse(&text).unwrap_err();

    assert_eq!(line_of(&err), 10, "{err}");
    assert!(err.to_string().contains("outside 0-100"), "{err}");
}

#[test]
fn duplicate_permission_names_both_lines() {
    let text = RULES.replace("custom_proposal_approval", "large_account_quote");

    let err = parse(&text).unwrap_err();

    assert_eq!(line_of(&err), 14, "{err}");
    assert!(err.to_string().contains("first defined at line 4"), "{err}");
}

#[test]
fn empty_requirements_names_line() {
    let text = format!("{RULES}\n[[rule]]\npermission = \"nothing_required\"\n");

    let err = parse(&text).unwrap_err();

    assert_eq!(line_of(&err), 18, "{err}");
    assert!(err.to_string().contains("no requirements"), "{err}");
}

#[test]
fn grant_creates_audit_entry() {
    let rules = parse(RULES).expect("valid rules");
    let held = BTreeSet::new();
    let checkpoints = [passed("price_objection")];
    let samples = scores(&[80.0, 82.0, 78.0]);
    let rep = RepState {
        rep_id: "rep-1",
        permissions: &held,
        checkpoints: &checkpoints,
        samples: &samples,
    };

    let evaluation = evaluate(&rules, &rep, NOW, &EngineConfig::default());

    assert_eq!(
        evaluation.grants().collect::<Vec<_>>(),
        ["large_account_quote"]
    );
    assert_eq!(evaluation.revocations().count(), 0);
    let entry = &evaluation.changes[0];
    assert_eq!(entry.action, Action::Grant);
    assert_eq!(entry.actor, Actor::RulesEngine);
    assert_eq!(entry.rule_set_version, Some(3));
    assert_eq!(
        entry.rule_permission.as_deref(),
        Some("large_account_quote")
    );
    assert_eq!(entry.at, NOW);
    let score = entry.evidence.iter().find_map(|e| match e {
        Evidence::Score {
            mean,
            samples,
            status,
            ..
        } => Some((*mean, *samples, *status)),
        _ => None,
    });
    let (mean, samples, status) = score.expect("score evidence");
    assert!((mean.expect("mean") - 80.0).abs() < 1e-9);
    assert_eq!(samples, 3);
    assert_eq!(status, RequirementStatus::Met);
    assert!(entry.evidence.iter().any(
        |e| matches!(e, Evidence::Checkpoint { calls, .. } if calls == &["call-price_objection"])
    ));
    assert!(evaluation.held_after.contains("large_account_quote"));
    let custom = &evaluation.permissions[1];
    assert_eq!(custom.decision, Decision::Denied);
    assert!(!custom.held);
}

#[test]
fn score_drop_revokes_permission() {
    let rules = parse(RULES).expect("valid rules");
    let held: BTreeSet<String> = [
        "large_account_quote".to_string(),
        "manual_extra".to_string(),
    ]
    .into();
    let checkpoints = [passed("price_objection")];
    let samples = scores(&[70.0, 60.0, 74.0]);
    let rep = RepState {
        rep_id: "rep-1",
        permissions: &held,
        checkpoints: &checkpoints,
        samples: &samples,
    };

    let evaluation = evaluate(&rules, &rep, NOW, &EngineConfig::default());

    assert_eq!(
        evaluation.revocations().collect::<Vec<_>>(),
        ["large_account_quote"]
    );
    assert_eq!(evaluation.changes.len(), 1);
    assert_eq!(evaluation.changes[0].action, Action::Revoke);
    assert!(!evaluation.held_after.contains("large_account_quote"));
    assert!(
        evaluation.held_after.contains("manual_extra"),
        "permissions without a rule stay"
    );
    let json = serde_json::to_value(&evaluation.changes[0]).expect("serialises");
    assert_eq!(json["actor"], "rules engine");
    assert_eq!(json["action"], "revoke");
}

#[test]
fn few_samples_neither_grant_nor_revoke() {
    let rules = parse(RULES).expect("valid rules");
    let held: BTreeSet<String> = ["large_account_quote".to_string()].into();
    let checkpoints = [passed("price_objection")];
    let samples = scores(&[10.0]);
    let rep = RepState {
        rep_id: "rep-1",
        permissions: &held,
        checkpoints: &checkpoints,
        samples: &samples,
    };

    let evaluation = evaluate(&rules, &rep, NOW, &EngineConfig::default());

    assert!(evaluation.changes.is_empty());
    assert_eq!(evaluation.permissions[0].decision, Decision::Undetermined);
    assert!(evaluation.permissions[0].held);
}

#[test]
fn old_scores_fall_out_of_window() {
    let rules = parse(RULES).expect("valid rules");
    let held = BTreeSet::new();
    let checkpoints = [passed("price_objection")];
    let mut samples = scores(&[90.0, 90.0, 90.0]);
    for sample in &mut samples {
        sample.at -= Duration::days(31);
    }
    let rep = RepState {
        rep_id: "rep-1",
        permissions: &held,
        checkpoints: &checkpoints,
        samples: &samples,
    };

    let evaluation = evaluate(&rules, &rep, NOW, &EngineConfig::default());

    assert_eq!(evaluation.grants().count(), 0);
}

#[test]
fn changed_rules_need_a_higher_version() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("unlock.toml");
    std::fs::write(&path, RULES).expect("write rules");
    let set = RuleSet::load(&path, DimensionSet::default()).expect("valid rules");

    std::fs::write(&path, RULES.replace("at_least = 75", "at_least = 60")).expect("write rules");
    let same = set.reload().unwrap_err();
    std::fs::write(
        &path,
        RULES
            .replace("version = 3", "version = 2")
            .replace("at_least = 75", "at_least = 60"),
    )
    .expect("write rules");
    let lower = set.reload().unwrap_err();

    assert!(
        same.to_string()
            .contains("version 3 is not above version 3"),
        "{same}"
    );
    assert!(lower.to_string().contains("raise version"), "{lower}");
    assert!((set.current().rules[0].min_scores[0].at_least - 75.0).abs() < 1e-9);
    std::fs::write(&path, RULES.replace("version = 3", "version = 5")).expect("write rules");
    assert_eq!(set.reload().expect("same rules, higher version").version, 5);
}

#[test]
fn failed_reload_keeps_last_good_rules() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("unlock.toml");
    std::fs::write(&path, RULES).expect("write rules");
    let set = RuleSet::load(&path, DimensionSet::default()).expect("valid rules");

    std::fs::write(
        &path,
        RULES
            .replace("version = 3", "version = 4")
            .replace("at_least = 75", "at_least = -5"),
    )
    .expect("write broken rules");
    let err = set.reload().unwrap_err();

    assert_eq!(line_of(&err), 10, "{err}");
    assert!(err.to_string().contains("unlock.toml:10:"), "{err}");
    assert_eq!(set.current().version, 3);
    assert!((set.current().rules[0].min_scores[0].at_least - 75.0).abs() < 1e-9);

    std::fs::write(&path, RULES.replace("version = 3", "version = 4")).expect("write fixed rules");
    let reloaded = set.reload().expect("valid rules");

    assert_eq!(reloaded.version, 4);
    assert_eq!(set.current().version, 4);
}

#[test]
fn missing_rule_file_is_rejected() {
    let err = RuleSet::load(
        Path::new("/nonexistent/unlock.toml"),
        DimensionSet::default(),
    )
    .unwrap_err();

    assert!(matches!(err, Error::Read { .. }), "{err}");
}
