//! Training tasks for weak heatmap cells: which scenarios a rep drills, how
//! many drills close the task, and whether later calls closed the gap.
//!
//! Everything here is a pure function over a [`Heatmap`], [`ScoreSample`]s
//! and existing [`TrainingTask`]s; the store persists the results.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::heatmap::{mean_score, CellStatus, Heatmap, HeatmapConfig, ScoreSample, Source, Window};
use crate::knowledge::Scenario;

/// Settings for finding weak cells and sizing tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingConfig {
    /// Measured scores below this are weak (default 60).
    pub weak_below: f64,
    /// Whether the bottom quarter of a team in a dimension is weak too.
    pub team_bottom_quartile: bool,
    /// Drills that close a task (default 3).
    pub drills_required: u32,
    /// Days from creation to the due date (default 14).
    pub due_days: u32,
    /// Maximum number of scenarios to drill per task (default 2).
    pub scenarios_per_task: usize,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        TrainingConfig {
            weak_below: 60.0,
            team_bottom_quartile: true,
            drills_required: 3,
            due_days: 14,
            scenarios_per_task: 2,
        }
    }
}

/// Reason that a cell counts as weak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeakReason {
    /// The score is below [`TrainingConfig::weak_below`].
    BelowThreshold,
    /// The rep is in the bottom quarter of the team in this dimension.
    TeamBottomQuartile,
}

/// A measured cell that needs training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeakCell {
    /// Rep of the cell.
    pub rep_id: String,
    /// Dimension id of the cell.
    pub dimension: String,
    /// Measured score.
    pub score: f64,
    /// Gap to the top-seller baseline, if there is one.
    pub gap: Option<f64>,
    /// Top-seller baseline, if there is one.
    pub baseline: Option<f64>,
    /// Every reason that applies, at least one.
    pub reasons: Vec<WeakReason>,
}

/// Whether a task still needs drills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Fewer drills done than required.
    Open,
    /// The required drills are done.
    Closed,
}

/// Drills assigned to a rep for one weak dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingTask {
    /// Stable id: `rep/dimension/creation unix time`.
    pub id: String,
    /// Rep who drills.
    pub rep_id: String,
    /// Weak dimension id.
    pub dimension: String,
    /// Scenarios to drill, weakest first.
    pub scenario_ids: Vec<String>,
    /// Drills that close the task.
    pub drills_required: u32,
    /// Drills counted so far.
    pub drills_done: u32,
    /// Creation time; drills before it do not count.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Due date.
    #[serde(with = "time::serde::rfc3339")]
    pub due: OffsetDateTime,
    /// Open or closed.
    pub status: TaskStatus,
    /// Time of the drill that closed the task.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub closed_at: Option<OffsetDateTime>,
    /// Score of the weak cell at creation.
    pub score_before: f64,
    /// Top-seller baseline at creation.
    pub baseline: Option<f64>,
    /// Gap to the baseline at creation.
    pub gap_before: Option<f64>,
    /// Reasons that the cell was weak.
    pub reasons: Vec<WeakReason>,
}

impl TrainingTask {
    /// Returns whether the task is open past its due date.
    pub fn is_overdue(&self, now: OffsetDateTime) -> bool {
        self.status == TaskStatus::Open && now > self.due
    }
}

/// Reason that a weak cell got no new task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The rep already has an open task for the dimension.
    OpenTaskExists,
    /// No scenario exercises the dimension.
    NoScenario,
}

/// New tasks and the weak cells that got none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskPlan {
    /// Tasks to store.
    pub created: Vec<TrainingTask>,
    /// Weak cells without a new task, with the reason.
    pub skipped: Vec<(WeakCell, SkipReason)>,
}

/// Returns the weak measured cells of a heatmap; insufficient cells are
/// never weak.
///
/// The bottom quarter of a team contains the `floor(n / 4)` lowest measured
/// reps of that team in the dimension (ties broken by rep id), so teams of
/// fewer than four measured reps have none.
pub fn find_weak_cells(heatmap: &Heatmap, config: &TrainingConfig) -> Vec<WeakCell> {
    let bottom = if config.team_bottom_quartile {
        bottom_quartiles(heatmap)
    } else {
        HashSet::new()
    };
    let mut weak = Vec::new();
    for cell in heatmap
        .cells
        .iter()
        .filter(|c| c.status == CellStatus::Measured)
    {
        let Some(score) = cell.score else { continue };
        let mut reasons = Vec::new();
        if score < config.weak_below {
            reasons.push(WeakReason::BelowThreshold);
        }
        if bottom.contains(&(cell.rep_id.as_str(), cell.dimension.as_str())) {
            reasons.push(WeakReason::TeamBottomQuartile);
        }
        if !reasons.is_empty() {
            weak.push(WeakCell {
                rep_id: cell.rep_id.clone(),
                dimension: cell.dimension.clone(),
                score,
                gap: cell.gap,
                baseline: cell.baseline,
                reasons,
            });
        }
    }
    weak
}

fn bottom_quartiles(heatmap: &Heatmap) -> HashSet<(&str, &str)> {
    let teams: BTreeMap<&str, &str> = heatmap
        .reps
        .iter()
        .map(|r| (r.id.as_str(), r.team.as_str()))
        .collect();
    let mut groups: BTreeMap<(&str, &str), Vec<(f64, &str)>> = BTreeMap::new();
    for cell in &heatmap.cells {
        if let (Some(score), Some(team)) = (cell.score, teams.get(cell.rep_id.as_str())) {
            groups
                .entry((team, cell.dimension.as_str()))
                .or_default()
                .push((score, cell.rep_id.as_str()));
        }
    }
    let mut bottom = HashSet::new();
    for ((_, dimension), mut members) in groups {
        members.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1)));
        let count = members.len() / 4;
        bottom.extend(
            members
                .into_iter()
                .take(count)
                .map(|(_, rep)| (rep, dimension)),
        );
    }
    bottom
}

/// Creates one task per weak cell that has no open task yet.
///
/// Scenarios are those whose dimensions include the weak one. The rep's
/// lowest mean score in the heatmap window comes first, then scenarios the
/// rep has not practised, each group ordered by id, so equal input always
/// gives equal tasks.
pub fn create_tasks(
    heatmap: &Heatmap,
    scenarios: &[Scenario],
    samples: &[ScoreSample],
    existing: &[TrainingTask],
    now: OffsetDateTime,
    config: &TrainingConfig,
) -> TaskPlan {
    let open: HashSet<(&str, &str)> = existing
        .iter()
        .filter(|t| t.status == TaskStatus::Open)
        .map(|t| (t.rep_id.as_str(), t.dimension.as_str()))
        .collect();
    let mut plan = TaskPlan {
        created: Vec::new(),
        skipped: Vec::new(),
    };
    for weak in find_weak_cells(heatmap, config) {
        if open.contains(&(weak.rep_id.as_str(), weak.dimension.as_str())) {
            plan.skipped.push((weak, SkipReason::OpenTaskExists));
            continue;
        }
        let chosen = choose_scenarios(&weak, scenarios, samples, &heatmap.window, config);
        if chosen.is_empty() {
            plan.skipped.push((weak, SkipReason::NoScenario));
            continue;
        }
        plan.created.push(new_task(weak, chosen, now, config));
    }
    plan
}

fn choose_scenarios(
    weak: &WeakCell,
    scenarios: &[Scenario],
    samples: &[ScoreSample],
    window: &Window,
    config: &TrainingConfig,
) -> Vec<String> {
    let weights = HeatmapConfig::default().weights;
    let mut ranked: Vec<(Option<f64>, &str)> = scenarios
        .iter()
        .filter(|s| s.dimensions.iter().any(|d| d.id() == weak.dimension))
        .map(|s| {
            let in_scenario = |sample: &ScoreSample| sample.scenario_id == s.id;
            let acc = mean_score(
                samples,
                &weak.rep_id,
                &weak.dimension,
                window,
                &weights,
                in_scenario,
            );
            (acc.mean(), s.id.as_str())
        })
        .collect();
    ranked.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => x.total_cmp(&y).then_with(|| a.1.cmp(b.1)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.1.cmp(b.1),
    });
    ranked
        .into_iter()
        .take(config.scenarios_per_task)
        .map(|(_, id)| id.to_string())
        .collect()
}

fn new_task(
    weak: WeakCell,
    scenario_ids: Vec<String>,
    now: OffsetDateTime,
    config: &TrainingConfig,
) -> TrainingTask {
    TrainingTask {
        id: format!(
            "{}/{}/{}",
            weak.rep_id,
            weak.dimension,
            now.unix_timestamp()
        ),
        rep_id: weak.rep_id,
        dimension: weak.dimension,
        scenario_ids,
        drills_required: config.drills_required,
        drills_done: 0,
        created_at: now,
        due: now + Duration::days(i64::from(config.due_days)),
        status: TaskStatus::Open,
        closed_at: None,
        score_before: weak.score,
        baseline: weak.baseline,
        gap_before: weak.gap,
        reasons: weak.reasons,
    }
}

/// Counts the rep's drills on the task's scenarios since creation and closes
/// the task at the drill that reaches the required number.
///
/// Samples that share an `attempt_id` count as one drill. Closed tasks are
/// returned unchanged.
pub fn record_drills(task: &TrainingTask, samples: &[ScoreSample]) -> TrainingTask {
    let mut updated = task.clone();
    if task.status == TaskStatus::Closed {
        return updated;
    }
    let mut drills: Vec<&ScoreSample> = samples
        .iter()
        .filter(|s| s.rep_id == task.rep_id && s.source == Source::Drill && s.at >= task.created_at)
        .filter(|s| task.scenario_ids.contains(&s.scenario_id))
        .collect();
    drills.sort_by_key(|s| s.at);
    let mut attempts = HashSet::new();
    drills.retain(|s| {
        s.attempt_id
            .as_ref()
            .is_none_or(|id| attempts.insert(id.as_str()))
    });

    updated.drills_done = u32::try_from(drills.len()).unwrap_or(u32::MAX);
    let required = usize::try_from(task.drills_required.max(1)).unwrap_or(usize::MAX);
    if let Some(closing) = drills.get(required - 1) {
        updated.status = TaskStatus::Closed;
        updated.closed_at = Some(closing.at);
    }
    updated
}

/// Change of the gap after training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapOutcome {
    /// The rep reached the baseline (`gap_after <= 0`).
    Closed,
    /// The gap shrank but remains.
    Narrowed,
    /// The gap stayed the same or grew.
    NotNarrowed,
    /// Fewer real calls than the heatmap minimum since training.
    InsufficientCalls,
    /// No top-seller baseline existed at task creation.
    NoBaseline,
    /// The rep had too few samples in the dimension at task creation, so
    /// there is no score to compare with.
    NoScoreBefore,
}

/// Real-call scores after a task, compared with the gap at creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Remeasurement {
    /// Task that was measured.
    pub task_id: String,
    /// Gap at task creation.
    pub gap_before: Option<f64>,
    /// Baseline at creation minus the call score since training.
    pub gap_after: Option<f64>,
    /// Cell score at task creation, if the cell was measured then.
    pub score_before: Option<f64>,
    /// Weighted mean of call scores since training.
    pub score_after: Option<f64>,
    /// Call samples since training.
    pub call_samples: usize,
    /// Whether `score_after` reaches [`TrainingConfig::weak_below`].
    pub above_threshold: bool,
    /// Closed, narrowed, not narrowed, or not measurable.
    pub outcome: GapOutcome,
}

/// Re-measures the task's dimension on real calls from the task's closing
/// time (or creation, while open) up to `now`, half-open.
///
/// A score needs at least `heatmap.min_samples` calls. Both gaps use the
/// baseline stored at creation, so they compare the rep with one target.
pub fn remeasure(
    task: &TrainingTask,
    samples: &[ScoreSample],
    now: OffsetDateTime,
    heatmap: &HeatmapConfig,
    config: &TrainingConfig,
) -> Remeasurement {
    let window = Window {
        start: task.closed_at.unwrap_or(task.created_at),
        end: now,
    };
    let calls_only = |s: &ScoreSample| s.source == Source::Call;
    let acc = mean_score(
        samples,
        &task.rep_id,
        &task.dimension,
        &window,
        &heatmap.weights,
        calls_only,
    );
    let score_after = acc.mean().filter(|_| acc.samples >= heatmap.min_samples);
    let gap_after = task.baseline.zip(score_after).map(|(b, s)| b - s);

    let outcome = match (score_after, task.gap_before, gap_after) {
        (None, _, _) => GapOutcome::InsufficientCalls,
        (Some(_), _, None) | (Some(_), None, _) => GapOutcome::NoBaseline,
        (Some(_), Some(_), Some(after)) if after <= 0.0 => GapOutcome::Closed,
        (Some(_), Some(before), Some(after)) if after < before => GapOutcome::Narrowed,
        _ => GapOutcome::NotNarrowed,
    };
    Remeasurement {
        task_id: task.id.clone(),
        gap_before: task.gap_before,
        gap_after,
        score_before: Some(task.score_before),
        score_after,
        call_samples: acc.samples,
        above_threshold: score_after.is_some_and(|s| s >= config.weak_below),
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heatmap::{aggregate, Rep};
    use crate::knowledge::LatencyBand;
    use crate::skill::Dimension;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2025-04-01 00:00 UTC);

    fn scenario(id: &str, dimensions: &[Dimension]) -> Scenario {
        Scenario {
            id: id.into(),
            title_en: id.into(),
            title_zh: id.into(),
            dimensions: dimensions.to_vec(),
            triggers: Vec::new(),
            latency: LatencyBand {
                min_ms: 300,
                max_ms: 3000,
                top_seller_ms: 1200,
            },
            strategies: Vec::new(),
        }
    }

    fn sample(
        rep: &str,
        scenario: &str,
        score: f64,
        source: Source,
        at: OffsetDateTime,
    ) -> ScoreSample {
        ScoreSample {
            rep_id: rep.into(),
            scenario_id: scenario.into(),
            dimensions: vec!["closing".into()],
            source,
            score,
            at,
            call_id: None,
            attempt_id: None,
        }
    }

    fn rep(id: &str, top_seller: bool) -> Rep {
        Rep {
            id: id.into(),
            name: id.into(),
            team: "east".into(),
            top_seller,
        }
    }

    /// Five reps in one team, all measured in closing: the top seller at 90,
    /// "low" at 50 in `trial_close`, the others from 70 to 80.
    fn heatmap_and_samples() -> (Heatmap, Vec<ScoreSample>) {
        let means = [
            ("top", 90.0),
            ("low", 50.0),
            ("b", 70.0),
            ("c", 75.0),
            ("d", 80.0),
        ];
        let mut samples = Vec::new();
        for (id, score) in means {
            for day in 1..=3 {
                samples.push(sample(
                    id,
                    "trial_close",
                    score,
                    Source::Drill,
                    NOW - Duration::days(day),
                ));
            }
        }
        let reps: Vec<Rep> = means.iter().map(|(id, _)| rep(id, *id == "top")).collect();
        let map = aggregate(&reps, &samples, NOW, &HeatmapConfig::default()).expect("valid input");
        (map, samples)
    }

    fn scenarios() -> Vec<Scenario> {
        vec![
            scenario("next_step", &[Dimension::Closing]),
            scenario("trial_close", &[Dimension::Closing]),
            scenario(
                "budget_owner",
                &[Dimension::Closing, Dimension::NeedsDiscovery],
            ),
            scenario("price_objection", &[Dimension::ObjectionHandling]),
        ]
    }

    #[test]
    fn weak_cells_below_threshold_and_quartile() {
        let (map, _) = heatmap_and_samples();

        let weak = find_weak_cells(&map, &TrainingConfig::default());

        assert_eq!(weak.len(), 1);
        assert_eq!(weak[0].rep_id, "low");
        assert_eq!(
            weak[0].reasons,
            [WeakReason::BelowThreshold, WeakReason::TeamBottomQuartile]
        );
    }

    #[test]
    fn insufficient_cells_are_not_weak() {
        let reps = [rep("a", false)];
        let samples = [sample(
            "a",
            "trial_close",
            5.0,
            Source::Drill,
            NOW - Duration::days(1),
        )];
        let map = aggregate(&reps, &samples, NOW, &HeatmapConfig::default()).expect("valid input");

        assert!(find_weak_cells(&map, &TrainingConfig::default()).is_empty());
    }

    #[test]
    fn task_picks_weakest_scenario_first() {
        let (map, samples) = heatmap_and_samples();

        let plan = create_tasks(
            &map,
            &scenarios(),
            &samples,
            &[],
            NOW,
            &TrainingConfig::default(),
        );

        let task = &plan.created[0];
        assert_eq!(plan.created.len(), 1);
        assert_eq!(task.scenario_ids, ["trial_close", "budget_owner"]);
        assert_eq!(task.drills_required, 3);
        assert_eq!(task.due, NOW + Duration::days(14));
        assert_eq!(task.status, TaskStatus::Open);
        assert!((task.gap_before.expect("baseline exists") - 40.0).abs() < 1e-9);
    }

    #[test]
    fn open_task_is_not_duplicated() {
        let (map, samples) = heatmap_and_samples();
        let first = create_tasks(
            &map,
            &scenarios(),
            &samples,
            &[],
            NOW,
            &TrainingConfig::default(),
        );

        let second = create_tasks(
            &map,
            &scenarios(),
            &samples,
            &first.created,
            NOW,
            &TrainingConfig::default(),
        );

        assert!(second.created.is_empty());
        assert_eq!(second.skipped[0].1, SkipReason::OpenTaskExists);
    }

    #[test]
    fn dimension_without_scenario_is_skipped() {
        let (map, samples) = heatmap_and_samples();
        let only_objections = [scenario("price_objection", &[Dimension::ObjectionHandling])];

        let plan = create_tasks(
            &map,
            &only_objections,
            &samples,
            &[],
            NOW,
            &TrainingConfig::default(),
        );

        assert!(plan.created.is_empty());
        assert_eq!(plan.skipped[0].1, SkipReason::NoScenario);
    }

    #[test]
    fn required_drills_close_task() {
        let (map, samples) = heatmap_and_samples();
        let task = create_tasks(
            &map,
            &scenarios(),
            &samples,
            &[],
            NOW,
            &TrainingConfig::default(),
        )
        .created
        .remove(0);
        let mut drills = vec![
            sample(
                "low",
                "trial_close",
                60.0,
                Source::Drill,
                NOW + Duration::days(1),
            ),
            sample(
                "low",
                "next_step",
                60.0,
                Source::Drill,
                NOW + Duration::days(2),
            ),
            sample(
                "low",
                "budget_owner",
                65.0,
                Source::Drill,
                NOW + Duration::days(3),
            ),
            sample(
                "b",
                "trial_close",
                65.0,
                Source::Drill,
                NOW + Duration::days(3),
            ),
        ];

        let partial = record_drills(&task, &drills);
        drills.push(sample(
            "low",
            "trial_close",
            70.0,
            Source::Drill,
            NOW + Duration::days(4),
        ));
        let done = record_drills(&task, &drills);

        assert_eq!(
            partial.drills_done, 2,
            "next_step and other reps do not count"
        );
        assert_eq!(partial.status, TaskStatus::Open);
        assert_eq!(done.status, TaskStatus::Closed);
        assert_eq!(done.closed_at, Some(NOW + Duration::days(4)));
        assert!(!done.is_overdue(NOW + Duration::days(30)));
        assert!(partial.is_overdue(NOW + Duration::days(15)));
    }

    #[test]
    fn remeasure_reports_gap_change() {
        let (map, samples) = heatmap_and_samples();
        let task = create_tasks(
            &map,
            &scenarios(),
            &samples,
            &[],
            NOW,
            &TrainingConfig::default(),
        )
        .created
        .remove(0);
        let drills: Vec<ScoreSample> = (1..=3)
            .map(|d| {
                sample(
                    "low",
                    "trial_close",
                    70.0,
                    Source::Drill,
                    NOW + Duration::days(d),
                )
            })
            .collect();
        let closed = record_drills(&task, &drills);
        let mut calls: Vec<ScoreSample> = (4..=6)
            .map(|d| {
                sample(
                    "low",
                    "trial_close",
                    75.0,
                    Source::Call,
                    NOW + Duration::days(d),
                )
            })
            .collect();

        let too_early = remeasure(
            &closed,
            &calls[..2],
            NOW + Duration::days(10),
            &HeatmapConfig::default(),
            &TrainingConfig::default(),
        );
        let after = remeasure(
            &closed,
            &calls,
            NOW + Duration::days(10),
            &HeatmapConfig::default(),
            &TrainingConfig::default(),
        );
        calls.iter_mut().for_each(|c| c.score = 95.0);
        let reached = remeasure(
            &closed,
            &calls,
            NOW + Duration::days(10),
            &HeatmapConfig::default(),
            &TrainingConfig::default(),
        );

        assert_eq!(too_early.outcome, GapOutcome::InsufficientCalls);
        assert_eq!(after.outcome, GapOutcome::Narrowed);
        assert!((after.gap_before.expect("gap") - 40.0).abs() < 1e-9);
        assert!((after.gap_after.expect("gap") - 15.0).abs() < 1e-9);
        assert!(after.above_threshold);
        assert_eq!(reached.outcome, GapOutcome::Closed);
    }
}
