//! Training tasks close themselves once the rep has scored enough drills in
//! the task's scenario after it was assigned.

use std::path::Path;

use callcoach::language::Language;
use callcoach::store::drills::NewDrillAttempt;
use callcoach::store::training::{NewTrainingTask, TaskStatus};
use callcoach::store::users::{NewUser, Role, User};
use callcoach::store::{now, Score, Store, StoreConfig};
use callcoach::training_store::close_completed_tasks;

async fn open_store(data_dir: &Path) -> Store {
    let config = StoreConfig {
        data_dir: data_dir.to_path_buf(),
        database_url: None,
        max_connections: None,
    };
    Store::open(&config).await.expect("open SQLite store")
}

async fn create_rep(store: &Store) -> User {
    let team = store.create_team("Inside Sales").await.expect("team");
    let new = NewUser {
        team_id: Some(team.id),
        email: "lee@example.com".to_string(),
        display_name: "Lee".to_string(),
        role: Role::Rep,
    };
    store.create_user(&new).await.expect("rep")
}

async fn score_drill(store: &Store, rep: &User, scenario: &str) {
    let attempt = store
        .create_drill_attempt(&NewDrillAttempt {
            rep_id: rep.id.clone(),
            scenario_id: scenario.to_string(),
            drill_date: now().date(),
            language: Language::En,
            audio_sha256: None,
        })
        .await
        .expect("create attempt");
    let result = serde_json::json!({"overall": 70.0});
    let score = Score::new(70.0).expect("score in range");
    store
        .record_drill_result(&attempt.id, &result, score, &[])
        .await
        .expect("store result");
}

#[tokio::test]
async fn task_closes_after_required_drills() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open_store(dir.path()).await;
    let rep = create_rep(&store).await;
    let task = store
        .assign_training_task(&NewTrainingTask {
            rep_id: rep.id.clone(),
            dimension: "objection_handling".to_string(),
            scenario_id: Some("price_too_expensive".to_string()),
            reason: "objection handling averaged 48".to_string(),
            assigned_by: None,
            due_at: None,
        })
        .await
        .expect("assign task");

    score_drill(&store, &rep, "price_too_expensive").await;
    score_drill(&store, &rep, "budget_not_approved").await;
    score_drill(&store, &rep, "price_too_expensive").await;
    let after_two = close_completed_tasks(&store, &rep.id, 3, now())
        .await
        .expect("check tasks");
    score_drill(&store, &rep, "price_too_expensive").await;
    let after_three = close_completed_tasks(&store, &rep.id, 3, now())
        .await
        .expect("check tasks");

    assert!(after_two.is_empty(), "closed after two matching drills");
    assert_eq!(after_three.len(), 1);
    assert_eq!(after_three[0].id, task.id);
    let stored = store.training_task(&task.id).await.expect("task");
    assert_eq!(stored.status, TaskStatus::Done);
}
