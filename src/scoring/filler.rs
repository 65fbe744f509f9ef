//! Filler words in English and Mandarin answers.
//!
//! Hesitation sounds always count: English `um`, `uh`, `uhm`, `er`, `erm`,
//! `hm` with any letter stretched (`ummm`, `uhh`, `hmm`), and Mandarin 嗯,
//! 呃, 额, 唔 (alone or repeated, as in 嗯嗯). Discourse markers are words
//! with a real meaning too, so they count only in filler position: English
//! `like`, `you know`, `i mean` and Mandarin 那个, 就是, 然后. A marker is a
//! filler when it opens a clause and is followed by a comma ("like, we
//! could"), when it directly follows another filler ("um like"), or when
//! it is said twice in a row (那个那个). "I like the price" and "然后我们签约"
//! therefore do not count.

use serde::{Deserialize, Serialize};

use crate::language::Language;
use crate::text;

const EN_HESITATIONS: &[&str] = &["um", "uh", "uhm", "er", "erm", "hm"];
const ZH_HESITATIONS: &[char] = &['嗯', '呃', '额', '唔'];
const EN_MARKERS: &[&[&str]] = &[&["like"], &["you", "know"], &["i", "mean"]];
const ZH_MARKERS: &[&[&str]] = &[&["那个"], &["就是"], &["然后"]];

/// Number of times one filler was spoken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FillerCount {
    /// The filler in its listed form (`um`, `you know`, 嗯).
    pub filler: String,
    /// Number of times it counted as a filler.
    pub count: usize,
}

/// A word of the answer with the punctuation around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Piece {
    pub(crate) text: String,
    pub(crate) clause_start: bool,
    pub(crate) comma_after: bool,
}

/// Splits raw text (with punctuation) into words: jieba words for
/// Mandarin, letter runs for English.
pub(crate) fn split_pieces(raw: &str, language: Language) -> Vec<Piece> {
    let prepared = text::fold_simplified(&raw.to_lowercase());
    let lexemes: Vec<String> = match language {
        Language::Zh => text::jieba()
            .cut(&prepared, true)
            .into_iter()
            .map(|t| t.word.to_string())
            .collect(),
        Language::En => split_letter_runs(&prepared),
    };
    let mut pieces: Vec<Piece> = Vec::new();
    let mut clause_start = true;
    for lexeme in lexemes {
        let word = text::normalize(&lexeme).replace(' ', "");
        if !word.is_empty() {
            pieces.push(Piece {
                text: word,
                clause_start,
                comma_after: false,
            });
            clause_start = false;
        } else if lexeme.chars().any(text::is_clause_break) {
            if let Some(last) = pieces.last_mut() {
                last.comma_after = true;
            }
            clause_start = true;
        }
    }
    pieces
}

/// Splits text into alternating runs of word characters and of everything
/// else, so punctuation stays visible between words.
fn split_letter_runs(prepared: &str) -> Vec<String> {
    let mut lexemes = Vec::new();
    let mut current = String::new();
    let mut current_is_word = false;
    for c in prepared.chars() {
        let is_word = is_word_char(c);
        if is_word != current_is_word && !current.is_empty() {
            lexemes.push(std::mem::take(&mut current));
        }
        current_is_word = is_word;
        current.push(c);
    }
    if !current.is_empty() {
        lexemes.push(current);
    }
    lexemes
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '\'' | '\u{2019}')
}

/// Counts the fillers among `pieces`, in list order, and returns the
/// counts with the total.
pub(crate) fn count_fillers(pieces: &[Piece], language: Language) -> (Vec<FillerCount>, usize) {
    let mut labels: Vec<Option<String>> = pieces
        .iter()
        .map(|p| hesitation(&p.text, language))
        .collect();
    let markers = match language {
        Language::En => EN_MARKERS,
        Language::Zh => ZH_MARKERS,
    };
    let mut index = 0;
    while index < pieces.len() {
        match markers
            .iter()
            .find(|m| is_marker_filler(pieces, &labels, index, m))
        {
            Some(marker) => {
                labels[index] = Some(marker.join(" "));
                index += marker.len();
            }
            None => index += 1,
        }
    }
    tally(labels.into_iter().flatten())
}

fn hesitation(word: &str, language: Language) -> Option<String> {
    match language {
        Language::En => {
            let squeezed = squeeze_repeats(word);
            EN_HESITATIONS
                .contains(&squeezed.as_str())
                .then_some(squeezed)
        }
        Language::Zh => {
            let first = word.chars().next()?;
            let repeated = ZH_HESITATIONS.contains(&first) && word.chars().all(|c| c == first);
            repeated.then(|| first.to_string())
        }
    }
}

/// Collapses runs of one letter, so "ummm" becomes "um" and "hmm" "hm".
fn squeeze_repeats(word: &str) -> String {
    let mut out = String::new();
    for c in word.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

fn is_marker_filler(
    pieces: &[Piece],
    labels: &[Option<String>],
    at: usize,
    marker: &[&str],
) -> bool {
    let end = at + marker.len();
    let Some(words) = pieces.get(at..end) else {
        return false;
    };
    if labels[at].is_some() || !words.iter().zip(marker).all(|(p, m)| p.text == *m) {
        return false;
    }
    let opens_clause = words[0].clause_start && words[marker.len() - 1].comma_after;
    let after_filler = at > 0 && labels[at - 1].is_some();
    let repeated = pieces
        .get(end..end + marker.len())
        .is_some_and(|next| next.iter().zip(marker).all(|(p, m)| p.text == *m));
    opens_clause || after_filler || repeated
}

fn tally(labels: impl Iterator<Item = String>) -> (Vec<FillerCount>, usize) {
    let mut counts: Vec<FillerCount> = Vec::new();
    let mut total = 0;
    for label in labels {
        total += 1;
        match counts.iter_mut().find(|c| c.filler == label) {
            Some(entry) => entry.count += 1,
            None => counts.push(FillerCount {
                filler: label,
                count: 1,
            }),
        }
    }
    (counts, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(raw: &str, language: Language) -> usize {
        count_fillers(&split_pieces(raw, language), language).1
    }

    #[test]
    fn hesitations_always_count() {
        assert_eq!(total("Um, the price is, uhh, fair. Hmm.", Language::En), 3);
    }

    #[test]
    fn like_counts_at_clause_start() {
        assert_eq!(total("It is, like, cheaper overall.", Language::En), 1);
    }

    #[test]
    fn like_as_verb_does_not_count() {
        assert_eq!(
            total("I like the price and you would like it.", Language::En),
            0
        );
    }

    #[test]
    fn marker_after_filler_counts() {
        assert_eq!(total("So um like we can start.", Language::En), 2);
    }

    #[test]
    fn you_know_counts_as_one() {
        let (counts, total) = count_fillers(
            &split_pieces("You know, it pays back.", Language::En),
            Language::En,
        );

        assert_eq!(total, 1);
        assert_eq!(counts[0].filler, "you know");
    }

    #[test]
    fn mandarin_hesitations_count() {
        assert_eq!(total("嗯，这个价格呃其实很合理", Language::Zh), 2);
    }

    #[test]
    fn mandarin_repeated_marker_counts() {
        assert_eq!(total("那个那个我们的方案", Language::Zh), 2);
    }

    #[test]
    fn mandarin_connective_does_not_count() {
        assert_eq!(total("我们先试用然后签约", Language::Zh), 0);
    }
}
