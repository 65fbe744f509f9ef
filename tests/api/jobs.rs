//! Transcription jobs: uploads, bad uploads, the queue limit, access by
//! role and team, waiting for results and resuming after a restart.

use std::time::Duration;

use callcoach::store::jobs::JobStatus;
use callcoach::store::JobId;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;

use crate::helpers::{assert_error, fixture, json, model_path, spawn_app, spawn_with, Options};

const SPEECH: &str = "vad_gap1200_en.wav";

#[tokio::test]
async fn upload_returns_202_with_queued_job() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let response = app.upload_transcription(&token, "", fixture(SPEECH)).await;

    let location = response.headers()["location"]
        .to_str()
        .expect("text")
        .to_string();
    let (status, body) = json(response).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body["status"], "queued");
    let id = body["id"].as_str().expect("job id");
    assert_eq!(location, format!("/api/v1/transcriptions/{id}"));
    let job = app
        .store()
        .job(&JobId::parse(id).expect("id"))
        .await
        .expect("job row");
    assert_eq!(job.status, JobStatus::Queued);
    let stored = app
        .store()
        .read_audio(&job.audio_sha256)
        .await
        .expect("audio stored");
    assert_eq!(stored, fixture(SPEECH));
    app.stop().await;
}

#[tokio::test]
async fn multipart_upload_returns_202() {
    let app = spawn_app().await;
    let part = Part::bytes(fixture(SPEECH)).file_name("answer.wav");
    let form = Form::new().part("audio", part).text("language", "en");

    let request = app
        .client
        .post(app.url("/api/v1/transcriptions"))
        .multipart(form);
    let response = request
        .bearer_auth(&app.users.rep.token)
        .send()
        .await
        .expect("sent");
    let (status, body) = json(response).await;

    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "queued");
    app.stop().await;
}

#[tokio::test]
async fn multipart_without_audio_returns_400() {
    let app = spawn_app().await;
    let form = Form::new().text("language", "en");

    let request = app
        .client
        .post(app.url("/api/v1/transcriptions"))
        .multipart(form);
    let response = request
        .bearer_auth(&app.users.rep.token)
        .send()
        .await
        .expect("sent");
    let (status, body) = json(response).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "missing_audio");
    app.stop().await;
}

#[tokio::test]
async fn upload_not_audio_returns_415() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let response = app
        .upload_transcription(&token, "", fixture("not_audio.csv"))
        .await;
    let (status, body) = json(response).await;

    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_error(&body, "unsupported_media_type");
    app.stop().await;
}

#[tokio::test]
async fn upload_empty_body_returns_400() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let response = app.upload_transcription(&token, "", Vec::new()).await;
    let (status, body) = json(response).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "empty_upload");
    app.stop().await;
}

#[tokio::test]
async fn upload_wrong_content_type_returns_415() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    for content_type in ["text/plain", "application/json"] {
        let request = app.post_body(
            "/api/v1/transcriptions",
            Some(&token),
            content_type,
            fixture(SPEECH),
        );
        let (status, body) = json(request.send().await.expect("sent")).await;

        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}");
        assert_error(&body, "unsupported_media_type");
    }
    app.stop().await;
}

#[tokio::test]
async fn upload_too_large_names_limit() {
    let options = Options {
        max_upload_bytes: 100_000,
        ..Options::default()
    };
    let app = spawn_with(options).await;
    let token = app.users.rep.token.clone();

    let response = app.upload_transcription(&token, "", fixture(SPEECH)).await;
    let (status, body) = json(response).await;

    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or("")
            .contains("100000 bytes"),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn upload_too_long_names_limit() {
    let options = Options {
        max_audio_ms: 1000,
        ..Options::default()
    };
    let app = spawn_with(options).await;
    let token = app.users.rep.token.clone();

    let response = app.upload_transcription(&token, "", fixture(SPEECH)).await;
    let (status, body) = json(response).await;

    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        body["detail"].as_str().unwrap_or("").contains("1000 ms"),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test]
async fn upload_too_short_returns_422() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let response = app
        .upload_transcription(&token, "", fixture("too_short_50ms.wav"))
        .await;
    let (status, body) = json(response).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&body, "invalid_audio");
    app.stop().await;
}

#[tokio::test]
async fn upload_unknown_language_returns_422() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let response = app
        .upload_transcription(&token, "?language=fr", fixture(SPEECH))
        .await;
    let (status, body) = json(response).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&body, "invalid_input");
    app.stop().await;
}

#[tokio::test]
async fn full_queue_returns_503_with_retry_after() {
    let options = Options {
        max_queued_jobs: 1,
        ..Options::default()
    };
    let app = spawn_with(options).await;
    let token = app.users.rep.token.clone();
    let first = app.upload_transcription(&token, "", fixture(SPEECH)).await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);

    let second = app.upload_transcription(&token, "", fixture(SPEECH)).await;

    let retry_after = second
        .headers()
        .get("retry-after")
        .expect("Retry-After header");
    assert!(retry_after.to_str().expect("text").parse::<u64>().is_ok());
    let (status, body) = json(second).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_error(&body, "queue_full");
    app.stop().await;
}

async fn queued_job(app: &crate::helpers::TestApp) -> String {
    let token = app.users.rep.token.clone();
    let response = app.upload_transcription(&token, "", fixture(SPEECH)).await;
    let (_, body) = json(response).await;
    body["id"].as_str().expect("job id").to_string()
}

#[tokio::test]
async fn job_status_follows_reach_rules() {
    let app = spawn_app().await;
    let id = queued_job(&app).await;
    let path = format!("/api/v1/transcriptions/{id}");
    let users = app.users.clone();

    let cases = [
        (&users.rep.token, StatusCode::OK),
        (&users.coach.token, StatusCode::OK),
        (&users.manager.token, StatusCode::OK),
        (&users.admin.token, StatusCode::OK),
        (&users.south_rep.token, StatusCode::FORBIDDEN),
        (&users.south_coach.token, StatusCode::FORBIDDEN),
    ];
    for (token, expected) in cases {
        let response = app.get(&path, Some(token)).send().await.expect("sent");
        let (status, body) = json(response).await;

        assert_eq!(status, expected, "{body}");
        if expected == StatusCode::FORBIDDEN {
            assert_error(&body, "forbidden");
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn job_status_without_token_returns_401() {
    let app = spawn_app().await;
    let id = queued_job(&app).await;

    let response = app
        .get(&format!("/api/v1/transcriptions/{id}"), None)
        .send()
        .await;
    let (status, body) = json(response.expect("sent")).await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "unauthorized");
    app.stop().await;
}

#[tokio::test]
async fn upload_without_token_returns_401() {
    let app = spawn_app().await;

    let request = app.post_body("/api/v1/transcriptions", None, "audio/wav", fixture(SPEECH));
    let (status, body) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_error(&body, "unauthorized");
    let queued = app.store().count_queued_jobs().await.expect("count");
    assert_eq!(queued, 0);
    app.stop().await;
}

#[tokio::test]
async fn unknown_job_returns_404() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let path = "/api/v1/transcriptions/job_00000000000000000000000000000000";
    let (status, body) = json(app.get(path, Some(&token)).send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
    app.stop().await;
}

#[tokio::test]
async fn wait_above_maximum_returns_422() {
    let app = spawn_app().await;
    let id = queued_job(&app).await;
    let token = app.users.rep.token.clone();

    let path = format!("/api/v1/transcriptions/{id}?wait_ms=999999999");
    let (status, body) = json(app.get(&path, Some(&token)).send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&body, "invalid_input");
    app.stop().await;
}

#[tokio::test]
async fn wait_returns_transcript_in_time() {
    if model_path().is_none() {
        return;
    }
    let options = Options {
        workers: 1,
        ..Options::default()
    };
    let app = spawn_with(options).await;
    let token = app.users.rep.token.clone();

    let response = app
        .upload_transcription(&token, "?wait_ms=300000", fixture(SPEECH))
        .await;
    let (status, body) = json(response).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "done");
    let text = body["result"]["transcript"]["text"]
        .as_str()
        .unwrap_or("")
        .to_lowercase();
    assert!(text.contains("thanks for calling"), "{text}");
    assert!(text.contains("price"), "{text}");
    app.stop().await;
}

#[tokio::test]
async fn restart_resumes_unfinished_jobs() {
    if model_path().is_none() {
        return;
    }
    let mut app = spawn_app().await;
    let queued = queued_job(&app).await;
    let interrupted = queued_job(&app).await;
    // A claim by a worker that then vanished, as after a crash mid-job.
    let lease = Duration::from_secs(3600);
    let claimed = app
        .store()
        .claim_job("crashed-worker", lease)
        .await
        .expect("claim");
    assert!(
        claimed.is_some(),
        "one job is running under the vanished worker"
    );

    app.restart(Options {
        workers: 2,
        ..Options::default()
    })
    .await;

    let token = app.users.rep.token.clone();
    for id in [&queued, &interrupted] {
        let path = format!("/api/v1/transcriptions/{id}?wait_ms=300000");
        let (status, body) = json(app.get(&path, Some(&token)).send().await.expect("sent")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "done", "{body}");
    }
    app.stop().await;
}
