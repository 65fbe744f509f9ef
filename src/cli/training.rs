//! `callcoach training`: lists a team's training tasks, and with
//! `--create` assigns new ones for the weak cells of the team heatmap.

use std::path::PathBuf;

use anyhow::Context;
use serde::Serialize;

use super::drill::{block_on, load_corpus, Format};
use crate::store::training::TrainingTask;
use crate::store::TeamId;
use crate::training::{SkipReason, TrainingConfig, WeakCell};
use crate::training_store::{create_team_tasks, team_tasks, TeamTaskSettings};

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
    /// Days of samples in the heatmap, with --create.
    #[arg(long, default_value_t = 30)]
    window_days: u32,
    /// Dimension list of the heatmap columns, with --create.
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
}

/// Runs `callcoach training`.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let team =
        TeamId::parse(&args.team).with_context(|| format!("invalid --team {:?}", args.team))?;
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
        };
        if args.create {
            let settings = TeamTaskSettings {
                window_days: args.window_days,
                dimensions_file: &args.dimensions,
                training: TrainingConfig::default(),
            };
            let now = crate::store::now();
            let result = create_team_tasks(&store, &team, &scenarios, &settings, now).await?;
            report.created = result.created;
            report.skipped = result.skipped;
        }
        report.tasks = team_tasks(&store, &team).await?;
        Ok(report)
    })?;

    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => print_text(&report, args.create),
    }
    Ok(())
}

fn print_text(report: &Report, created: bool) {
    if created {
        println!(
            "created {} task(s), skipped {} weak cell(s)",
            report.created.len(),
            report.skipped.len()
        );
        for (cell, reason) in &report.skipped {
            println!("  skipped {} {}: {reason:?}", cell.rep_id, cell.dimension);
        }
    }
    if report.tasks.is_empty() {
        println!("the team has no training tasks");
    }
    for task in &report.tasks {
        let scenario = task.scenario_id.as_deref().unwrap_or("any scenario");
        println!(
            "{} {} {} {} ({scenario}): {}",
            task.id, task.status, task.rep_id, task.dimension, task.reason
        );
    }
}
