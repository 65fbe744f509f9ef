//! Scenarios and search over the knowledge index.

use reqwest::StatusCode;

use crate::helpers::{assert_error, json, spawn_app};

#[tokio::test]
async fn scenario_list_has_corpus() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let (status, body) = json(
        app.get("/api/v1/scenarios", Some(&token))
            .send()
            .await
            .expect("sent"),
    )
    .await;

    assert_eq!(status, StatusCode::OK);
    let list = body.as_array().expect("array");
    assert!(list.len() >= 10, "{} scenarios", list.len());
    assert!(list.iter().any(|s| s["id"] == "price_too_expensive"));
    app.stop().await;
}

#[tokio::test]
async fn scenario_detail_has_strategies() {
    let app = spawn_app().await;
    let token = app.users.coach.token.clone();

    let path = "/api/v1/scenarios/price_too_expensive";
    let (status, body) = json(app.get(path, Some(&token)).send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], "price_too_expensive");
    assert!(!body["strategies"]
        .as_array()
        .expect("strategies")
        .is_empty());
    app.stop().await;
}

#[tokio::test]
async fn unknown_scenario_returns_404() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let path = "/api/v1/scenarios/no_such_scenario";
    let (status, body) = json(app.get(path, Some(&token)).send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
    app.stop().await;
}

#[tokio::test]
async fn search_finds_price_scenario() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let path = "/api/v1/search?q=too%20expensive&lang=en&limit=5";
    let (status, body) = json(app.get(path, Some(&token)).send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::OK);
    let hits = body.as_array().expect("array");
    assert!(!hits.is_empty());
    assert!(hits.len() <= 5);
    assert!(
        hits.iter().any(|h| h["scenario"] == "price_too_expensive"),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn search_mandarin_query_matches() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let path = "/api/v1/search?q=%E5%A4%AA%E8%B4%B5&lang=zh";
    let (status, body) = json(app.get(path, Some(&token)).send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::OK);
    let hits = body.as_array().expect("array");
    assert!(hits.iter().all(|h| h["lang"] == "zh"), "{body}");
    assert!(!hits.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn search_without_query_returns_400() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let (status, body) = json(
        app.get("/api/v1/search", Some(&token))
            .send()
            .await
            .expect("sent"),
    )
    .await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "missing_query");
    app.stop().await;
}

#[tokio::test]
async fn search_bad_values_return_422() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    for path in [
        "/api/v1/search?q=price&lang=fr",
        "/api/v1/search?q=price&limit=0",
        "/api/v1/search?q=price&kind=video",
    ] {
        let (status, body) = json(app.get(path, Some(&token)).send().await.expect("sent")).await;

        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert_error(&body, "invalid_input");
    }
    app.stop().await;
}

#[tokio::test]
async fn search_without_token_returns_401() {
    let app = spawn_app().await;

    let (status, body) = json(
        app.get("/api/v1/search?q=price", None)
            .send()
            .await
            .expect("sent"),
    )
    .await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "unauthorized");
    app.stop().await;
}
