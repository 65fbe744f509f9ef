//! Monthly reviews: a rep's scored answers of the month against the top
//! sellers', as JSON or HTML, guarded by reach rules.

use callcoach::audio::vad::SpeechRegion;
use callcoach::knowledge::Corpus;
use callcoach::language::Language;
use callcoach::scoring::{score_answer, ScoreOptions};
use callcoach::store::drills::NewDrillAttempt;
use callcoach::store::users::{NewUser, Role};
use callcoach::store::{Score, UserId};
use callcoach::transcribe::{Segment, Transcript, Word};
use reqwest::StatusCode;

use crate::helpers::{assert_error, json, TestApp};

const SCENARIO: &str = "price_too_expensive";
/// Length of each word of a generated answer, in milliseconds.
const WORD_MS: u64 = 300;

fn current_month() -> String {
    let today = callcoach::store::now().date();
    format!("{:04}-{:02}", today.year(), u8::from(today.month()))
}

/// Builds a transcript of the first English example of the scenario's
/// first strategy, spoken from `onset_ms` at one word per `WORD_MS`.
fn example_answer(corpus: &Corpus, onset_ms: u64) -> (Transcript, Vec<SpeechRegion>) {
    let scenario = corpus.scenario(SCENARIO).expect("bundled scenario");
    let example = scenario.strategies[0]
        .examples
        .iter()
        .find(|e| e.lang == Language::En)
        .expect("English example");
    let words: Vec<Word> = example
        .text
        .split_whitespace()
        .enumerate()
        .map(|(i, text)| Word {
            start_ms: onset_ms + i as u64 * WORD_MS,
            end_ms: onset_ms + (i as u64 + 1) * WORD_MS,
            text: text.to_string(),
            probability: 0.9,
        })
        .collect();
    let end_ms = words.last().map_or(onset_ms, |w| w.end_ms);
    let transcript = Transcript {
        language: "en".to_string(),
        duration_ms: end_ms + 500,
        no_speech: false,
        text: example.text.clone(),
        segments: vec![Segment {
            start_ms: onset_ms,
            end_ms,
            text: example.text.clone(),
            words,
        }],
    };
    let speech = vec![SpeechRegion {
        start_ms: onset_ms,
        end_ms,
    }];
    (transcript, speech)
}

/// Scores a generated answer of `rep` with the real scorer and stores it
/// as a drill attempt of today.
async fn store_scored_answer(app: &TestApp, rep: &UserId, onset_ms: u64) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = Corpus::load(&root.join("corpus")).expect("bundled corpus loads");
    let scenario = corpus.scenario(SCENARIO).expect("bundled scenario");
    let (transcript, speech) = example_answer(&corpus, onset_ms);
    let options = ScoreOptions {
        language: Some(Language::En),
        ..ScoreOptions::default()
    };
    let score = score_answer(scenario, &transcript, &speech, &options).expect("answer scores");
    let new = NewDrillAttempt {
        rep_id: rep.clone(),
        scenario_id: SCENARIO.to_string(),
        drill_date: callcoach::store::now().date(),
        language: Language::En,
        audio_sha256: None,
    };
    let attempt = app
        .store()
        .create_drill_attempt(&new)
        .await
        .expect("attempt");
    let overall = Score::new(score.overall.score).expect("overall score");
    let json = serde_json::to_value(&score).expect("score JSON");
    app.store()
        .record_drill_result(&attempt.id, &json, overall, &[])
        .await
        .expect("drill result");
}

/// Seeds a top seller in team South with an answer at 800 ms, and the
/// North rep with an answer at 3000 ms and one placeholder result.
async fn seed_answers(app: &TestApp) {
    let new = NewUser {
        team_id: app.users.south_rep.team.clone(),
        email: "star@example.com".to_string(),
        display_name: "star".to_string(),
        role: Role::Rep,
    };
    let star = app
        .store()
        .create_user_with_top_seller(&new, true)
        .await
        .expect("top seller");
    store_scored_answer(app, &star.id, 800).await;
    store_scored_answer(app, &app.users.rep.id, 3000).await;
    app.scored_attempt(&app.users.rep.id, 50.0).await;
}

fn assert_near(actual: &serde_json::Value, expected: f64, label: &str) {
    let value = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{label} is not a number: {actual}"));
    assert!(
        (value - expected).abs() < 0.05,
        "{label}: expected {expected}, got {value}"
    );
}

#[tokio::test]
async fn review_json_compares_with_top_sellers() {
    let app = crate::helpers::spawn_app().await;
    seed_answers(&app).await;
    let rep = &app.users.rep;

    let path = format!(
        "/api/v1/reps/{}/reviews/monthly?month={}",
        rep.id,
        current_month()
    );
    let (status, body) = json(
        app.get(&path, Some(&app.users.coach.token))
            .send()
            .await
            .expect("sent"),
    )
    .await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["rep_id"], rep.id.to_string());
    let scenario = &body["scenarios"][0];
    assert_eq!(scenario["scenario_id"], SCENARIO);
    assert_eq!(
        scenario["rep"]["responses"], 1,
        "placeholder result is skipped"
    );
    assert_near(&scenario["rep"]["mean_latency_s"], 3.0, "rep latency");
    assert_eq!(scenario["top_sellers"]["responses"], 1);
    assert_near(
        &scenario["top_sellers"]["mean_latency_s"],
        0.8,
        "top-seller latency",
    );
    let coverage = scenario["rep"]["coverage"].as_f64().expect("coverage");
    assert!(
        coverage > 0.0,
        "the example answer matches key phrases: {coverage}"
    );
    app.stop().await;
}

#[tokio::test]
async fn review_html_is_a_page() {
    let app = crate::helpers::spawn_app().await;
    seed_answers(&app).await;
    let rep = &app.users.rep;

    let path = format!(
        "/api/v1/reps/{}/reviews/monthly?month={}&format=html",
        rep.id,
        current_month()
    );
    let response = app.get(&path, Some(&rep.token)).send().await.expect("sent");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let page = response.text().await.expect("body");

    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("Top sellers"));
    assert!(page.contains("</html>"));
    app.stop().await;
}

#[tokio::test]
async fn review_of_other_team_returns_403() {
    let app = crate::helpers::spawn_app().await;

    let path = format!(
        "/api/v1/reps/{}/reviews/monthly?month={}",
        app.users.rep.id,
        current_month()
    );
    let coach = app.get(&path, Some(&app.users.south_coach.token));
    let (status, body) = json(coach.send().await.expect("sent")).await;
    let peer = app.get(&path, Some(&app.users.south_rep.token));
    let (peer_status, _) = json(peer.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "forbidden");
    assert_eq!(peer_status, StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn review_bad_month_returns_422() {
    let app = crate::helpers::spawn_app().await;
    let rep = &app.users.rep;

    for query in ["?month=2025-13", "?month=2025-3", "?month=march", ""] {
        let path = format!("/api/v1/reps/{}/reviews/monthly{query}", rep.id);
        let (status, body) =
            json(app.get(&path, Some(&rep.token)).send().await.expect("sent")).await;

        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {body}");
        assert_error(&body, "invalid_input");
    }
    app.stop().await;
}

#[tokio::test]
async fn review_of_a_coach_returns_404() {
    let app = crate::helpers::spawn_app().await;
    let path = format!(
        "/api/v1/reps/{}/reviews/monthly?month={}",
        app.users.coach.id,
        current_month()
    );

    let request = app.get(&path, Some(&app.users.manager.token));
    let (status, body) = json(request.send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("not a rep"),
        "{body}"
    );
    app.stop().await;
}
