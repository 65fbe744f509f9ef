//! Key phrases prepared for matching: every written form of a phrase as a
//! list of units with stems and pinyin readings, and the comparison of one
//! answer unit with one phrase unit.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::token::split_units;
use crate::knowledge::KeyPhrase;
use crate::language::is_han;
use crate::text;

/// Which written form of a key phrase an answer matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    /// The phrase's canonical text.
    Canonical,
    /// One of the phrase's synonyms.
    Synonym,
    /// One of the phrase's word-form variants.
    Variant,
}

/// One unit (English word, Han character or Latin word) with the keys it
/// is compared by.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Unit {
    pub(crate) text: String,
    pub(crate) stem: String,
    pub(crate) readings: Vec<&'static str>,
    pub(crate) is_han: bool,
}

impl Unit {
    pub(crate) fn new(text: &str) -> Unit {
        let mut chars = text.chars();
        let single_han = matches!((chars.next(), chars.next()), (Some(c), None) if is_han(c));
        let readings = match text.chars().next() {
            Some(c) if single_han => text::readings(c),
            _ => Vec::new(),
        };
        let stem = if single_han {
            text.to_string()
        } else {
            text::stem_en(text)
        };
        Unit {
            text: text.to_string(),
            stem,
            readings,
            is_han: single_han,
        }
    }

    fn char_count(&self) -> usize {
        self.text.chars().count()
    }
}

/// How closely an answer unit matches a phrase unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnitMatch {
    Exact,
    Fuzzy,
    Different,
}

/// Compares an answer unit with a phrase unit.
///
/// Equal text or equal stems are exact. A Han character is fuzzy when the
/// two characters share a toneless reading (a homophone). A Latin word is
/// fuzzy when its text or stem lies within [`text::edit_tolerance`] edits.
pub(crate) fn compare_units(answer: &Unit, phrase: &Unit) -> UnitMatch {
    if answer.text == phrase.text || (!phrase.is_han && answer.stem == phrase.stem) {
        return UnitMatch::Exact;
    }
    if answer.is_han != phrase.is_han {
        return UnitMatch::Different;
    }
    let close = if phrase.is_han {
        answer.readings.iter().any(|r| phrase.readings.contains(r))
    } else {
        is_close_word(answer, phrase)
    };
    if close {
        UnitMatch::Fuzzy
    } else {
        UnitMatch::Different
    }
}

fn is_close_word(answer: &Unit, phrase: &Unit) -> bool {
    let text_edits = text::edit_distance(&answer.text, &phrase.text);
    let stem_edits = text::edit_distance(&answer.stem, &phrase.stem);
    text_edits <= text::edit_tolerance(phrase.char_count())
        || stem_edits <= text::edit_tolerance(phrase.stem.chars().count())
}

/// Unstressed English words that speech recognition often hears as one
/// another ("cost of ownership" as "cost and ownership"): articles,
/// prepositions and the two commonest conjunctions, never a negation,
/// modal or pronoun, whose swap would change the meaning.
const UNSTRESSED_WORDS: &[&str] = &[
    "a", "an", "the", "of", "and", "or", "on", "in", "at", "to", "for", "as", "by", "with", "from",
    "into",
];

/// Shortest phrase, in units, in which one unstressed word may stand for
/// another; in shorter phrases that word carries too much of the phrase.
pub(crate) const UNSTRESSED_SWAP_MIN_UNITS: usize = 3;

/// Tells whether both units are distinct [`UNSTRESSED_WORDS`].
pub(crate) fn is_unstressed_swap(answer: &Unit, phrase: &Unit) -> bool {
    let unstressed = |unit: &Unit| UNSTRESSED_WORDS.contains(&unit.text.as_str());
    answer.text != phrase.text && unstressed(answer) && unstressed(phrase)
}

/// Minimum length, in characters, of a one-word English phrase that may
/// match with a spelling error; shorter single words must match exactly.
pub(crate) const FUZZY_SINGLE_WORD_MIN_CHARS: usize = 6;

/// Decides whether a run of unit matches is good enough to count: at least
/// half of the units must be exact, except that a single English word of
/// [`FUZZY_SINGLE_WORD_MIN_CHARS`] or more characters may be fuzzy.
pub(crate) fn is_acceptable(exact: usize, units: &[Unit]) -> bool {
    if exact * 2 >= units.len() {
        return true;
    }
    matches!(units, [only] if !only.is_han && only.char_count() >= FUZZY_SINGLE_WORD_MIN_CHARS)
}

/// One written form of a key phrase, ready for matching.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Form {
    pub(crate) kind: FormKind,
    pub(crate) text: String,
    pub(crate) units: Vec<Unit>,
    /// Word-sized pieces that may appear in another order: each English
    /// word, or each jieba word of Mandarin text, as a range of `units`.
    pub(crate) pieces: Vec<Range<usize>>,
    /// Latin units joined without spaces, for split and merged words;
    /// `None` when the form contains Han characters.
    pub(crate) joined: Option<String>,
}

impl Form {
    /// Prepares `raw`, or returns `None` when nothing is left of it after
    /// normalisation.
    pub(crate) fn new(kind: FormKind, raw: &str) -> Option<Form> {
        let units: Vec<Unit> = split_units(raw).iter().map(|u| Unit::new(u)).collect();
        if units.is_empty() {
            return None;
        }
        let pieces = pieces_of(raw, &units);
        let joined = units
            .iter()
            .all(|u| !u.is_han)
            .then(|| units.iter().map(|u| u.text.as_str()).collect());
        Some(Form {
            kind,
            text: raw.to_string(),
            units,
            pieces,
            joined,
        })
    }
}

fn pieces_of(raw: &str, units: &[Unit]) -> Vec<Range<usize>> {
    if !units.iter().any(|u| u.is_han) {
        return (0..units.len()).map(|i| i..i + 1).collect();
    }
    let mut words = text::segment_zh(raw);
    if let [whole] = words.as_slice() {
        words = split_compound(whole);
    }
    let mut pieces = Vec::new();
    let mut next = 0;
    for word in words {
        let len = split_units(&word).len();
        if len > 0 && next + len <= units.len() {
            pieces.push(next..next + len);
            next += len;
        }
    }
    if next != units.len() {
        // Segmentation that does not tile the units leaves one whole piece.
        let whole = 0..units.len();
        return vec![whole];
    }
    pieces
}

/// Splits a compound that jieba keeps whole (降低成本) into the shorter
/// dictionary words of its search mode (降低, 成本), when they tile it.
fn split_compound(word: &str) -> Vec<String> {
    let len = word.chars().count();
    let parts: Vec<_> = text::jieba()
        .cut_for_search(word, true)
        .into_iter()
        .filter(|t| t.end - t.start < len)
        .collect();
    let mut tiles = Vec::new();
    let mut at = 0;
    while at < len {
        let Some(next) = parts.iter().filter(|t| t.start == at).max_by_key(|t| t.end) else {
            return vec![word.to_string()];
        };
        tiles.push(next.word.to_string());
        at = next.end;
    }
    tiles
}

/// Every form of a key phrase, canonical first.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PreparedPhrase {
    pub(crate) text: String,
    pub(crate) weight: f32,
    pub(crate) forms: Vec<Form>,
}

/// Error from [`PreparedPhrase::new`]: the text of the form that normalises
/// to nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EmptyForm(pub(crate) String);

impl PreparedPhrase {
    pub(crate) fn new(phrase: &KeyPhrase) -> Result<PreparedPhrase, EmptyForm> {
        let canonical = std::iter::once((FormKind::Canonical, &phrase.text));
        let synonyms = phrase.synonyms.iter().map(|s| (FormKind::Synonym, s));
        let variants = phrase.variants.iter().map(|v| (FormKind::Variant, v));
        let mut forms = Vec::new();
        for (kind, raw) in canonical.chain(synonyms).chain(variants) {
            forms.push(Form::new(kind, raw).ok_or_else(|| EmptyForm(raw.clone()))?);
        }
        Ok(PreparedPhrase {
            text: phrase.text.clone(),
            weight: phrase.weight,
            forms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_compare_exact() {
        assert_eq!(
            compare_units(&Unit::new("comparing"), &Unit::new("compare")),
            UnitMatch::Exact
        );
    }

    #[test]
    fn typo_compares_fuzzy() {
        assert_eq!(
            compare_units(&Unit::new("totel"), &Unit::new("total")),
            UnitMatch::Fuzzy
        );
    }

    #[test]
    fn short_word_needs_exact_text() {
        assert_eq!(
            compare_units(&Unit::new("for"), &Unit::new("of")),
            UnitMatch::Different
        );
    }

    #[test]
    fn homophone_compares_fuzzy() {
        assert_eq!(
            compare_units(&Unit::new("城"), &Unit::new("成")),
            UnitMatch::Fuzzy
        );
    }

    #[test]
    fn unrelated_characters_differ() {
        assert_eq!(
            compare_units(&Unit::new("猫"), &Unit::new("成")),
            UnitMatch::Different
        );
    }

    #[test]
    fn acceptance_needs_half_exact() {
        let units: Vec<Unit> = ["总", "成", "本"].iter().map(|u| Unit::new(u)).collect();

        assert!(is_acceptable(2, &units));
        assert!(!is_acceptable(1, &units));
    }

    #[test]
    fn long_single_word_may_be_fuzzy() {
        assert!(is_acceptable(0, &[Unit::new("discount")]));
        assert!(!is_acceptable(0, &[Unit::new("price")]));
    }

    #[test]
    fn mandarin_form_has_word_pieces() {
        let form = Form::new(FormKind::Canonical, "降低成本").expect("non-empty form");

        assert_eq!(form.units.len(), 4);
        assert!(form.pieces.len() >= 2);
        assert!(form.joined.is_none());
    }

    #[test]
    fn punctuation_only_form_is_none() {
        assert!(Form::new(FormKind::Synonym, "!!").is_none());
    }
}
