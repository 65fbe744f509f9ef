//! Logging set-up: `tracing` with an `EnvFilter`, written to stderr.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; [`crate::transcribe::Engine::load`]
/// routes whisper.cpp's logs into it.
///
/// The default filter is `warn` for the CLI and `info` for callcoach with
/// `--verbose`; `RUST_LOG` overrides both.
pub fn init(verbose: bool) {
    let default = if verbose { "callcoach=debug,whisper_rs=info" } else { "callcoach=warn,whisper_rs=error" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
