//! Loading a corpus directory of scenario files.
//!
//! Each `*.toml` file in the directory holds one [`Scenario`]; files load in
//! name order so that every consumer sees the same sequence.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::analyzer::Analyzers;
use super::raw::LineIndex;
use super::snippet::{SnippetTimes, SNIPPET_TIMES_FILE};
use super::validate::{check_file, Context, Problem, ValidationReport};
use super::{io_error, Error, Result, Scenario};

/// One loaded scenario file.
#[derive(Debug, Clone)]
pub struct CorpusFile {
    /// Path of the file.
    pub path: PathBuf,
    /// The checked scenario, snippet times included.
    pub scenario: Scenario,
    /// SHA-256 (hex) of the scenario with its snippet times; changes whenever
    /// the file or its generated audio times change.
    pub content_hash: String,
}

/// A validated corpus.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Corpus directory.
    pub dir: PathBuf,
    /// Scenario files in name order.
    pub files: Vec<CorpusFile>,
}

impl Corpus {
    /// Loads and validates every scenario file in `dir`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCorpus`] when any file breaks a rule, with the full
    /// report; [`Error::EmptyCorpus`] and [`Error::Io`] otherwise.
    pub fn load(dir: &Path) -> Result<Corpus> {
        let (report, files) = scan(dir)?;
        if !report.is_clean() {
            return Err(Error::InvalidCorpus { report });
        }
        tracing::debug!(dir = %dir.display(), scenarios = files.len(), "corpus loaded");
        Ok(Corpus {
            dir: dir.to_path_buf(),
            files,
        })
    }

    /// Iterates over the scenarios in file-name order.
    pub fn scenarios(&self) -> impl Iterator<Item = &Scenario> {
        self.files.iter().map(|f| &f.scenario)
    }

    /// Returns the scenario with `id`.
    pub fn scenario(&self, id: &str) -> Option<&Scenario> {
        self.file(id).map(|f| &f.scenario)
    }

    /// Returns the file of the scenario with `id`.
    pub fn file(&self, id: &str) -> Option<&CorpusFile> {
        self.files.iter().find(|f| f.scenario.id == id)
    }
}

/// Checks every scenario file in `dir` and lists all problems.
///
/// # Errors
///
/// Only when the directory cannot be read or holds no `*.toml` file; rule
/// violations go into the report.
pub fn check_corpus(dir: &Path) -> Result<ValidationReport> {
    scan(dir).map(|(report, _)| report)
}

fn scan(dir: &Path) -> Result<(ValidationReport, Vec<CorpusFile>)> {
    let paths = scenario_paths(dir)?;
    let mut problems = Vec::new();
    let times = match SnippetTimes::load(dir) {
        Ok(times) => times,
        Err((offset, message)) => {
            problems.push(times_problem(dir, offset, message));
            None
        }
    };
    let ctx = Context {
        corpus_dir: dir.to_path_buf(),
        times,
        analyzers: Analyzers::new(),
    };
    let mut files = Vec::new();
    for path in &paths {
        let bytes = std::fs::read(path).map_err(io_error(path))?;
        let Ok(text) = String::from_utf8(bytes) else {
            problems.push(Problem {
                file: path.clone(),
                line: 1,
                field: "toml".into(),
                message: "file is not valid UTF-8".into(),
            });
            continue;
        };
        let (scenario, found) = check_file(path, &text, &ctx);
        problems.extend(found);
        if let Some(scenario) = scenario {
            let content_hash = hash_scenario(&scenario);
            files.push(CorpusFile {
                path: path.clone(),
                scenario,
                content_hash,
            });
        }
    }
    let report = ValidationReport {
        dir: dir.to_path_buf(),
        files_checked: paths.len(),
        problems,
    };
    Ok((report, files))
}

fn scenario_paths(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(io_error(dir))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.map_err(io_error(dir))?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "toml") {
            paths.push(path);
        }
    }
    if paths.is_empty() {
        return Err(Error::EmptyCorpus(dir.to_path_buf()));
    }
    paths.sort();
    Ok(paths)
}

fn times_problem(dir: &Path, offset: usize, message: String) -> Problem {
    let file = dir.join(SNIPPET_TIMES_FILE);
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let line = LineIndex::new(&text).line(offset);
    let message = format!("{message}: fix or delete the file and run scripts/synth-snippets.sh");
    Problem {
        file,
        line,
        field: "snippet".into(),
        message,
    }
}

fn hash_scenario(scenario: &Scenario) -> String {
    let json = serde_json::to_vec(scenario).expect("a scenario always serialises to JSON");
    hex::encode(Sha256::digest(json))
}
