//! Helpers shared by the integration tests.
//!
//! [`fixture`] returns a generated audio file from `tests/fixtures/generated/`,
//! running `tests/fixtures/generate.sh` first (it exits at once when the
//! fixtures are current). `MANIFEST.tsv` there states each fixture's words,
//! language and timing. [`corpus_candidates`] locates the optional folder of
//! real recordings named by `CALLCOACH_CORPUS_CANDIDATES`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Default location of the real-recording corpus, relative to the repository root.
const CORPUS_DEFAULT: &str = "../shared/corpus-candidates";

fn repository_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Returns the path of a generated fixture, generating the set on first use.
///
/// # Panics
///
/// Panics when `generate.sh` fails (sox, espeak-ng, ffmpeg or python3
/// missing) or when `name` is not one of the generated files.
pub(crate) fn fixture(name: &str) -> PathBuf {
    static GENERATED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let directory = GENERATED
        .get_or_init(generate)
        .as_ref()
        .unwrap_or_else(|err| panic!("{err}"));
    let path = directory.join(name);
    assert!(
        path.is_file(),
        "fixture {name} is not in {}",
        directory.display()
    );
    path
}

fn generate() -> Result<PathBuf, String> {
    let script = repository_root().join("tests/fixtures/generate.sh");
    let output = Command::new("bash")
        .arg(&script)
        .output()
        .map_err(|err| format!("failed to run {}: {err}", script.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(repository_root().join("tests/fixtures/generated"))
}

/// Returns the timing column of a fixture in `MANIFEST.tsv`.
///
/// # Panics
///
/// Panics when the fixture has no manifest line.
pub(crate) fn fixture_timing(name: &str) -> String {
    let manifest = fixture("MANIFEST.tsv");
    let text = std::fs::read_to_string(&manifest).expect("MANIFEST.tsv is readable");
    text.lines()
        .filter_map(|line| {
            line.split('\t')
                .collect::<Vec<_>>()
                .get(..4)
                .map(<[_]>::to_vec)
        })
        .find(|fields| fields[0] == name)
        .map(|fields| fields[3].to_string())
        .unwrap_or_else(|| panic!("fixture {name} has no line in MANIFEST.tsv"))
}

/// Returns the corpus folder from `CALLCOACH_CORPUS_CANDIDATES` (default
/// `../shared/corpus-candidates` from the repository root), or `None` after
/// printing a skip line when it does not exist.
pub(crate) fn corpus_candidates() -> Option<PathBuf> {
    let configured = std::env::var_os("CALLCOACH_CORPUS_CANDIDATES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(CORPUS_DEFAULT));
    let path = if configured.is_absolute() {
        configured
    } else {
        repository_root().join(configured)
    };
    if path.is_dir() {
        Some(path)
    } else {
        eprintln!(
            "skipping: corpus folder {} not found; \
             set CALLCOACH_CORPUS_CANDIDATES to run this test",
            path.display()
        );
        None
    }
}
