//! Detection of keyword stuffing: answers that list key phrases without
//! the sentences around them that a real answer has.
//!
//! Two signals are measured over every occurrence of every strategy's
//! phrases. Phrase density is the share of the answer's tokens that lie
//! inside an occurrence; a real answer stays well below
//! [`MAX_PHRASE_DENSITY`]. Back-to-back phrases are occurrences separated by
//! at most [`MAX_BACK_TO_BACK_GAP`] tokens, none of them a function word
//! (article, pronoun, auxiliary, preposition, conjunction, particle, degree
//! adverb). In a real answer, grammar or a clause connects them. An answer
//! with at least two occurrences is flagged when either signal trips, and its
//! coverage is multiplied by [`STUFFING_PENALTY_FACTOR`].

use serde::{Deserialize, Serialize};

use super::matcher::Occurrence;
use super::token::TimedToken;
use crate::language::is_han;
use crate::text;

/// Phrase density at or above which an answer counts as stuffed.
pub const MAX_PHRASE_DENSITY: f64 = 0.6;
/// Maximum gap between two occurrences, in tokens, that can count as
/// back-to-back; a longer gap is a clause of its own.
pub const MAX_BACK_TO_BACK_GAP: usize = 3;
/// Share of back-to-back gaps between occurrences at or above which an
/// answer counts as stuffed, when its function words are also scarce.
pub const MAX_BACK_TO_BACK_SHARE: f64 = 0.6;
/// Share of function-word tokens below which back-to-back phrases count;
/// running English or Mandarin speech has several times more.
pub const MIN_FUNCTION_WORD_RATIO: f64 = 0.2;
/// Factor applied to the coverage of a stuffed answer.
pub const STUFFING_PENALTY_FACTOR: f64 = 0.5;

/// English function words: articles, pronouns, auxiliaries, prepositions,
/// conjunctions and common adverbs, in normalised form (no apostrophes).
const EN_FUNCTION_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be",
    "because", "been", "before", "but", "by", "can", "could", "did", "do", "does", "for", "from",
    "had", "has", "have", "he", "her", "here", "him", "his", "how", "i", "if", "im", "in", "into",
    "is", "it", "its", "just", "lets", "me", "my", "not", "of", "on", "or", "our", "over", "she",
    "should", "so", "than", "that", "thats", "the", "their", "them", "then", "there", "these",
    "they", "this", "those", "to", "us", "very", "was", "we", "were", "what", "when", "where",
    "which", "who", "why", "will", "with", "would", "you", "your", "youre",
];

/// Mandarin function words (jieba words): pronouns, particles,
/// prepositions, conjunctions, auxiliaries and degree adverbs.
const ZH_FUNCTION_WORDS: &[&str] = &[
    "的", "了", "是", "在", "和", "与", "就", "也", "都", "会", "把", "被", "给", "跟", "对", "从",
    "向", "吗", "呢", "吧", "啊", "这", "那", "我", "你", "您", "他", "她", "它", "我们", "你们",
    "他们", "咱们", "可以", "能", "要", "因为", "所以", "如果", "但是", "而且", "还", "这个",
    "那个", "这样", "已经", "其实", "一下", "为", "让", "比", "更", "很", "有", "还有", "不仅",
    "非常", "特别", "只要", "只有", "就是", "也是", "都是", "并且", "或者",
];

/// Reason for flagging an answer as keyword stuffing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StuffingReason {
    /// Key phrases make up most of the answer.
    PhraseDensity,
    /// Key phrases follow each other with no function words between them.
    BackToBack,
}

/// The stuffing measurements of one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stuffing {
    /// Whether the answer counts as keyword stuffing.
    pub flagged: bool,
    /// The signals that tripped, empty when not flagged.
    pub reasons: Vec<StuffingReason>,
    /// Share of tokens inside a key-phrase occurrence, 0 to 1.
    pub phrase_density: f64,
    /// Share of tokens that belong to function words, 0 to 1.
    pub function_word_ratio: f64,
    /// Share of gaps between occurrences that are back-to-back, 0 to 1.
    pub back_to_back_share: f64,
    /// Factor applied to coverage: [`STUFFING_PENALTY_FACTOR`] when
    /// flagged, else 1.
    pub factor: f64,
}

/// Measures stuffing signals over `occurrences` of any phrase in `tokens`.
pub fn detect_stuffing(tokens: &[TimedToken], occurrences: &[&Occurrence]) -> Stuffing {
    let function = function_word_flags(tokens);
    let spans = merged_spans(occurrences);
    let covered: usize = spans.iter().map(|(start, end)| end - start).sum();
    let density = ratio(covered, tokens.len());
    let function_ratio = ratio(function.iter().filter(|f| **f).count(), tokens.len());
    let gaps: Vec<bool> = spans
        .windows(2)
        .map(|w| is_connected(&function[w[0].1..w[1].0]))
        .collect();
    let back_to_back = ratio(
        gaps.iter().filter(|connected| !**connected).count(),
        gaps.len(),
    );

    let mut reasons = Vec::new();
    if occurrences.len() >= 2 && density >= MAX_PHRASE_DENSITY {
        reasons.push(StuffingReason::PhraseDensity);
    }
    let scarce = function_ratio < MIN_FUNCTION_WORD_RATIO;
    if gaps.len() >= 2 && back_to_back >= MAX_BACK_TO_BACK_SHARE && scarce {
        reasons.push(StuffingReason::BackToBack);
    }
    let flagged = !reasons.is_empty();
    Stuffing {
        flagged,
        reasons,
        phrase_density: density,
        function_word_ratio: function_ratio,
        back_to_back_share: back_to_back,
        factor: if flagged {
            STUFFING_PENALTY_FACTOR
        } else {
            1.0
        },
    }
}

/// Returns whether a gap between occurrences connects them: it contains a
/// function word or is longer than [`MAX_BACK_TO_BACK_GAP`] tokens.
fn is_connected(gap_function_flags: &[bool]) -> bool {
    gap_function_flags.len() > MAX_BACK_TO_BACK_GAP || gap_function_flags.contains(&true)
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Token ranges of the occurrences, sorted, with overlaps merged.
fn merged_spans(occurrences: &[&Occurrence]) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = occurrences
        .iter()
        .map(|o| (o.token_start, o.token_end))
        .collect();
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// Marks tokens that belong to a function word. Runs of Han characters are
/// segmented with jieba first, so a two-character word marks both.
fn function_word_flags(tokens: &[TimedToken]) -> Vec<bool> {
    let mut flags = vec![false; tokens.len()];
    let mut index = 0;
    while index < tokens.len() {
        let run = tokens[index..]
            .iter()
            .take_while(|t| is_han_token(t))
            .count();
        if run == 0 {
            flags[index] = EN_FUNCTION_WORDS.contains(&tokens[index].text.as_str());
            index += 1;
            continue;
        }
        mark_han_run(&tokens[index..index + run], &mut flags[index..index + run]);
        index += run;
    }
    flags
}

fn mark_han_run(tokens: &[TimedToken], flags: &mut [bool]) {
    let joined: String = tokens.iter().map(|t| t.text.as_str()).collect();
    let mut at = 0;
    for word in text::jieba().cut(&joined, true) {
        let len = word.word.chars().count();
        let end = (at + len).min(flags.len());
        if ZH_FUNCTION_WORDS.contains(&word.word) {
            flags[at..end].iter_mut().for_each(|f| *f = true);
        }
        at = end;
    }
}

fn is_han_token(token: &TimedToken) -> bool {
    token.text.chars().next().is_some_and(is_han)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::token::tokens_from_text;

    #[test]
    fn english_function_words_are_marked() {
        let tokens = tokens_from_text("we compare the cost", 0, 100);

        assert_eq!(function_word_flags(&tokens), [true, false, true, false]);
    }

    #[test]
    fn mandarin_function_words_mark_characters() {
        let tokens = tokens_from_text("我们的价格", 0, 100);

        assert_eq!(
            function_word_flags(&tokens),
            [true, true, true, false, false]
        );
    }

    #[test]
    fn long_gap_connects_phrases() {
        assert!(is_connected(&[false; MAX_BACK_TO_BACK_GAP + 1]));
        assert!(!is_connected(&[false; MAX_BACK_TO_BACK_GAP]));
        assert!(is_connected(&[false, true]));
    }

    #[test]
    fn overlapping_spans_merge() {
        let a = occurrence(0, 2);
        let b = occurrence(1, 4);
        let c = occurrence(6, 7);

        assert_eq!(merged_spans(&[&a, &b, &c]), [(0, 4), (6, 7)]);
    }

    fn occurrence(token_start: usize, token_end: usize) -> Occurrence {
        Occurrence {
            form: crate::scoring::FormKind::Canonical,
            form_text: String::new(),
            mode: crate::scoring::MatchMode::Exact,
            words: Vec::new(),
            start_ms: 0,
            end_ms: 0,
            token_start,
            token_end,
        }
    }
}
