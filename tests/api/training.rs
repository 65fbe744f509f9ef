//! Training tasks: coaches assign and close them, reps read their own.

use reqwest::StatusCode;
use serde_json::json as body;

use crate::helpers::{assert_error, json, spawn_app};

fn task_body() -> serde_json::Value {
    body!({"dimension": "objection_handling", "reason": "price objections stall", "scenario_id": "price_too_expensive"})
}

#[tokio::test]
async fn coach_assigns_and_closes_task() {
    let app = spawn_app().await;
    let path = format!("/api/v1/reps/{}/training-tasks", app.users.rep.id);
    let coach = app.users.coach.token.clone();

    let response = app
        .post_json(&path, Some(&coach), &task_body())
        .send()
        .await;
    let (status, task) = json(response.expect("sent")).await;

    assert_eq!(status, StatusCode::CREATED, "{task}");
    assert_eq!(task["status"], "open");
    let rep = app.users.rep.token.clone();
    let (status, list) = json(app.get(&path, Some(&rep)).send().await.expect("sent")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    let close = format!(
        "/api/v1/training-tasks/{}/close",
        task["id"].as_str().expect("id")
    );
    let done = body!({"status": "done"});
    let (status, closed) = json(
        app.post_json(&close, Some(&coach), &done)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(closed["status"], "done");
    let (status, again) = json(
        app.post_json(&close, Some(&coach), &done)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&again, "invalid_input");
    app.stop().await;
}

#[tokio::test]
async fn task_assignment_denied_outside_reach() {
    let app = spawn_app().await;
    let path = format!("/api/v1/reps/{}/training-tasks", app.users.rep.id);
    let users = app.users.clone();

    for token in [&users.rep.token, &users.south_coach.token] {
        let response = app.post_json(&path, Some(token), &task_body()).send().await;
        let (status, body) = json(response.expect("sent")).await;

        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_error(&body, "forbidden");
    }
    let response = app.post_json(&path, None, &task_body()).send().await;
    assert_eq!(response.expect("sent").status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn task_list_denied_to_other_rep() {
    let app = spawn_app().await;
    let path = format!("/api/v1/reps/{}/training-tasks", app.users.rep.id);

    let response = app
        .get(&path, Some(&app.users.south_rep.token))
        .send()
        .await;
    let (status, body) = json(response.expect("sent")).await;

    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "forbidden");
    app.stop().await;
}

#[tokio::test]
async fn task_unknown_dimension_returns_422() {
    let app = spawn_app().await;
    let path = format!("/api/v1/reps/{}/training-tasks", app.users.rep.id);
    let request = body!({"dimension": "juggling", "reason": "r"});

    let response = app
        .post_json(&path, Some(&app.users.coach.token), &request)
        .send()
        .await;
    let (status, body) = json(response.expect("sent")).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&body, "invalid_input");
    app.stop().await;
}

#[tokio::test]
async fn task_list_unknown_rep_returns_404() {
    let app = spawn_app().await;

    let path = "/api/v1/reps/user_00000000000000000000000000000000/training-tasks";
    let response = app.get(path, Some(&app.users.admin.token)).send().await;
    let (status, body) = json(response.expect("sent")).await;

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
    app.stop().await;
}

/// Stores one sample per score in the objection-handling dimension: drill
/// samples, or call samples on one stored call each.
pub(crate) async fn objection_samples(
    app: &crate::helpers::TestApp,
    rep: &callcoach::store::UserId,
    scores: &[f64],
    from_calls: bool,
) {
    use callcoach::language::Language;
    use callcoach::store::drills::NewDrillAttempt;
    use callcoach::store::scores::NewScoreSample;
    use callcoach::store::{CallId, Score};

    for &value in scores {
        let score = Score::new(value).expect("score in 0-100");
        let sample = NewScoreSample {
            scenario_id: "price_too_expensive".to_string(),
            dimension: "objection_handling".to_string(),
            score,
        };
        let result = serde_json::json!({});
        if from_calls {
            let call = CallId::parse(&app.stored_call(rep).await).expect("call id");
            let scores = [("price_too_expensive".to_string(), score)];
            app.store()
                .record_call_analysis(&call, &result, &scores, &[sample])
                .await
                .expect("call analysis");
        } else {
            let attempt = NewDrillAttempt {
                rep_id: rep.clone(),
                scenario_id: "price_too_expensive".to_string(),
                drill_date: callcoach::store::now().date(),
                language: Language::En,
                audio_sha256: None,
            };
            let attempt = app
                .store()
                .create_drill_attempt(&attempt)
                .await
                .expect("attempt");
            app.store()
                .record_drill_result(&attempt.id, &result, score, &[sample])
                .await
                .expect("drill result");
        }
    }
}

fn assert_near(value: &serde_json::Value, expected: f64, label: &str) {
    let actual = value
        .as_f64()
        .unwrap_or_else(|| panic!("{label} is {value}"));
    assert!(
        (actual - expected).abs() < 1e-6,
        "{label}: {actual}, expected {expected}"
    );
}

#[tokio::test]
async fn remeasurement_compares_calls_with_the_cell_at_assignment() {
    use callcoach::store::users::{NewUser, Role};

    let app = spawn_app().await;
    let rep = app.users.rep.id.clone();
    let star = app
        .store()
        .create_user_with_top_seller(
            &NewUser {
                team_id: app.users.rep.team.clone(),
                email: "star@example.com".to_string(),
                display_name: "star".to_string(),
                role: Role::Rep,
            },
            true,
        )
        .await
        .expect("top seller");
    objection_samples(&app, &rep, &[40.0, 45.0, 50.0], false).await;
    objection_samples(&app, &star.id, &[90.0, 90.0, 90.0], false).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let path = format!("/api/v1/reps/{rep}/training-tasks");
    let coach = app.users.coach.token.clone();
    let response = app
        .post_json(&path, Some(&coach), &task_body())
        .send()
        .await;
    let (status, task) = json(response.expect("sent")).await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    let remeasure = format!(
        "/api/v1/training-tasks/{}/remeasurement",
        task["id"].as_str().expect("id")
    );
    let read = |token: String| {
        let request = app.get(&remeasure, Some(&token));
        async move { json(request.send().await.expect("sent")).await }
    };

    let (status, early) = read(app.users.rep.token.clone()).await;
    assert_eq!(status, StatusCode::OK, "{early}");
    assert_eq!(early["outcome"], "insufficient_calls");
    assert_near(&early["score_before"], 45.0, "score before");
    assert_near(&early["gap_before"], 45.0, "gap before");

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    objection_samples(&app, &rep, &[80.0, 80.0, 80.0], true).await;
    let (status, after) = read(coach.clone()).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(after["outcome"], "narrowed", "{after}");
    assert_eq!(after["call_samples"], 3);
    assert_near(&after["score_after"], 80.0, "score after");
    assert_near(&after["gap_after"], 10.0, "gap after");

    let (status, denied) = read(app.users.south_coach.token.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{denied}");
    let unknown = "/api/v1/training-tasks/00000000-0000-0000-0000-000000000000/remeasurement";
    let response = app.get(unknown, Some(&coach)).send().await;
    let (status, _) = json(response.expect("sent")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await;
}
