//! Text normalisation shared by scoring and the knowledge base.
//!
//! Every comparison of spoken and written text goes through here: Unicode
//! NFKC, lowercase, punctuation removal and Traditional-to-Simplified folding
//! ([`normalize_for_matching`]), English words with Snowball stems
//! ([`tokenize_en`], [`stem_en`]), Mandarin words from jieba
//! ([`segment_zh`]) and toneless pinyin for homophone comparison
//! ([`pinyin_toneless`], [`readings`]).

mod english;
mod mandarin;

use unicode_normalization::UnicodeNormalization;

pub use english::{edit_distance, edit_tolerance, stem_en, tokenize_en};
pub use mandarin::{jieba, pinyin_toneless, readings, segment_zh};

/// Normalises text for comparison: NFKC, lowercase, punctuation removed.
///
/// Apostrophes inside a word are dropped (`don't` becomes `dont`) and every
/// other punctuation or symbol character becomes a space. Runs of whitespace
/// collapse to one space and the result is trimmed.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfkc().flat_map(char::to_lowercase) {
        if is_apostrophe(c) {
            continue;
        }
        out.push(if is_punctuation(c) { ' ' } else { c });
    }
    collapse_whitespace(&out)
}

/// Converts Traditional Chinese characters to Simplified ones.
///
/// Text without Han characters is returned unchanged. The conversion uses
/// zhconv's MediaWiki `zh-Hans` tables, which change the script and keep
/// regional vocabulary as it is.
pub fn fold_simplified(text: &str) -> String {
    if !text.chars().any(crate::language::is_han) {
        return text.to_string();
    }
    zhconv::zhconv(text, zhconv::Variant::ZhHans)
}

/// Normalises text and folds it to Simplified characters, the form that
/// key phrases and transcripts are compared in.
pub fn normalize_for_matching(text: &str) -> String {
    fold_simplified(&normalize(text))
}

/// Returns whether `c` counts as punctuation or a symbol: anything that is
/// neither alphanumeric nor whitespace, CJK punctuation included.
pub fn is_punctuation(c: char) -> bool {
    !c.is_alphanumeric() && !c.is_whitespace()
}

/// Returns whether `c` ends a clause: comma, full stop, colon, semicolon,
/// question or exclamation mark, dash or ellipsis, in ASCII or CJK form.
pub fn is_clause_break(c: char) -> bool {
    matches!(
        c,
        ',' | '.'
            | ';'
            | ':'
            | '?'
            | '!'
            | '，'
            | '。'
            | '；'
            | '：'
            | '？'
            | '！'
            | '、'
            | '…'
            | '—'
    )
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02BC}')
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_strips_punctuation_and_case() {
        assert_eq!(normalize("Total Cost, per-year!"), "total cost per year");
    }

    #[test]
    fn normalize_joins_apostrophes() {
        assert_eq!(normalize("Don\u{2019}t worry"), "dont worry");
    }

    #[test]
    fn normalize_applies_nfkc() {
        assert_eq!(normalize("ＲＯＩ　１０％"), "roi 10");
    }

    #[test]
    fn normalize_handles_cjk_punctuation() {
        assert_eq!(normalize("价格，太高了。"), "价格 太高了");
    }

    #[test]
    fn fold_converts_traditional_text() {
        assert_eq!(fold_simplified("價格總成本"), "价格总成本");
    }

    #[test]
    fn fold_keeps_regional_vocabulary() {
        assert_eq!(fold_simplified("軟體"), "软体");
    }

    #[test]
    fn fold_keeps_english_text() {
        assert_eq!(fold_simplified("Total cost"), "Total cost");
    }

    #[test]
    fn clause_break_covers_cjk_comma() {
        assert!(is_clause_break('，'));
        assert!(!is_clause_break('a'));
    }
}
