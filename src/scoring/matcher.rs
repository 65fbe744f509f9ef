//! Finding key phrases in an answer, tolerant of word forms, synonyms,
//! small reorderings and speech-recognition errors.
//!
//! Each form of a phrase is tried at every token position in three ways,
//! first success wins: as a run of units in phrase order ([`MatchMode::Exact`]
//! or [`MatchMode::AsrTolerant`]), as its Latin letters joined without
//! spaces (a word that recognition split or merged), and as its word pieces
//! in any order inside a window of phrase length plus [`REORDER_SLACK`]
//! tokens ([`MatchMode::Reordered`]). Overlapping candidates are resolved
//! best first, and what remains are the phrase's occurrences.

use serde::{Deserialize, Serialize};

use super::phrase::{
    compare_units, is_acceptable, is_unstressed_swap, Form, FormKind, PreparedPhrase, Unit,
    UnitMatch, FUZZY_SINGLE_WORD_MIN_CHARS, UNSTRESSED_SWAP_MIN_UNITS,
};
use super::token::TimedToken;
use crate::text;

/// Credit of an occurrence whose words are in phrase order.
pub const IN_ORDER_CREDIT: f64 = 1.0;
/// Credit of an occurrence whose words are reordered or interrupted.
pub const REORDERED_CREDIT: f64 = 0.8;
/// Extra tokens, beyond the phrase length, that a reordered match may span.
pub const REORDER_SLACK: usize = 2;

/// Kind of match between an occurrence and its phrase form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    /// Every unit equal, or equal after stemming.
    Exact,
    /// In order, with spelling errors, homophones, or split or merged words.
    AsrTolerant,
    /// Every word present within the window, in another order or with other
    /// words between them.
    Reordered,
}

impl MatchMode {
    /// Returns the share of the phrase weight that this mode earns.
    pub fn credit(self) -> f64 {
        match self {
            MatchMode::Exact | MatchMode::AsrTolerant => IN_ORDER_CREDIT,
            MatchMode::Reordered => REORDERED_CREDIT,
        }
    }
}

/// A spoken instance of a key phrase: its tokens, times and kind of match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Occurrence {
    /// The form that matched.
    pub form: FormKind,
    /// Text of that form as written in the scenario.
    pub form_text: String,
    /// Kind of match between the answer's words and the form.
    pub mode: MatchMode,
    /// The answer's tokens that matched, in spoken order.
    pub words: Vec<String>,
    /// Start of the first matched token, in milliseconds.
    pub start_ms: u64,
    /// End of the last matched token, in milliseconds.
    pub end_ms: u64,
    /// Index of the first matched token in the answer's token list.
    pub token_start: usize,
    /// Index one past the last matched token.
    pub token_end: usize,
}

/// The result of looking for one key phrase in an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhraseMatch {
    /// Canonical text of the key phrase.
    pub phrase: String,
    /// Weight of the phrase inside its strategy.
    pub weight: f32,
    /// Whether the phrase was spoken.
    pub matched: bool,
    /// Share of the weight earned, 0 to 1: the credit of the reported
    /// occurrence, or 0 when missed.
    pub credit: f64,
    /// Number of non-overlapping occurrences; a repeated phrase still earns
    /// its weight once.
    pub count: usize,
    /// The earliest of the best-credited occurrences, if any.
    pub occurrence: Option<Occurrence>,
    /// Every occurrence in time order.
    #[serde(skip)]
    pub(crate) all: Vec<Occurrence>,
}

/// An answer's tokens with their comparison keys, built once per answer.
#[derive(Debug, Clone)]
pub struct PreparedAnswer<'a> {
    tokens: &'a [TimedToken],
    units: Vec<Unit>,
}

impl<'a> PreparedAnswer<'a> {
    /// Computes stems and readings of every token.
    pub fn new(tokens: &'a [TimedToken]) -> PreparedAnswer<'a> {
        PreparedAnswer {
            tokens,
            units: tokens.iter().map(|t| Unit::new(&t.text)).collect(),
        }
    }

    /// Returns the answer's tokens.
    pub fn tokens(&self) -> &[TimedToken] {
        self.tokens
    }
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    form: usize,
    mode: MatchMode,
    start: usize,
    end: usize,
}

/// Finds every occurrence of a phrase and reports the best one.
pub(crate) fn match_phrase(answer: &PreparedAnswer<'_>, phrase: &PreparedPhrase) -> PhraseMatch {
    let mut candidates = Vec::new();
    for (index, form) in phrase.forms.iter().enumerate() {
        for start in 0..answer.units.len() {
            if let Some(candidate) = match_at(&answer.units, start, form, index) {
                candidates.push(candidate);
            }
        }
    }
    let picked = pick_non_overlapping(candidates);
    let all: Vec<Occurrence> = picked
        .iter()
        .map(|c| occurrence(answer, phrase, c))
        .collect();
    let best = all
        .iter()
        .min_by_key(|o| (o.mode.credit() < IN_ORDER_CREDIT, o.token_start))
        .cloned();
    PhraseMatch {
        phrase: phrase.text.clone(),
        weight: phrase.weight,
        matched: best.is_some(),
        credit: best.as_ref().map_or(0.0, |o| o.mode.credit()),
        count: all.len(),
        occurrence: best,
        all,
    }
}

fn match_at(units: &[Unit], start: usize, form: &Form, index: usize) -> Option<Candidate> {
    let found = in_order(units, start, &form.units)
        .or_else(|| joined(units, start, form))
        .or_else(|| reordered(units, start, form));
    found.map(|(mode, end)| Candidate {
        form: index,
        mode,
        start,
        end,
    })
}

/// Matches `phrase` unit by unit starting at `start`. In a phrase of
/// [`UNSTRESSED_SWAP_MIN_UNITS`] or more, one unstressed word may stand
/// for another and counts as a tolerated error.
fn in_order(units: &[Unit], start: usize, phrase: &[Unit]) -> Option<(MatchMode, usize)> {
    let window = units.get(start..start + phrase.len())?;
    let mut exact = 0;
    let mut swaps_left = usize::from(phrase.len() >= UNSTRESSED_SWAP_MIN_UNITS);
    for (answer, target) in window.iter().zip(phrase) {
        match compare_units(answer, target) {
            UnitMatch::Exact => exact += 1,
            UnitMatch::Fuzzy => {}
            UnitMatch::Different if swaps_left > 0 && is_unstressed_swap(answer, target) => {
                swaps_left -= 1;
            }
            UnitMatch::Different => return None,
        }
    }
    if !is_acceptable(exact, phrase) {
        return None;
    }
    let mode = if exact == phrase.len() {
        MatchMode::Exact
    } else {
        MatchMode::AsrTolerant
    };
    Some((mode, start + phrase.len()))
}

/// Compares the form's letters with one token more or fewer joined, so
/// "cost of ownership" matches "costof ownership". The same token count is
/// tried too for phrases of several words, where the joined letters may
/// carry an error that no single word tolerates ("cost ov ownership").
fn joined(units: &[Unit], start: usize, form: &Form) -> Option<(MatchMode, usize)> {
    let target = form.joined.as_deref()?;
    let len = form.units.len();
    let tolerance = joined_tolerance(target, len);
    for width in len.saturating_sub(1).max(1)..=len + 1 {
        if width == 1 && len == 1 {
            continue;
        }
        let window = units.get(start..start + width)?;
        if window.iter().any(|u| u.is_han) {
            return None;
        }
        let spoken: String = window.iter().map(|u| u.text.as_str()).collect();
        let same_start = spoken.chars().next() == target.chars().next();
        if same_start && text::edit_distance(&spoken, target) <= tolerance {
            return Some((MatchMode::AsrTolerant, start + width));
        }
    }
    None
}

/// Returns the edit tolerance of joined letters, 0 for a single word too
/// short to be misspelt under [`is_acceptable`].
fn joined_tolerance(target: &str, units: usize) -> usize {
    let chars = target.chars().count();
    if units == 1 && chars < FUZZY_SINGLE_WORD_MIN_CHARS {
        return 0;
    }
    text::edit_tolerance(chars)
}

/// Finds every piece of the form inside a window that starts at `start`,
/// in any order and without two pieces sharing a token.
fn reordered(units: &[Unit], start: usize, form: &Form) -> Option<(MatchMode, usize)> {
    if form.pieces.len() < 2 {
        return None;
    }
    let limit = units.len().min(start + form.units.len() + REORDER_SLACK);
    let mut used = vec![false; limit.saturating_sub(start)];
    let mut end = start;
    for piece in &form.pieces {
        let target = &form.units[piece.clone()];
        let at = (start..limit).find(|&at| {
            at + target.len() <= limit
                && used[at - start..at - start + target.len()]
                    .iter()
                    .all(|u| !u)
                && in_order(units, at, target).is_some()
        })?;
        used[at - start..at - start + target.len()]
            .iter_mut()
            .for_each(|u| *u = true);
        end = end.max(at + target.len());
    }
    used.first()
        .copied()
        .filter(|first| *first)
        .map(|_| (MatchMode::Reordered, end))
}

/// Keeps the best candidates that do not overlap: exact before tolerant
/// before reordered, then shorter spans before longer ones, then earlier
/// before later.
fn pick_non_overlapping(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    candidates.sort_by_key(|c| (c.mode, c.end - c.start, c.start));
    let mut picked: Vec<Candidate> = Vec::new();
    for candidate in candidates {
        if picked
            .iter()
            .all(|p| candidate.end <= p.start || p.end <= candidate.start)
        {
            picked.push(candidate);
        }
    }
    picked.sort_by_key(|c| c.start);
    picked
}

fn occurrence(answer: &PreparedAnswer<'_>, phrase: &PreparedPhrase, c: &Candidate) -> Occurrence {
    let tokens = &answer.tokens[c.start..c.end];
    let form = &phrase.forms[c.form];
    Occurrence {
        form: form.kind,
        form_text: form.text.clone(),
        mode: c.mode,
        words: tokens.iter().map(|t| t.text.clone()).collect(),
        start_ms: tokens.first().map_or(0, |t| t.start_ms),
        end_ms: tokens.last().map_or(0, |t| t.end_ms),
        token_start: c.start,
        token_end: c.end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::{KeyPhrase, PhraseStatus};
    use crate::language::Language;
    use crate::scoring::token::tokens_from_text;

    fn find(answer: &str, phrase: &str, synonyms: &[&str]) -> PhraseMatch {
        let key = KeyPhrase {
            lang: Language::detect(phrase),
            text: phrase.into(),
            weight: 1.0,
            synonyms: synonyms.iter().map(|s| s.to_string()).collect(),
            variants: Vec::new(),
            status: PhraseStatus::Approved,
        };
        let prepared = PreparedPhrase::new(&key).expect("non-empty phrase");
        let tokens = tokens_from_text(answer, 0, 100);
        match_phrase(&PreparedAnswer::new(&tokens), &prepared)
    }

    fn mode(found: &PhraseMatch) -> Option<MatchMode> {
        found.occurrence.as_ref().map(|o| o.mode)
    }

    #[test]
    fn exact_phrase_reports_times() {
        let found = find("we compare vendors now", "compare vendors", &[]);

        let occurrence = found.occurrence.as_ref().expect("occurrence");
        assert_eq!(occurrence.mode, MatchMode::Exact);
        assert_eq!((occurrence.start_ms, occurrence.end_ms), (100, 300));
        assert_eq!((occurrence.token_start, occurrence.token_end), (1, 3));
    }

    #[test]
    fn split_word_matches_joined() {
        let found = find("we give a dis count today", "discount", &[]);

        assert_eq!(mode(&found), Some(MatchMode::AsrTolerant));
        assert_eq!(found.occurrence.as_ref().map(|o| o.words.len()), Some(2));
    }

    #[test]
    fn short_single_word_needs_exact_spelling() {
        assert!(!find("we won a prize", "price", &[]).matched);
    }

    #[test]
    fn long_single_word_tolerates_typo() {
        assert_eq!(
            mode(&find("a discoumt helps", "discount", &[])),
            Some(MatchMode::AsrTolerant)
        );
    }

    #[test]
    fn reorder_window_has_two_slack_tokens() {
        assert!(find("risk we now reduce", "reduce risk", &[]).matched);
        assert!(!find("risk we can now reduce", "reduce risk", &[]).matched);
    }

    #[test]
    fn exact_beats_earlier_reordered() {
        let found = find("cost total cost", "total cost", &[]);

        assert_eq!(mode(&found), Some(MatchMode::Exact));
        assert_eq!(found.count, 1);
    }

    #[test]
    fn repeats_across_forms_are_counted() {
        let found = find(
            "the roi and the return on investment",
            "return on investment",
            &["roi"],
        );

        assert_eq!(found.count, 2);
        assert_eq!(
            found.occurrence.as_ref().map(|o| o.form),
            Some(FormKind::Synonym)
        );
        assert!((found.credit - IN_ORDER_CREDIT).abs() < 1e-9);
    }

    #[test]
    fn one_unstressed_word_may_be_misheard() {
        let found = find(
            "the total cost and ownership is lower",
            "total cost of ownership",
            &[],
        );
        assert_eq!(mode(&found), Some(MatchMode::AsrTolerant));

        let two_swaps = find(
            "cost and ownership and the year",
            "cost of ownership of a year",
            &[],
        );
        assert!(
            !two_swaps.matched,
            "two swapped words matched: {two_swaps:?}"
        );
        let short = find("and course", "of course", &[]);
        assert!(!short.matched, "a two-word phrase matched with a swap");
    }

    #[test]
    fn missed_phrase_has_zero_credit() {
        let found = find("hello there", "total cost", &[]);

        assert!(!found.matched);
        assert_eq!(found.count, 0);
        assert!(found.credit.abs() < 1e-9);
    }
}
