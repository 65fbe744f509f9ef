//! Storage of ingested answers: the call's audio copied into the corpus,
//! and each answer appended to its scenario file as a new
//! `[[strategies.examples]]` table.
//!
//! Audio goes to `audio/ingested/<seller>/<name>-<sha256 prefix>.<ext>`
//! under the corpus. `audio/` is ignored by git, so customer recordings stay
//! out of the repository, and the content hash in the name makes a second
//! ingest of one file land on the same path. Scenario files are edited
//! with `toml_edit`, which keeps comments and layout, and every edited text
//! is checked with the corpus rules before it is written.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use toml_edit::{value, Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table};

use super::Error;
use crate::knowledge::validate::{check_file, Context};
use crate::knowledge::Example;

/// Corpus-relative directory of ingested call audio.
pub const INGESTED_AUDIO_DIR: &str = "audio/ingested";
/// Hex digits of the audio's sha256 kept in its file name.
const HASH_PREFIX_LEN: usize = 12;

/// Copies `source` into the corpus unless an identical copy exists, and
/// returns its corpus-relative path with whether it was created now.
pub fn copy_audio(corpus_dir: &Path, seller: &str, source: &Path) -> Result<(String, bool), Error> {
    let bytes = std::fs::read(source).map_err(|e| Error::io(source, e))?;
    let hash = hex::encode(Sha256::digest(&bytes));
    let stem = source
        .file_stem()
        .map_or("call".into(), |s| slug(&s.to_string_lossy()));
    let extension = source
        .extension()
        .map_or("wav".into(), |e| slug(&e.to_string_lossy()));
    let name = format!("{stem}-{}.{extension}", &hash[..HASH_PREFIX_LEN]);
    let relative = format!("{INGESTED_AUDIO_DIR}/{}/{name}", seller_slug(seller));
    let target = corpus_dir.join(&relative);
    if target.is_file() {
        return Ok((relative, false));
    }

    write_atomically(&target, &bytes)?;
    Ok((relative, true))
}

/// Returns a file-name-safe form of a seller name; names without ASCII
/// letters or digits (such as Han names) become `seller-` and a hash.
pub fn seller_slug(seller: &str) -> String {
    let slug = slug(seller);
    if slug.is_empty() {
        let hash = hex::encode(Sha256::digest(seller.as_bytes()));
        return format!("seller-{}", &hash[..8]);
    }
    slug
}

fn slug(text: &str) -> String {
    let mapped: String = text
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    mapped
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// Returns whether the scenario text already holds an example by the same
/// seller from the same audio at the same start time.
pub fn has_example(text: &str, example: &Example) -> bool {
    let Ok(doc) = text.parse::<DocumentMut>() else {
        return false;
    };
    let Some(strategies) = doc.get("strategies").and_then(Item::as_array_of_tables) else {
        return false;
    };
    let Some(snippet) = example.snippets.first() else {
        return false;
    };
    let audio = snippet.audio.to_string_lossy();
    let found = strategies
        .iter()
        .filter_map(|s| s.get("examples").and_then(Item::as_array_of_tables))
        .flat_map(ArrayOfTables::iter)
        .filter(|e| e.get("seller").and_then(Item::as_str) == Some(example.seller.as_str()))
        .filter_map(|e| e.get("snippets").and_then(Item::as_array))
        .flat_map(Array::iter)
        .filter_map(|s| s.as_inline_table())
        .any(|s| {
            s.get("audio").and_then(|v| v.as_str()) == Some(audio.as_ref())
                && s.get("start_ms").and_then(|v| v.as_integer()) == Some(snippet.start_ms as i64)
        });
    found
}

/// Returns `text` with `example` appended to strategy `strategy_id`.
pub fn append_example(
    path: &Path,
    text: &str,
    strategy_id: &str,
    example: &Example,
) -> Result<String, Error> {
    let edit = |message: String| Error::Edit {
        path: path.to_path_buf(),
        message,
    };
    let mut doc: DocumentMut = text.parse().map_err(|e| edit(format!("{e}")))?;
    let strategy = doc
        .get_mut("strategies")
        .and_then(Item::as_array_of_tables_mut)
        .and_then(|all| {
            all.iter_mut()
                .find(|t| t.get("id").and_then(Item::as_str) == Some(strategy_id))
        })
        .ok_or_else(|| edit(format!("no [[strategies]] table with id {strategy_id:?}")))?;
    if strategy.get("examples").is_none() {
        strategy.insert("examples", Item::ArrayOfTables(ArrayOfTables::new()));
    }
    let examples = strategy
        .get_mut("examples")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| edit("examples is not an array of tables".into()))?;

    examples.push(example_table(example));

    Ok(doc.to_string())
}

fn example_table(example: &Example) -> Table {
    let mut snippets = Array::new();
    for snippet in &example.snippets {
        let mut entry = InlineTable::new();
        entry.insert("audio", snippet.audio.to_string_lossy().as_ref().into());
        entry.insert("start_ms", (snippet.start_ms as i64).into());
        entry.insert("end_ms", (snippet.end_ms as i64).into());
        snippets.push(entry);
    }
    let mut table = Table::new();
    table.insert("lang", value(example.lang.code()));
    table.insert("seller", value(example.seller.as_str()));
    table.insert("snippets", value(snippets));
    table.insert("text", value(example.text.as_str()));
    table
}

/// Checks edited scenario text with the corpus rules; returns each problem
/// as `field: message`.
pub(crate) fn check_text(ctx: &Context, path: &Path, text: &str) -> Vec<String> {
    let (_, problems) = check_file(path, text, ctx);
    problems
        .into_iter()
        .map(|p| format!("{}: {}", p.field, p.message))
        .collect()
}

/// Writes `bytes` to `path` through a temporary file in the same directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let parent = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".ingest-")
        .suffix(".tmp")
        .tempfile_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    std::io::Write::write_all(&mut temp, bytes).map_err(|e| Error::io(temp.path(), e))?;
    temp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    temp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::Snippet;
    use crate::language::Language;

    fn example() -> Example {
        Example {
            lang: Language::En,
            seller: "Ana Ruiz".into(),
            text: "An answer.".into(),
            snippets: vec![Snippet {
                audio: "audio/ingested/ana-ruiz/call-0123.wav".into(),
                start_ms: 3000,
                end_ms: 9000,
            }],
        }
    }

    const SCENARIO: &str = "id = \"x\"\n\n[[strategies]]\nid = \"first\"\n\
        # kept comment\nkey_phrases = []\n\n[[strategies]]\nid = \"second\"\n";

    #[test]
    fn example_lands_in_named_strategy() {
        let text =
            append_example(Path::new("x.toml"), SCENARIO, "second", &example()).expect("edited");

        let doc: toml::Value = toml::from_str(&text).expect("valid toml");
        let second = &doc["strategies"][1];
        assert_eq!(second["examples"][0]["seller"].as_str(), Some("Ana Ruiz"));
        assert_eq!(
            second["examples"][0]["snippets"][0]["start_ms"].as_integer(),
            Some(3000)
        );
        assert!(doc["strategies"][0].get("examples").is_none());
        assert!(text.contains("# kept comment"));
    }

    #[test]
    fn appended_example_is_detected_again() {
        let text =
            append_example(Path::new("x.toml"), SCENARIO, "first", &example()).expect("edited");

        assert!(has_example(&text, &example()));
        assert!(!has_example(SCENARIO, &example()));
    }

    #[test]
    fn unknown_strategy_is_an_edit_error() {
        let err = append_example(Path::new("x.toml"), SCENARIO, "third", &example())
            .expect_err("no such strategy");

        assert!(err.to_string().contains("third"), "{err}");
    }

    #[test]
    fn han_seller_gets_hashed_slug() {
        assert_eq!(seller_slug("Maya Chen"), "maya-chen");
        assert!(seller_slug("李静").starts_with("seller-"));
    }
}
