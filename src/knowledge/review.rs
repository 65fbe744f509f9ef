//! Coach review of key phrases, written back into the scenario file.
//!
//! Edits go through `toml_edit`, so comments, order and formatting of the
//! rest of the file stay as they were. The file is replaced atomically
//! (temporary file, then rename).

use std::path::Path;

use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Value};

use super::keyphrase::ProposedPhrase;
use super::{io_error, Error, Result};
use crate::language::Language;

/// A coach's decision on one key phrase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PhraseReview {
    /// Marks the phrase approved, so scoring uses it.
    Approve,
    /// Marks the phrase rejected, so scoring ignores it and extraction does
    /// not propose it again.
    Reject,
    /// Sets a new weight (greater than zero).
    Reweight(f32),
}

/// Applies `review` to the phrase `text` in `lang` of strategy `strategy`
/// in the scenario file at `path`.
///
/// # Errors
///
/// [`Error::UnknownStrategy`] or [`Error::UnknownPhrase`] when the target is
/// not in the file, [`Error::InvalidWeight`] for a weight of zero or less,
/// [`Error::Edit`] when the file is not valid TOML.
pub fn review_phrase(
    path: &Path,
    strategy: &str,
    lang: Language,
    text: &str,
    review: PhraseReview,
) -> Result<()> {
    if let PhraseReview::Reweight(weight) = review {
        if !(weight.is_finite() && weight > 0.0) {
            return Err(Error::InvalidWeight(weight));
        }
    }
    let mut doc = read_document(path)?;
    let phrases = phrase_array(&mut doc, path, strategy)?;
    let unknown = || Error::UnknownPhrase {
        strategy: strategy.to_string(),
        lang,
        text: text.to_string(),
    };
    let phrase = phrases
        .iter_mut()
        .filter_map(Value::as_inline_table_mut)
        .find(|t| {
            t.get("lang").and_then(Value::as_str) == Some(lang.code())
                && t.get("text").and_then(Value::as_str) == Some(text)
        })
        .ok_or_else(unknown)?;
    match review {
        PhraseReview::Approve => set(phrase, "status", "approved"),
        PhraseReview::Reject => set(phrase, "status", "rejected"),
        PhraseReview::Reweight(weight) => set(
            phrase,
            "weight",
            f64::from((weight * 100.0).round() / 100.0),
        ),
    }
    write_document(path, &doc)
}

/// Appends the proposals to their strategies in the scenario file at
/// `path` with status `proposed`; returns how many were new.
pub fn append_proposed(path: &Path, proposals: &[ProposedPhrase]) -> Result<usize> {
    let mut doc = read_document(path)?;
    let mut added = 0;
    for proposal in proposals {
        let phrases = phrase_array(&mut doc, path, &proposal.strategy)?;
        let phrase = &proposal.phrase;
        let exists = phrases.iter().filter_map(Value::as_inline_table).any(|t| {
            t.get("lang").and_then(Value::as_str) == Some(phrase.lang.code())
                && t.get("text").and_then(Value::as_str) == Some(phrase.text.as_str())
        });
        if exists {
            continue;
        }
        let mut table = InlineTable::new();
        table.insert("lang", phrase.lang.code().into());
        table.insert("text", phrase.text.as_str().into());
        table.insert("weight", f64::from(phrase.weight).into());
        table.insert("status", "proposed".into());
        phrases.push_formatted(Value::InlineTable(table).decorated("\n  ", " "));
        phrases.set_trailing("\n");
        phrases.set_trailing_comma(true);
        added += 1;
    }
    if added > 0 {
        write_document(path, &doc)?;
    }
    Ok(added)
}

fn set(table: &mut InlineTable, key: &str, value: impl Into<Value>) {
    match table.get_mut(key) {
        Some(existing) => {
            let decor = existing.decor().clone();
            *existing = value.into();
            *existing.decor_mut() = decor;
        }
        None => {
            table.insert(key, value.into());
        }
    }
}

fn read_document(path: &Path) -> Result<DocumentMut> {
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    text.parse::<DocumentMut>().map_err(|err| Error::Edit {
        path: path.to_path_buf(),
        message: err.to_string(),
    })
}

fn phrase_array<'d>(
    doc: &'d mut DocumentMut,
    path: &Path,
    strategy: &str,
) -> Result<&'d mut Array> {
    let edit = |message: &str| Error::Edit {
        path: path.to_path_buf(),
        message: message.to_string(),
    };
    let strategies: &mut ArrayOfTables = doc
        .get_mut("strategies")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| edit("no [[strategies]] tables"))?;
    let table = strategies
        .iter_mut()
        .find(|t| t.get("id").and_then(Item::as_str) == Some(strategy))
        .ok_or_else(|| Error::UnknownStrategy {
            scenario: path.display().to_string(),
            strategy: strategy.to_string(),
        })?;
    if table.get("key_phrases").is_none() {
        table.insert("key_phrases", Item::Value(Value::Array(Array::new())));
    }
    table
        .get_mut("key_phrases")
        .and_then(Item::as_array_mut)
        .ok_or_else(|| edit("key_phrases is not an array of inline tables"))
}

fn write_document(path: &Path, doc: &DocumentMut) -> Result<()> {
    let temp = path.with_extension("toml.tmp");
    std::fs::write(&temp, doc.to_string()).map_err(io_error(&temp))?;
    std::fs::rename(&temp, path).map_err(io_error(path))
}
