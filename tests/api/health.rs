//! Probes and the OpenAPI document.

use reqwest::StatusCode;

use crate::helpers::{json, model_path, spawn_app};

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;

    let (status, body) = json(app.get("/healthz", None).send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    app.stop().await;
}

#[tokio::test]
async fn readyz_reports_model_and_index() {
    let app = spawn_app().await;

    let (status, body) = json(app.get("/readyz", None).send().await.expect("sent")).await;

    if model_path().is_some() {
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "ready");
        assert!(body["index_documents"].as_u64().unwrap_or(0) > 0);
    } else {
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body["detail"].as_str().unwrap_or("").contains("model"));
    }
    app.stop().await;
}

#[tokio::test]
async fn openapi_lists_every_area() {
    let app = spawn_app().await;

    let response = app
        .get("/api/v1/openapi.json", None)
        .send()
        .await
        .expect("sent");
    let (status, body) = json(response).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["openapi"], "3.1.0");
    let paths = body["paths"].as_object().expect("paths object");
    for path in [
        "/healthz",
        "/readyz",
        "/api/v1/transcriptions",
        "/api/v1/transcriptions/{id}",
        "/api/v1/scenarios",
        "/api/v1/search",
        "/api/v1/drills/attempts",
    ] {
        assert!(paths.contains_key(path), "openapi has no {path}");
    }
    assert!(body["components"]["securitySchemes"]["bearer"].is_object());
    app.stop().await;
}

#[tokio::test]
async fn web_index_page_is_served() {
    let app = spawn_app().await;

    let response = app.get("/", None).send().await.expect("sent");

    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("body");
    assert!(text.contains("/api/v1"));
    app.stop().await;
}

#[tokio::test]
async fn second_service_on_the_data_directory_is_refused() {
    let mut app = spawn_app().await;

    let error = app.start_second_service().await;

    assert!(error.contains("another callcoach service"), "{error}");
    assert!(error.contains("callcoach.lock"), "{error}");
    assert!(error.contains("--data"), "{error}");
    app.restart(crate::helpers::Options::default()).await;
    let response = app.get("/healthz", None).send().await.expect("sent");
    assert_eq!(
        response.status(),
        reqwest::StatusCode::OK,
        "restart after stop works"
    );
    app.stop().await;
}
