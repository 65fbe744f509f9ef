//! Logging set-up: `tracing` with an `EnvFilter`, written to stderr, in
//! colour only when stderr is a terminal.

use tracing::Level;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; [`crate::transcribe::Engine::load`]
/// routes whisper.cpp's logs into it.
///
/// `level` is the default for callcoach's own logs (the CLI passes `info`
/// for the service, `warn` for other commands and `debug` with
/// `--verbose`); whisper.cpp logs one step quieter, at least at `error`.
/// `RUST_LOG` replaces the default filter.
pub fn init(level: Level) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter(level)));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Returns the filter directives for callcoach at `level`.
fn default_filter(level: Level) -> String {
    let whisper = match level {
        Level::TRACE | Level::DEBUG => Level::INFO,
        Level::INFO => Level::WARN,
        _ => Level::ERROR,
    };
    let ours = level.as_str().to_ascii_lowercase();
    let whisper = whisper.as_str().to_ascii_lowercase();
    format!("callcoach={ours},whisper_rs={whisper}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_level_logs_info() {
        assert_eq!(
            default_filter(Level::INFO),
            "callcoach=info,whisper_rs=warn"
        );
    }

    #[test]
    fn cli_level_stays_quiet() {
        assert_eq!(
            default_filter(Level::WARN),
            "callcoach=warn,whisper_rs=error"
        );
        assert_eq!(
            default_filter(Level::DEBUG),
            "callcoach=debug,whisper_rs=info"
        );
    }
}
