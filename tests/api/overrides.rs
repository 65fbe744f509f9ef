//! Coach overrides: only coaches and admins of the rep's team add them,
//! and every change needs a comment and a valid value.

use reqwest::StatusCode;
use serde_json::json as body;

use crate::helpers::{assert_error, json, spawn_app};

#[tokio::test]
async fn coach_override_is_stored() {
    let app = spawn_app().await;
    let attempt = app.scored_attempt(&app.users.rep.id, 55.0).await;
    let token = app.users.coach.token.clone();
    let request = body!({
        "target_kind": "drill", "target_id": attempt,
        "change": {"field": "overall_score", "score": 70.0},
        "comment": "the discount was offered on purpose"
    });

    let response = app
        .post_json("/api/v1/overrides", Some(&token), &request)
        .send()
        .await;
    let (status, created) = json(response.expect("sent")).await;

    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["seq"], 1);
    let path = format!("/api/v1/overrides?target_kind=drill&target_id={attempt}");
    let rep_token = app.users.rep.token.clone();
    let (status, history) =
        json(app.get(&path, Some(&rep_token)).send().await.expect("sent")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(history.as_array().map(Vec::len), Some(1));
    assert_eq!(history[0]["change"]["field"], "overall_score");
    app.stop().await;
}

#[tokio::test]
async fn override_denied_outside_reach() {
    let app = spawn_app().await;
    let attempt = app.scored_attempt(&app.users.rep.id, 55.0).await;
    let request = body!({
        "target_kind": "drill", "target_id": attempt,
        "change": {"field": "overall_score", "score": 70.0}, "comment": "c"
    });
    let users = app.users.clone();

    for token in [
        &users.rep.token,
        &users.manager.token,
        &users.south_coach.token,
    ] {
        let response = app
            .post_json("/api/v1/overrides", Some(token), &request)
            .send()
            .await;
        let (status, body) = json(response.expect("sent")).await;

        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_error(&body, "forbidden");
    }
    let response = app
        .post_json("/api/v1/overrides", None, &request)
        .send()
        .await;
    assert_eq!(response.expect("sent").status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn override_score_out_of_range_returns_422() {
    let app = spawn_app().await;
    let attempt = app.scored_attempt(&app.users.rep.id, 55.0).await;
    let request = body!({
        "target_kind": "drill", "target_id": attempt,
        "change": {"field": "overall_score", "score": 150.0}, "comment": "too high"
    });

    let response = app.post_json("/api/v1/overrides", Some(&app.users.coach.token), &request);
    let (status, body) = json(response.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&body, "invalid_input");
    app.stop().await;
}

#[tokio::test]
async fn override_unknown_target_returns_404() {
    let app = spawn_app().await;
    let request = body!({
        "target_kind": "call", "target_id": "call_00000000000000000000000000000000",
        "change": {"field": "overall_score", "score": 50.0}, "comment": "c"
    });

    let response = app.post_json("/api/v1/overrides", Some(&app.users.coach.token), &request);
    let (status, body) = json(response.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
    app.stop().await;
}

#[tokio::test]
async fn malformed_override_json_returns_400() {
    let app = spawn_app().await;
    let token = app.users.coach.token.clone();

    let request = app.post_body(
        "/api/v1/overrides",
        Some(&token),
        "application/json",
        b"{".to_vec(),
    );
    let (status, body) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "bad_request");
    app.stop().await;
}

#[tokio::test]
async fn override_missing_field_returns_422() {
    let app = spawn_app().await;
    let request = body!({"target_kind": "drill"});

    let response = app.post_json("/api/v1/overrides", Some(&app.users.coach.token), &request);
    let (status, body) = json(response.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&body, "invalid_input");
    app.stop().await;
}

#[tokio::test]
async fn override_as_text_returns_415() {
    let app = spawn_app().await;
    let token = app.users.coach.token.clone();

    let request = app.post_body(
        "/api/v1/overrides",
        Some(&token),
        "text/plain",
        b"{}".to_vec(),
    );
    let (status, body) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_error(&body, "unsupported_media_type");
    app.stop().await;
}
