//! Unlock rules applied to a stored rep: `large_account_quote` is granted
//! once the price objection checkpoint is passed and value statements score
//! at least 75, revoked when low scores pull the mean below, and listed
//! with its evidence by `callcoach permissions`.

use std::path::{Path, PathBuf};
use std::process::Command;

use callcoach::heatmap::DimensionSet;
use callcoach::language::Language;
use callcoach::store::calls::{Consent, ConsentMethod, NewCall};
use callcoach::store::checkpoints::CheckpointEvaluation;
use callcoach::store::drills::NewDrillAttempt;
use callcoach::store::permissions::PermissionAction;
use callcoach::store::scores::NewScoreSample;
use callcoach::store::users::{NewUser, Role, User};
use callcoach::store::{now, Score, Store, StoreConfig};
use callcoach::unlock::apply::{decode_audit_reason, reevaluate};
use callcoach::unlock::{Action, Actor, Evidence, RequirementStatus, RuleSet};

const PERMISSION: &str = "large_account_quote";
const TOLERANCE: f64 = 1e-6;

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn rule_set() -> RuleSet {
    let dimensions = DimensionSet::load(&repo_path("config/dimensions.toml")).expect("dimensions");
    RuleSet::load(&repo_path("config/unlock.toml"), dimensions).expect("unlock rules")
}

async fn open_store(data_dir: &Path) -> Store {
    let config = StoreConfig {
        data_dir: data_dir.to_path_buf(),
        database_url: None,
        max_connections: None,
    };
    Store::open(&config).await.expect("open SQLite store")
}

async fn create_rep(store: &Store) -> User {
    let team = store.create_team("Enterprise East").await.expect("team");
    let new = NewUser {
        team_id: Some(team.id),
        email: "dana@example.com".to_string(),
        display_name: "Dana".to_string(),
        role: Role::Rep,
    };
    store.create_user(&new).await.expect("rep")
}

/// Stores one scored drill per value with a single value-statement sample.
async fn add_value_statement_scores(store: &Store, rep: &User, values: &[f64]) {
    for &value in values {
        let attempt = NewDrillAttempt {
            rep_id: rep.id.clone(),
            scenario_id: "price_objection".to_string(),
            drill_date: now().date(),
            language: Language::En,
            audio_sha256: None,
        };
        let attempt = store.create_drill_attempt(&attempt).await.expect("attempt");
        let score = Score::new(value).expect("score in 0-100");
        let sample = NewScoreSample {
            scenario_id: "price_objection".to_string(),
            dimension: "value_statement".to_string(),
            score,
        };
        store
            .record_drill_result(&attempt.id, &serde_json::json!({}), score, &[sample])
            .await
            .expect("drill result");
    }
}

/// Stores a consented call and marks the price objection checkpoint passed on it.
async fn pass_price_objection(store: &Store, rep: &User) {
    let audio = store
        .put_audio(b"price objection call".to_vec(), Some("wav"))
        .await
        .expect("audio");
    let call = NewCall {
        rep_id: rep.id.clone(),
        audio_sha256: audio.sha256,
        language: Some(Language::En),
        occurred_at: now(),
        consent: Consent {
            recorded_by: rep.id.clone(),
            recorded_at: now(),
            method: ConsentMethod::VerbalOnRecording,
            note: "consent at 0:00-0:08 of the recording".to_string(),
        },
    };
    let call = store.create_call(&call).await.expect("call");
    let evaluation = CheckpointEvaluation {
        checkpoint_id: "price_objection".to_string(),
        required_calls: 1,
        counted_calls: vec![call.id],
    };
    store
        .save_checkpoint_status(&rep.id, &evaluation)
        .await
        .expect("checkpoint status");
}

/// Returns the mean and status of the value-statement evidence.
fn value_statement(evidence: &[Evidence]) -> Option<(Option<f64>, RequirementStatus)> {
    evidence.iter().find_map(|item| match item {
        Evidence::Score {
            dimension,
            mean,
            status,
            ..
        } if dimension == "value_statement" => Some((*mean, *status)),
        _ => None,
    })
}

fn later() -> time::OffsetDateTime {
    now() + time::Duration::seconds(1)
}

#[tokio::test]
async fn rules_grant_then_revoke_with_audit() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = open_store(dir.path()).await;
    let rep = create_rep(&store).await;
    let rules = rule_set();
    pass_price_objection(&store, &rep).await;
    add_value_statement_scores(&store, &rep, &[90.0, 85.0, 80.0]).await;

    let granted = reevaluate(&store, &rules, &rep.id, &Actor::RulesEngine, later())
        .await
        .expect("first evaluation");

    assert_eq!(granted.grants().collect::<Vec<_>>(), vec![PERMISSION]);
    assert!(store
        .has_permission(&rep.id, PERMISSION)
        .await
        .expect("read"));
    let audit = store.permission_audit(&rep.id).await.expect("audit");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, PermissionAction::Grant);
    assert_eq!(audit[0].rule_id.as_deref(), Some(PERMISSION));
    assert_eq!(audit[0].actor_id, None);
    let entry = decode_audit_reason(&audit[0].reason).expect("reason is an audit entry");
    assert_eq!(entry.rule_set_version, Some(1));
    assert_eq!(entry.actor, Actor::RulesEngine);
    let (mean, status) = value_statement(&entry.evidence).expect("score evidence");
    assert!((mean.expect("mean") - 85.0).abs() < TOLERANCE);
    assert_eq!(status, RequirementStatus::Met);
    assert!(entry.evidence.iter().any(|e| matches!(
        e,
        Evidence::Checkpoint { checkpoint_id, passed: true, .. } if checkpoint_id == "price_objection"
    )));

    let again = reevaluate(&store, &rules, &rep.id, &Actor::RulesEngine, later())
        .await
        .expect("repeated evaluation");

    assert!(again.changes.is_empty());
    assert_eq!(
        store.permission_audit(&rep.id).await.expect("audit").len(),
        1
    );

    add_value_statement_scores(&store, &rep, &[20.0, 20.0, 20.0, 20.0, 20.0, 20.0]).await;
    let revoked = reevaluate(&store, &rules, &rep.id, &Actor::RulesEngine, later())
        .await
        .expect("evaluation after low scores");

    assert_eq!(revoked.revocations().collect::<Vec<_>>(), vec![PERMISSION]);
    assert!(!store
        .has_permission(&rep.id, PERMISSION)
        .await
        .expect("read"));
    let audit = store.permission_audit(&rep.id).await.expect("audit");
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[1].action, PermissionAction::Revoke);
    let entry = decode_audit_reason(&audit[1].reason).expect("reason is an audit entry");
    assert_eq!(entry.action, Action::Revoke);
    let (mean, status) = value_statement(&entry.evidence).expect("score evidence");
    let expected = (90.0 + 85.0 + 80.0 + 6.0 * 20.0) / 9.0;
    assert!((mean.expect("mean") - expected).abs() < TOLERANCE);
    assert_eq!(status, RequirementStatus::NotMet);
    store.close().await;
}

#[tokio::test]
async fn user_actor_is_stored_on_change() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = open_store(dir.path()).await;
    let rep = create_rep(&store).await;
    pass_price_objection(&store, &rep).await;
    add_value_statement_scores(&store, &rep, &[80.0, 80.0, 80.0]).await;
    let actor = Actor::user(rep.id.as_str()).expect("actor");

    reevaluate(&store, &rule_set(), &rep.id, &actor, later())
        .await
        .expect("evaluation");

    let audit = store.permission_audit(&rep.id).await.expect("audit");
    assert_eq!(audit[0].actor_id.as_ref(), Some(&rep.id));
    store.close().await;
}

fn run_permissions(data: &Path, rep: &User, extra: &[&str]) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_callcoach"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CALLCOACH_DATABASE_URL")
        .args(["permissions", "--rep", rep.id.as_str(), "--format", "json"])
        .arg("--data")
        .arg(data)
        .args(extra)
        .output()
        .expect("run callcoach");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "callcoach failed: {stderr}");
    serde_json::from_slice(&output.stdout).expect("JSON output")
}

#[tokio::test]
async fn cli_lists_grant_with_evidence() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = open_store(dir.path()).await;
    let rep = create_rep(&store).await;
    pass_price_objection(&store, &rep).await;
    add_value_statement_scores(&store, &rep, &[90.0, 90.0, 90.0]).await;
    reevaluate(&store, &rule_set(), &rep.id, &Actor::RulesEngine, later())
        .await
        .expect("evaluation");
    store.close().await;

    let report = run_permissions(dir.path(), &rep, &[]);

    let granted = report["granted"].as_array().expect("granted list");
    assert_eq!(granted.len(), 1);
    assert_eq!(granted[0]["permission"], PERMISSION);
    assert_eq!(granted[0]["rule_id"], PERMISSION);
    assert_eq!(granted[0]["rule_set_version"], 1);
    let evidence = granted[0]["evidence"].as_array().expect("evidence list");
    let score = evidence
        .iter()
        .find(|e| e["kind"] == "score")
        .expect("score evidence");
    assert_eq!(score["dimension"], "value_statement");
    assert!((score["mean"].as_f64().expect("mean") - 90.0).abs() < TOLERANCE);
    assert!(report["changes"].is_null());
}

#[tokio::test]
async fn cli_evaluate_grants_and_prints_change() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = open_store(dir.path()).await;
    let rep = create_rep(&store).await;
    pass_price_objection(&store, &rep).await;
    add_value_statement_scores(&store, &rep, &[78.0, 80.0, 82.0]).await;
    store.close().await;

    let report = run_permissions(dir.path(), &rep, &["--evaluate"]);

    let changes = report["changes"].as_array().expect("change list");
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["action"], "grant");
    assert_eq!(changes[0]["permission"], PERMISSION);
    assert_eq!(report["granted"][0]["permission"], PERMISSION);
}

#[test]
fn cli_rejects_invalid_rep_id() {
    let dir = tempfile::tempdir().expect("temporary directory");

    let output = Command::new(env!("CARGO_BIN_EXE_callcoach"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["permissions", "--rep", "not a user id", "--data"])
        .arg(dir.path())
        .output()
        .expect("run callcoach");

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--rep"), "stderr: {stderr}");
}
