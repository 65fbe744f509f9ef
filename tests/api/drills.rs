//! Drill attempts: a rep's recorded answer is stored, transcribed and
//! scored; only reps submit, and reach rules guard the results.

use reqwest::StatusCode;

use crate::helpers::{assert_error, fixture, json, model_path, spawn_app, spawn_with, Options};

const SPEECH: &str = "vad_gap1200_en.wav";
const ATTEMPTS: &str = "/api/v1/drills/attempts";

#[tokio::test]
async fn attempt_upload_returns_202() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let path = format!("{ATTEMPTS}?scenario_id=price_too_expensive");
    let request = app.post_body(&path, Some(&token), "audio/wav", fixture(SPEECH));
    let (status, body) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["scenario_id"], "price_too_expensive");
    assert_eq!(body["job"]["status"], "queued");
    assert!(body["overall_score"].is_null());
    app.stop().await;
}

#[tokio::test]
async fn attempt_by_coach_returns_403() {
    let app = spawn_app().await;
    let token = app.users.coach.token.clone();

    let path = format!("{ATTEMPTS}?scenario_id=price_too_expensive");
    let request = app.post_body(&path, Some(&token), "audio/wav", fixture(SPEECH));
    let (status, body) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "forbidden");
    app.stop().await;
}

#[tokio::test]
async fn attempt_unknown_scenario_returns_422() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let path = format!("{ATTEMPTS}?scenario_id=nothing_like_it");
    let request = app.post_body(&path, Some(&token), "audio/wav", fixture(SPEECH));
    let (status, body) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&body, "invalid_input");
    app.stop().await;
}

#[tokio::test]
async fn attempt_not_audio_returns_415() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let path = format!("{ATTEMPTS}?scenario_id=price_too_expensive");
    let request = app.post_body(&path, Some(&token), "audio/wav", fixture("not_audio.csv"));
    let (status, body) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_error(&body, "unsupported_media_type");
    app.stop().await;
}

#[tokio::test]
async fn attempt_follows_reach_rules() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();
    let path = format!("{ATTEMPTS}?scenario_id=price_too_expensive");
    let request = app.post_body(&path, Some(&token), "audio/wav", fixture(SPEECH));
    let (_, body) = json(request.send().await.expect("sent")).await;
    let attempt = format!("{ATTEMPTS}/{}", body["id"].as_str().expect("id"));
    let users = app.users.clone();

    let cases = [
        (Some(&users.rep.token), StatusCode::OK),
        (Some(&users.coach.token), StatusCode::OK),
        (Some(&users.admin.token), StatusCode::OK),
        (Some(&users.south_rep.token), StatusCode::FORBIDDEN),
        (Some(&users.south_coach.token), StatusCode::FORBIDDEN),
        (None, StatusCode::UNAUTHORIZED),
    ];
    for (token, expected) in cases {
        let response = app.get(&attempt, token.map(String::as_str)).send().await;
        let (status, body) = json(response.expect("sent")).await;

        assert_eq!(status, expected, "{body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn attempt_is_scored_in_time() {
    if model_path().is_none() {
        return;
    }
    let app = spawn_with(Options {
        workers: 1,
        ..Options::default()
    })
    .await;
    let token = app.users.rep.token.clone();

    let path = format!("{ATTEMPTS}?scenario_id=price_too_expensive&wait_ms=300000");
    let request = app.post_body(&path, Some(&token), "audio/wav", fixture(SPEECH));
    let (status, body) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let score = body["overall_score"].as_f64().expect("overall score");
    assert!((0.0..=100.0).contains(&score));
    assert_eq!(body["result"]["scenario_id"], "price_too_expensive");
    assert!(body["result"]["coverage"].is_object());
    app.stop().await;
}

#[tokio::test]
async fn today_draws_same_scenario_twice() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let (status, first) = json(
        app.get("/api/v1/drills/today", Some(&token))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    let (_, second) = json(
        app.get("/api/v1/drills/today", Some(&token))
            .send()
            .await
            .expect("sent"),
    )
    .await;

    assert_eq!(status, StatusCode::OK, "{first}");
    assert!(
        first["scenario"].is_object() || first["scenario_id"].is_string(),
        "{first}"
    );
    assert_eq!(first, second);
    app.stop().await;
}

#[tokio::test]
async fn today_denied_to_coach() {
    let app = spawn_app().await;

    let request = app.get("/api/v1/drills/today", Some(&app.users.coach.token));
    let (status, body) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "forbidden");
    let (status, _) = json(
        app.get("/api/v1/drills/today", None)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}
