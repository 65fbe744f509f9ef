//! Team heatmaps in every format, for coaches, managers and admins only.

use reqwest::StatusCode;

use crate::helpers::{assert_error, json, spawn_app, TestApp};

fn heatmap_path(app: &TestApp, query: &str) -> String {
    let team = app.users.rep.team.as_ref().expect("rep has a team");
    format!("/api/v1/teams/{team}/heatmap{query}")
}

#[tokio::test]
async fn heatmap_json_has_rep_rows() {
    let app = spawn_app().await;
    for score in [60.0, 70.0, 80.0] {
        app.scored_attempt(&app.users.rep.id, score).await;
    }
    let token = app.users.coach.token.clone();

    let path = heatmap_path(&app, "?format=json");
    let (status, body) = json(app.get(&path, Some(&token)).send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let reps = body["reps"].as_array().expect("reps");
    assert_eq!(reps.len(), 1);
    let cell = body["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .find(|c| c["dimension"] == "objection_handling")
        .expect("objection handling cell");
    assert_eq!(cell["status"], "measured");
    let score = cell["score"].as_f64().expect("score");
    assert!((score - 70.0).abs() < 1e-6, "{score}");
    app.stop().await;
}

#[tokio::test]
async fn heatmap_renders_svg_png_xlsx() {
    let app = spawn_app().await;
    app.scored_attempt(&app.users.rep.id, 65.0).await;
    let token = app.users.manager.token.clone();

    let cases = [
        ("svg", "image/svg+xml", b"<svg".to_vec()),
        ("png", "image/png", b"\x89PNG".to_vec()),
        ("xlsx", "application/vnd.openxmlformats", b"PK".to_vec()),
    ];
    for (format, content_type, magic) in cases {
        let path = heatmap_path(&app, &format!("?format={format}"));
        let response = app.get(&path, Some(&token)).send().await.expect("sent");

        assert_eq!(response.status(), StatusCode::OK, "{format}");
        let header = response.headers()["content-type"]
            .to_str()
            .expect("text")
            .to_string();
        assert!(header.starts_with(content_type), "{format}: {header}");
        let bytes = response.bytes().await.expect("body");
        let start = bytes
            .windows(magic.len())
            .position(|w| w == magic.as_slice());
        assert!(
            start.is_some_and(|p| p < 64),
            "{format} body starts with its magic"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn heatmap_denied_outside_reach() {
    let app = spawn_app().await;
    let path = heatmap_path(&app, "");
    let users = app.users.clone();

    let cases = [
        (Some(&users.rep.token), StatusCode::FORBIDDEN),
        (Some(&users.south_coach.token), StatusCode::FORBIDDEN),
        (Some(&users.admin.token), StatusCode::OK),
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
async fn heatmap_bad_format_returns_422() {
    let app = spawn_app().await;
    let token = app.users.coach.token.clone();

    let path = heatmap_path(&app, "?format=gif");
    let (status, body) = json(app.get(&path, Some(&token)).send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_error(&body, "invalid_input");
    app.stop().await;
}

#[tokio::test]
async fn heatmap_unknown_team_returns_404() {
    let app = spawn_app().await;
    let token = app.users.admin.token.clone();

    let path = "/api/v1/teams/team_00000000000000000000000000000000/heatmap";
    let (status, body) = json(app.get(path, Some(&token)).send().await.expect("sent")).await;

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
    app.stop().await;
}
