//! Real calls: stored only with consent, queued for analysis, guarded by
//! reach rules.

use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;

use crate::helpers::{assert_error, fixture, json, spawn_app};

const SPEECH: &str = "vad_gap1200_en.wav";
const CONSENT: &str = "consent_method=verbal_on_recording&consent_note=0%3A00-0%3A05";

#[tokio::test]
async fn call_with_consent_returns_202() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let path = format!("/api/v1/calls?{CONSENT}");
    let request = app.post_body(&path, Some(&token), "audio/wav", fixture(SPEECH));
    let (status, body) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["consent_method"], "verbal_on_recording");
    assert_eq!(body["job"]["status"], "queued");
    app.stop().await;
}

#[tokio::test]
async fn multipart_call_with_consent_returns_202() {
    let app = spawn_app().await;
    let form = Form::new()
        .part("audio", Part::bytes(fixture(SPEECH)).file_name("call.wav"))
        .text("consent_method", "written")
        .text("consent_note", "contract 2024-17, clause 4");

    let request = app.client.post(app.url("/api/v1/calls")).multipart(form);
    let response = request
        .bearer_auth(&app.users.rep.token)
        .send()
        .await
        .expect("sent");
    let (status, body) = json(response).await;

    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["consent_method"], "written");
    app.stop().await;
}

#[tokio::test]
async fn call_without_consent_returns_422() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let request = app.post_body("/api/v1/calls", Some(&token), "audio/wav", fixture(SPEECH));
    let (status, body) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&body, "consent_missing");
    assert_eq!(app.store().count_queued_jobs().await.expect("count"), 0);
    app.stop().await;
}

#[tokio::test]
async fn call_unknown_consent_method_returns_422() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let path = "/api/v1/calls?consent_method=nodded&consent_note=x";
    let request = app.post_body(path, Some(&token), "audio/wav", fixture(SPEECH));
    let (status, body) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&body, "invalid_input");
    app.stop().await;
}

#[tokio::test]
async fn call_by_coach_returns_403() {
    let app = spawn_app().await;
    let token = app.users.coach.token.clone();

    let path = format!("/api/v1/calls?{CONSENT}");
    let request = app.post_body(&path, Some(&token), "audio/wav", fixture(SPEECH));
    let (status, body) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "forbidden");
    app.stop().await;
}

#[tokio::test]
async fn call_not_audio_returns_415() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let path = format!("/api/v1/calls?{CONSENT}");
    let request = app.post_body(&path, Some(&token), "audio/wav", fixture("not_audio.csv"));
    let (status, body) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_error(&body, "unsupported_media_type");
    app.stop().await;
}

#[tokio::test]
async fn call_follows_reach_rules() {
    let app = spawn_app().await;
    let id = app.stored_call(&app.users.rep.id).await;
    let path = format!("/api/v1/calls/{id}");
    let users = app.users.clone();

    let cases = [
        (Some(&users.rep.token), StatusCode::OK),
        (Some(&users.manager.token), StatusCode::OK),
        (Some(&users.admin.token), StatusCode::OK),
        (Some(&users.south_rep.token), StatusCode::FORBIDDEN),
        (Some(&users.south_coach.token), StatusCode::FORBIDDEN),
        (None, StatusCode::UNAUTHORIZED),
    ];
    for (token, expected) in cases {
        let response = app.get(&path, token.map(String::as_str)).send().await;
        let (status, body) = json(response.expect("sent")).await;

        assert_eq!(status, expected, "{body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn unknown_call_returns_404() {
    let app = spawn_app().await;
    let token = app.users.admin.token.clone();

    let path = "/api/v1/calls/call_00000000000000000000000000000000";
    let (status, body) = json(app.get(path, Some(&token)).send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
    app.stop().await;
}

#[tokio::test]
async fn call_rep_channel_is_stored() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let path = format!("/api/v1/calls?{CONSENT}&rep_channel=0");
    let request = app.post_body(&path, Some(&token), "audio/wav", fixture(SPEECH));
    let (status, body) = json(request.send().await.expect("sent")).await;
    let default_path = format!("/api/v1/calls?{CONSENT}");
    let request = app.post_body(&default_path, Some(&token), "audio/wav", fixture(SPEECH));
    let (default_status, default_body) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["rep_channel"], 0);
    assert_eq!(default_status, StatusCode::ACCEPTED, "{default_body}");
    assert_eq!(default_body["rep_channel"], 1);
    app.stop().await;
}

#[tokio::test]
async fn call_bad_rep_channel_returns_422() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let path = format!("/api/v1/calls?{CONSENT}&rep_channel=2");
    let request = app.post_body(&path, Some(&token), "audio/wav", fixture(SPEECH));
    let (status, body) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&body, "invalid_input");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("\"2\""),
        "{body}"
    );
    assert_eq!(app.store().count_queued_jobs().await.expect("count"), 0);
    app.stop().await;
}
