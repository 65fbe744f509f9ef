//! `callcoach training`: lists a team's training tasks, with `--create`
//! assigns new ones for the weak cells of the team heatmap, and with
//! `--remeasure` shows whether each task's gap closed on real calls.

use std::path::PathBuf;

use anyhow::Context;
use serde::Serialize;

use super::drill::{block_on, load_corpus, Format};
use crate::store::training::TrainingTask;
use crate::store::TeamId;
use crate::training::{GapOutcome, Remeasurement, SkipReason, TrainingConfig, WeakCell};
use crate::training_store::{create_team_tasks, remeasure_task, team_tasks, TeamTaskSettings};

/// Arguments of `callcoach training`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Team id.
    #[arg(long)]
    team: String,
    /// Assigns tasks for weak heatmap cells first; cells whose rep has an
    /// open task for the dimension are skipped.
    #[arg(long)]
    create: bool,
    /// Re-measures every task's dimension on the rep's real calls since
    /// the task closed (or was assigned, while open) and compares it with
    /// the heatmap cell when the task was assigned.
    #[arg(long)]
    remeasure: bool,
    /// Days of samples in the heatmap, with --create and --remeasure.
    #[arg(long, default_value_t = 30)]
    window_days: u32,
    /// Dimension list of the heatmap columns, with --create and --remeasure.
    #[arg(long, default_value = "config/dimensions.toml")]
    dimensions: PathBuf,
    /// Scenario corpus directory, with --create.
    #[arg(long, default_value = "corpus")]
    corpus: PathBuf,
    /// Data directory.
    #[arg(long, default_value = "data")]
    data: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Output of the command.
#[derive(Debug, Serialize)]
struct Report {
    /// Tasks assigned by `--create`.
    created: Vec<TrainingTask>,
    /// Weak cells that got no task, with the reason.
    skipped: Vec<(WeakCell, SkipReason)>,
    /// Every task of the team after the changes.
    tasks: Vec<TrainingTask>,
    /// With `--remeasure`, the re-measurement of each task, in task order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    remeasured: Vec<Remeasurement>,
}

/// Runs `callcoach training`.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let team =
        TeamId::parse(&args.team).with_context(|| format!("invalid --team {:?}", args.team))?;
    let max_days = crate::http::heatmaps::MAX_WINDOW_DAYS;
    if args.window_days == 0 || args.window_days > max_days {
        anyhow::bail!(
            "invalid --window-days {}: expected 1 to {max_days}",
            args.window_days
        );
    }
    let scenarios = if args.create {
        let corpus = load_corpus(&args.corpus)?;
        corpus.scenarios().cloned().collect()
    } else {
        Vec::new()
    };

    let report = block_on(&args.data, |store| async move {
        let mut report = Report {
            created: Vec::new(),
            skipped: Vec::new(),
            tasks: Vec::new(),
            remeasured: Vec::new(),
        };
        let settings = TeamTaskSettings {
            window_days: args.window_days,
            dimensions_file: &args.dimensions,
            training: TrainingConfig::default(),
        };
        let now = crate::store::now();
        if args.create {
            let result = create_team_tasks(&store, &team, &scenarios, &settings, now).await?;
            report.created = result.created;
            report.skipped = result.skipped;
        }
        report.tasks = team_tasks(&store, &team).await?;
        if args.remeasure {
            for task in &report.tasks {
                let result = remeasure_task(&store, &task.id, &settings, now).await?;
                report.remeasured.push(result);
            }
        }
        Ok(report)
    })?;

    match args.format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => print_text(&report, args.create),
    }
    Ok(())
}

fn print_text(report: &Report, created: bool) {
    if created {
        outln!(
            "created {} task(s), skipped {} weak cell(s)",
            report.created.len(),
            report.skipped.len()
        );
        for (cell, reason) in &report.skipped {
            outln!("  skipped {} {}: {reason:?}", cell.rep_id, cell.dimension);
        }
    }
    if report.tasks.is_empty() {
        outln!("the team has no training tasks");
    }
    for task in &report.tasks {
        let scenario = task.scenario_id.as_deref().unwrap_or("any scenario");
        outln!(
            "{} {} {} {} ({scenario}): {}",
            task.id,
            task.status,
            task.rep_id,
            task.dimension,
            task.reason
        );
        if let Some(result) = report
            .remeasured
            .iter()
            .find(|r| r.task_id == task.id.as_str())
        {
            outln!("  {}", remeasure_line(result));
        }
    }
}

/// Describes a re-measurement in one line, such as "before 52.0 (gap
/// 20.0), on 4 call sample(s) since 70.0 (gap 2.0): gap narrowed".
fn remeasure_line(result: &Remeasurement) -> String {
    let number =
        |value: Option<f64>| value.map_or_else(|| "n/a".to_string(), |v| format!("{v:.1}"));
    let outcome = match result.outcome {
        GapOutcome::Closed => "gap closed",
        GapOutcome::Narrowed => "gap narrowed",
        GapOutcome::NotNarrowed => "gap not narrowed",
        GapOutcome::InsufficientCalls => "too few real calls since training",
        GapOutcome::NoBaseline => "no top-seller baseline to compare with",
        GapOutcome::NoScoreBefore => "no score before training to compare with",
    };
    format!(
        "before {} (gap {}), on {} call sample(s) since {} (gap {}): {outcome}",
        number(result.score_before),
        number(result.gap_before),
        result.call_samples,
        number(result.score_after),
        number(result.gap_after),
    )
}
