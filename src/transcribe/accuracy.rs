//! Word and character error rates for checking transcripts against
//! reference texts.
//!
//! Both rates are the Levenshtein distance between token sequences divided
//! by the reference length, after lowercasing, folding Traditional to
//! Simplified characters and removing punctuation.

/// Returns the word error rate of `hypothesis` against `reference`.
///
/// An empty reference gives 0 for an empty hypothesis and 1 otherwise.
pub fn word_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let reference = words(reference);
    let hypothesis = words(hypothesis);
    error_rate(&reference, &hypothesis)
}

/// Returns the character error rate of `hypothesis` against `reference`,
/// ignoring spaces and punctuation.
pub fn character_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let reference = characters(reference);
    let hypothesis = characters(hypothesis);
    error_rate(&reference, &hypothesis)
}

fn error_rate<T: PartialEq>(reference: &[T], hypothesis: &[T]) -> f64 {
    if reference.is_empty() {
        return if hypothesis.is_empty() { 0.0 } else { 1.0 };
    }
    edit_distance(reference, hypothesis) as f64 / reference.len() as f64
}

/// Returns the Levenshtein distance between two sequences.
pub fn edit_distance<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(x != y);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

fn normalise(text: &str) -> String {
    let simplified = zhconv::zhconv(text, zhconv::Variant::ZhHans);
    simplified
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '\'' {
                c
            } else {
                ' '
            }
        })
        .flat_map(char::to_lowercase)
        .collect()
}

fn words(text: &str) -> Vec<String> {
    normalise(text)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn characters(text: &str) -> Vec<char> {
    normalise(text)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
    }

    #[test]
    fn identical_text_has_zero_wer() {
        assert_close(word_error_rate("Ask not, what!", "ask NOT what"), 0.0);
    }

    #[test]
    fn wer_counts_each_edit_kind() {
        // One substitution, one deletion, one insertion over four words.
        assert_close(word_error_rate("a b c d", "a x c e d"), 0.5);
        assert_close(word_error_rate("a b c d", "a c d"), 0.25);
    }

    #[test]
    fn cer_folds_traditional_characters() {
        assert_close(character_error_rate("开放时间", "開放時間"), 0.0);
        assert_close(character_error_rate("开放时间", "开放时"), 0.25);
    }

    #[test]
    fn empty_reference_rates() {
        assert_close(word_error_rate("", ""), 0.0);
        assert_close(word_error_rate("", "thank you"), 1.0);
    }
}
