//! Checkpoints: stored statuses for the rep and their coaches, and a fresh
//! evaluation by staff.

use reqwest::StatusCode;

use crate::helpers::{assert_error, json, spawn_app};

#[tokio::test]
async fn rep_reads_own_checkpoints() {
    let app = spawn_app().await;
    let path = format!("/api/v1/reps/{}/checkpoints", app.users.rep.id);

    let response = app.get(&path, Some(&app.users.rep.token)).send().await;
    let (status, body) = json(response.expect("sent")).await;

    assert_eq!(status, StatusCode::OK);
    assert!(body.is_array());
    app.stop().await;
}

#[tokio::test]
async fn coach_evaluates_checkpoints() {
    let app = spawn_app().await;
    app.stored_call(&app.users.rep.id).await;
    let path = format!("/api/v1/reps/{}/checkpoints/evaluate", app.users.rep.id);

    let request = app
        .client
        .post(app.url(&path))
        .bearer_auth(&app.users.coach.token);
    let (status, reports) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::OK, "{reports}");
    let reports = reports.as_array().expect("reports");
    assert!(!reports.is_empty());
    assert!(reports.iter().all(|r| r["passed"] == false));
    let stored = format!("/api/v1/reps/{}/checkpoints", app.users.rep.id);
    let (_, statuses) = json(
        app.get(&stored, Some(&app.users.rep.token))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(statuses.as_array().map(Vec::len), Some(reports.len()));
    app.stop().await;
}

#[tokio::test]
async fn checkpoints_denied_outside_reach() {
    let app = spawn_app().await;
    let read = format!("/api/v1/reps/{}/checkpoints", app.users.rep.id);
    let evaluate = format!("/api/v1/reps/{}/checkpoints/evaluate", app.users.rep.id);

    let response = app
        .get(&read, Some(&app.users.south_coach.token))
        .send()
        .await;
    let (status, body) = json(response.expect("sent")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "forbidden");
    let request = app
        .client
        .post(app.url(&evaluate))
        .bearer_auth(&app.users.rep.token);
    let (status, body) = json(request.send().await.expect("sent")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "forbidden");
    let (status, _) = json(app.get(&read, None).send().await.expect("sent")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}
