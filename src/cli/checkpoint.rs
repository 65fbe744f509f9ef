//! `callcoach checkpoint status`: which checkpoints a rep passed, which
//! calls counted and why the others did not.

use std::path::PathBuf;

use anyhow::Context;

use super::drill::{block_on, load_corpus, parse_user, Format};
use crate::checkpoint::{self, CheckpointReport};

/// Subcommands of `callcoach checkpoint`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Evaluates and prints every checkpoint for a rep.
    Status {
        /// The rep's user id.
        #[arg(long)]
        rep: String,
        /// Checkpoint definitions file.
        #[arg(long, default_value = "config/checkpoints.toml")]
        config: PathBuf,
        /// Data directory.
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// Scenario corpus directory, to check the scenario ids.
        #[arg(long, default_value = "corpus")]
        corpus: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// Runs one `checkpoint` subcommand.
pub(crate) fn run(command: Command) -> anyhow::Result<()> {
    let Command::Status {
        rep,
        config,
        data,
        corpus,
        format,
    } = command;
    let rep = parse_user(&rep, "--rep")?;
    let corpus = load_corpus(&corpus)?;
    let definitions = checkpoint::load_definitions(&config, Some(&corpus))
        .context("cannot load the checkpoint definitions")?;

    let reports = block_on(&data, |store| async move {
        Ok(checkpoint::rep_status(&store, &definitions, &rep).await?)
    })?;

    match format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(&reports)?),
        Format::Text => reports.iter().for_each(print_report),
    }
    Ok(())
}

fn print_report(report: &CheckpointReport) {
    let state = if report.passed {
        "passed"
    } else {
        "not passed"
    };
    outln!(
        "{}: {state}, {} of {} call(s) counted",
        report.checkpoint_id,
        report.counted.len(),
        report.required_calls
    );
    for call in &report.counted {
        outln!(
            "  counted {}: turn {} ({}), overall {:.1}, coverage {:.2}",
            call.call_id,
            call.turn,
            call.scenario_id,
            call.overall,
            call.coverage
        );
    }
    for call in &report.rejected {
        outln!(
            "  not counted {}: {}",
            call.call_id,
            call.reasons.join("; ")
        );
    }
}
