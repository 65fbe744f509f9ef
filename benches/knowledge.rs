//! Knowledge-base speed: a fresh index build of 10,000 answer snippets,
//! search latency on that index and classification latency (BM25 alone,
//! and BM25 with embeddings when `models/minilm` is installed).
//!
//! The 10,000 answers are generated deterministically from the bundled
//! corpus: 100 copies of its scenarios, each answer a corpus answer with
//! its sentences rotated and every seventh word swapped for a word of
//! another answer. Besides criterion's report, the median and p99 of
//! 1,000 timed runs are printed for search and classification.
//!
//! Run with `cargo bench --bench knowledge`.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use callcoach::knowledge::embed::{combined_classifier, locate_embedding_model};
use callcoach::knowledge::{
    Classifier, Corpus, CorpusFile, Example, KnowledgeIndex, SearchRequest, SentenceEncoder,
    Snippet,
};
use criterion::{criterion_group, criterion_main, Criterion};

/// Answer snippets in the generated corpus.
const SNIPPETS: usize = 10_000;
/// Copies of the bundled scenarios in the generated corpus.
const SCENARIO_COPIES: usize = 100;
/// Timed runs behind the printed median and p99.
const TIMED_RUNS: usize = 1_000;

const QUERIES: [&str; 6] = [
    "total cost of ownership",
    "security audit data",
    "价格 总成本",
    "compare vendors quotes",
    "renewal subscription value",
    "试用 价值",
];

const UTTERANCES: [&str; 4] = [
    "This is more expensive than we can justify.",
    "We still want to evaluate a couple of other vendors.",
    "Our attorneys rejected several paragraphs of the paperwork.",
    "这个价格实在是太贵了。",
];

fn bundled() -> Corpus {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    Corpus::load(&dir).expect("bundled corpus loads")
}

/// Builds the generated corpus of [`SNIPPETS`] answers in memory.
fn synthetic_corpus(base: &Corpus) -> Corpus {
    let answers: Vec<&Example> = base
        .scenarios()
        .flat_map(|s| s.strategies.iter().flat_map(|t| t.examples.iter()))
        .collect();
    let mut files = Vec::new();
    for copy in 0..SCENARIO_COPIES {
        for file in &base.files {
            let mut scenario = file.scenario.clone();
            scenario.id = format!("{}_{copy:03}", scenario.id);
            for strategy in &mut scenario.strategies {
                strategy.examples.clear();
            }
            files.push(CorpusFile {
                path: file.path.clone(),
                scenario,
                content_hash: format!("synthetic-{copy}-{}", file.content_hash),
            });
        }
    }
    let strategies: usize = files.iter().map(|f| f.scenario.strategies.len()).sum();
    for i in 0..SNIPPETS {
        let slot = i % strategies;
        let (file, strategy) = nth_strategy(&mut files, slot);
        let source = answers[i % answers.len()];
        let donor = answers[(i * 7 + 3) % answers.len()];
        let example = Example {
            lang: source.lang,
            seller: format!("Seller {}", i % 37),
            text: perturb(&source.text, &donor.text, i),
            snippets: vec![Snippet {
                audio: format!("audio/synthetic/{i:05}.wav").into(),
                start_ms: 1_000,
                end_ms: 20_000,
            }],
        };
        files[file].scenario.strategies[strategy]
            .examples
            .push(example);
    }
    Corpus {
        dir: base.dir.clone(),
        files,
    }
}

fn nth_strategy(files: &mut [CorpusFile], mut slot: usize) -> (usize, usize) {
    for (i, file) in files.iter().enumerate() {
        let count = file.scenario.strategies.len();
        if slot < count {
            return (i, slot);
        }
        slot -= count;
    }
    (0, 0)
}

/// Rotates the sentences of `text` by `seed` and swaps every seventh word
/// for a word of `donor`.
fn perturb(text: &str, donor: &str, seed: usize) -> String {
    let sentences: Vec<&str> = text.split_inclusive(['.', '?', '。', '？']).collect();
    let shift = seed % sentences.len().max(1);
    let rotated = [&sentences[shift..], &sentences[..shift]].concat().concat();
    let donor_words: Vec<&str> = donor.split_whitespace().collect();
    let words: Vec<String> = rotated
        .split_whitespace()
        .enumerate()
        .map(|(i, w)| {
            match (
                i % 7 == 6,
                donor_words.get((i + seed) % donor_words.len().max(1)),
            ) {
                (true, Some(other)) => (*other).to_string(),
                _ => w.to_string(),
            }
        })
        .collect();
    words.join(" ")
}

fn build(corpus: &Corpus, dir: &Path) -> KnowledgeIndex {
    let mut index = KnowledgeIndex::open_or_create(dir).expect("index opens");
    index.update(corpus).expect("index builds");
    index
}

/// Prints the median and p99 of `TIMED_RUNS` calls of `run`.
fn print_percentiles(name: &str, mut run: impl FnMut(usize)) {
    let mut times: Vec<Duration> = (0..TIMED_RUNS)
        .map(|i| {
            let started = Instant::now();
            run(i);
            started.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    let p99 = times[times.len() * 99 / 100];
    println!("{name}: median {median:?}, p99 {p99:?} over {TIMED_RUNS} runs");
}

fn index_benches(c: &mut Criterion) {
    let corpus = synthetic_corpus(&bundled());
    let answers: usize = corpus
        .scenarios()
        .flat_map(|s| &s.strategies)
        .map(|s| s.examples.len())
        .sum();
    assert_eq!(answers, SNIPPETS);

    let mut group = c.benchmark_group("index");
    group.sample_size(10);
    group.bench_function("build_10k_snippets", |b| {
        b.iter(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            build(&corpus, dir.path()).document_count()
        })
    });
    group.finish();

    let dir = tempfile::tempdir().expect("temp dir");
    let index = build(&corpus, dir.path());
    println!("index of {} documents", index.document_count());
    let search = |i: usize| {
        let request = SearchRequest::new(QUERIES[i % QUERIES.len()]);
        index.search(&request).expect("search runs").len()
    };
    c.bench_function("search_10k_snippets", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            search(i)
        })
    });
    print_percentiles("search (10k snippets)", |i| {
        search(i);
    });
}

fn classify_benches(c: &mut Criterion) {
    let corpus = bundled();
    let bm25 = Classifier::new(&corpus);
    c.bench_function("classify_bm25", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            bm25.classify(UTTERANCES[i % UTTERANCES.len()]).len()
        })
    });
    print_percentiles("classify bm25", |i| {
        bm25.classify(UTTERANCES[i % UTTERANCES.len()]);
    });

    let explicit = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/minilm");
    let Some(model) = locate_embedding_model(Some(&explicit)) else {
        println!("classify bm25 + embedding: skipped, run `callcoach model install minilm`");
        return;
    };
    let encoder = Arc::new(SentenceEncoder::load(&model).expect("model loads"));
    let combined = combined_classifier(&corpus, encoder).expect("classifier");
    c.bench_function("classify_bm25_embedding", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            combined.classify(UTTERANCES[i % UTTERANCES.len()]).len()
        })
    });
    print_percentiles("classify bm25 + embedding", |i| {
        combined.classify(UTTERANCES[i % UTTERANCES.len()]);
    });
}

criterion_group!(benches, index_benches, classify_benches);
criterion_main!(benches);
