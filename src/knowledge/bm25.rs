//! BM25 scoring of an utterance against each scenario's trigger lines and
//! titles, normalised to 0 to 1.
//!
//! Per language, every scenario contributes one document made of all its
//! trigger lines and its title, and every trigger line is also a document of
//! its own. A scenario's raw score mixes its best single line with its whole
//! document. Normalisation divides by the score that the utterance would get
//! against itself, so an utterance made of corpus words in corpus phrasing
//! scores near 1 and one made of unseen words scores near 0.

use std::collections::BTreeMap;

use super::analyzer::Analyzers;
use super::classify::ScenarioScorer;
use super::Corpus;
use crate::language::{is_han, Language};

/// BM25 term-frequency saturation (Robertson and Zaragoza, 2009).
const K1: f32 = 1.2;
/// BM25 length normalisation.
const B: f32 = 0.75;
/// Share of the best single trigger line in a scenario's raw score; the rest
/// comes from the scenario's whole document.
const LINE_SHARE: f32 = 0.5;

/// A bag of terms with counts.
type Bag = BTreeMap<String, u32>;

/// One BM25 collection: documents with term statistics.
#[derive(Debug, Default)]
struct Collection {
    docs: Vec<(usize, Bag, f32)>,
    df: BTreeMap<String, u32>,
    avg_len: f32,
}

impl Collection {
    fn new(docs: Vec<(usize, Bag)>) -> Collection {
        let mut df = BTreeMap::new();
        for (_, bag) in &docs {
            for term in bag.keys() {
                *df.entry(term.clone()).or_insert(0) += 1;
            }
        }
        let docs: Vec<(usize, Bag, f32)> = docs
            .into_iter()
            .map(|(s, bag)| {
                let len = bag.values().sum::<u32>() as f32;
                (s, bag, len)
            })
            .collect();
        let avg_len = docs.iter().map(|d| d.2).sum::<f32>() / docs.len().max(1) as f32;
        Collection {
            docs,
            df,
            avg_len: avg_len.max(1.0),
        }
    }

    fn idf(&self, term: &str) -> f32 {
        let n = self.docs.len() as f32;
        let df = self.df.get(term).copied().unwrap_or(0) as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    fn bm25(&self, query: &Bag, doc: &Bag, len: f32) -> f32 {
        query
            .keys()
            .map(|t| {
                let tf = doc.get(t).copied().unwrap_or(0) as f32;
                self.idf(t) * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / self.avg_len))
            })
            .sum()
    }

    /// Returns the best score per scenario and the self-score of `query`.
    fn best_per_scenario(&self, query: &Bag, scenarios: usize) -> (Vec<f32>, f32) {
        let mut best = vec![0.0f32; scenarios];
        for (s, bag, len) in &self.docs {
            best[*s] = best[*s].max(self.bm25(query, bag, *len));
        }
        let own = self.bm25(query, query, query.values().sum::<u32>() as f32);
        (best, own)
    }
}

/// BM25 scorer over trigger lines and titles, in both languages.
pub struct Bm25Scorer {
    analyzers: Analyzers,
    scenarios: usize,
    lines: BTreeMap<Language, Collection>,
    whole: BTreeMap<Language, Collection>,
}

impl Bm25Scorer {
    /// Indexes the trigger lines and titles of `corpus`.
    pub fn new(corpus: &Corpus) -> Bm25Scorer {
        let analyzers = Analyzers::new();
        let mut lines = BTreeMap::new();
        let mut whole = BTreeMap::new();
        for lang in Language::ALL {
            let mut line_docs = Vec::new();
            let mut whole_docs = Vec::new();
            for (i, scenario) in corpus.scenarios().enumerate() {
                let title = match lang {
                    Language::En => &scenario.title_en,
                    Language::Zh => &scenario.title_zh,
                };
                let mut all = bag(&analyzers, lang, title);
                for trigger in scenario.triggers.iter().filter(|t| t.lang == lang) {
                    let line = bag(&analyzers, lang, &trigger.text);
                    for (term, n) in &line {
                        *all.entry(term.clone()).or_insert(0) += n;
                    }
                    line_docs.push((i, line));
                }
                whole_docs.push((i, all));
            }
            lines.insert(lang, Collection::new(line_docs));
            whole.insert(lang, Collection::new(whole_docs));
        }
        Bm25Scorer {
            analyzers,
            scenarios: corpus.files.len(),
            lines,
            whole,
        }
    }
}

impl ScenarioScorer for Bm25Scorer {
    fn name(&self) -> &str {
        "bm25"
    }

    fn score(&self, utterance: &str, lang: Language) -> Vec<f32> {
        let query = bag(&self.analyzers, lang, utterance);
        let (Some(lines), Some(whole)) = (self.lines.get(&lang), self.whole.get(&lang)) else {
            return vec![0.0; self.scenarios];
        };
        if query.is_empty() {
            return vec![0.0; self.scenarios];
        }
        let (line_best, line_own) = lines.best_per_scenario(&query, self.scenarios);
        let (whole_best, whole_own) = whole.best_per_scenario(&query, self.scenarios);
        line_best
            .iter()
            .zip(&whole_best)
            .map(|(l, w)| {
                let score =
                    LINE_SHARE * ratio(*l, line_own) + (1.0 - LINE_SHARE) * ratio(*w, whole_own);
                score.clamp(0.0, 1.0)
            })
            .collect()
    }
}

fn ratio(score: f32, own: f32) -> f32 {
    if own > 0.0 {
        score / own
    } else {
        0.0
    }
}

/// Returns the terms of `text`; for Mandarin also the bigrams of adjacent
/// Han characters, which match across different jieba segmentations.
fn bag(analyzers: &Analyzers, lang: Language, text: &str) -> Bag {
    let mut out = Bag::new();
    for term in analyzers.terms(lang, text) {
        *out.entry(term).or_insert(0) += 1;
    }
    if lang == Language::Zh {
        let folded: Vec<char> = super::analyzer::fold_simplified(text).chars().collect();
        for pair in folded.windows(2).filter(|p| is_han(p[0]) && is_han(p[1])) {
            *out.entry(format!("#{}{}", pair[0], pair[1])).or_insert(0) += 1;
        }
    }
    out
}
