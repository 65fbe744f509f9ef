//! The `callcoach` command-line entry point.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = callcoach::cli::Cli::parse();
    callcoach::telemetry::init(cli.log_level());

    match callcoach::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", callcoach::cli::one_line(&err));
            ExitCode::FAILURE
        }
    }
}
