//! The scenario knowledge base: bundled corpus, validation, tantivy index,
//! classification of customer lines, key-phrase extraction and ingest.

mod scenario;

pub use scenario::{
    Example, KeyPhrase, LatencyBand, PhraseStatus, Scenario, Snippet, Strategy, Trigger,
};
