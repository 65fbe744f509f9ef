//! Checkpoint status per rep: whether the rep has the required number of
//! authorized calls that meet the checkpoint's thresholds, and which calls
//! counted. The `checkpoint` module evaluates the rules and saves the result
//! here; each save replaces the previous status and its list of calls.

use serde::Serialize;
use time::OffsetDateTime;

use super::scores::check_key;
use super::{from_ms, from_ms_opt, now, to_ms, CallId, Error, Result, Store, UserId};

/// The outcome of evaluating one checkpoint for one rep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointEvaluation {
    /// Checkpoint id from the checkpoint rules.
    pub checkpoint_id: String,
    /// Qualifying calls needed to pass, at least 1.
    pub required_calls: u32,
    /// The calls that met the thresholds.
    pub counted_calls: Vec<CallId>,
}

/// The stored status of a checkpoint for a rep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointStatus {
    /// The rep.
    pub rep_id: UserId,
    /// Checkpoint id.
    pub checkpoint_id: String,
    /// Whether the counted calls reach the required number.
    pub passed: bool,
    /// Qualifying calls needed to pass.
    pub required_calls: u32,
    /// The calls that met the thresholds, ordered by id.
    pub counted_calls: Vec<CallId>,
    /// Time the checkpoint was first passed in the current run of passes.
    pub passed_at: Option<OffsetDateTime>,
    /// Time of the latest evaluation.
    pub evaluated_at: OffsetDateTime,
}

impl Store {
    /// Saves an evaluation and returns the new status.
    ///
    /// `passed_at` keeps its earlier value while the checkpoint stays passed.
    pub async fn save_checkpoint_status(
        &self,
        rep: &UserId,
        evaluation: &CheckpointEvaluation,
    ) -> Result<CheckpointStatus> {
        check_key("checkpoint id", &evaluation.checkpoint_id)?;
        if evaluation.required_calls == 0 {
            return Err(Error::invalid(
                "checkpoint",
                "required_calls is 0: require at least 1",
            ));
        }
        let mut calls = evaluation.counted_calls.clone();
        calls.sort();
        calls.dedup();
        let passed = calls.len() >= evaluation.required_calls as usize;
        let at = to_ms(now());
        let previous = self
            .checkpoint_status(rep, &evaluation.checkpoint_id)
            .await?;
        let passed_at = match previous.and_then(|p| p.passed_at) {
            Some(first) if passed => Some(to_ms(first)),
            _ if passed => Some(at),
            _ => None,
        };
        let mut tx = self.begin().await?;

        sqlx::query(
            "INSERT INTO checkpoint_status (rep_id, checkpoint_id, passed, qualifying_calls, \
             required_calls, passed_at, evaluated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (rep_id, checkpoint_id) DO UPDATE SET passed = excluded.passed, \
             qualifying_calls = excluded.qualifying_calls, \
             required_calls = excluded.required_calls, passed_at = excluded.passed_at, \
             evaluated_at = excluded.evaluated_at",
        )
        .bind(rep.as_str())
        .bind(&evaluation.checkpoint_id)
        .bind(i64::from(passed))
        .bind(i64::try_from(calls.len()).unwrap_or(i64::MAX))
        .bind(i64::from(evaluation.required_calls))
        .bind(passed_at)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(|err| Error::from_db(err, format!("checkpoint status of rep {rep}")))?;
        sqlx::query("DELETE FROM checkpoint_calls WHERE rep_id = $1 AND checkpoint_id = $2")
            .bind(rep.as_str())
            .bind(&evaluation.checkpoint_id)
            .execute(&mut *tx)
            .await?;
        for call in &calls {
            sqlx::query(
                "INSERT INTO checkpoint_calls (rep_id, checkpoint_id, call_id) VALUES ($1, $2, $3)",
            )
            .bind(rep.as_str())
            .bind(&evaluation.checkpoint_id)
            .bind(call.as_str())
            .execute(&mut *tx)
            .await
            .map_err(|err| Error::from_db(err, format!("counted call {call}")))?;
        }
        tx.commit().await?;

        self.checkpoint_status(rep, &evaluation.checkpoint_id)
            .await?
            .ok_or(Error::NotFound {
                entity: "checkpoint status",
                id: evaluation.checkpoint_id.clone(),
            })
    }

    /// Returns the status of one checkpoint for a rep, if it was ever evaluated.
    pub async fn checkpoint_status(
        &self,
        rep: &UserId,
        checkpoint_id: &str,
    ) -> Result<Option<CheckpointStatus>> {
        let row: Option<(i64, i64, Option<i64>, i64)> = sqlx::query_as(
            "SELECT passed, required_calls, passed_at, evaluated_at FROM checkpoint_status \
             WHERE rep_id = $1 AND checkpoint_id = $2",
        )
        .bind(rep.as_str())
        .bind(checkpoint_id)
        .fetch_optional(self.pool())
        .await?;
        let Some((passed, required, passed_at, evaluated_at)) = row else {
            return Ok(None);
        };

        let calls: Vec<(String,)> = sqlx::query_as(
            "SELECT call_id FROM checkpoint_calls WHERE rep_id = $1 AND checkpoint_id = $2 \
             ORDER BY call_id",
        )
        .bind(rep.as_str())
        .bind(checkpoint_id)
        .fetch_all(self.pool())
        .await?;
        Ok(Some(CheckpointStatus {
            rep_id: rep.clone(),
            checkpoint_id: checkpoint_id.to_string(),
            passed: passed != 0,
            required_calls: u32::try_from(required)
                .map_err(|e| Error::corrupt("checkpoint_status.required_calls", &e))?,
            counted_calls: calls
                .into_iter()
                .map(|(id,)| CallId::try_from(id))
                .collect::<Result<_>>()?,
            passed_at: from_ms_opt(passed_at)?,
            evaluated_at: from_ms(evaluated_at)?,
        }))
    }

    /// Returns the statuses of every evaluated checkpoint of a rep, by checkpoint id.
    pub async fn checkpoint_statuses(&self, rep: &UserId) -> Result<Vec<CheckpointStatus>> {
        let ids: Vec<(String,)> = sqlx::query_as(
            "SELECT checkpoint_id FROM checkpoint_status WHERE rep_id = $1 ORDER BY checkpoint_id",
        )
        .bind(rep.as_str())
        .fetch_all(self.pool())
        .await?;

        let mut statuses = Vec::with_capacity(ids.len());
        for (id,) in ids {
            if let Some(status) = self.checkpoint_status(rep, &id).await? {
                statuses.push(status);
            }
        }
        Ok(statuses)
    }
}
