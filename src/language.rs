//! Spoken languages that callcoach understands and their codes.
//!
//! Every module that stores or compares text in a language uses
//! [`Language`], so "en" and "zh" are parsed once at the edge.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A language of speech or text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English.
    En,
    /// Mandarin Chinese, written in Simplified characters.
    Zh,
}

/// Error for a language code that is not `en` or `zh`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language code {0:?}: expected \"en\" or \"zh\"")]
pub struct UnknownLanguage(pub String);

impl Language {
    /// Every supported language, in a stable order.
    pub const ALL: [Language; 2] = [Language::En, Language::Zh];

    /// Returns the ISO 639-1 code that Whisper also uses.
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Zh => "zh",
        }
    }

    /// Guesses the language of a text from its share of Han characters.
    pub fn detect(text: &str) -> Language {
        let letters = text.chars().filter(|c| c.is_alphabetic()).count();
        let han = text.chars().filter(|c| is_han(*c)).count();
        if letters > 0 && han * 3 >= letters {
            Language::Zh
        } else {
            Language::En
        }
    }
}

/// Returns whether `c` is a CJK unified ideograph (basic block or extension A).
pub fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

impl FromStr for Language {
    type Err = UnknownLanguage;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" | "english" => Ok(Language::En),
            "zh" | "cmn" | "zh-cn" | "mandarin" | "chinese" => Ok(Language::Zh),
            other => Err(UnknownLanguage(other.to_string())),
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_aliases() {
        assert_eq!("EN".parse::<Language>(), Ok(Language::En));
        assert_eq!("zh-CN".parse::<Language>(), Ok(Language::Zh));
    }

    #[test]
    fn parse_rejects_unknown_code() {
        assert!("fr".parse::<Language>().is_err());
    }

    #[test]
    fn detect_mixed_text() {
        assert_eq!(Language::detect("我们用 CRM 系统"), Language::Zh);
        assert_eq!(Language::detect("the price is high"), Language::En);
    }
}
