//! Timed tokens: the answer as a list of normalised units with times.
//!
//! English text gives one token per word. Mandarin text gives one token per
//! Han character, because Whisper's Mandarin words are arbitrary runs of
//! characters and key phrases must match across their borders; Latin words
//! inside Mandarin text (CRM, ROI) stay whole tokens.

use serde::{Deserialize, Serialize};

use crate::language::is_han;
use crate::text;
use crate::transcribe::Transcript;

/// A normalised unit of an answer with its time span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedToken {
    /// Lowercase text without punctuation, folded to Simplified characters.
    pub text: String,
    /// Start, in milliseconds from the start of the recording.
    pub start_ms: u64,
    /// End, in milliseconds from the start of the recording.
    pub end_ms: u64,
}

/// Splits text into match units: every Han character on its own, every
/// other whitespace-separated run as one unit, after
/// [`text::normalize_for_matching`].
pub fn split_units(raw: &str) -> Vec<String> {
    let normalized = text::normalize_for_matching(raw);
    let mut units = Vec::new();
    for chunk in normalized.split(' ') {
        let mut latin = String::new();
        for c in chunk.chars() {
            if is_han(c) {
                push_nonempty(&mut units, &mut latin);
                units.push(c.to_string());
            } else {
                latin.push(c);
            }
        }
        push_nonempty(&mut units, &mut latin);
    }
    units
}

fn push_nonempty(units: &mut Vec<String>, pending: &mut String) {
    if !pending.is_empty() {
        units.push(std::mem::take(pending));
    }
}

/// Builds the tokens of a transcript from its word timings.
///
/// A word that splits into several units shares its time span evenly among
/// them. A segment without word timings spreads its text over the segment.
pub fn tokens_from_transcript(transcript: &Transcript) -> Vec<TimedToken> {
    let mut tokens = Vec::new();
    for segment in &transcript.segments {
        if segment.words.is_empty() {
            spread(&mut tokens, &segment.text, segment.start_ms, segment.end_ms);
        }
        for word in &segment.words {
            spread(&mut tokens, &word.text, word.start_ms, word.end_ms);
        }
    }
    tokens
}

/// Builds tokens from plain text with synthetic timings: each unit lasts
/// `unit_ms` and follows the previous one, starting at `start_ms`.
pub fn tokens_from_text(raw: &str, start_ms: u64, unit_ms: u64) -> Vec<TimedToken> {
    let mut start = start_ms;
    let mut tokens = Vec::new();
    for unit in split_units(raw) {
        tokens.push(TimedToken {
            text: unit,
            start_ms: start,
            end_ms: start + unit_ms,
        });
        start += unit_ms;
    }
    tokens
}

fn spread(tokens: &mut Vec<TimedToken>, raw: &str, start_ms: u64, end_ms: u64) {
    let units = split_units(raw);
    let count = units.len() as u64;
    let span = end_ms.saturating_sub(start_ms);
    for (index, unit) in (0u64..).zip(units) {
        tokens.push(TimedToken {
            text: unit,
            start_ms: start_ms + span * index / count,
            end_ms: start_ms + span * (index + 1) / count,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcribe::{Segment, Word};

    #[test]
    fn split_units_separates_han_characters() {
        assert_eq!(
            split_units("用CRM系統，好"),
            ["用", "crm", "系", "统", "好"]
        );
    }

    #[test]
    fn split_units_keeps_english_words() {
        assert_eq!(
            split_units("Total cost, please."),
            ["total", "cost", "please"]
        );
    }

    #[test]
    fn word_span_is_shared_evenly() {
        let word = Word {
            start_ms: 1000,
            end_ms: 1300,
            text: "总成本".into(),
            probability: 0.9,
        };
        let segment = Segment {
            start_ms: 1000,
            end_ms: 1300,
            text: "总成本".into(),
            words: vec![word],
        };
        let transcript = Transcript {
            language: "zh".into(),
            duration_ms: 2000,
            no_speech: false,
            text: "总成本".into(),
            segments: vec![segment],
        };

        let tokens = tokens_from_transcript(&transcript);

        assert_eq!(tokens.len(), 3);
        assert_eq!((tokens[1].start_ms, tokens[1].end_ms), (1100, 1200));
    }

    #[test]
    fn text_tokens_follow_each_other() {
        let tokens = tokens_from_text("total cost", 500, 250);

        assert_eq!(tokens[1].start_ms, 750);
        assert_eq!(tokens[1].end_ms, 1000);
    }
}
