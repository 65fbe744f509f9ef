//! Ranked search over the knowledge index.
//!
//! A query is analyzed like the documents of its language and matches any
//! of its terms (BM25, OR). Hits sort by score, then by document key, so
//! equal scores come back in the same order after every build.

use std::collections::BTreeSet;

use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{TantivyDocument, Term};

use super::index::KnowledgeIndex;
use super::schema::analyzed_field;
use super::{Result, Snippet};
use crate::language::Language;

/// Kind of an indexed document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// A scenario title.
    Title,
    /// A customer trigger line.
    Trigger,
    /// A top-seller example answer.
    Answer,
    /// A key phrase with its synonyms and variants.
    Phrase,
}

impl DocKind {
    /// Returns the id stored in the index.
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Title => "title",
            DocKind::Trigger => "trigger",
            DocKind::Answer => "answer",
            DocKind::Phrase => "phrase",
        }
    }

    fn parse(id: &str) -> Option<DocKind> {
        [
            DocKind::Title,
            DocKind::Trigger,
            DocKind::Answer,
            DocKind::Phrase,
        ]
        .into_iter()
        .find(|k| k.as_str() == id)
    }
}

/// A search over the knowledge index.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// Query text in English or Mandarin (Traditional characters fold).
    pub query: String,
    /// Language to search; detected from the query when `None`.
    pub lang: Option<Language>,
    /// Maximum number of hits.
    pub limit: usize,
    /// Restricts hits to one kind of document.
    pub kind: Option<DocKind>,
    /// Restricts hits to one scenario.
    pub scenario: Option<String>,
}

impl SearchRequest {
    /// Builds a request for `query` with the default limit of 10 and no filter.
    pub fn new(query: impl Into<String>) -> SearchRequest {
        SearchRequest {
            query: query.into(),
            lang: None,
            limit: 10,
            kind: None,
            scenario: None,
        }
    }
}

/// One ranked search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    /// BM25 score.
    pub score: f32,
    /// Unique document key (`scenario/strategy/kind/lang/ordinal`).
    pub key: String,
    /// Scenario id.
    pub scenario: String,
    /// Strategy id, for answers and key phrases.
    pub strategy: Option<String>,
    /// Seller who gave the answer, for answers.
    pub seller: Option<String>,
    /// Language of the text.
    pub lang: Language,
    /// Kind of document.
    pub kind: DocKind,
    /// The matched text as written in the corpus.
    pub text: String,
    /// Recording of the answer, when one is generated.
    pub snippet: Option<Snippet>,
}

impl KnowledgeIndex {
    /// Returns the best hits for `request`; an empty list when the query has
    /// no searchable terms.
    pub fn search(&self, request: &SearchRequest) -> Result<Vec<SearchHit>> {
        let lang = request
            .lang
            .unwrap_or_else(|| Language::detect(&request.query));
        let field = analyzed_field(&self.fields, lang);
        let terms: BTreeSet<String> = self
            .analyzers
            .terms(lang, &request.query)
            .into_iter()
            .collect();
        if terms.is_empty() || request.limit == 0 {
            return Ok(Vec::new());
        }
        let should: Vec<(Occur, Box<dyn Query>)> = terms
            .iter()
            .map(|t| (Occur::Should, term_query(Term::from_field_text(field, t))))
            .collect();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
        let mut filter = |field, value: &str| {
            clauses.push((Occur::Must, term_query(Term::from_field_text(field, value))))
        };
        filter(self.fields.lang, lang.code());
        if let Some(kind) = request.kind {
            filter(self.fields.kind, kind.as_str());
        }
        if let Some(scenario) = &request.scenario {
            filter(self.fields.scenario, scenario);
        }
        let searcher = self.reader.searcher();
        // Every match is collected so that ties at the cut-off sort by key.
        let all = (searcher.num_docs() as usize).max(1);
        let top = searcher.search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(all).order_by_score(),
        )?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            hits.push(self.hit(score, &doc, lang));
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.key.cmp(&b.key)));
        hits.truncate(request.limit);
        Ok(hits)
    }

    fn hit(&self, score: f32, doc: &TantivyDocument, lang: Language) -> SearchHit {
        let f = &self.fields;
        let text = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let optional = |field| Some(text(field)).filter(|s| !s.is_empty());
        let number = |field| doc.get_first(field).and_then(|v| v.as_u64());
        let snippet = optional(f.snippet_audio).and_then(|audio| {
            Some(Snippet {
                audio: audio.into(),
                start_ms: number(f.snippet_start_ms)?,
                end_ms: number(f.snippet_end_ms)?,
            })
        });
        SearchHit {
            score,
            key: text(f.key),
            scenario: text(f.scenario),
            strategy: optional(f.strategy),
            seller: optional(f.seller),
            lang,
            kind: DocKind::parse(&text(f.kind)).unwrap_or(DocKind::Answer),
            text: text(f.text),
            snippet,
        }
    }
}

fn term_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
}
