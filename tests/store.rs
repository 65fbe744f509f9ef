//! Store tests. Each test runs on a temporary SQLite file, and again on
//! PostgreSQL when `CALLCOACH_TEST_POSTGRES_URL` is set (each test there gets
//! its own schema). `scripts/start-test-postgres.sh` starts a local server
//! and prints a URL for that variable.

use std::collections::HashSet;
use std::time::Duration;

use callcoach::language::Language;
use callcoach::store::audio_blobs::AudioSha256;
use callcoach::store::calls::{Consent, ConsentMethod, NewCall, RepChannel};
use callcoach::store::checkpoints::CheckpointEvaluation;
use callcoach::store::drills::NewDrillAttempt;
use callcoach::store::jobs::{JobStatus, NewJob, SubjectKind};
use callcoach::store::overrides::{NewOverride, OverrideChange};
use callcoach::store::permissions::{PermissionAction, PermissionChange};
use callcoach::store::scores::{NewScoreSample, SampleFilter};
use callcoach::store::training::{NewTrainingTask, TaskStatus};
use callcoach::store::users::{hash_token, NewUser, Role, User};
use callcoach::store::{
    now, Backend, CallId, Error, JobId, RecordKind, Score, Store, StoreConfig, TeamId, UserId,
};
use sqlx::Row;
use time::macros::date;
use time::OffsetDateTime;

const POSTGRES_URL_VAR: &str = "CALLCOACH_TEST_POSTGRES_URL";
const LEASE: Duration = Duration::from_secs(60);

/// A store on a fresh database, with its data directory.
struct Context {
    _dir: tempfile::TempDir,
    config: StoreConfig,
    store: Store,
    schema: Option<(String, String)>,
}

impl Context {
    async fn sqlite() -> Context {
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = StoreConfig {
            data_dir: dir.path().join("data"),
            database_url: None,
            max_connections: None,
        };
        let store = Store::open(&config).await.expect("open SQLite store");
        assert_eq!(store.backend(), Backend::Sqlite);
        Context {
            _dir: dir,
            config,
            store,
            schema: None,
        }
    }

    async fn postgres(test: &str) -> Option<Context> {
        let (base_url, schema, url) = postgres_schema(test).await?;
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = StoreConfig {
            data_dir: dir.path().join("data"),
            database_url: Some(url),
            max_connections: Some(8),
        };
        let store = Store::open(&config).await.expect("open PostgreSQL store");
        assert_eq!(store.backend(), Backend::Postgres);
        Some(Context {
            _dir: dir,
            config,
            store,
            schema: Some((base_url, schema)),
        })
    }

    async fn finish(self) {
        self.store.close().await;
        if let Some((base_url, schema)) = self.schema {
            drop_schema(&base_url, &schema).await;
        }
    }
}

/// Creates an empty schema on the test server and returns the server URL,
/// the schema name and a URL whose connections use that schema, or `None`
/// after printing a skip line when no server is configured.
async fn postgres_schema(test: &str) -> Option<(String, String, String)> {
    let Ok(base_url) = std::env::var(POSTGRES_URL_VAR) else {
        println!(
            "skipping {test} on PostgreSQL: {POSTGRES_URL_VAR} is not set \
             (run scripts/start-test-postgres.sh and export its URL)"
        );
        return None;
    };
    let schema = format!("test_{}", hex::encode(rand::random::<[u8; 8]>()));
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&base_url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .expect("create test schema");
    admin.close().await;

    let separator = if base_url.contains('?') { '&' } else { '?' };
    let url = format!("{base_url}{separator}options=-c%20search_path%3D{schema}");
    Some((base_url, schema, url))
}

async fn drop_schema(base_url: &str, schema: &str) {
    let admin = sqlx::AnyPool::connect(base_url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&admin)
        .await
        .expect("drop test schema");
    admin.close().await;
}

/// Defines `NAME::sqlite` and `NAME::postgres` tests that run `NAME(&Context)`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    let context = super::Context::sqlite().await;
                    super::$name(&context).await;
                    context.finish().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    let Some(context) = super::Context::postgres(stringify!($name)).await else {
                        return;
                    };
                    super::$name(&context).await;
                    context.finish().await;
                }
            }
        )*
    };
}

on_both_backends!(
    users_tokens_and_roles,
    duplicate_user_is_conflict,
    job_enqueue_claim_complete,
    concurrent_claimers_never_share_jobs,
    running_jobs_requeue_after_crash,
    job_attempts_end_in_failure,
    audio_blobs_are_content_addressed,
    damaged_audio_is_not_returned,
    overrides_keep_original_result,
    score_samples_window_query,
    permissions_write_audit_log,
    checkpoint_status_keeps_counted_calls,
    training_tasks_allow_one_open,
    draw_history_is_all_or_nothing,
    call_requires_consent_note,
    migrations_apply_once,
    token_last_used_written_once_a_minute,
    top_seller_flag_round_trips,
    call_rep_channel_round_trips,
    transcription_job_kind_round_trips,
);

async fn make_team(store: &Store, name: &str) -> TeamId {
    store.create_team(name).await.expect("create team").id
}

async fn make_user(store: &Store, team: &TeamId, email: &str, role: Role) -> User {
    let new = NewUser {
        team_id: Some(team.clone()),
        email: email.to_string(),
        display_name: email.split('@').next().unwrap_or("user").to_string(),
        role,
    };
    store.create_user(&new).await.expect("create user")
}

async fn make_job(store: &Store, seed: &str) -> callcoach::store::jobs::Job {
    let audio = store
        .put_audio(seed.as_bytes().to_vec(), Some("wav"))
        .await
        .expect("put audio");
    let new = NewJob {
        audio_sha256: audio.sha256,
        subject_kind: SubjectKind::Drill,
        subject_id: format!("drill_{seed}"),
        language: Some(Language::En),
        max_attempts: 3,
    };
    store.enqueue_job(&new).await.expect("enqueue job")
}

fn score(value: f64) -> Score {
    Score::new(value).expect("score in range")
}

fn assert_close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-9,
        "expected {expected}, got {actual}"
    );
}

async fn users_tokens_and_roles(context: &Context) {
    let store = &context.store;
    let team = make_team(store, "North").await;
    let rep = make_user(store, &team, "Rep.One@Example.com", Role::Rep).await;

    let issued = store
        .issue_token(&rep.id, "laptop", None)
        .await
        .expect("issue token");
    let row = sqlx::query("SELECT token_sha256 FROM api_tokens WHERE id = $1")
        .bind(issued.id.as_str())
        .fetch_one(store.pool())
        .await
        .expect("token row");
    let stored: String = row.try_get("token_sha256").expect("hash column");

    assert_eq!(stored, hash_token(issued.token.expose()));
    assert_ne!(stored, issued.token.expose());
    assert_eq!(rep.email, "rep.one@example.com");
    assert_eq!(rep.role, Role::Rep);
    let found = store
        .authenticate(issued.token.expose())
        .await
        .expect("authenticate");
    assert_eq!(found.map(|u| u.id), Some(rep.id.clone()));
    assert!(store
        .authenticate("cc_wrong")
        .await
        .expect("authenticate")
        .is_none());
    let members = store.team_members(&team).await.expect("team members");
    assert_eq!(members.len(), 1);

    let expired = store
        .issue_token(&rep.id, "old", Some(now() - Duration::from_secs(1)))
        .await
        .expect("issue expired token");
    assert!(store
        .authenticate(expired.token.expose())
        .await
        .expect("auth")
        .is_none());
    store.revoke_token(&issued.id).await.expect("revoke");
    assert!(store
        .authenticate(issued.token.expose())
        .await
        .expect("auth")
        .is_none());
    let other = store
        .issue_token(&rep.id, "phone", None)
        .await
        .expect("issue token");
    store.disable_user(&rep.id).await.expect("disable");
    assert!(store
        .authenticate(other.token.expose())
        .await
        .expect("auth")
        .is_none());
}

async fn duplicate_user_is_conflict(context: &Context) {
    let store = &context.store;
    let team = make_team(store, "South").await;
    make_user(store, &team, "coach@example.com", Role::Coach).await;

    let again = NewUser {
        team_id: Some(team.clone()),
        email: "COACH@example.com".to_string(),
        display_name: "Other".to_string(),
        role: Role::Rep,
    };
    let duplicate = store.create_user(&again).await;
    let unknown_team = NewUser {
        team_id: Some(TeamId::generate()),
        ..again.clone()
    };
    let missing_team = store
        .create_user(&NewUser {
            email: "new@example.com".to_string(),
            ..unknown_team
        })
        .await;

    assert!(
        matches!(duplicate, Err(Error::Conflict { .. })),
        "got {duplicate:?}"
    );
    assert!(
        matches!(missing_team, Err(Error::Invalid { .. })),
        "got {missing_team:?}"
    );
    assert!(matches!(
        store.create_team("South").await,
        Err(Error::Conflict { .. })
    ));
    assert!(matches!(
        store.user(&UserId::generate()).await,
        Err(Error::NotFound { .. })
    ));
}

async fn job_enqueue_claim_complete(context: &Context) {
    let store = &context.store;
    let job = make_job(store, "job-one").await;
    assert_eq!(job.status, JobStatus::Queued);
    assert_eq!(store.count_queued_jobs().await.expect("count"), 1);

    let claimed = store
        .claim_job("worker-a", LEASE)
        .await
        .expect("claim")
        .expect("a job");
    let none_left = store.claim_job("worker-b", LEASE).await.expect("claim");
    store
        .heartbeat_job(&job.id, "worker-a", LEASE)
        .await
        .expect("heartbeat");
    let stolen = store.heartbeat_job(&job.id, "worker-b", LEASE).await;
    let transcript = serde_json::json!({"text": "hello there", "segments": []});
    store
        .complete_job(&job.id, "worker-a", &transcript)
        .await
        .expect("complete");
    let done = store.job(&job.id).await.expect("job");

    assert_eq!(claimed.id, job.id);
    assert_eq!(claimed.status, JobStatus::Running);
    assert_eq!(claimed.attempts, 1);
    assert!(none_left.is_none());
    assert!(
        matches!(stolen, Err(Error::LeaseLost { .. })),
        "got {stolen:?}"
    );
    assert_eq!(done.status, JobStatus::Done);
    assert_eq!(done.result, Some(transcript));
    assert!(done.finished_at.is_some());
    assert_eq!(store.count_queued_jobs().await.expect("count"), 0);
    let late = store
        .complete_job(&job.id, "worker-a", &serde_json::json!({}))
        .await;
    assert!(matches!(late, Err(Error::LeaseLost { .. })), "got {late:?}");
}

async fn concurrent_claimers_never_share_jobs(context: &Context) {
    const JOBS: usize = 24;
    const WORKERS: usize = 6;
    let store = &context.store;
    for index in 0..JOBS {
        make_job(store, &format!("concurrent-{index}")).await;
    }

    let mut handles = Vec::new();
    for worker in 0..WORKERS {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let name = format!("worker-{worker}");
            let mut claimed = Vec::new();
            while let Some(job) = store.claim_job(&name, LEASE).await.expect("claim") {
                claimed.push(job.id);
                tokio::task::yield_now().await;
            }
            claimed
        }));
    }
    let mut all = Vec::new();
    for handle in handles {
        all.extend(handle.await.expect("claimer task"));
    }
    let unique: HashSet<_> = all.iter().cloned().collect();

    assert_eq!(all.len(), JOBS);
    assert_eq!(unique.len(), JOBS);
    assert_eq!(store.count_queued_jobs().await.expect("count"), 0);
}

async fn running_jobs_requeue_after_crash(context: &Context) {
    let job = make_job(&context.store, "crash").await;
    let claimed = context
        .store
        .claim_job("worker-a", LEASE)
        .await
        .expect("claim");
    assert!(claimed.is_some());
    // The process dies: the pool closes without completing the job.
    context.store.close().await;

    let reopened = Store::open(&context.config).await.expect("reopen store");
    let moved = reopened.requeue_running_jobs().await.expect("requeue");
    let queued = reopened.job(&job.id).await.expect("job");
    let again = reopened
        .claim_job("worker-b", LEASE)
        .await
        .expect("claim")
        .expect("a job");

    assert_eq!(moved, 1);
    assert_eq!(queued.status, JobStatus::Queued);
    assert_eq!(queued.attempts, 1);
    assert_eq!(again.id, job.id);
    assert_eq!(again.attempts, 2);
    assert_eq!(again.worker_id.as_deref(), Some("worker-b"));
    let moved_on_shutdown = reopened
        .requeue_worker_jobs("worker-b")
        .await
        .expect("requeue");
    assert_eq!(moved_on_shutdown, 1);
    reopened.close().await;
}

async fn job_attempts_end_in_failure(context: &Context) {
    let store = &context.store;
    let audio = store
        .put_audio(b"retry".to_vec(), None)
        .await
        .expect("put audio");
    let new = NewJob {
        audio_sha256: audio.sha256,
        subject_kind: SubjectKind::Call,
        subject_id: "call_x".to_string(),
        language: None,
        max_attempts: 2,
    };
    let job = store.enqueue_job(&new).await.expect("enqueue");

    store
        .claim_job("w", LEASE)
        .await
        .expect("claim")
        .expect("first attempt");
    let after_first = store
        .fail_job(&job.id, "w", "decoder error")
        .await
        .expect("fail");
    // A lease of zero expires at once, so another worker may take the job over.
    store
        .claim_job("w", Duration::ZERO)
        .await
        .expect("claim")
        .expect("second attempt");
    tokio::time::sleep(Duration::from_millis(5)).await;
    let taken_over = store.claim_job("other", LEASE).await.expect("claim");
    let failed = store.job(&job.id).await.expect("job");

    assert_eq!(after_first, JobStatus::Queued);
    assert!(
        taken_over.is_none(),
        "a job past its last attempt was claimed again"
    );
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(failed.attempts, 2);
    assert_eq!(failed.error.as_deref(), Some("decoder error"));
    let zero = NewJob {
        max_attempts: 0,
        ..new
    };
    assert!(matches!(
        store.enqueue_job(&zero).await,
        Err(Error::Invalid { .. })
    ));
}

fn temp_files(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in walk(dir) {
        let name = entry
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if name.ends_with(".tmp") {
            found.push(name);
        }
    }
    found
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read directory").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

async fn audio_blobs_are_content_addressed(context: &Context) {
    let store = &context.store;
    let bytes = b"RIFF fake wave bytes for hashing".to_vec();
    let expected = AudioSha256::of(&bytes);

    let first = store
        .put_audio(bytes.clone(), Some(".WAV"))
        .await
        .expect("put audio");
    let second = store
        .put_audio(bytes.clone(), Some("wav"))
        .await
        .expect("put audio again");
    let path = store.audio_files().path_of(&first.sha256);
    let read = store.read_audio(&first.sha256).await.expect("read audio");

    assert_eq!(first.sha256, expected);
    assert_eq!(second, first);
    assert_eq!(first.size_bytes, bytes.len() as u64);
    assert_eq!(first.extension.as_deref(), Some("wav"));
    let audio_dir = context.config.data_dir.join("audio");
    assert_eq!(
        path,
        audio_dir
            .join(&expected.as_str()[..2])
            .join(&expected.as_str()[2..])
    );
    assert_eq!(std::fs::read(&path).expect("read file"), bytes);
    assert_eq!(read, bytes);
    assert!(temp_files(&audio_dir).is_empty());
    assert_eq!(walk(&audio_dir).len(), 1);
    let empty = store.put_audio(Vec::new(), None).await;
    assert!(matches!(empty, Err(Error::Invalid { .. })), "got {empty:?}");
}

async fn damaged_audio_is_not_returned(context: &Context) {
    let store = &context.store;
    let bytes = b"a complete recording".to_vec();
    let sha = AudioSha256::of(&bytes);
    let path = store.audio_files().path_of(&sha);
    let dir = path.parent().expect("blob directory").to_path_buf();
    std::fs::create_dir_all(&dir).expect("create blob directory");
    // A crash in the middle of a write leaves only a temporary file.
    let leftover = dir.join(format!(".{}.0123.tmp", &sha.as_str()[2..]));
    std::fs::write(&leftover, &bytes[..5]).expect("write partial temporary file");

    let missing = store.read_audio(&sha).await;
    std::fs::write(&path, &bytes[..8]).expect("write truncated file");
    let truncated = store.read_audio(&sha).await;
    let repaired = store
        .put_audio(bytes.clone(), None)
        .await
        .expect("put audio");
    let read = store.read_audio(&sha).await.expect("read repaired audio");

    assert!(
        matches!(missing, Err(Error::NotFound { .. })),
        "got {missing:?}"
    );
    assert!(
        matches!(truncated, Err(Error::CorruptBlob { .. })),
        "got {truncated:?}"
    );
    assert_eq!(repaired.sha256, sha);
    assert_eq!(read, bytes);
}

async fn overrides_keep_original_result(context: &Context) {
    let store = &context.store;
    let team = make_team(store, "Review").await;
    let rep = make_user(store, &team, "rep@example.com", Role::Rep).await;
    let coach = make_user(store, &team, "coach@example.com", Role::Coach).await;
    let attempt = store
        .create_drill_attempt(&NewDrillAttempt {
            rep_id: rep.id.clone(),
            scenario_id: "price_objection".to_string(),
            drill_date: date!(2024 - 05 - 02),
            language: Language::En,
            audio_sha256: None,
        })
        .await
        .expect("create attempt");
    let result = serde_json::json!({"overall": 62.5, "phrases": [{"id": "p1", "matched": false}]});
    store
        .record_drill_result(&attempt.id, &result, score(62.5), &[])
        .await
        .expect("result");

    let override_of = |change, comment: &str| NewOverride {
        target_kind: RecordKind::Drill,
        target_id: attempt.id.to_string(),
        change,
        comment: comment.to_string(),
        coach_id: coach.id.clone(),
    };
    let phrase = OverrideChange::PhraseMatch {
        phrase_id: "p1".to_string(),
        matched: true,
    };
    store
        .add_override(&override_of(phrase, "said it in other words"))
        .await
        .expect("override");
    let first = OverrideChange::OverallScore { score: score(70.0) };
    store
        .add_override(&override_of(first, "phrase counts"))
        .await
        .expect("override");
    let second = OverrideChange::OverallScore { score: score(85.0) };
    store
        .add_override(&override_of(second, "strong close"))
        .await
        .expect("override");
    let history = store
        .override_history(RecordKind::Drill, attempt.id.as_str())
        .await;
    let history = history.expect("history");
    let effective = store
        .effective_overrides(RecordKind::Drill, attempt.id.as_str())
        .await;
    let effective = effective.expect("effective overrides");
    let stored = store.drill_attempt(&attempt.id).await.expect("attempt");

    assert_eq!(history.len(), 3);
    assert_eq!(
        history.iter().map(|o| o.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(
        history[1].change,
        OverrideChange::OverallScore { score: score(70.0) }
    );
    let Some(overall) = effective.overall_score else {
        panic!("no effective overall score");
    };
    assert_eq!(
        overall.change,
        OverrideChange::OverallScore { score: score(85.0) }
    );
    assert_eq!(overall.comment, "strong close");
    assert!(effective.phrases.contains_key("p1"));
    assert_eq!(stored.result, Some(result));
    assert_close(stored.overall_score.map_or(-1.0, Score::value), 62.5);
    let blank = override_of(OverrideChange::OverallScore { score: score(1.0) }, "  ");
    assert!(matches!(
        store.add_override(&blank).await,
        Err(Error::Invalid { .. })
    ));
    let mut unknown = override_of(OverrideChange::OverallScore { score: score(1.0) }, "x");
    unknown.target_id = "drill_missing".to_string();
    assert!(matches!(
        store.add_override(&unknown).await,
        Err(Error::NotFound { .. })
    ));
}

async fn make_call(store: &Store, rep: &User, recorder: &UserId, at: OffsetDateTime) -> CallId {
    let audio = store
        .put_audio(format!("call at {at}").into_bytes(), Some("mp3"))
        .await
        .expect("put audio");
    let new = NewCall {
        rep_id: rep.id.clone(),
        audio_sha256: audio.sha256,
        language: Some(Language::Zh),
        occurred_at: at,
        consent: Consent {
            recorded_by: recorder.clone(),
            recorded_at: at,
            method: ConsentMethod::VerbalOnRecording,
            note: "consent at 0:00-0:09 of the recording".to_string(),
        },
    };
    store.create_call(&new).await.expect("create call").id
}

fn sample(dimension: &str, value: f64) -> NewScoreSample {
    NewScoreSample {
        scenario_id: "budget_freeze".to_string(),
        dimension: dimension.to_string(),
        score: score(value),
    }
}

async fn score_samples_window_query(context: &Context) {
    let store = &context.store;
    let team = make_team(store, "Heat").await;
    let other_team = make_team(store, "Elsewhere").await;
    let rep = make_user(store, &team, "heat@example.com", Role::Rep).await;
    let outsider = make_user(store, &other_team, "out@example.com", Role::Rep).await;
    let coach = make_user(store, &team, "lead@example.com", Role::Coach).await;
    let day = Duration::from_secs(86_400);
    let start = now() - day * 10;
    let mut calls = Vec::new();
    for offset in [0, 3, 6] {
        calls.push(make_call(store, &rep, &coach.id, start + day * offset).await);
    }
    let outside_call = make_call(store, &outsider, &coach.id, start + day * 3).await;
    for (index, call) in calls.iter().chain([&outside_call]).enumerate() {
        let samples = [
            sample("closing", 50.0 + index as f64),
            sample("value_statement", 40.0),
        ];
        let scores = [("budget_freeze".to_string(), score(45.0))];
        let analysis = serde_json::json!({"call": index});
        store
            .record_call_analysis(call, &analysis, &scores, &samples)
            .await
            .expect("analysis");
    }
    // Rescoring replaces the samples of that call.
    let rescored = [sample("closing", 90.0)];
    let analysis = serde_json::json!({"rescored": true});
    store
        .record_call_analysis(&calls[1], &analysis, &[], &rescored)
        .await
        .expect("rescore");

    let window = SampleFilter {
        rep_id: None,
        team_id: Some(team.clone()),
        from: start + day * 2,
        to: start + day * 7,
    };
    let in_window = store.score_samples(&window).await.expect("samples");
    let for_rep = SampleFilter {
        rep_id: Some(rep.id.clone()),
        team_id: None,
        ..window.clone()
    };
    let rep_samples = store.score_samples(&for_rep).await.expect("samples");
    let exclusive_end = SampleFilter {
        to: start + day * 6,
        ..window.clone()
    };
    let before_end = store.score_samples(&exclusive_end).await.expect("samples");

    assert_eq!(in_window.len(), 3);
    assert_eq!(in_window[0].source_id, calls[1].to_string());
    assert_close(in_window[0].score.value(), 90.0);
    assert!(in_window.iter().all(|s| s.rep_id == rep.id));
    assert!(in_window.iter().all(|s| s.source_kind == RecordKind::Call));
    assert_eq!(rep_samples.len(), 3);
    assert_eq!(before_end.len(), 1);
    let call = store.call(&calls[0]).await.expect("call");
    assert_eq!(call.scenario_scores.len(), 1);
    assert_eq!(call.consent.method, ConsentMethod::VerbalOnRecording);
}

async fn permissions_write_audit_log(context: &Context) {
    let store = &context.store;
    let team = make_team(store, "Unlock").await;
    let rep = make_user(store, &team, "unlock@example.com", Role::Rep).await;
    let change = PermissionChange {
        user_id: rep.id.clone(),
        permission: "real_calls".to_string(),
        rule_id: Some("three_drills_over_70".to_string()),
        actor_id: None,
        reason: "3 drills scored 70 or more".to_string(),
    };

    let granted = store.grant_permission(&change).await.expect("grant");
    let granted_again = store.grant_permission(&change).await.expect("grant again");
    let held = store
        .has_permission(&rep.id, "real_calls")
        .await
        .expect("check");
    let revoked = store.revoke_permission(&change).await.expect("revoke");
    let revoked_again = store
        .revoke_permission(&change)
        .await
        .expect("revoke again");
    let audit = store.permission_audit(&rep.id).await.expect("audit");

    assert!(granted);
    assert!(!granted_again);
    assert!(held);
    assert!(revoked);
    assert!(!revoked_again);
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].action, PermissionAction::Grant);
    assert_eq!(audit[1].action, PermissionAction::Revoke);
    assert_eq!(audit[0].rule_id.as_deref(), Some("three_drills_over_70"));
    assert!(!store
        .has_permission(&rep.id, "real_calls")
        .await
        .expect("check"));
    let stranger = PermissionChange {
        user_id: UserId::generate(),
        ..change
    };
    let result = store.grant_permission(&stranger).await;
    assert!(
        matches!(result, Err(Error::Invalid { .. })),
        "got {result:?}"
    );
    assert!(store
        .user_permissions(&rep.id)
        .await
        .expect("list")
        .is_empty());
}

async fn checkpoint_status_keeps_counted_calls(context: &Context) {
    let store = &context.store;
    let team = make_team(store, "Gate").await;
    let rep = make_user(store, &team, "gate@example.com", Role::Rep).await;
    let first = make_call(store, &rep, &rep.id, now() - Duration::from_secs(60)).await;
    let second = make_call(store, &rep, &rep.id, now() - Duration::from_secs(30)).await;
    let evaluation = |calls: Vec<CallId>| CheckpointEvaluation {
        checkpoint_id: "discovery_basics".to_string(),
        required_calls: 2,
        counted_calls: calls,
    };

    let pending = store
        .save_checkpoint_status(&rep.id, &evaluation(vec![first.clone()]))
        .await;
    let pending = pending.expect("save pending");
    let both = vec![second.clone(), first.clone()];
    let passed = store
        .save_checkpoint_status(&rep.id, &evaluation(both.clone()))
        .await;
    let passed = passed.expect("save passed");
    let again = store
        .save_checkpoint_status(&rep.id, &evaluation(both))
        .await
        .expect("save");
    let bad = store
        .save_checkpoint_status(&rep.id, &evaluation(vec![CallId::generate()]))
        .await;
    let statuses = store.checkpoint_statuses(&rep.id).await.expect("statuses");

    assert!(!pending.passed);
    assert!(pending.passed_at.is_none());
    assert!(passed.passed);
    assert_eq!(passed.counted_calls.len(), 2);
    assert_eq!(again.passed_at, passed.passed_at);
    assert!(matches!(bad, Err(Error::Invalid { .. })), "got {bad:?}");
    assert_eq!(statuses.len(), 1);
    assert_eq!(
        statuses[0].counted_calls.len(),
        2,
        "a failed save changed the status"
    );
}

async fn training_tasks_allow_one_open(context: &Context) {
    let store = &context.store;
    let team = make_team(store, "Practice").await;
    let rep = make_user(store, &team, "practice@example.com", Role::Rep).await;
    let new = NewTrainingTask {
        rep_id: rep.id.clone(),
        dimension: "closing".to_string(),
        scenario_id: None,
        reason: "closing averaged 41 over 7 days".to_string(),
        assigned_by: None,
        due_at: None,
    };

    let task = store.assign_training_task(&new).await.expect("assign");
    let duplicate = store.assign_training_task(&new).await;
    let done = store
        .close_training_task(&task.id, TaskStatus::Done)
        .await
        .expect("close");
    let closed_again = store
        .close_training_task(&task.id, TaskStatus::Cancelled)
        .await;
    let next = store
        .assign_training_task(&new)
        .await
        .expect("assign after close");
    let open = store
        .training_tasks(&rep.id, Some(TaskStatus::Open))
        .await
        .expect("list");
    let all = store.training_tasks(&rep.id, None).await.expect("list");

    assert!(
        matches!(duplicate, Err(Error::Conflict { .. })),
        "got {duplicate:?}"
    );
    assert_eq!(done.status, TaskStatus::Done);
    assert!(done.closed_at.is_some());
    assert!(
        matches!(closed_again, Err(Error::Invalid { .. })),
        "got {closed_again:?}"
    );
    assert_eq!(
        open.iter().map(|t| &t.id).collect::<Vec<_>>(),
        vec![&next.id]
    );
    assert_eq!(all.len(), 2);
}

async fn draw_history_is_all_or_nothing(context: &Context) {
    let store = &context.store;
    let team = make_team(store, "Draw").await;
    let rep = make_user(store, &team, "draw@example.com", Role::Rep).await;
    let ids = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();

    store
        .record_draw(&rep.id, date!(2024 - 06 - 01), &ids(&["a", "b"]))
        .await
        .expect("draw");
    let repeated = store
        .record_draw(&rep.id, date!(2024 - 06 - 02), &ids(&["c", "c"]))
        .await;
    let same_day = store
        .record_draw(&rep.id, date!(2024 - 06 - 01), &ids(&["d"]))
        .await;
    store
        .record_draw(&rep.id, date!(2024 - 06 - 03), &ids(&["e"]))
        .await
        .expect("draw");
    let history = store
        .draw_history(&rep.id, date!(2024 - 06 - 01), date!(2024 - 06 - 30))
        .await
        .expect("history");

    assert!(
        matches!(repeated, Err(Error::Conflict { .. })),
        "got {repeated:?}"
    );
    assert!(
        matches!(same_day, Err(Error::Conflict { .. })),
        "got {same_day:?}"
    );
    assert_eq!(history.len(), 2, "a rejected draw left rows behind");
    assert_eq!(history[0].scenario_ids, ids(&["a", "b"]));
    assert_eq!(history[1].date, date!(2024 - 06 - 03));
}

async fn call_requires_consent_note(context: &Context) {
    let store = &context.store;
    let team = make_team(store, "Consent").await;
    let rep = make_user(store, &team, "consent@example.com", Role::Rep).await;
    let audio = store
        .put_audio(b"call audio".to_vec(), Some("m4a"))
        .await
        .expect("put audio");
    let mut new = NewCall {
        rep_id: rep.id.clone(),
        audio_sha256: audio.sha256,
        language: None,
        occurred_at: now(),
        consent: Consent {
            recorded_by: rep.id.clone(),
            recorded_at: now(),
            method: ConsentMethod::Written,
            note: " ".to_string(),
        },
    };

    let blank = store.create_call(&new).await;
    new.consent.note = "signed form 2024-117".to_string();
    new.consent.recorded_by = UserId::generate();
    let unknown_recorder = store.create_call(&new).await;

    assert!(matches!(blank, Err(Error::Invalid { .. })), "got {blank:?}");
    assert!(
        matches!(unknown_recorder, Err(Error::Invalid { .. })),
        "got {unknown_recorder:?}"
    );
    let window = store
        .rep_calls(&rep.id, now() - Duration::from_secs(3600), now())
        .await;
    assert!(window.expect("calls").is_empty());
}

#[tokio::test]
async fn sqlite_uses_wal_and_busy_timeout() {
    let context = Context::sqlite().await;

    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(context.store.pool())
        .await
        .expect("journal mode");
    let (timeout_ms,): (i64,) = sqlx::query_as("PRAGMA busy_timeout")
        .fetch_one(context.store.pool())
        .await
        .expect("busy timeout");
    let (foreign_keys,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
        .fetch_one(context.store.pool())
        .await
        .expect("foreign keys");

    assert_eq!(mode, "wal");
    assert_eq!(timeout_ms, 5000);
    assert_eq!(foreign_keys, 1);
    assert!(context.config.data_dir.join("callcoach.db").is_file());
    context.finish().await;
}

#[tokio::test]
async fn sqlite_path_with_url_characters_opens() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data_dir = dir.path().join("data 100%?x#y");
    let config = StoreConfig {
        data_dir: data_dir.clone(),
        database_url: None,
        max_connections: None,
    };

    let store = Store::open(&config).await.expect("open store");
    store.create_team("Odd path").await.expect("create team");
    store.close().await;

    assert!(data_dir.join("callcoach.db").is_file());
}

async fn migrations_apply_once(context: &Context) {
    let reopened = Store::open(&context.config).await.expect("reopen store");

    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM schema_migrations")
        .fetch_one(reopened.pool())
        .await
        .expect("count migrations");

    assert_eq!(count, 2);
    reopened.close().await;
}

async fn token_last_used_at(store: &Store, token: &str) -> Option<i64> {
    let row = sqlx::query("SELECT last_used_at FROM api_tokens WHERE token_sha256 = $1")
        .bind(hash_token(token))
        .fetch_one(store.pool())
        .await
        .expect("token row");
    row.try_get("last_used_at").expect("last_used_at column")
}

async fn set_token_last_used_at(store: &Store, token: &str, at_ms: i64) {
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_sha256 = $2")
        .bind(at_ms)
        .bind(hash_token(token))
        .execute(store.pool())
        .await
        .expect("set last_used_at");
}

async fn token_last_used_written_once_a_minute(context: &Context) {
    let store = &context.store;
    let team = make_team(store, "Throttle").await;
    let rep = make_user(store, &team, "throttle@example.com", Role::Rep).await;
    let issued = store
        .issue_token(&rep.id, "laptop", None)
        .await
        .expect("issue token");
    let token = issued.token.expose();
    let now_ms = now().unix_timestamp() * 1000;

    store.authenticate(token).await.expect("first use");
    let first = token_last_used_at(store, token).await;
    set_token_last_used_at(store, token, now_ms - 30_000).await;
    store.authenticate(token).await.expect("use 30 s later");
    let within_minute = token_last_used_at(store, token).await;
    set_token_last_used_at(store, token, now_ms - 61_000).await;
    store.authenticate(token).await.expect("use 61 s later");
    let after_minute = token_last_used_at(store, token).await;

    assert!(
        first.is_some_and(|ms| ms >= now_ms - 1000),
        "first use: {first:?}"
    );
    assert_eq!(
        within_minute,
        Some(now_ms - 30_000),
        "a use within 60 s writes nothing"
    );
    assert!(
        after_minute.is_some_and(|ms| ms >= now_ms - 1000),
        "a use after 60 s writes the time: {after_minute:?}"
    );
}

async fn top_seller_flag_round_trips(context: &Context) {
    let store = &context.store;
    let team = make_team(store, "Sellers").await;
    let plain = make_user(store, &team, "plain@example.com", Role::Rep).await;
    let coach = make_user(store, &team, "seller.coach@example.com", Role::Coach).await;
    let new = NewUser {
        team_id: Some(team.clone()),
        email: "star@example.com".to_string(),
        display_name: "star".to_string(),
        role: Role::Rep,
    };

    let star = store
        .create_user_with_top_seller(&new, true)
        .await
        .expect("create top seller");
    let coach_flag = store.set_top_seller(&coach.id, true).await;
    let promoted = store
        .set_top_seller(&plain.id, true)
        .await
        .expect("promote rep");
    let listed = store.top_sellers().await.expect("list top sellers");
    let demoted = store
        .set_top_seller(&plain.id, false)
        .await
        .expect("demote rep");
    let members = store.team_members(&team).await.expect("team members");

    assert!(star.top_seller);
    assert!(store.user(&star.id).await.expect("reload").top_seller);
    assert!(!plain.top_seller);
    assert!(
        matches!(coach_flag, Err(Error::Invalid { .. })),
        "got {coach_flag:?}"
    );
    assert!(promoted.top_seller);
    let listed_ids: Vec<&UserId> = listed.iter().map(|u| &u.id).collect();
    assert_eq!(listed_ids, vec![&plain.id, &star.id]);
    assert!(!demoted.top_seller);
    assert_eq!(members.iter().filter(|u| u.top_seller).count(), 1);
}

async fn call_rep_channel_round_trips(context: &Context) {
    let store = &context.store;
    let team = make_team(store, "Channels").await;
    let rep = make_user(store, &team, "channels@example.com", Role::Rep).await;
    let audio = store
        .put_audio(b"stereo call".to_vec(), Some("wav"))
        .await
        .expect("put audio");
    let new = NewCall {
        rep_id: rep.id.clone(),
        audio_sha256: audio.sha256,
        language: None,
        occurred_at: now(),
        consent: Consent {
            recorded_by: rep.id.clone(),
            recorded_at: now(),
            method: ConsentMethod::Electronic,
            note: "web form 42".to_string(),
        },
    };

    let default_call = store
        .create_call(&new)
        .await
        .expect("call on default channel");
    let left = RepChannel::new(0).expect("channel 0");
    let left_call = store
        .create_call_on_channel(&new, left)
        .await
        .expect("call on channel 0");

    assert_eq!(default_call.rep_channel, RepChannel::DEFAULT);
    assert_eq!(default_call.rep_channel.index(), 1);
    let reloaded = store.call(&left_call.id).await.expect("reload call");
    assert_eq!(reloaded.rep_channel.index(), 0);
    assert!(RepChannel::new(2).is_err());
    assert!(RepChannel::parse("left").is_err());
    assert_eq!(RepChannel::parse(" 0 ").ok(), Some(left));
}

async fn transcription_job_kind_round_trips(context: &Context) {
    let store = &context.store;
    let team = make_team(store, "Uploads").await;
    let rep = make_user(store, &team, "uploads@example.com", Role::Rep).await;
    let audio = store
        .put_audio(b"plain transcription".to_vec(), Some("wav"))
        .await
        .expect("put audio");
    let new = NewJob {
        audio_sha256: audio.sha256,
        subject_kind: SubjectKind::Transcription,
        subject_id: rep.id.to_string(),
        language: None,
        max_attempts: 1,
    };

    let job = store
        .enqueue_job(&new)
        .await
        .expect("enqueue transcription");
    let claimed = store.claim_job("w", LEASE).await.expect("claim");

    assert_eq!(job.subject_kind, SubjectKind::Transcription);
    assert_eq!(
        claimed.map(|j| (j.id, j.subject_kind)),
        Some((job.id, SubjectKind::Transcription))
    );
}

/// Builds a database at version 1 with rows of every kind that version 2
/// changes, then opens the store so that version 2 runs.
async fn legacy_rows_migrate(config: &StoreConfig) {
    let initial = include_str!("../migrations/0001_initial.sql");
    std::fs::create_dir_all(&config.data_dir).expect("create data directory");
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&config.url().expect("store URL"))
        .await
        .expect("connect to the empty database");
    let checksum = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(initial.as_bytes()));
    sqlx::raw_sql(
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, \
         checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&pool)
    .await
    .expect("create schema_migrations");
    sqlx::query("INSERT INTO schema_migrations VALUES (1, 'initial', $1, 0)")
        .bind(&checksum)
        .execute(&pool)
        .await
        .expect("record version 1");
    sqlx::raw_sql(initial)
        .execute(&pool)
        .await
        .expect("apply version 1");
    let (team, rep, call) = (TeamId::generate(), UserId::generate(), CallId::generate());
    let (standalone, drill) = (JobId::generate(), JobId::generate());
    let sha = "a".repeat(64);
    let statements = [
        format!("INSERT INTO teams VALUES ('{team}', 'Legacy', 0)"),
        format!(
            "INSERT INTO users (id, team_id, email, display_name, role, created_at) \
             VALUES ('{rep}', '{team}', 'legacy@example.com', 'Legacy', 'rep', 0)"
        ),
        format!("INSERT INTO audio_blobs VALUES ('{sha}', 10, 'wav', 0)"),
        format!(
            "INSERT INTO calls (id, rep_id, audio_sha256, occurred_at, consent_recorded_by, \
             consent_recorded_at, consent_method, consent_note, created_at) \
             VALUES ('{call}', '{rep}', '{sha}', 0, '{rep}', 0, 'written', 'form 1', 0)"
        ),
        format!(
            "INSERT INTO transcription_jobs (id, audio_sha256, subject_kind, subject_id, status, \
             max_attempts, enqueued_at) VALUES ('{standalone}', '{sha}', 'drill', '{rep}', \
             'queued', 3, 0), ('{drill}', '{sha}', 'drill', 'drill_legacy', 'done', 3, 1)"
        ),
    ];
    for statement in &statements {
        sqlx::raw_sql(statement)
            .execute(&pool)
            .await
            .expect("insert legacy row");
    }
    pool.close().await;

    let store = Store::open(config).await.expect("open and migrate");
    let standalone_job = store.job(&standalone).await.expect("standalone job");
    let drill_job = store.job(&drill).await.expect("drill job");
    let legacy_call = store.call(&call).await.expect("legacy call");
    let legacy_rep = store.user(&rep).await.expect("legacy rep");
    let (versions,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM schema_migrations")
        .fetch_one(store.pool())
        .await
        .expect("count migrations");
    store.close().await;

    assert_eq!(standalone_job.subject_kind, SubjectKind::Transcription);
    assert_eq!(standalone_job.subject_id, rep.to_string());
    assert_eq!(drill_job.subject_kind, SubjectKind::Drill);
    assert_eq!(drill_job.status, JobStatus::Done);
    assert_eq!(
        legacy_call.rep_channel.index(),
        0,
        "old calls keep channel 0"
    );
    assert!(!legacy_rep.top_seller);
    assert_eq!(versions, 2);
}

mod legacy_rows_migrate {
    use callcoach::store::StoreConfig;

    #[tokio::test]
    async fn sqlite() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = StoreConfig {
            data_dir: dir.path().join("data"),
            database_url: None,
            max_connections: None,
        };

        super::legacy_rows_migrate(&config).await;
    }

    #[tokio::test]
    async fn postgres() {
        let Some((base_url, schema, url)) = super::postgres_schema("legacy_rows_migrate").await
        else {
            return;
        };
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = StoreConfig {
            data_dir: dir.path().join("data"),
            database_url: Some(url),
            max_connections: Some(4),
        };

        super::legacy_rows_migrate(&config).await;
        super::drop_schema(&base_url, &schema).await;
    }
}
