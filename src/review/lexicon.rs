//! Lexical sentiment of a customer turn in English and Mandarin, from small
//! word lists with negation handling.
//!
//! English text is split into lowercase words. A negator ("not", "don't",
//! "no", ...) flips the polarity of the next sentiment word within three
//! words, so "not happy" is negative and "no problem" positive. Mandarin
//! text is scanned for the longest list entry at each character; a negator
//! (不, 没, 没有, 别, 未, 不是, 并不) directly before an entry, optionally with
//! one degree word such as 太 or 很 between them, flips it, so 不满意 and
//! 不太满意 are negative and 没问题 positive.

use serde::{Deserialize, Serialize};

const EN_POSITIVE: &[&str] = &[
    "agree",
    "appreciate",
    "clear",
    "convenient",
    "excellent",
    "excited",
    "exciting",
    "fair",
    "glad",
    "good",
    "great",
    "happy",
    "helpful",
    "impressive",
    "interested",
    "like",
    "love",
    "nice",
    "perfect",
    "reasonable",
    "thank",
    "thanks",
    "useful",
    "valuable",
    "works",
];
const EN_NEGATIVE: &[&str] = &[
    "annoyed",
    "awful",
    "bad",
    "cancel",
    "complicated",
    "concern",
    "concerned",
    "confusing",
    "costly",
    "difficult",
    "disappointed",
    "doubt",
    "expensive",
    "frustrated",
    "frustrating",
    "issue",
    "issues",
    "overpriced",
    "problem",
    "problems",
    "risky",
    "slow",
    "terrible",
    "unclear",
    "unhappy",
    "waste",
    "worried",
    "worry",
];
const EN_NEGATORS: &[&str] = &[
    "not", "no", "never", "don't", "dont", "doesn't", "didn't", "isn't", "aren't", "wasn't",
    "won't", "can't", "cannot", "hardly",
];
/// Words after an English negator that it still reaches.
const EN_NEGATION_SCOPE: usize = 3;

const ZH_POSITIVE: &[&str] = &[
    "满意",
    "喜欢",
    "不错",
    "很好",
    "感兴趣",
    "有兴趣",
    "合适",
    "划算",
    "值得",
    "清楚",
    "同意",
    "认可",
    "放心",
    "方便",
    "高兴",
    "开心",
    "感谢",
    "谢谢",
    "实用",
    "专业",
    "好用",
];
const ZH_NEGATIVE: &[&str] = &[
    "贵",
    "太贵",
    "不满",
    "失望",
    "担心",
    "担忧",
    "问题",
    "麻烦",
    "困难",
    "复杂",
    "生气",
    "糟糕",
    "风险",
    "犹豫",
    "浪费",
    "投诉",
    "取消",
    "没用",
    "不好",
    "太慢",
    "不清楚",
];
const ZH_NEGATORS: &[&str] = &["没有", "不是", "并不", "不", "没", "别", "未"];
/// Degree words that may stand between a Mandarin negator and the entry.
const ZH_DEGREE: &[char] = &['太', '很', '够', '大', '是', '算'];

/// A sentiment word found in a turn, after negation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentimentHit {
    /// Matched text, including the negator when there was one.
    pub text: String,
    /// +1 for positive, -1 for negative, after negation.
    pub polarity: i8,
}

/// Returns the sentiment hits of `text` in both languages.
pub fn sentiment_hits(text: &str) -> Vec<SentimentHit> {
    let mut hits = english_hits(text);
    hits.extend(mandarin_hits(text));
    hits
}

/// Scores text in [-1, 1] as `(positive - negative) / (positive + negative + 1)`,
/// which saturates: one positive word gives 0.5, three give 0.75.
pub fn lexical_score(hits: &[SentimentHit]) -> f64 {
    let positive = hits.iter().filter(|h| h.polarity > 0).count() as f64;
    let negative = hits.iter().filter(|h| h.polarity < 0).count() as f64;
    (positive - negative) / (positive + negative + 1.0)
}

fn english_hits(text: &str) -> Vec<SentimentHit> {
    let normalised = text.replace('\u{2019}', "'").to_lowercase();
    let words = normalised
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty());
    let mut hits = Vec::new();
    let mut negation: Option<(String, usize)> = None;
    for word in words {
        let polarity = if EN_POSITIVE.contains(&word) {
            1
        } else if EN_NEGATIVE.contains(&word) {
            -1
        } else {
            0
        };
        if polarity != 0 {
            let hit = match negation.take() {
                Some((negator, _)) => SentimentHit {
                    text: format!("{negator} … {word}"),
                    polarity: -polarity,
                },
                None => SentimentHit {
                    text: word.to_string(),
                    polarity,
                },
            };
            hits.push(hit);
        } else if EN_NEGATORS.contains(&word) {
            negation = Some((word.to_string(), EN_NEGATION_SCOPE));
        } else if let Some((_, scope)) = negation.as_mut() {
            *scope -= 1;
            if *scope == 0 {
                negation = None;
            }
        }
    }
    hits
}

fn mandarin_hits(text: &str) -> Vec<SentimentHit> {
    let chars: Vec<char> = text.chars().collect();
    let mut hits = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let direct = longest_entry(&chars[i..]);
        let negated = negated_entry(&chars[i..]);
        let best = match (direct, negated) {
            (Some(d), Some(n)) if n.0 > d.0 => Some((n.0, -n.1)),
            (Some(d), _) => Some(d),
            (None, Some(n)) => Some((n.0, -n.1)),
            (None, None) => None,
        };
        match best {
            Some((len, polarity)) => {
                hits.push(SentimentHit {
                    text: chars[i..i + len].iter().collect(),
                    polarity,
                });
                i += len;
            }
            None => i += 1,
        }
    }
    hits
}

/// Returns `(length in chars, polarity)` of the longest list entry at the
/// start of `chars`.
fn longest_entry(chars: &[char]) -> Option<(usize, i8)> {
    let lists = [(ZH_POSITIVE, 1i8), (ZH_NEGATIVE, -1i8)];
    lists
        .iter()
        .flat_map(|(words, polarity)| words.iter().map(move |w| (*w, *polarity)))
        .filter(|(w, _)| starts_with(chars, w))
        .map(|(w, polarity)| (w.chars().count(), polarity))
        .max_by_key(|(len, _)| *len)
}

/// Returns `(length in chars, polarity before negation)` of a negator, an
/// optional degree word and a list entry at the start of `chars`.
fn negated_entry(chars: &[char]) -> Option<(usize, i8)> {
    let negator = ZH_NEGATORS
        .iter()
        .filter(|n| starts_with(chars, n))
        .map(|n| n.chars().count())
        .max()?;
    let mut rest = negator;
    if chars.get(rest).is_some_and(|c| ZH_DEGREE.contains(c))
        && longest_entry(&chars[rest..]).is_none()
    {
        rest += 1;
    }
    let (len, polarity) = longest_entry(&chars[rest.min(chars.len())..])?;
    Some((rest + len, polarity))
}

fn starts_with(chars: &[char], word: &str) -> bool {
    let mut it = chars.iter();
    word.chars().all(|w| it.next() == Some(&w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(text: &str) -> f64 {
        lexical_score(&sentiment_hits(text))
    }

    #[test]
    fn english_negation_flips_polarity() {
        assert!(score("I am not happy with this") < 0.0);
        assert!(score("I am happy with this") > 0.0);
        assert!(score("no problem at all") > 0.0);
        assert!(score("I don't really like it") < 0.0);
    }

    #[test]
    fn english_negation_scope_ends() {
        let hits = sentiment_hits("not now, maybe later when the team is happy");

        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].polarity, 1);
    }

    #[test]
    fn mandarin_negation_flips_polarity() {
        assert!(score("我们对这个方案不满意") < 0.0);
        assert!(score("我们很满意") > 0.0);
        assert!(score("不太满意") < 0.0);
        assert!(score("价格没问题") > 0.0);
        assert!(score("这个价格不贵") > 0.0);
    }

    #[test]
    fn mandarin_compound_entries_win() {
        assert!(score("效果不错") > 0.0);
        assert!(score("太贵了") < 0.0);
        assert_eq!(sentiment_hits("太贵了").len(), 1);
    }

    #[test]
    fn neutral_text_scores_zero() {
        assert!(score("we will meet on Tuesday 我们周二见").abs() < 1e-9);
    }
}
