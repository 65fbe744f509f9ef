//! Key-phrase extraction from top-seller answers.
//!
//! Candidates are English n-grams of one to three content words (stop words
//! may sit inside, as in "cost of ownership", but never at either end) and
//! Mandarin jieba words and pairs of adjacent words, never crossing
//! punctuation. Each candidate is scored by TF-IDF, where the documents are
//! the scenarios: a phrase that many scenarios use says little about this
//! one. Phrases used by the other strategies of the same scenario are
//! damped, and longer phrases get a bonus. Curated and rejected phrases are
//! never proposed again.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::analyzer::Analyzers;
use super::validate::phrase_occurs;
use super::{Corpus, Error, KeyPhrase, PhraseStatus, Result, Scenario, Strategy};
use crate::language::Language;

/// Longest English candidate, in words, counting inner stop words.
const MAX_EN_SPAN: usize = 5;
/// Most content words in an English candidate.
const MAX_CONTENT_WORDS: usize = 3;
/// Score bonus per extra content word.
const LENGTH_BONUS: f32 = 0.5;
/// Lowest weight given to a proposed phrase.
const MIN_WEIGHT: f32 = 0.1;

/// A phrase proposed for one strategy, waiting for a coach's review.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProposedPhrase {
    /// Strategy id.
    pub strategy: String,
    /// The phrase, with [`PhraseStatus::Proposed`] and a weight in 0.1 to 1.
    pub phrase: KeyPhrase,
    /// TF-IDF score before normalisation to a weight.
    pub score: f32,
}

/// A candidate with its display text and stem key.
#[derive(Debug, Clone)]
struct Candidate {
    text: String,
    key: String,
    words: Vec<String>,
}

/// Proposes up to `per_strategy` phrases per strategy and language for the
/// scenario `scenario_id`, best first.
pub fn propose_phrases(
    corpus: &Corpus,
    scenario_id: &str,
    per_strategy: usize,
) -> Result<Vec<ProposedPhrase>> {
    let scenario = corpus
        .scenario(scenario_id)
        .ok_or_else(|| Error::UnknownScenario(scenario_id.to_string()))?;
    let analyzers = Analyzers::new();
    let mut out = Vec::new();
    for lang in Language::ALL {
        let stats = Stats {
            df: scenario_frequencies(&analyzers, corpus, lang),
            n: corpus.files.len() as f32,
            word_idf: word_idf(&analyzers, corpus, lang),
        };
        for strategy in &scenario.strategies {
            let mut scored = score_strategy(&analyzers, scenario, strategy, lang, &stats);
            scored.truncate(per_strategy);
            let best = scored.first().map_or(1.0, |(_, s)| *s).max(f32::EPSILON);
            for (candidate, score) in scored {
                let weight = ((score / best * 100.0).round() / 100.0).max(MIN_WEIGHT);
                let phrase = KeyPhrase {
                    lang,
                    text: candidate.text,
                    weight,
                    synonyms: Vec::new(),
                    variants: Vec::new(),
                    status: PhraseStatus::Proposed,
                };
                out.push(ProposedPhrase {
                    strategy: strategy.id.clone(),
                    phrase,
                    score,
                });
            }
        }
    }
    Ok(out)
}

/// Returns the strategy's own phrases followed by the proposals for it.
pub fn merged_phrases(strategy: &Strategy, proposed: &[ProposedPhrase]) -> Vec<KeyPhrase> {
    let extra = proposed
        .iter()
        .filter(|p| p.strategy == strategy.id)
        .map(|p| p.phrase.clone());
    strategy.key_phrases.iter().cloned().chain(extra).collect()
}

/// Corpus statistics of one language.
struct Stats {
    /// Scenarios whose answers contain each candidate key.
    df: BTreeMap<String, u32>,
    /// Number of scenarios.
    n: f32,
    /// Inverse document frequency of each word over all strategies' answers.
    word_idf: BTreeMap<String, f32>,
}

fn score_strategy(
    analyzers: &Analyzers,
    scenario: &Scenario,
    strategy: &Strategy,
    lang: Language,
    stats: &Stats,
) -> Vec<(Candidate, f32)> {
    let (df, n, word_idf) = (&stats.df, stats.n, &stats.word_idf);
    let known = known_keys(analyzers, strategy, lang);
    let mut tf: BTreeMap<String, (Candidate, u32)> = BTreeMap::new();
    for example in strategy.examples.iter().filter(|e| e.lang == lang) {
        for candidate in candidates(analyzers, lang, &example.text) {
            let entry = tf.entry(candidate.key.clone()).or_insert((candidate, 0));
            entry.1 += 1;
        }
    }
    let siblings: Vec<BTreeSet<String>> = scenario
        .strategies
        .iter()
        .filter(|s| s.id != strategy.id)
        .map(|s| answer_keys(analyzers, s, lang))
        .collect();
    let mut scored: Vec<(Candidate, f32)> = tf
        .into_values()
        .filter(|(c, _)| {
            !known
                .iter()
                .any(|k| k.contains(&c.key) || c.key.contains(k.as_str()))
        })
        .map(|(c, count)| {
            let idf = (n / df.get(&c.key).copied().unwrap_or(1).max(1) as f32).ln();
            let shared = siblings.iter().filter(|keys| keys.contains(&c.key)).count() as f32;
            let bonus = 1.0 + LENGTH_BONUS * (c.words.len().max(1) - 1) as f32;
            let rarity = c
                .words
                .iter()
                .map(|w| word_idf.get(w).copied().unwrap_or(0.0))
                .sum::<f32>()
                / c.words.len().max(1) as f32;
            let score = count as f32 * idf * rarity * bonus / (1.0 + shared);
            (c, score)
        })
        .filter(|(_, score)| *score > 0.0)
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.key.cmp(&b.0.key)));
    scored
}

/// Returns the stem keys of every phrase form the strategy already has,
/// rejected ones included.
fn known_keys(analyzers: &Analyzers, strategy: &Strategy, lang: Language) -> Vec<String> {
    strategy
        .key_phrases
        .iter()
        .filter(|p| p.lang == lang)
        .flat_map(|p| {
            std::iter::once(&p.text)
                .chain(&p.synonyms)
                .chain(&p.variants)
        })
        .map(|form| key_of(analyzers, lang, form))
        .filter(|k| !k.is_empty())
        .collect()
}

fn answer_keys(analyzers: &Analyzers, strategy: &Strategy, lang: Language) -> BTreeSet<String> {
    strategy
        .examples
        .iter()
        .filter(|e| e.lang == lang)
        .flat_map(|e| candidates(analyzers, lang, &e.text))
        .map(|c| c.key)
        .collect()
}

/// Counts, per candidate key, the scenarios whose answers contain it.
fn scenario_frequencies(
    analyzers: &Analyzers,
    corpus: &Corpus,
    lang: Language,
) -> BTreeMap<String, u32> {
    let mut df = BTreeMap::new();
    for scenario in corpus.scenarios() {
        let keys: BTreeSet<String> = scenario
            .strategies
            .iter()
            .flat_map(|s| answer_keys(analyzers, s, lang))
            .collect();
        for key in keys {
            *df.entry(key).or_insert(0) += 1;
        }
    }
    df
}

/// Returns ln(N / df) of every word, where the documents are the answers
/// of each strategy in the corpus.
fn word_idf(analyzers: &Analyzers, corpus: &Corpus, lang: Language) -> BTreeMap<String, f32> {
    let mut df: BTreeMap<String, u32> = BTreeMap::new();
    let mut documents = 0u32;
    for strategy in corpus.scenarios().flat_map(|s| &s.strategies) {
        documents += 1;
        let words: BTreeSet<String> = strategy
            .examples
            .iter()
            .filter(|e| e.lang == lang)
            .flat_map(|e| candidates(analyzers, lang, &e.text))
            .flat_map(|c| c.words)
            .collect();
        for word in words {
            *df.entry(word).or_insert(0) += 1;
        }
    }
    df.into_iter()
        .map(|(w, n)| (w, (documents as f32 / n as f32).ln()))
        .collect()
}

fn key_of(analyzers: &Analyzers, lang: Language, text: &str) -> String {
    match lang {
        Language::En => analyzers.terms(lang, text).join(" "),
        Language::Zh => analyzers.words(lang, text).concat(),
    }
}

/// Returns the candidates of one answer, in reading order.
fn candidates(analyzers: &Analyzers, lang: Language, text: &str) -> Vec<Candidate> {
    let clauses = text.split(|c: char| {
        c.is_ascii_punctuation() && c != '\'' && c != '-' || "，。？！；：、“”（）—".contains(c)
    });
    let mut out = Vec::new();
    for clause in clauses {
        match lang {
            Language::En => english_candidates(analyzers, clause, &mut out),
            Language::Zh => mandarin_candidates(analyzers, clause, &mut out),
        }
    }
    out.retain(|c| !c.key.is_empty() && phrase_occurs(analyzers, lang, &c.text, text));
    out
}

fn english_candidates(analyzers: &Analyzers, clause: &str, out: &mut Vec<Candidate>) {
    let words: Vec<String> = clause
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let content: Vec<bool> = words
        .iter()
        .map(|w| !analyzers.words(Language::En, w).is_empty())
        .collect();
    for start in (0..words.len()).filter(|i| content[*i]) {
        let mut count = 0;
        for end in start..words.len().min(start + MAX_EN_SPAN) {
            if !content[end] {
                continue;
            }
            count += 1;
            if count > MAX_CONTENT_WORDS {
                break;
            }
            let text = words[start..=end].join(" ");
            let key = key_of(analyzers, Language::En, &text);
            let words = analyzers.terms(Language::En, &text);
            out.push(Candidate { text, key, words });
        }
    }
}

fn mandarin_candidates(analyzers: &Analyzers, clause: &str, out: &mut Vec<Candidate>) {
    // Single characters are mostly particles and measure words, so only
    // words of two or more characters take part.
    let words: Vec<String> = analyzers
        .words(Language::Zh, clause)
        .into_iter()
        .filter(|w| w.chars().count() >= 2)
        .collect();
    for (i, word) in words.iter().enumerate() {
        out.push(Candidate {
            text: word.clone(),
            key: word.clone(),
            words: vec![word.clone()],
        });
        if let Some(next) = words.get(i + 1) {
            let text = format!("{word}{next}");
            out.push(Candidate {
                key: text.clone(),
                text,
                words: vec![word.clone(), next.clone()],
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_candidates_skip_edge_stop_words() {
        let mut out = Vec::new();

        english_candidates(&Analyzers::new(), "the total cost of ownership", &mut out);

        let texts: Vec<&str> = out.iter().map(|c| c.text.as_str()).collect();
        assert!(texts.contains(&"total cost of ownership"), "{texts:?}");
        assert!(!texts.iter().any(|t| t.starts_with("the ")), "{texts:?}");
    }

    #[test]
    fn mandarin_candidates_pair_adjacent_words() {
        let mut out = Vec::new();

        mandarin_candidates(&Analyzers::new(), "三年总成本", &mut out);

        assert!(out.iter().any(|c| c.text.chars().count() >= 3), "{out:?}");
    }
}
