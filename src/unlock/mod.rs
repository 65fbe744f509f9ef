//! Declarative unlock rules: which permissions a rep earns from passed
//! checkpoints and dimension scores, with an audit entry for every change.
//!
//! [`Rules`] is one validated rule file, [`RuleSet`] keeps the last good
//! rules in force across reloads, and [`evaluate`] turns a rep's checkpoint
//! statuses and score samples into an [`Evaluation`] with grants,
//! revocations and their evidence.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

pub mod apply;
mod engine;
mod rules;

pub use engine::{
    evaluate, record_manual_change, Action, Actor, AuditEntry, CheckpointStatus, Decision,
    EngineConfig, Evaluation, Evidence, PermissionEvaluation, RepState, RequirementStatus,
    RULES_ENGINE_ACTOR,
};
pub use rules::{MinScore, Rule, Rules, DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS};

use crate::heatmap::DimensionSet;

/// Errors of rule loading and evaluation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The rule file could not be read.
    #[error("failed to read rule file {path}: {source}")]
    Read {
        /// File that was read.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The rule file is invalid; nothing of it was applied.
    #[error("{file}:{line}:{column}: {reason}")]
    InvalidRules {
        /// File that contains the error.
        file: PathBuf,
        /// Line of the error, from 1.
        line: usize,
        /// Column of the error in characters, from 1.
        column: usize,
        /// Description of the problem and of the fix.
        reason: String,
    },
    /// The rules changed but their version did not rise, so audit entries
    /// could not tell the old rules from the new ones.
    #[error(
        "{file}: the rules changed but version {version} is not above version {in_force} in \
         force: raise version"
    )]
    VersionNotRaised {
        /// File that was read.
        file: PathBuf,
        /// Version in the file.
        version: u32,
        /// Version in force.
        in_force: u32,
    },
    /// A user id for a manual change is empty or equals the engine's actor.
    #[error("invalid user id {0:?}: expected a non-empty id other than \"rules engine\"")]
    InvalidActor(String),
}

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Modification time and length of a rule file, which tell that it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    modified: std::time::SystemTime,
    len: u64,
}

/// The rules in force, replaced only by a reload that validates completely.
#[derive(Debug)]
pub struct RuleSet {
    path: PathBuf,
    dimensions: DimensionSet,
    current: RwLock<Arc<Rules>>,
}

impl RuleSet {
    /// Loads the rule file at `path`; fails when the first load is invalid.
    pub fn load(path: &Path, dimensions: DimensionSet) -> Result<RuleSet> {
        let rules = Rules::load(path, &dimensions)?;
        tracing::info!(
            file = %path.display(),
            version = rules.version,
            rules = rules.rules.len(),
            "unlock rules loaded"
        );
        Ok(RuleSet {
            path: path.to_path_buf(),
            dimensions,
            current: RwLock::new(Arc::new(rules)),
        })
    }

    /// Returns the rules in force.
    pub fn current(&self) -> Arc<Rules> {
        let guard = self
            .current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(&guard)
    }

    /// Re-reads the file; on any error the previous rules stay in force and
    /// the error is logged and returned. Changed rules must carry a higher
    /// version than the rules in force.
    pub fn reload(&self) -> Result<Arc<Rules>> {
        let in_force = self.current();
        let loaded = Rules::load(&self.path, &self.dimensions).and_then(|rules| {
            if rules.rules != in_force.rules && rules.version <= in_force.version {
                return Err(Error::VersionNotRaised {
                    file: self.path.clone(),
                    version: rules.version,
                    in_force: in_force.version,
                });
            }
            Ok(rules)
        });
        match loaded {
            Ok(rules) => {
                let rules = Arc::new(rules);
                let mut guard = self
                    .current
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                *guard = Arc::clone(&rules);
                let file = self.path.display();
                tracing::info!(%file, version = rules.version, "unlock rules reloaded");
                Ok(rules)
            }
            Err(err) => {
                let version = self.current().version;
                tracing::warn!(
                    error = %err,
                    version,
                    "unlock rule reload failed, keeping the rules in force"
                );
                Err(err)
            }
        }
    }

    /// File that [`RuleSet::reload`] reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Re-reads the file when its modification time or length differs
    /// from `seen`, and records the new ones there. Returns `None` when
    /// nothing changed, else the result of [`RuleSet::reload`].
    pub fn reload_if_changed(&self, seen: &mut Option<FileStamp>) -> Option<Result<Arc<Rules>>> {
        let stamp = self.stamp();
        if stamp == *seen {
            return None;
        }
        *seen = stamp;
        Some(self.reload())
    }

    /// Returns the file's current [`FileStamp`], to compare later with
    /// [`RuleSet::reload_if_changed`].
    pub fn file_stamp(&self) -> Option<FileStamp> {
        self.stamp()
    }

    /// Modification time and length of the file, or `None` while it cannot
    /// be read.
    fn stamp(&self) -> Option<FileStamp> {
        let meta = std::fs::metadata(&self.path).ok()?;
        Some(FileStamp {
            modified: meta.modified().ok()?,
            len: meta.len(),
        })
    }
}
