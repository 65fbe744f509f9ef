//! The one error shape: unknown routes, wrong methods, rejected
//! extractors and body limits all answer `{"error", "detail"}`.

use reqwest::StatusCode;

use crate::helpers::{assert_error, json, spawn_app, spawn_with, Options};

#[tokio::test]
async fn unknown_route_returns_json_404() {
    let app = spawn_app().await;

    let (status, body) = json(app.get("/api/v1/nothing", None).send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
    app.stop().await;
}

#[tokio::test]
async fn wrong_method_returns_json_405() {
    let app = spawn_app().await;

    let response = app
        .client
        .delete(app.url("/api/v1/scenarios"))
        .send()
        .await
        .expect("sent");
    let (status, body) = json(response).await;

    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_error(&body, "method_not_allowed");
    app.stop().await;
}

#[tokio::test]
async fn missing_web_page_returns_json_404() {
    let app = spawn_app().await;

    let (status, body) = json(app.get("/web/absent.js", None).send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
    app.stop().await;
}

#[tokio::test]
async fn bad_query_returns_json_400() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let path = "/api/v1/search?q=price&limit=many";
    let (status, body) = json(app.get(path, Some(&token)).send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "bad_request");
    app.stop().await;
}

#[tokio::test]
async fn body_over_limit_returns_json_413() {
    let options = Options {
        max_upload_bytes: 1000,
        ..Options::default()
    };
    let app = spawn_with(options).await;
    let token = app.users.rep.token.clone();

    let response = app.upload_transcription(&token, "", vec![7u8; 5000]).await;
    let (status, body) = json(response).await;

    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_error(&body, "payload_too_large");
    assert!(body["detail"].as_str().unwrap_or("").contains("1000 bytes"));
    app.stop().await;
}

#[tokio::test]
async fn request_id_header_is_returned() {
    let app = spawn_app().await;

    let response = app.get("/healthz", None).send().await.expect("sent");

    let id = response
        .headers()
        .get("x-request-id")
        .expect("request id header");
    assert_eq!(id.len(), 16);
    app.stop().await;
}
