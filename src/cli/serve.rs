//! `callcoach serve`: the HTTP service, and `callcoach demo`, which seeds a
//! demo team first.

use std::path::PathBuf;

use anyhow::Context;

use crate::config::Config;
use crate::service;

/// Arguments of `callcoach serve` and `callcoach demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Address to listen on, IP:PORT [default: 127.0.0.1:8080]
    #[arg(long)]
    pub addr: Option<String>,
    /// Data directory: database, audio files and index [default: data]
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Configuration file in TOML [default: $CALLCOACH_CONFIG]
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Whisper model file [default: $CALLCOACH_MODEL, then models/ggml-tiny.en.bin]
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Transcription workers; 0 queues jobs without running them [default: CPU cores]
    #[arg(long)]
    pub workers: Option<usize>,
    /// Seeds a demo team with a rep, a top-seller rep, a coach, a manager and
    /// an admin, and prints their tokens before serving.
    #[arg(long)]
    pub demo: bool,
}

impl Args {
    /// Reads the configuration with these flags applied last.
    pub(crate) fn load_config(&self) -> anyhow::Result<Config> {
        let mut flags = Vec::new();
        if let Some(addr) = &self.addr {
            flags.push(("addr", addr.clone()));
        }
        if let Some(data) = &self.data {
            flags.push(("data_dir", data.display().to_string()));
        }
        if let Some(model) = &self.model {
            flags.push(("model", model.display().to_string()));
        }
        if let Some(workers) = self.workers {
            flags.push(("workers", workers.to_string()));
        }
        Config::load(self.config.as_deref(), &flags).context("read the configuration")
    }
}

/// Runs `callcoach serve`.
pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let config = args.load_config()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?;
    runtime.block_on(async {
        let demo = if args.demo {
            Some(super::demo::seed(&config).await?)
        } else {
            None
        };
        let running = service::start(config).await?;
        let base = format!("http://{}", running.addr());
        outln!("callcoach listening on {base} (API {base}/api/v1, stop with Ctrl-C)");
        if let Some(demo) = demo {
            demo.print(&base);
        }
        running.run_until_signal().await
    })
}
