//! The schema migration runner.
//!
//! Each migration is one SQL file under `migrations/` that runs unchanged on
//! SQLite and PostgreSQL. The runner records applied versions with a SHA-256
//! of the file in `schema_migrations` and applies each new file in its own
//! transaction, so a failing file leaves no partial schema behind. The
//! version row is inserted before the file runs, so a second process that
//! starts at the same time waits on that row and then skips the file.

use sha2::{Digest, Sha256};
use sqlx::{AnyPool, Row};

use super::{begin_write, now, to_ms, Backend, Error, Result};

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../../migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "followups",
        sql: include_str!("../../migrations/0002_followups.sql"),
    },
];

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)";

/// Applies every migration that the database lacks and returns how many ran.
pub(super) async fn run(pool: &AnyPool, backend: Backend) -> Result<usize> {
    sqlx::raw_sql(CREATE_TABLE).execute(pool).await?;

    let mut applied = 0;
    for migration in MIGRATIONS {
        if apply(pool, backend, migration).await? {
            tracing::info!(
                version = migration.version,
                name = migration.name,
                "migration applied"
            );
            applied += 1;
        }
    }
    Ok(applied)
}

async fn apply(pool: &AnyPool, backend: Backend, migration: &Migration) -> Result<bool> {
    let checksum = hex::encode(Sha256::digest(migration.sql.as_bytes()));
    if check_applied(pool, migration, &checksum).await? {
        return Ok(false);
    }

    let mut tx = begin_write(pool, backend).await?;
    let inserted = sqlx::query(
        "INSERT INTO schema_migrations (version, name, checksum, applied_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(migration.version)
    .bind(migration.name)
    .bind(&checksum)
    .bind(to_ms(now()))
    .execute(&mut *tx)
    .await;
    if let Err(err) = inserted {
        drop(tx);
        return match Error::from_db(err, "migration") {
            Error::Conflict { .. } => check_applied(pool, migration, &checksum)
                .await
                .map(|_| false),
            other => Err(other),
        };
    }

    let failed = |source| Error::Migration {
        version: migration.version,
        name: migration.name,
        source,
    };
    sqlx::raw_sql(migration.sql)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    Ok(true)
}

/// Returns whether `migration` is applied, failing if its file changed since.
async fn check_applied(pool: &AnyPool, migration: &Migration, checksum: &str) -> Result<bool> {
    let row = sqlx::query("SELECT checksum FROM schema_migrations WHERE version = $1")
        .bind(migration.version)
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let applied: String = row.try_get("checksum")?;
    if applied != checksum {
        return Err(Error::MigrationChanged {
            version: migration.version,
            name: migration.name,
        });
    }
    Ok(true)
}
