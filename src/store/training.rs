//! Training tasks: practice assigned to a rep for a weak skill dimension,
//! optionally on one scenario. A rep has at most one open task per
//! dimension and scenario, so repeated weak-skill checks do not pile up
//! duplicates.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use time::OffsetDateTime;

use super::record::parse_column;
use super::scores::check_key;
use super::{from_ms, from_ms_opt, now, to_ms, Error, Result, Store, TrainingTaskId, UserId};

/// State of a training task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Assigned and not yet finished.
    Open,
    /// Finished by the rep.
    Done,
    /// Withdrawn by a coach or a rule.
    Cancelled,
}

impl TaskStatus {
    /// Returns the stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::Done => "done",
            TaskStatus::Cancelled => "cancelled",
        }
    }
}

impl FromStr for TaskStatus {
    type Err = Error;

    fn from_str(text: &str) -> Result<TaskStatus> {
        [TaskStatus::Open, TaskStatus::Done, TaskStatus::Cancelled]
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| {
                Error::invalid(
                    "task status",
                    format!("{text:?}: expected open, done or cancelled"),
                )
            })
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Fields of a task to assign.
#[derive(Debug, Clone)]
pub struct NewTrainingTask {
    /// The rep who should practise.
    pub rep_id: UserId,
    /// Weak skill dimension id.
    pub dimension: String,
    /// Scenario to practise, or `None` for any scenario of the dimension.
    pub scenario_id: Option<String>,
    /// Reason for the assignment, such as the score that triggered it.
    pub reason: String,
    /// The coach who assigned it, or `None` for an automatic rule.
    pub assigned_by: Option<UserId>,
    /// Deadline, if any.
    pub due_at: Option<OffsetDateTime>,
}

/// A stored training task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrainingTask {
    /// Task id.
    pub id: TrainingTaskId,
    /// The rep who should practise.
    pub rep_id: UserId,
    /// Weak skill dimension id.
    pub dimension: String,
    /// Scenario to practise, if one was named.
    pub scenario_id: Option<String>,
    /// Reason for the assignment.
    pub reason: String,
    /// Current state.
    pub status: TaskStatus,
    /// The coach who assigned it, or `None` for an automatic rule.
    pub assigned_by: Option<UserId>,
    /// Time of assignment.
    #[serde(with = "time::serde::rfc3339")]
    pub assigned_at: OffsetDateTime,
    /// Deadline, if any.
    #[serde(with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
    /// Time the task was done or cancelled.
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
}

#[derive(sqlx::FromRow)]
struct TaskRow {
    id: String,
    rep_id: String,
    dimension: String,
    scenario_id: String,
    reason: String,
    status: String,
    assigned_by: Option<String>,
    assigned_at: i64,
    due_at: Option<i64>,
    closed_at: Option<i64>,
}

impl TryFrom<TaskRow> for TrainingTask {
    type Error = Error;

    fn try_from(row: TaskRow) -> Result<TrainingTask> {
        Ok(TrainingTask {
            id: TrainingTaskId::try_from(row.id)?,
            rep_id: UserId::try_from(row.rep_id)?,
            dimension: row.dimension,
            scenario_id: Some(row.scenario_id).filter(|s| !s.is_empty()),
            reason: row.reason,
            status: parse_column("training_tasks.status", &row.status)?,
            assigned_by: row.assigned_by.map(UserId::try_from).transpose()?,
            assigned_at: from_ms(row.assigned_at)?,
            due_at: from_ms_opt(row.due_at)?,
            closed_at: from_ms_opt(row.closed_at)?,
        })
    }
}

const TASK_COLUMNS: &str = "id, rep_id, dimension, scenario_id, reason, status, assigned_by, \
    assigned_at, due_at, closed_at";

impl Store {
    /// Assigns a task.
    ///
    /// # Errors
    ///
    /// [`Error::Conflict`] when the rep already has an open task for the same
    /// dimension and scenario.
    pub async fn assign_training_task(&self, new: &NewTrainingTask) -> Result<TrainingTask> {
        check_key("dimension", &new.dimension)?;
        if let Some(scenario) = &new.scenario_id {
            check_key("scenario id", scenario)?;
        }
        let id = TrainingTaskId::generate();

        sqlx::query(&format!(
            "INSERT INTO training_tasks ({TASK_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, NULL)"
        ))
        .bind(id.as_str())
        .bind(new.rep_id.as_str())
        .bind(&new.dimension)
        .bind(new.scenario_id.as_deref().unwrap_or(""))
        .bind(new.reason.trim())
        .bind(new.assigned_by.as_ref().map(UserId::as_str))
        .bind(to_ms(now()))
        .bind(new.due_at.map(to_ms))
        .execute(self.pool())
        .await
        .map_err(|err| {
            let subject = format!("open {} task for rep {}", new.dimension, new.rep_id);
            Error::from_db(err, subject)
        })?;
        self.training_task(&id).await
    }

    /// Returns the task with `id`.
    pub async fn training_task(&self, id: &TrainingTaskId) -> Result<TrainingTask> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM training_tasks WHERE id = $1");
        let row: Option<TaskRow> = sqlx::query_as(&sql)
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.ok_or_else(|| Error::NotFound {
            entity: "training task",
            id: id.to_string(),
        })?
        .try_into()
    }

    /// Returns a rep's tasks, optionally only those in `status`, oldest first.
    pub async fn training_tasks(
        &self,
        rep: &UserId,
        status: Option<TaskStatus>,
    ) -> Result<Vec<TrainingTask>> {
        let filter = if status.is_some() {
            " AND status = $2"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM training_tasks WHERE rep_id = $1{filter} \
             ORDER BY assigned_at, id"
        );
        let mut query = sqlx::query_as::<_, TaskRow>(&sql).bind(rep.as_str());
        if let Some(status) = status {
            query = query.bind(status.as_str());
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.into_iter().map(TrainingTask::try_from).collect()
    }

    /// Closes an open task as done or cancelled.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] for `TaskStatus::Open` or a task that is already
    /// closed, [`Error::NotFound`] for an unknown id.
    pub async fn close_training_task(
        &self,
        id: &TrainingTaskId,
        status: TaskStatus,
    ) -> Result<TrainingTask> {
        if status == TaskStatus::Open {
            return Err(Error::invalid(
                "task status",
                "a task closes as done or cancelled",
            ));
        }
        let result = sqlx::query(
            "UPDATE training_tasks SET status = $1, closed_at = $2 \
             WHERE id = $3 AND status = 'open'",
        )
        .bind(status.as_str())
        .bind(to_ms(now()))
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        let task = self.training_task(id).await?;
        if result.rows_affected() == 0 {
            return Err(Error::invalid(
                "training task",
                format!("{id} is already {}", task.status),
            ));
        }
        Ok(task)
    }
}
