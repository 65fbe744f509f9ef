//! Text analysis shared by the index, the classifier and phrase extraction.
//!
//! English text is split on non-alphanumeric characters, lowercased, freed
//! of English stop words and stemmed with tantivy's Snowball stemmer.
//! Mandarin text is folded from Traditional to Simplified characters, then
//! segmented by jieba; punctuation and a short list of function words are
//! dropped, and Latin words inside it are lowercased.

use tantivy::tokenizer::{
    Language as StemLanguage, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer, Token, TokenStream, Tokenizer,
};
use tantivy::Index;
use tantivy_jieba::JiebaTokenizer;

use crate::language::{is_han, Language};

/// Name under which the English analyzer is registered in the index.
pub(crate) const EN_TOKENIZER: &str = "callcoach_en";
/// Name under which the Mandarin analyzer is registered in the index.
pub(crate) const ZH_TOKENIZER: &str = "callcoach_zh";
/// Tokens longer than this many bytes are dropped (URLs, base64 and the like).
const MAX_TOKEN_BYTES: usize = 40;

/// English function words: the Lucene list that tantivy ships, plus
/// pronouns, auxiliaries and fillers that carry no scenario meaning in
/// spoken sales talk. "not" and "no" stay in the list as in Lucene, because
/// negation alone does not tell scenarios apart.
const EN_STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with", "i", "me", "my", "we", "us", "our", "you", "your",
    "he", "she", "him", "her", "his", "its", "them", "what", "which", "who", "how", "when",
    "where", "why", "do", "does", "did", "have", "has", "had", "am", "were", "been", "being",
    "can", "could", "would", "should", "shall", "may", "might", "must", "so", "just", "very",
    "really", "also", "from", "about", "up", "out", "all", "any", "some", "than", "too", "here",
    "now", "let", "s", "t", "ll", "re", "ve", "d", "m", "oh", "ok", "okay", "well", "yes", "yeah",
    "hi", "hello", "thanks", "thank", "please",
];

/// Mandarin function words that carry no scenario meaning.
const ZH_STOP_WORDS: &[&str] = &[
    "的", "了", "是", "我", "你", "您", "他", "她", "它", "我们", "你们", "他们", "吗", "呢", "吧",
    "啊", "呀", "嗯", "这", "那", "这个", "那个", "就", "也", "都", "和", "跟", "与", "在", "有",
    "把", "被", "给", "又", "还", "而", "及", "或", "着", "过", "地", "得", "之", "个", "一",
    "一下", "一个", "些", "一些", "会", "要", "对", "让", "从", "到", "为",
];

/// Returns `text` with Traditional Chinese characters folded to Simplified.
pub fn fold_simplified(text: &str) -> String {
    zhconv::zhconv(text, zhconv::Variant::ZhHans)
}

/// Counts the length of an answer: words for English, Han characters plus
/// Latin words for Mandarin.
pub fn count_answer_units(lang: Language, text: &str) -> usize {
    let words = text
        .split(|c: char| c.is_whitespace() || is_han(c))
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count();
    match lang {
        Language::En => words,
        Language::Zh => text.chars().filter(|c| is_han(*c)).count() + words,
    }
}

/// The tokenizers for both languages, ready to register on an index.
#[derive(Clone)]
pub struct Analyzers {
    en: TextAnalyzer,
    en_words: TextAnalyzer,
    zh: TextAnalyzer,
    zh_words: TextAnalyzer,
}

impl Default for Analyzers {
    fn default() -> Self {
        Self::new()
    }
}

impl Analyzers {
    /// Builds the English and Mandarin analyzers.
    pub fn new() -> Analyzers {
        Analyzers {
            en: english(true),
            en_words: english(false),
            zh: TextAnalyzer::builder(FoldingJieba::new(true)).build(),
            zh_words: TextAnalyzer::builder(FoldingJieba::new(false)).build(),
        }
    }

    /// Registers both index analyzers on `index` under their schema names.
    pub fn register(&self, index: &Index) {
        index.tokenizers().register(EN_TOKENIZER, self.en.clone());
        index.tokenizers().register(ZH_TOKENIZER, self.zh.clone());
    }

    /// Returns the index terms of `text`: stems for English, jieba words in
    /// search mode (overlapping sub-words included) for Mandarin.
    pub fn terms(&self, lang: Language, text: &str) -> Vec<String> {
        let mut analyzer = match lang {
            Language::En => self.en.clone(),
            Language::Zh => self.zh.clone(),
        };
        collect(&mut analyzer, text)
    }

    /// Returns the content words of `text` in reading order, without stop
    /// words: lowercase unstemmed words for English, non-overlapping jieba
    /// words for Mandarin.
    pub fn words(&self, lang: Language, text: &str) -> Vec<String> {
        let mut analyzer = match lang {
            Language::En => self.en_words.clone(),
            Language::Zh => self.zh_words.clone(),
        };
        collect(&mut analyzer, text)
    }
}

fn english(stem: bool) -> TextAnalyzer {
    let stop_words = StopWordFilter::remove(EN_STOP_WORDS.iter().map(|w| w.to_string()));
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(stop_words);
    if stem {
        builder.filter(Stemmer::new(StemLanguage::English)).build()
    } else {
        builder.build()
    }
}

fn collect(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// Jieba segmentation of the Simplified form of the text.
///
/// Token offsets point into the folded text, which has the same characters
/// as the input except where a Traditional character folds to a Simplified
/// one of another UTF-8 length.
#[derive(Clone)]
struct FoldingJieba {
    jieba: JiebaTokenizer,
}

impl FoldingJieba {
    fn new(search_mode: bool) -> FoldingJieba {
        FoldingJieba {
            jieba: JiebaTokenizer::with_search_mode(search_mode),
        }
    }
}

impl Tokenizer for FoldingJieba {
    type TokenStream<'a> = OwnedTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> OwnedTokenStream {
        let folded = fold_simplified(text);
        let mut stream = self.jieba.token_stream(&folded);
        let mut tokens = Vec::new();
        while stream.advance() {
            let token = stream.token();
            if is_content_word(&token.text) {
                let mut kept = token.clone();
                kept.text = kept.text.to_lowercase();
                kept.position = tokens.len();
                tokens.push(kept);
            }
        }
        OwnedTokenStream { tokens, next: 0 }
    }
}

fn is_content_word(word: &str) -> bool {
    word.len() <= MAX_TOKEN_BYTES
        && word.chars().any(char::is_alphanumeric)
        && !ZH_STOP_WORDS.contains(&word)
}

/// A token stream over tokens computed up front.
struct OwnedTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for OwnedTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_terms_are_stemmed() {
        let terms = Analyzers::new().terms(Language::En, "The vendors are comparing prices");

        assert_eq!(terms, vec!["vendor", "compar", "price"]);
    }

    #[test]
    fn traditional_folds_to_simplified() {
        assert_eq!(fold_simplified("價格太貴"), "价格太贵");
    }

    #[test]
    fn mandarin_terms_drop_punctuation() {
        let terms = Analyzers::new().words(Language::Zh, "我们要比较供应商。");

        assert!(terms.contains(&"供应商".to_string()), "{terms:?}");
        assert!(!terms.iter().any(|t| t == "。"), "{terms:?}");
    }

    #[test]
    fn answer_units_count_han_and_words() {
        assert_eq!(count_answer_units(Language::Zh, "我们的 CRM 系统"), 6);
        assert_eq!(count_answer_units(Language::En, "It costs 3 dollars."), 4);
    }
}
