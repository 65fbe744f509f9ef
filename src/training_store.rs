//! Training tasks for a team from the store: builds the team heatmap,
//! plans tasks for its weak cells with [`crate::training::create_tasks`]
//! and assigns them, skipping cells whose rep already has an open task for
//! the dimension.
//!
//! A planned task may name several scenarios, but a stored task names at
//! most one, so the first (the rep's weakest) becomes the task's scenario
//! and the reason lists them all.

use std::path::Path;

use serde::Serialize;
use time::OffsetDateTime;

use crate::heatmap::team::{self, build_team_heatmap, convert_sample};
use crate::heatmap::Heatmap;
use crate::knowledge::Scenario;
use crate::store::scores::SampleFilter;
use crate::store::training::{NewTrainingTask, TaskStatus, TrainingTask};
use crate::store::TrainingTaskId;
use crate::store::{Store, TeamId, UserId};
use crate::training::{self, GapOutcome, Remeasurement, SkipReason, TrainingConfig, WeakCell};

/// Errors of planning and storing training tasks.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The team heatmap could not be built.
    #[error(transparent)]
    Heatmap(#[from] team::Error),
    /// The store could not be read or written.
    #[error("failed to read or store training tasks")]
    Store(#[from] crate::store::Error),
    /// The task's rep belongs to no team, so no heatmap contains the task's cell.
    #[error("rep {0} of the task has no team: add the rep to a team first")]
    RepWithoutTeam(UserId),
}

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Settings of [`create_team_tasks`].
#[derive(Debug, Clone)]
pub struct TeamTaskSettings<'a> {
    /// Days of samples in the heatmap.
    pub window_days: u32,
    /// Dimension list of the heatmap columns.
    pub dimensions_file: &'a Path,
    /// Thresholds and task sizes.
    pub training: TrainingConfig,
}

/// Tasks assigned by [`create_team_tasks`] and the weak cells that got none.
#[derive(Debug, Clone, Serialize)]
pub struct TeamTasks {
    /// Newly stored tasks.
    pub created: Vec<TrainingTask>,
    /// Weak cells without a new task, with the reason.
    pub skipped: Vec<(WeakCell, SkipReason)>,
}

/// Plans tasks for the weak cells of a team's heatmap and stores them.
pub async fn create_team_tasks(
    store: &Store,
    team: &TeamId,
    scenarios: &[Scenario],
    settings: &TeamTaskSettings<'_>,
    now: OffsetDateTime,
) -> Result<TeamTasks> {
    let heatmap = build_team_heatmap(
        store,
        team,
        settings.window_days,
        settings.dimensions_file,
        now,
    )
    .await?;
    let samples = window_samples(store, team, &heatmap).await?;
    let existing = open_tasks(store, &heatmap).await?;

    let plan = training::create_tasks(
        &heatmap,
        scenarios,
        &samples,
        &existing,
        now,
        &settings.training,
    );

    let mut result = TeamTasks {
        created: Vec::with_capacity(plan.created.len()),
        skipped: plan.skipped,
    };
    for task in plan.created {
        let new = new_stored_task(&task)?;
        match store.assign_training_task(&new).await {
            Ok(stored) => result.created.push(stored),
            Err(crate::store::Error::Conflict { .. }) => {
                let weak = weak_cell_of(&task);
                result.skipped.push((weak, SkipReason::OpenTaskExists));
            }
            Err(err) => return Err(err.into()),
        }
    }
    Ok(result)
}

/// Returns every task of the team's reps, rep by rep, oldest first.
pub async fn team_tasks(store: &Store, team: &TeamId) -> Result<Vec<TrainingTask>> {
    match store.team(team).await {
        Err(crate::store::Error::NotFound { .. }) => {
            return Err(team::Error::UnknownTeam(team.clone()).into())
        }
        other => other?,
    };
    let mut tasks = Vec::new();
    for member in store.team_members(team).await? {
        tasks.extend(store.training_tasks(&member.id, None).await?);
    }
    Ok(tasks)
}

async fn window_samples(
    store: &Store,
    team: &TeamId,
    heatmap: &Heatmap,
) -> Result<Vec<crate::heatmap::ScoreSample>> {
    let filter = SampleFilter {
        rep_id: None,
        team_id: Some(team.clone()),
        from: heatmap.window.start,
        to: heatmap.window.end,
    };
    let samples = store.score_samples(&filter).await?;
    Ok(samples.into_iter().map(convert_sample).collect())
}

/// Returns the open stored tasks of the heatmap's reps in the form that
/// the planner compares with; only rep, dimension and status matter there.
async fn open_tasks(store: &Store, heatmap: &Heatmap) -> Result<Vec<training::TrainingTask>> {
    let mut open = Vec::new();
    for rep in &heatmap.reps {
        let rep_id = UserId::parse(&rep.id)?;
        for task in store
            .training_tasks(&rep_id, Some(TaskStatus::Open))
            .await?
        {
            open.push(planned_form(task));
        }
    }
    Ok(open)
}

fn planned_form(task: TrainingTask) -> training::TrainingTask {
    training::TrainingTask {
        id: task.id.to_string(),
        rep_id: task.rep_id.to_string(),
        dimension: task.dimension,
        scenario_ids: task.scenario_id.into_iter().collect(),
        drills_required: TrainingConfig::default().drills_required,
        drills_done: 0,
        created_at: task.assigned_at,
        due: task.due_at.unwrap_or(task.assigned_at),
        status: training::TaskStatus::Open,
        closed_at: None,
        score_before: 0.0,
        baseline: None,
        gap_before: None,
        reasons: Vec::new(),
    }
}

fn new_stored_task(task: &training::TrainingTask) -> Result<NewTrainingTask> {
    let baseline = task.baseline.map_or_else(
        || "no top-seller baseline".to_string(),
        |b| format!("baseline {b:.1}"),
    );
    let reason = format!(
        "{} score {:.1} ({baseline}); drill {} of: {}",
        task.dimension,
        task.score_before,
        task.drills_required,
        task.scenario_ids.join(", ")
    );
    Ok(NewTrainingTask {
        rep_id: UserId::parse(&task.rep_id)?,
        dimension: task.dimension.clone(),
        scenario_id: task.scenario_ids.first().cloned(),
        reason,
        assigned_by: None,
        due_at: Some(task.due),
    })
}

fn weak_cell_of(task: &training::TrainingTask) -> WeakCell {
    WeakCell {
        rep_id: task.rep_id.clone(),
        dimension: task.dimension.clone(),
        score: task.score_before,
        gap: task.gap_before,
        baseline: task.baseline,
        reasons: task.reasons.clone(),
    }
}

/// Closes the rep's open tasks whose scenario now has at least
/// `drills_required` scored drill attempts from the task's assignment up
/// to and including `now`, and
/// returns the closed tasks. Tasks without a scenario close only by hand.
pub async fn close_completed_tasks(
    store: &Store,
    rep: &UserId,
    drills_required: u32,
    now: OffsetDateTime,
) -> Result<Vec<TrainingTask>> {
    let open = store.training_tasks(rep, Some(TaskStatus::Open)).await?;
    let mut closed = Vec::new();
    for task in open {
        let Some(scenario) = task.scenario_id.as_deref() else {
            continue;
        };
        // The window ends after `now`, so an attempt stored in the same
        // millisecond as the check counts.
        let until = now + time::Duration::milliseconds(1);
        let attempts = store
            .rep_drill_attempts(rep, task.assigned_at, until)
            .await?;
        let scored = attempts
            .iter()
            .filter(|a| a.scenario_id == scenario && a.overall_score.is_some())
            .count();
        if scored >= drills_required as usize {
            closed.push(
                store
                    .close_training_task(&task.id, TaskStatus::Done)
                    .await?,
            );
        }
    }
    Ok(closed)
}

/// Re-measures a task's dimension on the rep's real calls.
///
/// The score and gap before training are those of the rep's cell in the
/// team heatmap over the `window_days` days before the task was assigned,
/// as the planner saw them. The score after is the mean of call samples
/// from the task's closing (or assignment, while open) up to `now`.
///
/// # Errors
///
/// [`Error::Store`] for an unknown task or a failed read,
/// [`Error::RepWithoutTeam`], and [`Error::Heatmap`] for an invalid
/// dimension file.
pub async fn remeasure_task(
    store: &Store,
    id: &TrainingTaskId,
    settings: &TeamTaskSettings<'_>,
    now: OffsetDateTime,
) -> Result<Remeasurement> {
    let stored = store.training_task(id).await?;
    let rep = store.user(&stored.rep_id).await?;
    let team = rep
        .team_id
        .ok_or_else(|| Error::RepWithoutTeam(rep.id.clone()))?;
    let before = build_team_heatmap(
        store,
        &team,
        settings.window_days,
        settings.dimensions_file,
        stored.assigned_at,
    )
    .await?;
    let cell = before.cell(rep.id.as_str(), &stored.dimension);
    let score_before = cell.and_then(|c| c.score);
    let since = stored.closed_at.unwrap_or(stored.assigned_at);
    // Up to and including `now`, so a sample stored in the same
    // millisecond as the request counts.
    let until = now + time::Duration::milliseconds(1);
    let filter = SampleFilter {
        rep_id: Some(rep.id.clone()),
        team_id: None,
        from: since,
        to: until,
    };
    let samples: Vec<_> = store
        .score_samples(&filter)
        .await?
        .into_iter()
        .map(convert_sample)
        .collect();

    let mut task = planned_form(stored);
    task.closed_at = Some(since);
    task.score_before = score_before.unwrap_or_default();
    task.baseline = cell.and_then(|c| c.baseline);
    task.gap_before = cell.and_then(|c| c.gap);
    let heatmap = crate::heatmap::HeatmapConfig {
        window_days: settings.window_days,
        ..crate::heatmap::HeatmapConfig::default()
    };
    let mut result = training::remeasure(&task, &samples, until, &heatmap, &settings.training);
    if score_before.is_none() {
        result.score_before = None;
        if result.score_after.is_some() {
            result.outcome = GapOutcome::NoScoreBefore;
        }
    }
    Ok(result)
}
