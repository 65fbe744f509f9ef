//! The scenario file as written, with the byte span of every value, so that
//! validation can name the line of each problem.
//!
//! Every field is optional here; [`crate::knowledge::validate`] reports the
//! missing ones and builds the checked [`crate::knowledge::Scenario`].

use serde::Deserialize;
use toml::Spanned;

/// A value with its byte range in the file.
pub(crate) type S<T> = Spanned<T>;

/// Top level of a scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub(crate) id: Option<S<String>>,
    pub(crate) title_en: Option<S<String>>,
    pub(crate) title_zh: Option<S<String>>,
    pub(crate) dimensions: Option<S<Vec<S<String>>>>,
    pub(crate) triggers: Option<S<Vec<S<RawTrigger>>>>,
    pub(crate) latency: Option<S<RawLatency>>,
    pub(crate) strategies: Option<S<Vec<S<RawStrategy>>>>,
}

/// One `triggers` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTrigger {
    pub(crate) lang: Option<S<String>>,
    pub(crate) text: Option<S<String>>,
}

/// The `[latency]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLatency {
    pub(crate) min_ms: Option<S<u32>>,
    pub(crate) max_ms: Option<S<u32>>,
    pub(crate) top_seller_ms: Option<S<u32>>,
}

/// One `[[strategies]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStrategy {
    pub(crate) id: Option<S<String>>,
    pub(crate) name_en: Option<S<String>>,
    pub(crate) name_zh: Option<S<String>>,
    pub(crate) key_phrases: Option<S<Vec<S<RawPhrase>>>>,
    pub(crate) examples: Option<S<Vec<S<RawExample>>>>,
}

/// One `key_phrases` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPhrase {
    pub(crate) lang: Option<S<String>>,
    pub(crate) text: Option<S<String>>,
    pub(crate) weight: Option<S<f64>>,
    #[serde(default)]
    pub(crate) synonyms: Vec<S<String>>,
    #[serde(default)]
    pub(crate) variants: Vec<S<String>>,
    pub(crate) status: Option<S<String>>,
}

/// One `[[strategies.examples]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExample {
    pub(crate) lang: Option<S<String>>,
    pub(crate) seller: Option<S<String>>,
    pub(crate) text: Option<S<String>>,
    #[serde(default)]
    pub(crate) snippets: Vec<S<RawSnippet>>,
}

/// One `snippets` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSnippet {
    pub(crate) audio: Option<S<String>>,
    pub(crate) start_ms: Option<S<u64>>,
    pub(crate) end_ms: Option<S<u64>>,
}

/// Converts byte offsets of one file into 1-based line numbers.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the line starts of `text`.
    pub(crate) fn new(text: &str) -> LineIndex {
        let newlines = text.match_indices('\n').map(|(i, _)| i + 1);
        LineIndex {
            starts: std::iter::once(0).chain(newlines).collect(),
        }
    }

    /// Returns the 1-based line that contains byte `offset`.
    pub(crate) fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|start| *start <= offset).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_from_one() {
        let lines = LineIndex::new("a\nbc\n\nd");

        assert_eq!(lines.line(0), 1);
        assert_eq!(lines.line(2), 2);
        assert_eq!(lines.line(5), 3);
        assert_eq!(lines.line(6), 4);
    }
}
