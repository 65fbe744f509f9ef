//! Assembly of words from Whisper tokens.
//!
//! Whisper's byte-level BPE splits a CJK character over two or three tokens,
//! so token bytes are joined before they are decoded as UTF-8. English words
//! start at a token with a leading space; Mandarin has no spaces, so each
//! complete run of Han characters from consecutive tokens becomes one word.

use super::Word;

/// One text token of a decoded segment, with absolute timings.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct RawToken {
    pub(super) bytes: Vec<u8>,
    pub(super) start_ms: u64,
    pub(super) end_ms: u64,
    pub(super) probability: f32,
}

/// Groups tokens into words; punctuation-only pieces join the previous word.
pub(super) fn assemble_words(tokens: &[RawToken]) -> Vec<Word> {
    let mut words: Vec<Word> = Vec::new();
    let mut pending = Pending::default();

    for token in tokens {
        if pending.is_boundary_before(token) {
            push_word(&mut words, pending.take());
        }
        pending.add(token);
    }
    push_word(&mut words, pending.take());
    words
}

#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    start_ms: u64,
    end_ms: u64,
    probabilities: Vec<f32>,
}

impl Pending {
    fn is_boundary_before(&self, token: &RawToken) -> bool {
        let Ok(text) = std::str::from_utf8(&self.bytes) else {
            return false; // inside a multi-byte character
        };
        if text.is_empty() {
            return false;
        }
        let starts_word = token.bytes.first() == Some(&b' ');
        let ends_han = text.chars().last().is_some_and(crate::language::is_han);
        let starts_multibyte = token.bytes.first().is_some_and(|b| *b >= 0xE0);
        starts_word || ends_han || starts_multibyte
    }

    fn add(&mut self, token: &RawToken) {
        if self.bytes.is_empty() {
            self.start_ms = token.start_ms;
        }
        self.bytes.extend_from_slice(&token.bytes);
        self.end_ms = self.end_ms.max(token.end_ms);
        self.probabilities.push(token.probability);
    }

    fn take(&mut self) -> Option<Word> {
        let pending = std::mem::take(self);
        let text = String::from_utf8_lossy(&pending.bytes).trim().to_string();
        if text.is_empty() {
            return None;
        }
        let count = pending.probabilities.len().max(1) as f32;
        Some(Word {
            start_ms: pending.start_ms,
            end_ms: pending.end_ms.max(pending.start_ms),
            text,
            probability: pending.probabilities.iter().sum::<f32>() / count,
        })
    }
}

fn push_word(words: &mut Vec<Word>, word: Option<Word>) {
    let Some(word) = word else { return };
    let is_punctuation = !word.text.chars().any(char::is_alphanumeric);
    match words.last_mut() {
        Some(previous) if is_punctuation => {
            previous.text.push_str(&word.text);
            previous.end_ms = previous.end_ms.max(word.end_ms);
        }
        _ => words.push(word),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(bytes: &[u8], start_ms: u64, end_ms: u64) -> RawToken {
        RawToken {
            bytes: bytes.to_vec(),
            start_ms,
            end_ms,
            probability: 0.5,
        }
    }

    #[test]
    fn english_words_split_at_spaces() {
        let tokens = [
            token(b" fellow", 940, 1750),
            token(b" Americ", 1750, 1900),
            token(b"ans", 1900, 2110),
            token(b",", 2110, 2120),
        ];

        let words = assemble_words(&tokens);

        assert_eq!(words.len(), 2);
        assert_eq!(words[0].text, "fellow");
        assert_eq!(words[1].text, "Americans,");
        assert_eq!(words[1].start_ms, 1750);
        assert_eq!(words[1].end_ms, 2120);
    }

    #[test]
    fn split_han_character_is_joined() {
        let bytes = "价格".as_bytes();
        let tokens = [
            token(&bytes[..2], 0, 100),
            token(&bytes[2..3], 100, 200),
            token(&bytes[3..], 200, 300),
        ];

        let words = assemble_words(&tokens);

        assert_eq!(words.len(), 2);
        assert_eq!(words[0].text, "价");
        assert_eq!(words[1].text, "格");
        assert!(!words.iter().any(|w| w.text.contains('\u{FFFD}')));
    }

    #[test]
    fn cjk_punctuation_joins_previous_word() {
        let tokens = [
            token("好".as_bytes(), 0, 100),
            token("。".as_bytes(), 100, 120),
        ];

        let words = assemble_words(&tokens);

        assert_eq!(words.len(), 1);
        assert_eq!(words[0].text, "好。");
    }
}
