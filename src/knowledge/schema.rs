//! Schema of the knowledge index and the documents of one scenario.
//!
//! Every scenario becomes, in this order: its two titles, its trigger lines,
//! then per strategy its example answers and its key phrases. Each document
//! carries a unique `key` so that equal scores sort the same way in every
//! build.

use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, STORED, STRING,
};
use tantivy::TantivyDocument;

use super::analyzer::{EN_TOKENIZER, ZH_TOKENIZER};
use super::search::DocKind;
use super::{Example, KeyPhrase, Scenario, Strategy};
use crate::language::Language;

/// Version of the schema and payload layout; a mismatch asks for a rebuild.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// Handles to the schema fields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub(crate) key: Field,
    pub(crate) scenario: Field,
    pub(crate) strategy: Field,
    pub(crate) seller: Field,
    pub(crate) lang: Field,
    pub(crate) kind: Field,
    pub(crate) text: Field,
    pub(crate) text_en: Field,
    pub(crate) text_zh: Field,
    pub(crate) snippet_audio: Field,
    pub(crate) snippet_start_ms: Field,
    pub(crate) snippet_end_ms: Field,
}

/// Builds the schema and returns it with its field handles.
pub(crate) fn build_schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let analyzed = |tokenizer: &str| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqs);
        TextOptions::default().set_indexing_options(indexing)
    };
    let fields = Fields {
        key: builder.add_text_field("key", STRING | STORED),
        scenario: builder.add_text_field("scenario", STRING | STORED),
        strategy: builder.add_text_field("strategy", STRING | STORED),
        seller: builder.add_text_field("seller", STRING | STORED),
        lang: builder.add_text_field("lang", STRING | STORED),
        kind: builder.add_text_field("kind", STRING | STORED),
        text: builder.add_text_field("text", STORED),
        text_en: builder.add_text_field("text_en", analyzed(EN_TOKENIZER)),
        text_zh: builder.add_text_field("text_zh", analyzed(ZH_TOKENIZER)),
        snippet_audio: builder.add_text_field("snippet_audio", STORED),
        snippet_start_ms: builder.add_u64_field("snippet_start_ms", STORED),
        snippet_end_ms: builder.add_u64_field("snippet_end_ms", STORED),
    };
    (builder.build(), fields)
}

/// Returns the documents of one scenario in their stable order.
pub(crate) fn scenario_documents(scenario: &Scenario, fields: &Fields) -> Vec<TantivyDocument> {
    let mut docs = vec![
        base(
            fields,
            scenario,
            None,
            DocKind::Title,
            Language::En,
            &scenario.title_en,
            0,
        ),
        base(
            fields,
            scenario,
            None,
            DocKind::Title,
            Language::Zh,
            &scenario.title_zh,
            0,
        ),
    ];
    for (i, trigger) in scenario.triggers.iter().enumerate() {
        docs.push(base(
            fields,
            scenario,
            None,
            DocKind::Trigger,
            trigger.lang,
            &trigger.text,
            i,
        ));
    }
    for strategy in &scenario.strategies {
        for (i, example) in strategy.examples.iter().enumerate() {
            docs.push(answer(fields, scenario, strategy, example, i));
        }
        for (i, phrase) in strategy.key_phrases.iter().enumerate() {
            docs.push(key_phrase(fields, scenario, strategy, phrase, i));
        }
    }
    docs
}

fn base(
    fields: &Fields,
    scenario: &Scenario,
    strategy: Option<&Strategy>,
    kind: DocKind,
    lang: Language,
    text: &str,
    ordinal: usize,
) -> TantivyDocument {
    let strategy_id = strategy.map_or("", |s| s.id.as_str());
    let key = format!(
        "{}/{strategy_id}/{}/{lang}/{ordinal:03}",
        scenario.id,
        kind.as_str()
    );
    let mut doc = TantivyDocument::default();
    doc.add_text(fields.key, key);
    doc.add_text(fields.scenario, &scenario.id);
    doc.add_text(fields.strategy, strategy_id);
    doc.add_text(fields.lang, lang.code());
    doc.add_text(fields.kind, kind.as_str());
    doc.add_text(fields.text, text);
    doc.add_text(analyzed_field(fields, lang), text);
    doc
}

fn answer(
    fields: &Fields,
    scenario: &Scenario,
    strategy: &Strategy,
    example: &Example,
    i: usize,
) -> TantivyDocument {
    let mut doc = base(
        fields,
        scenario,
        Some(strategy),
        DocKind::Answer,
        example.lang,
        &example.text,
        i,
    );
    doc.add_text(fields.seller, &example.seller);
    if let Some(snippet) = example.snippets.first() {
        doc.add_text(fields.snippet_audio, snippet.audio.to_string_lossy());
        doc.add_u64(fields.snippet_start_ms, snippet.start_ms);
        doc.add_u64(fields.snippet_end_ms, snippet.end_ms);
    }
    doc
}

fn key_phrase(
    fields: &Fields,
    scenario: &Scenario,
    strategy: &Strategy,
    phrase: &KeyPhrase,
    i: usize,
) -> TantivyDocument {
    let mut doc = base(
        fields,
        scenario,
        Some(strategy),
        DocKind::Phrase,
        phrase.lang,
        &phrase.text,
        i,
    );
    for form in phrase.synonyms.iter().chain(&phrase.variants) {
        doc.add_text(analyzed_field(fields, phrase.lang), form);
    }
    doc
}

/// Returns the analyzed text field of `lang`.
pub(crate) fn analyzed_field(fields: &Fields, lang: Language) -> Field {
    match lang {
        Language::En => fields.text_en,
        Language::Zh => fields.text_zh,
    }
}
