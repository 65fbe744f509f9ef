//! Training tasks: coaches assign and close them, reps read their own.

use reqwest::StatusCode;
use serde_json::json as body;

use crate::helpers::{assert_error, json, spawn_app};

fn task_body() -> serde_json::Value {
    body!({"dimension": "objection_handling", "reason": "price objections stall", "scenario_id": "price_too_expensive"})
}

#[tokio::test]
async fn coach_assigns_and_closes_task() {
    let app = spawn_app().await;
    let path = format!("/api/v1/reps/{}/training-tasks", app.users.rep.id);
    let coach = app.users.coach.token.clone();

    let response = app
        .post_json(&path, Some(&coach), &task_body())
        .send()
        .await;
    let (status, task) = json(response.expect("sent")).await;

    assert_eq!(status, StatusCode::CREATED, "{task}");
    assert_eq!(task["status"], "open");
    let rep = app.users.rep.token.clone();
    let (status, list) = json(app.get(&path, Some(&rep)).send().await.expect("sent")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    let close = format!(
        "/api/v1/training-tasks/{}/close",
        task["id"].as_str().expect("id")
    );
    let done = body!({"status": "done"});
    let (status, closed) = json(
        app.post_json(&close, Some(&coach), &done)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(closed["status"], "done");
    let (status, again) = json(
        app.post_json(&close, Some(&coach), &done)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&again, "invalid_input");
    app.stop().await;
}

#[tokio::test]
async fn task_assignment_denied_outside_reach() {
    let app = spawn_app().await;
    let path = format!("/api/v1/reps/{}/training-tasks", app.users.rep.id);
    let users = app.users.clone();

    for token in [&users.rep.token, &users.south_coach.token] {
        let response = app.post_json(&path, Some(token), &task_body()).send().await;
        let (status, body) = json(response.expect("sent")).await;

        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_error(&body, "forbidden");
    }
    let response = app.post_json(&path, None, &task_body()).send().await;
    assert_eq!(response.expect("sent").status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn task_list_denied_to_other_rep() {
    let app = spawn_app().await;
    let path = format!("/api/v1/reps/{}/training-tasks", app.users.rep.id);

    let response = app
        .get(&path, Some(&app.users.south_rep.token))
        .send()
        .await;
    let (status, body) = json(response.expect("sent")).await;

    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "forbidden");
    app.stop().await;
}

#[tokio::test]
async fn task_unknown_dimension_returns_422() {
    let app = spawn_app().await;
    let path = format!("/api/v1/reps/{}/training-tasks", app.users.rep.id);
    let request = body!({"dimension": "juggling", "reason": "r"});

    let response = app
        .post_json(&path, Some(&app.users.coach.token), &request)
        .send()
        .await;
    let (status, body) = json(response.expect("sent")).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&body, "invalid_input");
    app.stop().await;
}

#[tokio::test]
async fn task_list_unknown_rep_returns_404() {
    let app = spawn_app().await;

    let path = "/api/v1/reps/user_00000000000000000000000000000000/training-tasks";
    let response = app.get(path, Some(&app.users.admin.token)).send().await;
    let (status, body) = json(response.expect("sent")).await;

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
    app.stop().await;
}
