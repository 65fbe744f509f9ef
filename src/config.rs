//! The service configuration: one typed [`Config`], read once at start-up.
//!
//! Sources apply in order, each overriding the one before: built-in
//! defaults, an optional TOML file (`--config FILE` or `CALLCOACH_CONFIG`),
//! environment variables named `CALLCOACH_<SETTING>` in upper case, then
//! command-line flags. Every source sets the same keys, listed in [`KEYS`],
//! so a setting has one name everywhere. The defaults give the embedded
//! setup: an SQLite file and an index under `data/`, the bundled `corpus/`
//! and `models/ggml-tiny.en.bin`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Prefix of every environment variable that sets a configuration key.
pub const ENV_PREFIX: &str = "CALLCOACH_";
/// Environment variable naming the configuration file.
pub const CONFIG_FILE_ENV: &str = "CALLCOACH_CONFIG";

/// Every configuration key, as written in the file and (upper-cased, with
/// [`ENV_PREFIX`]) in the environment.
pub const KEYS: [&str; 21] = [
    "addr",
    "data_dir",
    "database_url",
    "corpus_dir",
    "index_dir",
    "model",
    "workers",
    "transcribe_threads",
    "max_queued_jobs",
    "queue_retry_after_secs",
    "max_upload_bytes",
    "max_audio_ms",
    "job_lease_secs",
    "job_max_attempts",
    "max_wait_ms",
    "shutdown_grace_secs",
    "dimensions_file",
    "web_dir",
    "checkpoints_file",
    "unlock_rules_file",
    "unlock_rules_poll_secs",
];

/// Errors of reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting has a value that does not parse or is out of range.
    #[error("invalid setting {key} = {value:?} (from {source_name}): expected {expected}")]
    InvalidValue {
        /// Configuration key.
        key: &'static str,
        /// The rejected text.
        value: String,
        /// Source of the value: file, environment variable or command line.
        source_name: String,
        /// The accepted form.
        expected: &'static str,
    },
    /// The configuration file names a key that does not exist.
    #[error("unknown setting {key:?} in {path}: expected one of {}", KEYS.join(", "))]
    UnknownKey {
        /// The unknown key.
        key: String,
        /// The configuration file.
        path: PathBuf,
    },
    /// The configuration file could not be read.
    #[error("failed to read configuration file {path}: {source}")]
    ReadFile {
        /// The configuration file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML.
    #[error("configuration file {path} is not valid TOML: {message}")]
    ParseFile {
        /// The configuration file.
        path: PathBuf,
        /// The parser message with line and column.
        message: String,
    },
}

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A secret string (a token or a URL with a password) that never reaches
/// a log: `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// Returns the clear text, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Settings of `callcoach serve`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub addr: SocketAddr,
    /// Data directory: database file, audio files and (by default) the index.
    pub data_dir: PathBuf,
    /// Database URL; `None` means the SQLite file in `data_dir`.
    pub database_url: Option<Secret>,
    /// Scenario corpus directory.
    pub corpus_dir: PathBuf,
    /// Index directory; `None` means `<data_dir>/index`.
    pub index_dir: Option<PathBuf>,
    /// Whisper model file; `None` searches `CALLCOACH_MODEL` and `models/`.
    pub model: Option<PathBuf>,
    /// Transcription workers; default the available CPU cores.
    pub workers: usize,
    /// CPU threads of one transcription; default cores divided by workers.
    pub transcribe_threads: usize,
    /// Queued jobs above which uploads get 503.
    pub max_queued_jobs: u64,
    /// Seconds sent in `Retry-After` when the queue is full.
    pub queue_retry_after_secs: u64,
    /// Largest accepted upload body, in bytes.
    pub max_upload_bytes: usize,
    /// Longest accepted recording, in milliseconds.
    pub max_audio_ms: u64,
    /// Lease of a claimed job; workers renew it every third of this.
    pub job_lease: Duration,
    /// Claims of a job before it fails.
    pub job_max_attempts: u32,
    /// Longest `wait_ms` a request may ask for, in milliseconds.
    pub max_wait_ms: u64,
    /// Time running jobs get to finish at shutdown before they are re-queued.
    pub shutdown_grace: Duration,
    /// Skill dimensions of heatmaps (TOML).
    pub dimensions_file: PathBuf,
    /// Checkpoint definitions (TOML).
    pub checkpoints_file: PathBuf,
    /// Unlock rules (TOML) that grant and revoke permissions.
    pub unlock_rules_file: PathBuf,
    /// How often the unlock rule file is checked for changes and reloaded;
    /// `None` turns the check off.
    pub unlock_rules_poll: Option<Duration>,
    /// Directory of the web pages served at `/`, `/drill`, `/coach` and `/manager`.
    pub web_dir: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            corpus_dir: PathBuf::from("corpus"),
            index_dir: None,
            model: None,
            workers: cores,
            transcribe_threads: 1,
            max_queued_jobs: 256,
            queue_retry_after_secs: 10,
            max_upload_bytes: 64 * 1024 * 1024,
            max_audio_ms: 2 * 60 * 60 * 1000,
            job_lease: Duration::from_secs(60),
            job_max_attempts: crate::store::jobs::DEFAULT_MAX_ATTEMPTS,
            max_wait_ms: 60_000,
            shutdown_grace: Duration::from_secs(30),
            dimensions_file: PathBuf::from("config/dimensions.toml"),
            web_dir: PathBuf::from("web"),
            checkpoints_file: PathBuf::from("config/checkpoints.toml"),
            unlock_rules_file: PathBuf::from("config/unlock.toml"),
            unlock_rules_poll: Some(Duration::from_secs(5)),
        }
    }
}

impl Config {
    /// Reads defaults, the optional file, the environment and then `flags`
    /// (pairs of key and value text).
    ///
    /// The file is `file` when given, else the one named by
    /// `CALLCOACH_CONFIG`. `DATABASE_URL` sets `database_url` too, below
    /// `CALLCOACH_DATABASE_URL`. `transcribe_threads` defaults to the cores
    /// divided by the workers, at least 1.
    pub fn load(file: Option<&Path>, flags: &[(&'static str, String)]) -> Result<Config> {
        let mut config = Config::default();
        let mut threads_set = false;
        let env_file = std::env::var_os(CONFIG_FILE_ENV).map(PathBuf::from);
        if let Some(path) = file.map(Path::to_path_buf).or(env_file) {
            for (key, value) in read_file(&path)? {
                threads_set |= key == "transcribe_threads";
                config.set(key, &value, &format!("file {}", path.display()))?;
            }
        }
        if let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            config.set("database_url", &url, "DATABASE_URL")?;
        }
        for key in KEYS {
            let name = format!("{ENV_PREFIX}{}", key.to_ascii_uppercase());
            if let Ok(value) = std::env::var(&name) {
                threads_set |= key == "transcribe_threads";
                config.set(key, &value, &name)?;
            }
        }
        for (key, value) in flags {
            threads_set |= *key == "transcribe_threads";
            config.set(key, value, "command line")?;
        }
        if !threads_set {
            config.transcribe_threads = config.default_threads();
        }
        Ok(config)
    }

    /// Returns the index directory in use.
    pub fn index_dir(&self) -> PathBuf {
        self.index_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("index"))
    }

    fn default_threads(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (cores / self.workers.max(1)).max(1)
    }

    /// Sets one key from text, naming `source_name` in the error.
    pub fn set(&mut self, key: &str, value: &str, source_name: &str) -> Result<()> {
        let value = value.trim();
        let invalid = |key: &'static str, expected: &'static str| Error::InvalidValue {
            key,
            value: if key == "database_url" {
                crate::store::redact_url(value)
            } else {
                value.to_string()
            },
            source_name: source_name.to_string(),
            expected,
        };
        match key {
            "addr" => {
                self.addr = value
                    .parse()
                    .map_err(|_| invalid("addr", "IP:PORT such as 127.0.0.1:8080"))?;
            }
            "data_dir" => self.data_dir = path(value).ok_or(invalid("data_dir", "a path"))?,
            "database_url" => {
                let url = Some(value).filter(|v| v.contains("://"));
                let url = url.ok_or(invalid("database_url", "sqlite://… or postgres://…"))?;
                self.database_url = Some(Secret::new(url));
            }
            "corpus_dir" => self.corpus_dir = path(value).ok_or(invalid("corpus_dir", "a path"))?,
            "index_dir" => {
                self.index_dir = Some(path(value).ok_or(invalid("index_dir", "a path"))?)
            }
            "model" => self.model = Some(path(value).ok_or(invalid("model", "a model file path"))?),
            "workers" => {
                self.workers = number(value, 0, 256).ok_or(invalid("workers", "0 to 256"))?
            }
            "transcribe_threads" => {
                self.transcribe_threads =
                    number(value, 1, 256).ok_or(invalid("transcribe_threads", "1 to 256"))?;
            }
            "max_queued_jobs" => {
                self.max_queued_jobs = number(value, 0, u64::MAX)
                    .ok_or(invalid("max_queued_jobs", "a whole number of jobs"))?;
            }
            "queue_retry_after_secs" => {
                self.queue_retry_after_secs = number(value, 1, 3600)
                    .ok_or(invalid("queue_retry_after_secs", "1 to 3600 seconds"))?;
            }
            "max_upload_bytes" => {
                self.max_upload_bytes = number(value, 1, usize::MAX)
                    .ok_or(invalid("max_upload_bytes", "a byte count above 0"))?;
            }
            "max_audio_ms" => {
                self.max_audio_ms = number(value, 1, u64::MAX)
                    .ok_or(invalid("max_audio_ms", "milliseconds above 0"))?;
            }
            "job_lease_secs" => {
                let secs = number(value, 3, 3600).ok_or(invalid("job_lease_secs", "3 to 3600"))?;
                self.job_lease = Duration::from_secs(secs);
            }
            "job_max_attempts" => {
                self.job_max_attempts =
                    number(value, 1, 100).ok_or(invalid("job_max_attempts", "1 to 100"))?;
            }
            "max_wait_ms" => {
                self.max_wait_ms = number(value, 0, 600_000)
                    .ok_or(invalid("max_wait_ms", "0 to 600000 milliseconds"))?;
            }
            "shutdown_grace_secs" => {
                let secs = number(value, 0, 3600)
                    .ok_or(invalid("shutdown_grace_secs", "0 to 3600 seconds"))?;
                self.shutdown_grace = Duration::from_secs(secs);
            }
            "dimensions_file" => {
                self.dimensions_file = path(value).ok_or(invalid("dimensions_file", "a path"))?;
            }
            "unlock_rules_file" => {
                self.unlock_rules_file =
                    path(value).ok_or(invalid("unlock_rules_file", "a path"))?;
            }
            "unlock_rules_poll_secs" => {
                let secs = number(value, 0, 3600)
                    .ok_or(invalid("unlock_rules_poll_secs", "0 (off) to 3600 seconds"))?;
                self.unlock_rules_poll = (secs > 0).then(|| Duration::from_secs(secs));
            }
            "checkpoints_file" => {
                self.checkpoints_file = path(value).ok_or(invalid("checkpoints_file", "a path"))?;
            }
            "web_dir" => self.web_dir = path(value).ok_or(invalid("web_dir", "a path"))?,
            other => {
                return Err(Error::UnknownKey {
                    key: other.to_string(),
                    path: PathBuf::from(source_name),
                })
            }
        }
        Ok(())
    }
}

fn path(text: &str) -> Option<PathBuf> {
    Some(text).filter(|t| !t.is_empty()).map(PathBuf::from)
}

fn number<T>(text: &str, min: T, max: T) -> Option<T>
where
    T: std::str::FromStr + PartialOrd + Copy,
{
    text.parse().ok().filter(|n| *n >= min && *n <= max)
}

/// Reads the file's keys as text values, rejecting unknown keys.
fn read_file(path: &Path) -> Result<Vec<(&'static str, String)>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    let table: toml::Table = text
        .parse()
        .map_err(|err: toml::de::Error| Error::ParseFile {
            path: path.to_path_buf(),
            message: err.to_string(),
        })?;
    let mut pairs = Vec::with_capacity(table.len());
    for (key, value) in table {
        let known = KEYS
            .iter()
            .find(|k| **k == key)
            .ok_or_else(|| Error::UnknownKey {
                key: key.clone(),
                path: path.to_path_buf(),
            })?;
        let text = match value {
            toml::Value::String(s) => s,
            other => other.to_string(),
        };
        pairs.push((*known, text));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_hides_value() {
        let secret = Secret::new("cc_token");

        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(secret.to_string(), "***");
    }

    #[test]
    fn set_rejects_bad_worker_count() {
        let mut config = Config::default();

        let err = config.set("workers", "many", "test").unwrap_err();

        assert!(err.to_string().contains("workers"));
        assert!(err.to_string().contains("\"many\""));
    }

    #[test]
    fn file_values_override_defaults() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let file = dir.path().join("callcoach.toml");
        std::fs::write(
            &file,
            "workers = 3\nmax_queued_jobs = 7\naddr = \"127.0.0.1:0\"\n",
        )
        .expect("write file");

        let config = Config::load(Some(&file), &[]).expect("load");

        assert_eq!(config.workers, 3);
        assert_eq!(config.max_queued_jobs, 7);
        assert_eq!(config.addr.port(), 0);
    }

    #[test]
    fn file_rejects_unknown_key() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let file = dir.path().join("callcoach.toml");
        std::fs::write(&file, "wrokers = 3\n").expect("write file");

        let err = Config::load(Some(&file), &[]).unwrap_err();

        assert!(matches!(err, Error::UnknownKey { .. }));
    }

    #[test]
    fn flags_set_wait_limit() {
        let flags = [("max_wait_ms", "1500".to_string())];

        let config = Config::load(None, &flags).expect("load");

        assert_eq!(config.max_wait_ms, 1500);
    }
}
