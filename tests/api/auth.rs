//! Bearer tokens and roles: 401 without a valid token, 403 outside the
//! caller's role or team.

use reqwest::StatusCode;

use crate::helpers::{assert_error, json, spawn_app};

#[tokio::test]
async fn missing_token_returns_401() {
    let app = spawn_app().await;

    let response = app
        .get("/api/v1/scenarios", None)
        .send()
        .await
        .expect("sent");

    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let (status, body) = json(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "unauthorized");
    app.stop().await;
}

#[tokio::test]
async fn unknown_token_returns_401() {
    let app = spawn_app().await;

    let request = app.get("/api/v1/scenarios", Some("cc_0000"));
    let (status, body) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "unauthorized");
    app.stop().await;
}

#[tokio::test]
async fn basic_scheme_returns_401() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let request = app
        .client
        .get(app.url("/api/v1/scenarios"))
        .header("authorization", format!("Basic {token}"));
    let (status, body) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "unauthorized");
    app.stop().await;
}

#[tokio::test]
async fn disabled_user_returns_401() {
    let app = spawn_app().await;
    app.store()
        .disable_user(&app.users.rep.id)
        .await
        .expect("disable");

    let request = app.get("/api/v1/scenarios", Some(&app.users.rep.token));
    let (status, _) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}
