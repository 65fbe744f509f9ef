//! Audio playback routes, the caller's account and team records: each
//! route answers its caller, rejects a missing token with 401, a caller of
//! another team with 403 and an unknown id with 404.

use reqwest::StatusCode;

use callcoach::store::drills::NewDrillAttempt;
use callcoach::store::{DrillAttemptId, UserId};

use crate::helpers::{assert_error, fixture, json, spawn_app, TestApp};

const SNIPPET: &str = "/api/v1/scenarios/price_too_expensive/audio";

async fn attempt_with_audio(app: &TestApp, rep: &UserId) -> String {
    let stored = app
        .store()
        .put_audio(fixture("vad_gap1200_en.wav"), Some("wav"))
        .await
        .expect("audio");
    let new = NewDrillAttempt {
        rep_id: rep.clone(),
        scenario_id: "price_too_expensive".to_string(),
        drill_date: callcoach::store::now().date(),
        language: callcoach::language::Language::En,
        audio_sha256: Some(stored.sha256),
    };
    let attempt = app.store().create_drill_attempt(&new).await;
    attempt.expect("attempt").id.to_string()
}

async fn wav_of(response: reqwest::Response) -> (StatusCode, String, Vec<u8>) {
    let status = response.status();
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .to_string();
    let bytes = response.bytes().await.expect("body").to_vec();
    (status, kind, bytes)
}

fn wav_duration_ms(bytes: &[u8]) -> u64 {
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).expect("wav");
    u64::from(reader.duration()) * 1000 / u64::from(reader.spec().sample_rate)
}

#[tokio::test]
async fn snippet_parts_are_cut_wavs() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();
    let query = "strategy=total_cost&lang=en";

    let customer = app.get(&format!("{SNIPPET}?{query}&part=customer"), Some(&token));
    let (status, kind, customer) = wav_of(customer.send().await.expect("sent")).await;
    let answer = app.get(&format!("{SNIPPET}?{query}&part=answer"), Some(&token));
    let (_, _, answer) = wav_of(answer.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind, "audio/wav");
    let (customer_ms, answer_ms) = (wav_duration_ms(&customer), wav_duration_ms(&answer));
    assert!(
        customer_ms > 500 && customer_ms < 10_000,
        "customer {customer_ms} ms"
    );
    assert!(answer_ms > customer_ms, "answer {answer_ms} ms");
    app.stop().await;
}

#[tokio::test]
async fn snippet_accepts_access_token_query() {
    let app = spawn_app().await;
    let path = format!(
        "{SNIPPET}?part=customer&access_token={}",
        app.users.rep.token
    );

    let (status, kind, bytes) = wav_of(app.get(&path, None).send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind, "audio/wav");
    assert_eq!(&bytes[..4], b"RIFF");
    app.stop().await;
}

#[tokio::test]
async fn snippet_errors_name_the_problem() {
    let app = spawn_app().await;
    let token = app.users.rep.token.clone();

    let (anonymous, _) = json(app.get(SNIPPET, None).send().await.expect("sent")).await;
    let bad_token = format!("{SNIPPET}?access_token=nope");
    let (forged, _) = json(app.get(&bad_token, None).send().await.expect("sent")).await;
    let unknown = "/api/v1/scenarios/no_such_scenario/audio";
    let (missing, body) = json(app.get(unknown, Some(&token)).send().await.expect("sent")).await;
    let strategy = format!("{SNIPPET}?strategy=nope");
    let (no_strategy, _) = json(app.get(&strategy, Some(&token)).send().await.expect("sent")).await;
    let part = format!("{SNIPPET}?part=middle");
    let (bad_part, _) = json(app.get(&part, Some(&token)).send().await.expect("sent")).await;

    assert_eq!(anonymous, StatusCode::UNAUTHORIZED);
    assert_eq!(forged, StatusCode::UNAUTHORIZED);
    assert_eq!(missing, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
    assert_eq!(no_strategy, StatusCode::NOT_FOUND);
    assert_eq!(bad_part, StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}

#[tokio::test]
async fn attempt_audio_follows_reach_rules() {
    let app = spawn_app().await;
    let id = attempt_with_audio(&app, &app.users.rep.id).await;
    let path = format!("/api/v1/drills/attempts/{id}/audio");
    let own = format!("{path}?access_token={}", app.users.rep.token);

    let (own_status, kind, bytes) = wav_of(app.get(&own, None).send().await.expect("sent")).await;
    let coach = app.get(&path, Some(&app.users.coach.token)).send().await;
    let outsider = app
        .get(&path, Some(&app.users.south_coach.token))
        .send()
        .await;
    let anonymous = app.get(&path, None).send().await;

    assert_eq!(own_status, StatusCode::OK);
    assert_eq!(kind, "audio/wav");
    assert_eq!(bytes, fixture("vad_gap1200_en.wav"));
    assert_eq!(coach.expect("sent").status(), StatusCode::OK);
    assert_eq!(outsider.expect("sent").status(), StatusCode::FORBIDDEN);
    assert_eq!(anonymous.expect("sent").status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn unknown_attempt_audio_returns_404() {
    let app = spawn_app().await;
    let path = format!(
        "/api/v1/drills/attempts/{}/audio",
        DrillAttemptId::generate()
    );

    let (status, body) = json(
        app.get(&path, Some(&app.users.admin.token))
            .send()
            .await
            .expect("sent"),
    )
    .await;

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
    app.stop().await;
}

#[tokio::test]
async fn call_audio_follows_reach_rules() {
    let app = spawn_app().await;
    let id = app.stored_call(&app.users.rep.id).await;
    let path = format!("/api/v1/calls/{id}/audio");

    let manager = app.get(&path, Some(&app.users.manager.token)).send().await;
    let (status, kind, bytes) = wav_of(manager.expect("sent")).await;
    let outsider = app
        .get(&path, Some(&app.users.south_rep.token))
        .send()
        .await;
    let anonymous = app.get(&path, None).send().await;
    let unknown = app.get(
        "/api/v1/calls/call_0000/audio",
        Some(&app.users.admin.token),
    );

    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind, "audio/wav");
    assert_eq!(bytes, fixture("vad_gap1200_en.wav"));
    assert_eq!(outsider.expect("sent").status(), StatusCode::FORBIDDEN);
    assert_eq!(anonymous.expect("sent").status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        unknown.send().await.expect("sent").status(),
        StatusCode::NOT_FOUND
    );
    app.stop().await;
}

#[tokio::test]
async fn me_returns_role_and_team() {
    let app = spawn_app().await;

    let (status, body) = json(
        app.get("/api/v1/me", Some(&app.users.coach.token))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    let (admin_status, admin) = json(
        app.get("/api/v1/me", Some(&app.users.admin.token))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    let (anonymous, _) = json(app.get("/api/v1/me", None).send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], app.users.coach.id.to_string());
    assert_eq!(body["name"], "coach");
    assert_eq!(body["role"], "coach");
    assert_eq!(body["team_name"], "North");
    assert_eq!(admin_status, StatusCode::OK);
    assert!(admin["team_id"].is_null());
    assert_eq!(anonymous, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn team_records_list_newest_first() {
    let app = spawn_app().await;
    let older = app.scored_attempt(&app.users.rep.id, 40.0).await;
    let newer = app.scored_attempt(&app.users.rep.id, 80.0).await;
    app.scored_attempt(&app.users.south_rep.id, 60.0).await;
    let team = app.users.coach.team.clone().expect("team");
    let path = format!("/api/v1/teams/{team}/records?kind=drill&limit=10");

    let (status, body) = json(
        app.get(&path, Some(&app.users.coach.token))
            .send()
            .await
            .expect("sent"),
    )
    .await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let records = body.as_array().expect("array");
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["id"], newer);
    assert_eq!(records[1]["id"], older);
    assert_eq!(records[0]["rep_name"], "rep");
    assert_eq!(records[0]["scenario_id"], "price_too_expensive");
    assert!((records[0]["overall_score"].as_f64().expect("score") - 80.0).abs() < 1e-9);
    app.stop().await;
}

#[tokio::test]
async fn team_records_reject_outsiders() {
    let app = spawn_app().await;
    let team = app.users.coach.team.clone().expect("team");
    let path = format!("/api/v1/teams/{team}/records");

    let outsider = app
        .get(&path, Some(&app.users.south_coach.token))
        .send()
        .await;
    let rep = app.get(&path, Some(&app.users.rep.token)).send().await;
    let anonymous = app.get(&path, None).send().await;
    let unknown = app.get(
        "/api/v1/teams/team_0000/records",
        Some(&app.users.admin.token),
    );
    let bad_kind = app.get(&format!("{path}?kind=memo"), Some(&app.users.admin.token));

    assert_eq!(outsider.expect("sent").status(), StatusCode::FORBIDDEN);
    assert_eq!(rep.expect("sent").status(), StatusCode::FORBIDDEN);
    assert_eq!(anonymous.expect("sent").status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        unknown.send().await.expect("sent").status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        bad_kind.send().await.expect("sent").status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    app.stop().await;
}
