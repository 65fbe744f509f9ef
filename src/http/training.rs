//! Training tasks: a coach assigns a rep work on a weak dimension, the rep
//! and their coaches list it, a coach closes it as done or cancelled, and
//! anyone who may read the rep can check whether the gap closed on real
//! calls.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use super::views::{rfc3339, rfc3339_opt};
use super::AppState;
use crate::store::training::{NewTrainingTask, TaskStatus, TrainingTask};
use crate::store::TrainingTaskId;
use crate::training::{Remeasurement, TrainingConfig};
use crate::training_store::{self, TeamTaskSettings};

/// A training task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskView {
    /// Task id.
    pub id: String,
    /// The rep who trains.
    pub rep_id: String,
    /// Skill dimension id.
    pub dimension: String,
    /// Scenario to practise, if one was named.
    pub scenario_id: Option<String>,
    /// Reason for the task.
    pub reason: String,
    /// `open`, `done` or `cancelled`.
    pub status: String,
    /// User who assigned it.
    pub assigned_by: Option<String>,
    /// Assignment time.
    pub assigned_at: String,
    /// Due time.
    pub due_at: Option<String>,
    /// Time it was closed.
    pub closed_at: Option<String>,
}

impl From<TrainingTask> for TaskView {
    fn from(task: TrainingTask) -> TaskView {
        TaskView {
            id: task.id.to_string(),
            rep_id: task.rep_id.to_string(),
            dimension: task.dimension,
            scenario_id: task.scenario_id,
            reason: task.reason,
            status: task.status.to_string(),
            assigned_by: task.assigned_by.map(|id| id.to_string()),
            assigned_at: rfc3339(task.assigned_at),
            due_at: rfc3339_opt(task.due_at),
            closed_at: rfc3339_opt(task.closed_at),
        }
    }
}

/// A task to assign.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTask {
    /// Skill dimension id, such as `objection_handling`.
    pub dimension: String,
    /// Scenario to practise.
    pub scenario_id: Option<String>,
    /// Reason for the task.
    pub reason: String,
}

/// The closing state of a task.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CloseTask {
    /// `done` or `cancelled`.
    pub status: String,
}

/// Query parameters of a task list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    /// Only tasks in this state: `open`, `done` or `cancelled`.
    pub status: Option<String>,
}

/// Returns the routes of training tasks.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/reps/{id}/training-tasks",
            get(list_tasks).post(assign_task),
        )
        .route("/training-tasks/{id}/close", post(close_task))
        .route("/training-tasks/{id}/remeasurement", get(remeasure_task))
}

/// Query parameters of a re-measurement.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RemeasureQuery {
    /// Days of samples before the assignment that give the score before
    /// training, 1 to 366 (default 30).
    pub window_days: Option<u32>,
}

/// Lists a rep's training tasks, oldest first.
#[utoipa::path(get, path = "/api/v1/reps/{id}/training-tasks", tag = "training",
    params(("id" = String, Path, description = "Rep id"), TaskQuery),
    responses(
        (status = 200, description = "The tasks", body = [TaskView]),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Outside the caller's reach", body = super::ErrorBody),
        (status = 404, description = "Unknown rep", body = super::ErrorBody),
        (status = 422, description = "Invalid status", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_tasks(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<TaskQuery>,
) -> ApiResult<ApiJson<Vec<TaskView>>> {
    let rep = caller.readable_user(&state, &id).await?;
    let status = query
        .status
        .as_deref()
        .map(str::parse::<TaskStatus>)
        .transpose()?;
    let tasks = state.store.training_tasks(&rep.id, status).await?;
    Ok(ApiJson(tasks.into_iter().map(TaskView::from).collect()))
}

/// Assigns a training task to a rep of the caller's team.
#[utoipa::path(post, path = "/api/v1/reps/{id}/training-tasks", tag = "training",
    params(("id" = String, Path, description = "Rep id")), request_body = NewTask,
    responses(
        (status = 201, description = "Assigned", body = TaskView),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Not a coach, manager or admin of the rep", body = super::ErrorBody),
        (status = 409, description = "An open task for this dimension exists", body = super::ErrorBody),
        (status = 422, description = "Invalid dimension or reason", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn assign_task(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<NewTask>,
) -> ApiResult<(StatusCode, ApiJson<TaskView>)> {
    let rep = caller.staff_over(&state, &id).await?;
    let known = crate::skill::Dimension::ALL
        .iter()
        .any(|d| d.id() == body.dimension);
    if !known {
        return Err(ApiError::invalid(format!(
            "dimension {:?} is not a skill dimension such as objection_handling",
            body.dimension
        )));
    }
    if body.reason.trim().is_empty() {
        return Err(ApiError::invalid(
            "reason is empty: say why the rep should train",
        ));
    }
    let new = NewTrainingTask {
        rep_id: rep.id,
        dimension: body.dimension,
        scenario_id: body.scenario_id,
        reason: body.reason,
        assigned_by: Some(caller.id().clone()),
        due_at: None,
    };
    let task = state.store.assign_training_task(&new).await?;
    Ok((StatusCode::CREATED, ApiJson(task.into())))
}

/// Closes an open task as done or cancelled.
#[utoipa::path(post, path = "/api/v1/training-tasks/{id}/close", tag = "training",
    params(("id" = String, Path, description = "Task id")), request_body = CloseTask,
    responses(
        (status = 200, description = "Closed", body = TaskView),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Not a coach, manager or admin of the rep", body = super::ErrorBody),
        (status = 404, description = "Unknown task", body = super::ErrorBody),
        (status = 422, description = "Invalid status or already closed", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn close_task(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<CloseTask>,
) -> ApiResult<ApiJson<TaskView>> {
    let task = state
        .store
        .training_task(&TrainingTaskId::parse(&id)?)
        .await?;
    caller.staff_over(&state, task.rep_id.as_str()).await?;
    let status: TaskStatus = body.status.parse()?;
    let closed = state.store.close_training_task(&task.id, status).await?;
    Ok(ApiJson(closed.into()))
}

/// Re-measures a task's dimension on the rep's real calls since the task
/// closed (or was assigned, while open), against the heatmap cell at
/// assignment.
#[utoipa::path(get, path = "/api/v1/training-tasks/{id}/remeasurement", tag = "training",
    params(("id" = String, Path, description = "Task id"), RemeasureQuery),
    responses(
        (status = 200, description = "Scores and gaps before and after, and the outcome: \
            closed, narrowed, not_narrowed, insufficient_calls, no_baseline or no_score_before",
            body = Object),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Outside the caller's reach", body = super::ErrorBody),
        (status = 404, description = "Unknown task", body = super::ErrorBody),
        (status = 422, description = "Invalid window", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn remeasure_task(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<RemeasureQuery>,
) -> ApiResult<ApiJson<Remeasurement>> {
    let max_days = super::heatmaps::MAX_WINDOW_DAYS;
    let window_days = query.window_days.unwrap_or(30);
    if window_days == 0 || window_days > max_days {
        return Err(ApiError::invalid(format!(
            "window_days {window_days}: expected 1 to {max_days}"
        )));
    }
    let task = state
        .store
        .training_task(&TrainingTaskId::parse(&id)?)
        .await?;
    caller.readable_user(&state, task.rep_id.as_str()).await?;
    let settings = TeamTaskSettings {
        window_days,
        dimensions_file: &state.config.dimensions_file,
        training: TrainingConfig::default(),
    };
    let now = crate::store::now();
    match training_store::remeasure_task(&state.store, &task.id, &settings, now).await {
        Ok(result) => Ok(ApiJson(result)),
        Err(training_store::Error::Store(err)) => Err(err.into()),
        Err(err) => Err(ApiError::internal(err)),
    }
}
