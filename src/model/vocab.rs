//! Byte-level BPE vocabulary: CTranslate2 token strings back to raw bytes.
//!
//! CTranslate2 stores Whisper's GPT-2 tokens as printable strings, where the
//! GPT-2 `bytes_to_unicode` table maps every byte to one character ("Ġ" is a
//! space). whisper.cpp wants the raw bytes, so each character is mapped back.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::error::{Error, Result};

/// Token that ends the regular vocabulary; whisper.cpp creates it and every
/// special token after it from `n_vocab`.
const END_OF_TEXT: &str = "<|endoftext|>";

/// Builds the inverse of GPT-2's `bytes_to_unicode`: character to byte.
///
/// Printable Latin-1 bytes map to themselves; the other 68 bytes map, in byte
/// order, to U+0100 onwards.
pub fn unicode_to_byte() -> HashMap<char, u8> {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    let mut table = HashMap::with_capacity(256);
    let mut next_extra = 0u32;
    for byte in 0..=255u8 {
        let code = if printable(byte) {
            u32::from(byte)
        } else {
            next_extra += 1;
            255 + next_extra
        };
        let character = char::from_u32(code).expect("code points below U+0200 are valid");
        table.insert(character, byte);
    }
    table
}

/// Finds `vocabulary.json` or `vocabulary.txt` in a CTranslate2 model directory.
pub fn find_vocabulary(dir: &Path) -> Result<PathBuf> {
    ["vocabulary.json", "vocabulary.txt"]
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| Error::MissingVocabulary {
            dir: dir.to_owned(),
        })
}

/// Loads the token strings, one per id, from a `.txt` (one per line) or
/// `.json` (a list of strings) vocabulary.
pub fn load_tokens(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("failed to read", path, e))?;
    let is_json = path.extension().is_some_and(|ext| ext == "json");
    if is_json {
        return serde_json::from_str(&text)
            .map_err(|e| invalid(path, format!("not a JSON list of strings: {e}")));
    }
    Ok(text.lines().map(str::to_owned).collect())
}

/// Converts tokens below `<|endoftext|>` to raw bytes, as whisper.cpp stores them.
///
/// # Errors
/// Fails when `<|endoftext|>` is absent or a token has a character outside
/// the byte-level table.
pub fn token_bytes(tokens: &[String], path: &Path) -> Result<Vec<Vec<u8>>> {
    let end = tokens
        .iter()
        .position(|t| t == END_OF_TEXT)
        .ok_or_else(|| invalid(path, format!("no {END_OF_TEXT} token")))?;
    let table = unicode_to_byte();
    tokens[..end]
        .iter()
        .enumerate()
        .map(|(id, token)| {
            decode_token(token, &table).map_err(|c| invalid(path, bad_char(id, token, c)))
        })
        .collect()
}

fn decode_token(token: &str, table: &HashMap<char, u8>) -> std::result::Result<Vec<u8>, char> {
    token
        .chars()
        .map(|c| table.get(&c).copied().ok_or(c))
        .collect()
}

fn bad_char(id: usize, token: &str, character: char) -> String {
    format!(
        "token {id} {token:?} has character {character:?} (U+{:04X}) outside the byte-level table",
        character as u32
    )
}

fn invalid(path: &Path, reason: String) -> Error {
    Error::InvalidVocabulary {
        path: path.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(token: &str) -> Vec<u8> {
        decode_token(token, &unicode_to_byte()).expect("byte-level token")
    }

    #[test]
    fn table_covers_every_byte_once() {
        let table = unicode_to_byte();

        let mut bytes: Vec<u8> = table.values().copied().collect();
        bytes.sort_unstable();
        bytes.dedup();

        assert_eq!(table.len(), 256);
        assert_eq!(bytes.len(), 256);
    }

    #[test]
    fn special_characters_map_to_bytes() {
        assert_eq!(decode("Ġ"), vec![b' ']);
        assert_eq!(decode("Ċ"), vec![b'\n']);
        assert_eq!(decode("ĉ"), vec![b'\t']);
        assert_eq!(decode("Ā"), vec![0]);
        assert_eq!(decode("ġ"), vec![0x7F]);
        assert_eq!(decode("ł"), vec![0xA0]);
        assert_eq!(decode("Ń"), vec![0xAD]);
        assert_eq!(decode("ĠHello"), b" Hello".to_vec());
    }

    #[test]
    fn multibyte_text_round_trips() {
        // "你" is E4 BD A0. E4 and BD are printable and map to ä and ½, while
        // A0 is not printable and maps to U+0142 (ł).
        assert_eq!(decode("ä½ł"), "你".as_bytes().to_vec());
    }

    #[test]
    fn tokens_stop_before_end_of_text() {
        let tokens: Vec<String> = ["!", "Ġa", "", END_OF_TEXT, "<|startoftranscript|>"]
            .iter()
            .map(|s| s.to_string())
            .collect();

        let bytes = token_bytes(&tokens, Path::new("vocabulary.txt")).expect("valid");

        assert_eq!(bytes, vec![b"!".to_vec(), b" a".to_vec(), Vec::new()]);
    }

    #[test]
    fn foreign_character_is_rejected() {
        let tokens = vec!["a b".to_owned(), END_OF_TEXT.to_owned()];

        let err = token_bytes(&tokens, Path::new("v.txt")).expect_err("space is not byte-level");

        assert!(err.to_string().contains("token 0"));
    }

    #[test]
    fn missing_end_of_text_is_rejected() {
        let tokens = vec!["a".to_owned()];

        let err = token_bytes(&tokens, Path::new("v.txt")).expect_err("no end token");

        assert!(err.to_string().contains(END_OF_TEXT));
    }
}
