//! English words, Snowball stems and the edit distances that tolerate
//! speech-recognition spelling errors.

use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};

/// Splits text into normalised lowercase words (see [`super::normalize`]).
pub fn tokenize_en(text: &str) -> Vec<String> {
    super::normalize(text)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

/// Returns the Snowball English (Porter 2) stem of a lowercase word, so that
/// "compare", "compared" and "comparing" share the stem "compar".
pub fn stem_en(word: &str) -> String {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER
        .get_or_init(|| Stemmer::create(Algorithm::English))
        .stem(word)
        .into_owned()
}

/// Returns the Levenshtein distance between two strings, counted in
/// characters (not bytes).
pub fn edit_distance(a: &str, b: &str) -> usize {
    strsim::levenshtein(a, b)
}

/// Returns how many character edits a word of `chars` characters may carry
/// and still count as the same word: none up to 3 characters, one for 4 to
/// 7, two for 8 or more.
pub fn edit_tolerance(chars: usize) -> usize {
    match chars {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenize_splits_on_punctuation() {
        assert_eq!(
            tokenize_en("Compare the total-cost."),
            ["compare", "the", "total", "cost"]
        );
    }

    #[test]
    fn stem_unifies_word_forms() {
        assert_eq!(stem_en("compared"), stem_en("compare"));
        assert_eq!(stem_en("comparing"), stem_en("compare"));
        assert_eq!(stem_en("costs"), stem_en("cost"));
    }

    #[test]
    fn edit_distance_counts_characters() {
        assert_eq!(edit_distance("totel", "total"), 1);
        assert_eq!(edit_distance("价格", "架格"), 1);
    }

    #[test]
    fn tolerance_grows_with_length() {
        assert_eq!(edit_tolerance(3), 0);
        assert_eq!(edit_tolerance(5), 1);
        assert_eq!(edit_tolerance(10), 2);
    }
}
