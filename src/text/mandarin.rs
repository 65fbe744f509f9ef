//! Mandarin words from jieba and toneless pinyin from the `pinyin` crate.

use std::sync::OnceLock;

use jieba_rs::Jieba;
use pinyin::{ToPinyin, ToPinyinMulti};

use crate::language::is_han;

/// Returns the shared jieba segmenter with its default dictionary.
///
/// It is built on first use, which takes a few hundred milliseconds, and
/// then shared by every thread.
pub fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(Jieba::new)
}

/// Segments Mandarin text into words with jieba (HMM on for unknown words).
///
/// The text is normalised and folded to Simplified characters first, and
/// spaces are dropped from the result, so Traditional input segments like
/// its Simplified form.
pub fn segment_zh(text: &str) -> Vec<String> {
    let folded = super::normalize_for_matching(text);
    jieba()
        .cut(&folded, true)
        .into_iter()
        .map(|token| token.word.trim())
        .filter(|word| !word.is_empty())
        .map(String::from)
        .collect()
}

/// Returns the toneless pinyin of every Han character in `text`, in order,
/// using each character's most common reading; other characters are
/// skipped. Traditional characters are folded to Simplified first.
pub fn pinyin_toneless(text: &str) -> Vec<String> {
    let folded = super::fold_simplified(text);
    folded
        .chars()
        .filter(|c| is_han(*c))
        .filter_map(|c| c.to_pinyin())
        .map(|p| p.plain().to_string())
        .collect()
}

/// Returns every toneless reading of a Han character, most common first and
/// without repeats, or an empty list for characters without pinyin.
///
/// Comparing reading sets lets a heteronym such as 行 (xing, hang) match
/// either homophone.
pub fn readings(c: char) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    let Some(multi) = c.to_pinyin_multi() else {
        return out;
    };
    for reading in multi {
        let plain = reading.plain();
        if !out.contains(&plain) {
            out.push(plain);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_splits_words() {
        let words = segment_zh("我们比较一下总成本");

        assert!(words.contains(&"我们".to_string()));
        assert!(words.contains(&"成本".to_string()) || words.contains(&"总成本".to_string()));
    }

    #[test]
    fn segment_folds_traditional_text() {
        assert_eq!(segment_zh("價格"), segment_zh("价格"));
    }

    #[test]
    fn pinyin_drops_tones() {
        assert_eq!(pinyin_toneless("价格"), ["jia", "ge"]);
    }

    #[test]
    fn pinyin_matches_homophones() {
        assert_eq!(pinyin_toneless("总城本"), pinyin_toneless("总成本"));
    }

    #[test]
    fn readings_list_heteronyms() {
        let readings = readings('行');

        assert!(readings.contains(&"xing"));
        assert!(readings.contains(&"hang"));
    }

    #[test]
    fn readings_empty_for_latin() {
        assert!(readings('a').is_empty());
    }
}
