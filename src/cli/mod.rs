//! The `callcoach` command tree. Each subcommand lives in its own file and
//! only parses arguments, calls the library and prints the result.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

mod call;
mod checkpoint;
mod drill;
mod kb;
mod model;
mod transcribe;

/// Sales coaching from real calls: transcribe, score drills, show skill gaps.
#[derive(Debug, Parser)]
#[command(name = "callcoach", version, about)]
pub struct Cli {
    /// Logs progress and decisions to stderr.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// Subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands of `callcoach`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Transcribes a recording with Whisper.
    Transcribe(transcribe::Args),
    /// Installs or converts Whisper models.
    #[command(subcommand)]
    Model(model::Command),
    /// Checks, indexes and searches the scenario knowledge base.
    #[command(subcommand)]
    Kb(kb::Command),
    /// Draws today's drill, scores recorded answers and applies coach overrides.
    #[command(subcommand)]
    Drill(drill::Command),
    /// Analyses authorized real calls.
    #[command(subcommand)]
    Call(call::Command),
    /// Shows a rep's checkpoint status.
    #[command(subcommand)]
    Checkpoint(checkpoint::Command),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Transcribe(args) => transcribe::run(args),
        Command::Model(command) => model::run(command),
        Command::Kb(command) => kb::run(command),
        Command::Drill(command) => drill::run(command),
        Command::Call(command) => call::run(command),
        Command::Checkpoint(command) => checkpoint::run(command),
    }
}

/// Joins an error chain into one line for stderr.
pub fn one_line(err: &anyhow::Error) -> String {
    err.chain().map(|e| e.to_string()).collect::<Vec<_>>().join(": ")
}

/// Returns the repository's `models/` directory, or `CALLCOACH_MODELS_DIR`.
pub(crate) fn models_dir() -> PathBuf {
    std::env::var_os("CALLCOACH_MODELS_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("models"))
}
