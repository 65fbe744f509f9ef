//! Persistent state: teams, users and tokens, audio files, the transcription
//! job queue, drills, calls, score samples, coach overrides, checkpoints,
//! permissions and training tasks.
//!
//! [`Store`] wraps one `sqlx::AnyPool`, so the same SQL runs on the embedded
//! SQLite file (`<data>/callcoach.db`, the default) and on PostgreSQL when a
//! `postgres://` URL is given. Queries use `$1`-style placeholders, which
//! PostgreSQL requires and sqlx 0.8's SQLite driver binds by number. Times
//! are stored as BIGINT milliseconds since the Unix epoch, and JSON as TEXT.
//! Audio bytes live in content-addressed files beside the database
//! ([`audio_blobs`]).
//!
//! At start-up the embedded service calls [`Store::requeue_running_jobs`],
//! because jobs still running then were cut off by a crash.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Transaction};
use time::OffsetDateTime;

pub mod audio_blobs;
pub mod calls;
pub mod checkpoints;
pub mod drills;
mod error;
mod ids;
pub mod jobs;
mod migrations;
pub mod overrides;
pub mod permissions;
mod record;
pub mod scores;
pub mod training;
pub mod users;

pub use error::{Error, Result};
pub use ids::{
    AuditEntryId, CallId, DrillAttemptId, JobId, OverrideId, TeamId, TokenId, TrainingTaskId,
    UserId,
};
pub use record::{RecordKind, Score};

use audio_blobs::AudioBlobs;

/// Settings of every SQLite connection. The busy timeout (5000 ms, how long
/// a connection waits for another writer) comes first so that switching to
/// WAL waits for locks too.
const SQLITE_PRAGMAS: [&str; 3] = [
    "PRAGMA busy_timeout = 5000",
    "PRAGMA journal_mode = WAL",
    "PRAGMA foreign_keys = ON",
];
/// How long a caller waits for a free pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// The database engine behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file, the embedded default.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// Returns the backend for a `sqlite:` or `postgres:`/`postgresql:` URL.
    pub fn from_url(url: &str) -> Result<Backend> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            _ => Err(Error::InvalidUrl {
                url: redact_url(url),
                reason: "expected a sqlite:// or postgres:// URL".to_string(),
            }),
        }
    }
}

/// Location settings of the store.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Data directory: contains `callcoach.db` (unless a URL is given) and `audio/`.
    pub data_dir: PathBuf,
    /// Database URL. `None` means `sqlite://<data_dir>/callcoach.db?mode=rwc`.
    pub database_url: Option<String>,
    /// Pool size. `None` means twice the available cores, at least 4.
    pub max_connections: Option<u32>,
}

impl StoreConfig {
    /// Returns the settings for `data_dir`, with the URL from `DATABASE_URL` if set.
    pub fn from_env(data_dir: impl Into<PathBuf>) -> StoreConfig {
        let database_url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|url| !url.is_empty());
        StoreConfig {
            data_dir: data_dir.into(),
            database_url,
            max_connections: None,
        }
    }

    /// Returns the URL the store connects to.
    pub fn url(&self) -> Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        let path = self.data_dir.join("callcoach.db");
        let text = path.to_str().ok_or_else(|| Error::InvalidUrl {
            url: path.display().to_string(),
            reason: "the data directory path is not valid UTF-8: choose another directory"
                .to_string(),
        })?;
        // sqlx 0.8 splits the URL at '?' and percent-decodes the file name.
        let encoded = text
            .replace('%', "%25")
            .replace('?', "%3F")
            .replace('#', "%23");
        Ok(format!("sqlite://{encoded}?mode=rwc"))
    }
}

/// The database pool and the audio file area.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    audio: AudioBlobs,
}

impl Store {
    /// Opens the store: creates the data directory, connects and runs migrations.
    pub async fn open(config: &StoreConfig) -> Result<Store> {
        sqlx::any::install_default_drivers();
        create_dir(&config.data_dir)?;
        let url = config.url()?;
        let backend = Backend::from_url(&url)?;

        let pool = pool_options(config, backend)
            .connect(&url)
            .await
            .map_err(Error::Database)?;
        let applied = migrations::run(&pool, backend).await?;
        tracing::info!(backend = ?backend, url = %redact_url(&url), applied, "store opened");

        let audio = AudioBlobs::open(&config.data_dir.join("audio"))?;
        Ok(Store {
            pool,
            backend,
            audio,
        })
    }

    /// Returns the connection pool, for queries that no method covers.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Returns the database engine in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Returns the content-addressed audio file area.
    pub fn audio_files(&self) -> &AudioBlobs {
        &self.audio
    }

    /// Closes every pooled connection, waiting for running queries.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a transaction that will write.
    ///
    /// SQLite gets `BEGIN IMMEDIATE`, which takes the write lock up front
    /// (waiting up to the busy timeout), because a deferred transaction that
    /// reads first fails at once with `SQLITE_BUSY` when it later tries to write.
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Any>> {
        begin_write(&self.pool, self.backend).await
    }
}

async fn begin_write(pool: &AnyPool, backend: Backend) -> Result<Transaction<'static, Any>> {
    let tx = match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => pool.begin().await,
    };
    tx.map_err(Error::Database)
}

fn pool_options(config: &StoreConfig, backend: Backend) -> AnyPoolOptions {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let default_size = u32::try_from(cores * 2).unwrap_or(u32::MAX).max(4);
    let options = AnyPoolOptions::new()
        .max_connections(config.max_connections.unwrap_or(default_size))
        .acquire_timeout(ACQUIRE_TIMEOUT);
    if backend != Backend::Sqlite {
        return options;
    }
    options.after_connect(|conn, _meta| {
        Box::pin(async move {
            for pragma in SQLITE_PRAGMAS {
                sqlx::query(pragma).execute(&mut *conn).await?;
            }
            Ok(())
        })
    })
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        action: "create directory",
        path: dir.to_path_buf(),
        source,
    })
}

/// Returns `url` with any password replaced by `***`, for logs and errors.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// Returns the current time, truncated to whole milliseconds as stored.
pub fn now() -> OffsetDateTime {
    from_ms(to_ms(OffsetDateTime::now_utc())).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Converts a time to milliseconds since the Unix epoch, as stored.
pub(crate) fn to_ms(at: OffsetDateTime) -> i64 {
    let ms = at.unix_timestamp_nanos() / 1_000_000;
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

/// Converts stored milliseconds since the Unix epoch to a UTC time.
pub(crate) fn from_ms(ms: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|err| Error::corrupt("timestamp", &format!("{ms} ms: {err}")))
}

/// Converts optional stored milliseconds to a time.
pub(crate) fn from_ms_opt(ms: Option<i64>) -> Result<Option<OffsetDateTime>> {
    ms.map(from_ms).transpose()
}

/// Formats a calendar date as stored (`YYYY-MM-DD`).
pub(crate) fn date_text(date: time::Date) -> String {
    let (year, month, day) = (date.year(), u8::from(date.month()), date.day());
    format!("{year:04}-{month:02}-{day:02}")
}

/// Parses a stored `YYYY-MM-DD` date.
pub(crate) fn parse_date(text: &str) -> Result<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format)
        .map_err(|err| Error::corrupt("date", &format!("{text:?}: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_hides_password() {
        let url = "postgres://coach:secret@127.0.0.1:5432/db";

        let redacted = redact_url(url);

        assert_eq!(redacted, "postgres://coach:***@127.0.0.1:5432/db");
    }

    #[test]
    fn backend_rejects_mysql_url() {
        assert!(Backend::from_url("mysql://localhost/db").is_err());
        assert_eq!(
            Backend::from_url("postgresql://h/db").ok(),
            Some(Backend::Postgres)
        );
    }

    #[test]
    fn date_text_round_trips() {
        let date = time::macros::date!(2024 - 03 - 07);

        let text = date_text(date);

        assert_eq!(text, "2024-03-07");
        assert_eq!(parse_date(&text).ok(), Some(date));
    }

    #[test]
    fn milliseconds_round_trip() {
        let at = now();

        let back = from_ms(to_ms(at));

        assert_eq!(back.ok(), Some(at));
    }
}
