//! The test application: a running service with seeded teams and users,
//! and one request helper per endpoint family.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use callcoach::config::Config;
use callcoach::service::{self, Service};
use callcoach::store::users::{NewUser, Role};
use callcoach::store::{Store, TeamId, UserId};
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::Value;
use tempfile::TempDir;

use crate::common;

/// Settings that tests change; the rest come from [`Config::default`].
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Transcription workers; 0 leaves jobs queued.
    pub workers: usize,
    /// Queued jobs above which uploads get 503.
    pub max_queued_jobs: u64,
    /// Largest upload in bytes.
    pub max_upload_bytes: usize,
    /// Longest recording in milliseconds.
    pub max_audio_ms: u64,
    /// Unlock rule file; the bundled one when `None`.
    pub unlock_rules_file: Option<PathBuf>,
    /// How often the rule file is checked for changes; never when `None`.
    pub unlock_rules_poll: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            workers: 0,
            max_queued_jobs: 100,
            max_upload_bytes: 8 * 1024 * 1024,
            max_audio_ms: 10 * 60 * 1000,
            unlock_rules_file: None,
            unlock_rules_poll: None,
        }
    }
}

/// A seeded user and their bearer token.
#[derive(Debug, Clone)]
pub(crate) struct TestUser {
    pub id: UserId,
    pub team: Option<TeamId>,
    pub token: String,
}

/// The seeded users: team North has a rep, a coach and a manager, team
/// South a rep and a coach, and the admin has no team.
#[derive(Debug, Clone)]
pub(crate) struct Users {
    pub rep: TestUser,
    pub coach: TestUser,
    pub manager: TestUser,
    pub admin: TestUser,
    pub south_rep: TestUser,
    pub south_coach: TestUser,
}

/// A running service and what a test needs to call it.
pub(crate) struct TestApp {
    pub base: String,
    pub client: Client,
    pub users: Users,
    service: Option<Service>,
    data: TempDir,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Returns the English model path, or `None` after printing a skip line.
pub(crate) fn model_path() -> Option<PathBuf> {
    let path = root().join("models/ggml-tiny.en.bin");
    if path.is_file() {
        return Some(path);
    }
    eprintln!(
        "skipped: {} is missing; run `make model` first",
        path.display()
    );
    None
}

/// Returns the bytes of a generated audio fixture.
pub(crate) fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(common::fixture(name)).expect("fixture is readable")
}

/// Returns an index built once from the bundled corpus, to copy per test.
fn template_index() -> &'static Path {
    static INDEX: OnceLock<TempDir> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temporary directory");
            let corpus = callcoach::knowledge::Corpus::load(&root().join("corpus"))
                .expect("bundled corpus loads");
            let mut index = callcoach::knowledge::KnowledgeIndex::open_or_create(dir.path())
                .expect("index opens");
            index.update(&corpus).expect("index builds");
            dir
        })
        .path()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create index copy");
    for entry in std::fs::read_dir(from).expect("read index") {
        let entry = entry.expect("index entry");
        if entry.file_type().expect("file type").is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy index file");
        }
    }
}

fn config(data: &Path, options: &Options) -> Config {
    Config {
        addr: "127.0.0.1:0".parse().expect("address"),
        data_dir: data.to_path_buf(),
        index_dir: Some(data.join("index")),
        corpus_dir: root().join("corpus"),
        dimensions_file: root().join("config/dimensions.toml"),
        web_dir: root().join("web"),
        checkpoints_file: root().join("config/checkpoints.toml"),
        model: model_path(),
        workers: options.workers,
        transcribe_threads: 1,
        max_wait_ms: 600_000,
        max_queued_jobs: options.max_queued_jobs,
        max_upload_bytes: options.max_upload_bytes,
        max_audio_ms: options.max_audio_ms,
        shutdown_grace: Duration::from_secs(5),
        unlock_rules_file: options
            .unlock_rules_file
            .clone()
            .unwrap_or_else(|| root().join("config/unlock.toml")),
        unlock_rules_poll: options.unlock_rules_poll,
        ..Config::default()
    }
}

/// Starts the service with default options.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_with(Options::default()).await
}

/// Starts the service with `options` and seeds the users.
pub(crate) async fn spawn_with(options: Options) -> TestApp {
    let data = tempfile::tempdir().expect("temporary data directory");
    copy_dir(template_index(), &data.path().join("index"));
    let service = service::start(config(data.path(), &options))
        .await
        .expect("service starts");
    let users = seed(service.store()).await;
    TestApp {
        base: format!("http://{}", service.addr()),
        client: Client::new(),
        users,
        service: Some(service),
        data,
    }
}

async fn seed(store: &Store) -> Users {
    let north = store.create_team("North").await.expect("team").id;
    let south = store.create_team("South").await.expect("team").id;
    Users {
        rep: user(store, Some(&north), Role::Rep, "rep").await,
        coach: user(store, Some(&north), Role::Coach, "coach").await,
        manager: user(store, Some(&north), Role::Manager, "manager").await,
        admin: user(store, None, Role::Admin, "admin").await,
        south_rep: user(store, Some(&south), Role::Rep, "south.rep").await,
        south_coach: user(store, Some(&south), Role::Coach, "south.coach").await,
    }
}

async fn user(store: &Store, team: Option<&TeamId>, role: Role, name: &str) -> TestUser {
    let new = NewUser {
        team_id: team.cloned(),
        email: format!("{name}@example.com"),
        display_name: name.to_string(),
        role,
    };
    let created = store.create_user(&new).await.expect("user");
    let issued = store
        .issue_token(&created.id, "test", None)
        .await
        .expect("token");
    TestUser {
        id: created.id,
        team: team.cloned(),
        token: issued.token.expose().to_string(),
    }
}

impl TestApp {
    /// Returns the running service's store.
    pub(crate) fn store(&self) -> &Store {
        self.service.as_ref().expect("service runs").store()
    }

    /// Stops the service and starts it again on the same data directory.
    pub(crate) async fn restart(&mut self, options: Options) {
        if let Some(service) = self.service.take() {
            service.stop().await.expect("service stops");
        }
        let service = service::start(config(self.data.path(), &options))
            .await
            .expect("service restarts");
        self.base = format!("http://{}", service.addr());
        self.service = Some(service);
    }

    /// Starts a second service on the running one's data directory and
    /// returns its start-up error.
    pub(crate) async fn start_second_service(&self) -> String {
        match service::start(config(self.data.path(), &Options::default())).await {
            Ok(second) => {
                second.stop().await.expect("second service stops");
                panic!("a second service started on the same data directory");
            }
            Err(err) => format!("{err:#}"),
        }
    }

    /// Stops the service gracefully.
    pub(crate) async fn stop(mut self) {
        if let Some(service) = self.service.take() {
            service.stop().await.expect("service stops");
        }
    }

    /// Returns the URL of `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Builds a GET with an optional bearer token.
    pub(crate) fn get(&self, path: &str, token: Option<&str>) -> RequestBuilder {
        with_token(self.client.get(self.url(path)), token)
    }

    /// Builds a POST of a JSON body with a bearer token.
    pub(crate) fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> RequestBuilder {
        with_token(self.client.post(self.url(path)).json(body), token)
    }

    /// Builds a POST of a raw body with a content type and a bearer token.
    pub(crate) fn post_body(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> RequestBuilder {
        let request = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body);
        with_token(request, token)
    }

    /// Uploads a WAV body to `POST /api/v1/transcriptions` with a query string.
    pub(crate) async fn upload_transcription(
        &self,
        token: &str,
        query: &str,
        wav: Vec<u8>,
    ) -> Response {
        let path = format!("/api/v1/transcriptions{query}");
        self.post_body(&path, Some(token), "audio/wav", wav)
            .send()
            .await
            .expect("request is sent")
    }
}

fn with_token(request: RequestBuilder, token: Option<&str>) -> RequestBuilder {
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

/// Returns the status and JSON body of a response.
pub(crate) async fn json(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body is readable");
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("body is not JSON ({err}): {text}"));
    (status, value)
}

/// Checks that `body` has the error shape with `code`.
pub(crate) fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["error"], code, "error code in {body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(!detail.is_empty(), "detail is empty in {body}");
    let fields = body.as_object().map_or(0, serde_json::Map::len);
    assert_eq!(fields, 2, "error body has only error and detail: {body}");
}

impl TestApp {
    /// Stores a scored drill attempt of `rep` with one sample per dimension
    /// of the scenario `price_too_expensive`.
    pub(crate) async fn scored_attempt(&self, rep: &UserId, score: f64) -> String {
        use callcoach::store::drills::NewDrillAttempt;
        use callcoach::store::scores::NewScoreSample;
        use callcoach::store::Score;

        let new = NewDrillAttempt {
            rep_id: rep.clone(),
            scenario_id: "price_too_expensive".to_string(),
            drill_date: callcoach::store::now().date(),
            language: callcoach::language::Language::En,
            audio_sha256: None,
        };
        let attempt = self
            .store()
            .create_drill_attempt(&new)
            .await
            .expect("attempt");
        let score = Score::new(score).expect("score");
        let samples: Vec<NewScoreSample> = ["objection_handling", "value_statement"]
            .into_iter()
            .map(|dimension| NewScoreSample {
                scenario_id: "price_too_expensive".to_string(),
                dimension: dimension.to_string(),
                score,
            })
            .collect();
        let result = serde_json::json!({ "scenario_id": "price_too_expensive" });
        self.store()
            .record_drill_result(&attempt.id, &result, score, &samples)
            .await
            .expect("drill result");
        attempt.id.to_string()
    }

    /// Stores a consented call of `rep` without analysis.
    pub(crate) async fn stored_call(&self, rep: &UserId) -> String {
        use callcoach::store::calls::{Consent, ConsentMethod, NewCall};

        let audio = self
            .store()
            .put_audio(fixture("vad_gap1200_en.wav"), Some("wav"))
            .await;
        let now = callcoach::store::now();
        let new = NewCall {
            rep_id: rep.clone(),
            audio_sha256: audio.expect("audio").sha256,
            language: None,
            occurred_at: now,
            consent: Consent {
                recorded_by: rep.clone(),
                recorded_at: now,
                method: ConsentMethod::VerbalOnRecording,
                note: "0:00-0:05 of the recording".to_string(),
            },
        };
        self.store()
            .create_call(&new)
            .await
            .expect("call")
            .id
            .to_string()
    }
}
