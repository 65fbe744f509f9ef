//! Unlock rules in force: staff read them, an admin reloads them, a broken
//! file is rejected with its line while the last good rules stay, and a
//! changed file is picked up by the service's own check.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_error, json, spawn_with, Options, TestApp};

const RULES_V1: &str = "version = 1\n\n[[rule]]\npermission = \"discount_negotiation\"\n\n\
    [[rule.min_score]]\ndimension = \"objection_handling\"\nat_least = 70\n";

/// Starts the service on a copy of a rule file in a temporary directory.
async fn app_with_rules(dir: &Path, poll: Option<Duration>) -> TestApp {
    let file = dir.join("unlock.toml");
    std::fs::write(&file, RULES_V1).expect("write rules");
    spawn_with(Options {
        unlock_rules_file: Some(file),
        unlock_rules_poll: poll,
        ..Options::default()
    })
    .await
}

async fn rules_in_force(app: &TestApp) -> Value {
    let request = app.get("/api/v1/unlock-rules", Some(&app.users.manager.token));
    let (status, body) = json(request.send().await.expect("sent")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn reload(app: &TestApp, token: &str) -> (StatusCode, Value) {
    let request = app.post_json("/api/v1/unlock-rules/reload", Some(token), &Value::Null);
    json(request.send().await.expect("sent")).await
}

#[tokio::test]
async fn broken_file_keeps_last_good_rules() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app_with_rules(dir.path(), None).await;
    let file = dir.path().join("unlock.toml");
    assert_eq!(rules_in_force(&app).await["version"], 1);

    std::fs::write(
        &file,
        "version = 2\n\n[[rule]]\npermission = \"x\"\natleast = 3\n",
    )
    .expect("write broken rules");
    let (status, body) = reload(&app, &app.users.admin.token).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_error(&body, "invalid_input");
    let detail = body["detail"].as_str().expect("detail");
    assert!(detail.contains("unlock.toml:"), "{detail}");
    assert!(detail.contains("atleast"), "{detail}");
    assert!(detail.contains("version 1 stays in force"), "{detail}");
    let in_force = rules_in_force(&app).await;
    assert_eq!(in_force["version"], 1);
    assert_eq!(in_force["rules"][0]["permission"], "discount_negotiation");

    std::fs::write(
        &file,
        RULES_V1
            .replace("version = 1", "version = 2")
            .replace("70", "80"),
    )
    .expect("write new rules");
    let (status, body) = reload(&app, &app.users.admin.token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["version"], 2);
    assert_eq!(
        rules_in_force(&app).await["rules"][0]["min_scores"][0]["at_least"],
        80.0
    );
    app.stop().await;
}

#[tokio::test]
async fn reload_reevaluates_reps_under_the_new_rules() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app_with_rules(dir.path(), None).await;
    let file = dir.path().join("unlock.toml");
    let rep = app.users.rep.id.clone();
    crate::training::objection_samples(&app, &rep, &[75.0, 75.0, 75.0], false).await;
    let granted = || async {
        let path = format!("/api/v1/reps/{rep}/permissions");
        let request = app.get(&path, Some(&app.users.manager.token));
        let (status, body) = json(request.send().await.expect("sent")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let granted = body["granted"].as_array().expect("granted list").clone();
        granted
            .iter()
            .map(|g| g["permission"].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };

    std::fs::write(
        &file,
        RULES_V1
            .replace("version = 1", "version = 2")
            .replace("70", "80"),
    )
    .expect("write stricter rules");
    assert_eq!(reload(&app, &app.users.admin.token).await.0, StatusCode::OK);
    assert!(granted().await.is_empty(), "75 is below 80");
    std::fs::write(&file, RULES_V1.replace("version = 1", "version = 3")).expect("write rules");
    assert_eq!(reload(&app, &app.users.admin.token).await.0, StatusCode::OK);
    assert_eq!(granted().await, vec!["discount_negotiation".to_string()]);
    app.stop().await;
}

#[tokio::test]
async fn reload_is_for_admins_and_reading_for_staff() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app_with_rules(dir.path(), None).await;

    let (status, body) = reload(&app, &app.users.manager.token).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let request = app.get("/api/v1/unlock-rules", Some(&app.users.rep.token));
    let (status, body) = json(request.send().await.expect("sent")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    app.stop().await;
}

#[tokio::test]
async fn changed_file_is_reloaded_by_the_service() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = app_with_rules(dir.path(), Some(Duration::from_millis(100))).await;
    let file = dir.path().join("unlock.toml");

    std::fs::write(&file, "version = 3\n[[rule]]\npermission = \"Bad Name\"\n")
        .expect("write broken rules");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        rules_in_force(&app).await["version"],
        1,
        "broken file kept out"
    );

    std::fs::write(&file, RULES_V1.replace("version = 1", "version = 4")).expect("write new rules");
    let deadline = Instant::now() + Duration::from_secs(20);
    while rules_in_force(&app).await["version"] != 4 {
        assert!(
            Instant::now() < deadline,
            "the changed file was not reloaded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.stop().await;
}
