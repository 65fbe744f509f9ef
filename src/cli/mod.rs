//! The `callcoach` command tree. Each subcommand lives in its own file and
//! only parses arguments, calls the library and prints the result.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Prints a line to stdout like `println!`, but ends the process quietly
/// when stdout is a closed pipe (`callcoach kb search x | head -1`).
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod call;
mod checkpoint;
mod demo;
mod drill;
mod heatmap;
mod kb;
mod model;
mod permissions;
mod serve;
mod training;
mod transcribe;
mod user;

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
    /// Serves the HTTP API, the transcription workers and the web pages.
    Serve(serve::Args),
    /// Seeds a demo team with one user of each role, prints their tokens, then serves.
    Demo(serve::Args),
    /// Adds and lists users.
    #[command(subcommand)]
    User(user::Command),
    /// Draws today's drill, scores recorded answers and applies coach overrides.
    #[command(subcommand)]
    Drill(drill::Command),
    /// Analyses authorized real calls.
    #[command(subcommand)]
    Call(call::Command),
    /// Shows a rep's checkpoint status.
    #[command(subcommand)]
    Checkpoint(checkpoint::Command),
    /// Writes a team's skill heatmap as JSON, SVG, PNG or XLSX.
    Heatmap(heatmap::Args),
    /// Lists a rep's permissions with their evidence; applies the unlock rules first with --evaluate.
    Permissions(permissions::Args),
    /// Lists a team's training tasks; assigns tasks for weak heatmap cells with --create.
    Training(training::Args),
}

impl Cli {
    /// Returns the default log level: `debug` with `--verbose`, `info` for
    /// the long-running service commands and `warn` for the others.
    pub fn log_level(&self) -> tracing::Level {
        if self.verbose {
            tracing::Level::DEBUG
        } else if self.command.is_service() {
            tracing::Level::INFO
        } else {
            tracing::Level::WARN
        }
    }
}

impl Command {
    /// Returns whether the command runs the service (`serve`, `demo`), which
    /// logs its lifecycle by default.
    pub fn is_service(&self) -> bool {
        matches!(self, Command::Serve(_) | Command::Demo(_))
    }
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Transcribe(args) => transcribe::run(args),
        Command::Model(command) => model::run(command),
        Command::Kb(command) => kb::run(command),
        Command::Serve(args) => serve::run(&args),
        Command::Demo(args) => serve::run(&serve::Args { demo: true, ..args }),
        Command::User(command) => user::run(command),
        Command::Drill(command) => drill::run(command),
        Command::Call(command) => call::run(command),
        Command::Checkpoint(command) => checkpoint::run(command),
        Command::Heatmap(args) => heatmap::run(&args),
        Command::Permissions(args) => permissions::run(&args),
        Command::Training(args) => training::run(&args),
    }
}

/// Joins an error chain into one line for stderr.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain().map(|e| e.to_string()) {
        // Error types that print their source would otherwise repeat it.
        if parts
            .last()
            .is_some_and(|previous| previous.ends_with(&cause))
        {
            continue;
        }
        parts.push(cause);
    }
    parts.join(": ")
}

/// Returns the repository's `models/` directory, or `CALLCOACH_MODELS_DIR`.
pub(crate) fn models_dir() -> PathBuf {
    std::env::var_os("CALLCOACH_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("models"))
}

/// Writes to stdout. A closed pipe ends the process with status 0 because
/// the reader has all the output it needs; any other write error ends it
/// with status 1.
pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let written = stdout.write_fmt(args).and_then(|()| stdout.flush());
    match written {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(err) => {
            eprintln!("error: cannot write to stdout: {err}");
            std::process::exit(1);
        }
    }
}
