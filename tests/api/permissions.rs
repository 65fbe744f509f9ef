//! Permissions: managers and admins change them with an audit entry;
//! reps and their coaches read them.

use reqwest::StatusCode;
use serde_json::json as body;

use crate::helpers::{assert_error, json, spawn_app};

#[tokio::test]
async fn manager_grant_is_audited() {
    let app = spawn_app().await;
    let path = format!("/api/v1/reps/{}/permissions", app.users.rep.id);
    let request = body!({"permission": "live_calls", "action": "grant", "reason": "passed review"});

    let response = app
        .post_json(&path, Some(&app.users.manager.token), &request)
        .send()
        .await;
    let (status, view) = json(response.expect("sent")).await;

    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["granted"][0]["permission"], "live_calls");
    assert_eq!(view["audit"][0]["action"], "grant");
    let rep = app.users.rep.token.clone();
    let (status, own) = json(app.get(&path, Some(&rep)).send().await.expect("sent")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(own["granted"].as_array().map(Vec::len), Some(1));
    app.stop().await;
}

#[tokio::test]
async fn permission_change_denied_to_coach() {
    let app = spawn_app().await;
    let path = format!("/api/v1/reps/{}/permissions", app.users.rep.id);
    let request = body!({"permission": "live_calls", "action": "grant", "reason": "r"});
    let users = app.users.clone();

    for token in [&users.coach.token, &users.rep.token] {
        let response = app.post_json(&path, Some(token), &request).send().await;
        let (status, body) = json(response.expect("sent")).await;

        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_error(&body, "forbidden");
    }
    app.stop().await;
}

#[tokio::test]
async fn permissions_denied_to_other_team() {
    let app = spawn_app().await;
    let path = format!("/api/v1/reps/{}/permissions", app.users.rep.id);
    let users = app.users.clone();

    for token in [&users.south_rep.token, &users.south_coach.token] {
        let (status, body) = json(app.get(&path, Some(token)).send().await.expect("sent")).await;

        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    let (status, _) = json(app.get(&path, None).send().await.expect("sent")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn permission_bad_action_returns_422() {
    let app = spawn_app().await;
    let path = format!("/api/v1/reps/{}/permissions", app.users.rep.id);
    let request = body!({"permission": "live_calls", "action": "toggle", "reason": "r"});

    let response = app
        .post_json(&path, Some(&app.users.admin.token), &request)
        .send()
        .await;
    let (status, body) = json(response.expect("sent")).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&body, "invalid_input");
    app.stop().await;
}
