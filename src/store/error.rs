//! The store's error type and the one place that turns database constraint
//! violations into [`Error::Conflict`] and [`Error::Invalid`].

use std::path::PathBuf;

use sqlx::error::ErrorKind;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A row with the same unique key exists (HTTP 409).
    #[error("{subject} already exists: {detail}")]
    Conflict {
        /// The kind of record, such as "user with email a@b.c".
        subject: String,
        /// The database message naming the key.
        detail: String,
    },
    /// A value breaks a rule: a check, a missing referenced row or bad input (HTTP 422).
    #[error("invalid {subject}: {detail}")]
    Invalid {
        /// The kind of record or field.
        subject: String,
        /// The broken rule and, where possible, the accepted values.
        detail: String,
    },
    /// No record has the given id (HTTP 404).
    #[error("{entity} {id:?} not found")]
    NotFound {
        /// The kind of record.
        entity: &'static str,
        /// The id that was looked up.
        id: String,
    },
    /// A job's lease belongs to another worker or ended, so the update was dropped.
    #[error("job {job:?} is not running under worker {worker:?}: its lease expired or moved")]
    LeaseLost {
        /// The job id.
        job: String,
        /// The worker that tried to update the job.
        worker: String,
    },
    /// The database URL has a scheme other than sqlite or postgres, or cannot be parsed.
    #[error("invalid database URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL with its password removed.
        url: String,
        /// The reason for rejection and the expected form.
        reason: String,
    },
    /// A migration file changed after it was applied to this database.
    #[error(
        "migration {version} ({name}) differs from the applied one: restore the file \
         and add a new migration instead"
    )]
    MigrationChanged {
        /// Migration number.
        version: i64,
        /// Migration name.
        name: &'static str,
    },
    /// Applying a migration failed, so its transaction was rolled back.
    #[error("migration {version} ({name}) failed")]
    Migration {
        /// Migration number.
        version: i64,
        /// Migration name.
        name: &'static str,
        /// The database error.
        #[source]
        source: sqlx::Error,
    },
    /// A stored value cannot be read back, such as unknown enum text or bad JSON.
    #[error("corrupt {what} in the database: {detail}")]
    CorruptRow {
        /// The column or record.
        what: &'static str,
        /// The stored value and the parse failure.
        detail: String,
    },
    /// An audio file's content does not match the SHA-256 in its name.
    #[error("audio file {path} does not match its SHA-256 {sha256}: store the audio again")]
    CorruptBlob {
        /// The expected SHA-256 in hex.
        sha256: String,
        /// The file on disk.
        path: PathBuf,
    },
    /// A filesystem operation failed.
    #[error("{action} {path} failed")]
    Io {
        /// The attempted operation, such as "write".
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// A database operation failed for a reason other than a constraint.
    #[error("database operation failed")]
    Database(#[source] sqlx::Error),
}

/// Result type of the store.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Maps a database error, naming `subject` when a constraint rejected the change.
    ///
    /// Unique violations become [`Error::Conflict`]. Foreign-key, check and
    /// not-null violations become [`Error::Invalid`]. Everything else is
    /// [`Error::Database`].
    pub fn from_db(err: sqlx::Error, subject: impl Into<String>) -> Error {
        let Some(db) = err.as_database_error() else {
            return Error::Database(err);
        };
        let detail = db.message().to_string();
        let subject = subject.into();
        match db.kind() {
            ErrorKind::UniqueViolation => Error::Conflict { subject, detail },
            ErrorKind::ForeignKeyViolation => Error::Invalid {
                subject,
                detail: format!("a referenced record does not exist ({detail})"),
            },
            ErrorKind::CheckViolation | ErrorKind::NotNullViolation => {
                Error::Invalid { subject, detail }
            }
            _ => Error::Database(err),
        }
    }

    /// Returns an [`Error::Invalid`] for `subject`.
    pub(crate) fn invalid(subject: impl Into<String>, detail: impl Into<String>) -> Error {
        Error::Invalid {
            subject: subject.into(),
            detail: detail.into(),
        }
    }

    /// Returns an [`Error::CorruptRow`] for a stored value that no longer parses.
    pub(crate) fn corrupt(what: &'static str, detail: &dyn std::fmt::Display) -> Error {
        Error::CorruptRow {
            what,
            detail: detail.to_string(),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        Error::from_db(err, "record")
    }
}
