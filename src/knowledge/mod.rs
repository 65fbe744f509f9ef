//! The scenario knowledge base: bundled corpus, validation, tantivy index,
//! classification of customer lines and key-phrase extraction.
//!
//! [`Corpus::load`] reads `corpus/*.toml` into [`Scenario`] values and
//! [`check_corpus`] lists every problem with file, line and field.
//! [`KnowledgeIndex`] contains the tantivy index of answers, trigger lines and
//! key phrases, [`Classifier`] ranks scenarios for a customer utterance, and
//! [`propose_phrases`] suggests key phrases from top-seller answers.

mod analyzer;
mod bm25;
mod classify;
mod corpus;
pub mod embed;
mod index;
pub mod ingest;
mod keyphrase;
mod raw;
mod review;
mod scenario;
mod schema;
mod search;
mod snippet;
mod strategy_check;
mod validate;

use std::path::PathBuf;

pub use analyzer::{count_answer_units, fold_simplified, Analyzers};
pub use classify::{Bm25Scorer, Classifier, ScenarioMatch, ScenarioScorer, DEFAULT_NONE_THRESHOLD};
pub use corpus::{check_corpus, Corpus, CorpusFile};
pub use embed::{load_classifier, EmbeddingScorer, SentenceEncoder};
pub use index::{BuildReport, KnowledgeIndex};
pub use ingest::{CallReport, Ingest, IngestOptions};
pub use keyphrase::{merged_phrases, propose_phrases, ProposedPhrase};
pub use review::{append_proposed, review_phrase, PhraseReview};
pub use scenario::{
    Example, KeyPhrase, LatencyBand, PhraseStatus, Scenario, Snippet, Strategy, Trigger,
};
pub use search::{DocKind, SearchHit, SearchRequest};
pub use snippet::{snippet_path, SnippetTimes, GENERATED_AUDIO_DIR, SNIPPET_TIMES_FILE};
pub use validate::{Problem, ValidationReport};

/// Errors of the knowledge base.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A corpus or index file could not be read or written.
    #[error("failed to access {path}: {source}")]
    Io {
        /// File or directory that failed.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The corpus directory contains no scenario files.
    #[error("no scenario files (*.toml) in {0}: pass the corpus directory, for example corpus/")]
    EmptyCorpus(PathBuf),
    /// The corpus has validation problems; the report lists each one.
    #[error("corpus in {dir} has {count} problem(s); run `callcoach kb check {dir}` for the list",
        count = report.problems.len(), dir = report.dir.display())]
    InvalidCorpus {
        /// Every problem found.
        report: ValidationReport,
    },
    /// The tantivy index failed.
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The index directory contains an index built with another schema.
    #[error("index in {0} has an incompatible schema: delete the directory and run `callcoach kb build`")]
    SchemaMismatch(PathBuf),
    /// No index exists in the data directory.
    #[error("no index in {0}: run `callcoach kb build` first")]
    MissingIndex(PathBuf),
    /// A scenario id was not found in the corpus.
    #[error("unknown scenario {0:?}: run `callcoach kb check` to list the corpus")]
    UnknownScenario(String),
    /// A strategy id was not found in its scenario.
    #[error("scenario {scenario:?} has no strategy {strategy:?}")]
    UnknownStrategy {
        /// Scenario that was searched.
        scenario: String,
        /// Strategy id that was requested.
        strategy: String,
    },
    /// A key phrase to review was not found.
    #[error("strategy {strategy:?} has no {lang} key phrase {text:?}")]
    UnknownPhrase {
        /// Strategy that was searched.
        strategy: String,
        /// Language of the phrase.
        lang: crate::language::Language,
        /// Phrase text that was requested.
        text: String,
    },
    /// A phrase weight is not a finite number greater than zero.
    #[error("invalid phrase weight {0}: expected a number greater than 0")]
    InvalidWeight(f32),
    /// The sentence-embedding model is missing or cannot be loaded.
    #[error("failed to load the embedding model in {dir}: {reason}; run `callcoach model install minilm`")]
    EmbeddingModel {
        /// Model directory.
        dir: PathBuf,
        /// What failed.
        reason: String,
    },
    /// Embedding a text failed in the tokenizer or the model.
    #[error("sentence embedding failed: {0}")]
    Embedding(String),
    /// A scenario file could not be edited because its TOML is malformed.
    #[error("cannot edit {path}: {message}")]
    Edit {
        /// Scenario file.
        path: PathBuf,
        /// Description of the problem.
        message: String,
    },
}

/// Result of knowledge-base operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io_error(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}
