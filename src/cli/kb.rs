//! `callcoach kb`: check the scenario corpus, build and search its index,
//! classify customer lines and review key phrases.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Subcommand, ValueEnum};

use crate::knowledge::{
    append_proposed, check_corpus, load_classifier, propose_phrases, review_phrase, Classifier,
    Corpus, IngestOptions, KnowledgeIndex, PhraseReview, PhraseStatus, SearchRequest,
};
use crate::language::Language;

mod ingest;

/// Output format of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable lines.
    Text,
    /// One JSON document.
    Json,
}

/// Subcommands of `callcoach kb`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validates the corpus and lists every problem with file, line and field.
    Check {
        /// Corpus directory.
        #[arg(default_value = "corpus")]
        dir: PathBuf,
    },
    /// Builds or updates the search index; only changed scenarios are re-indexed.
    Build {
        /// Corpus directory.
        #[arg(long, default_value = "corpus")]
        corpus: PathBuf,
        /// Data directory; the index goes into its `index/` folder.
        #[arg(long, env = "CALLCOACH_DATA_DIR", default_value = "data")]
        data: PathBuf,
    },
    /// Searches answers, trigger lines and key phrases.
    Search {
        /// Query in English or Mandarin (Traditional characters are folded).
        query: String,
        /// Language to search [default: detected from the query]
        #[arg(long)]
        lang: Option<Language>,
        /// Maximum number of hits, 1 to 1000.
        #[arg(long, default_value_t = 10,
            value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1000))]
        limit: usize,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Data directory that contains `index/`.
        #[arg(long, env = "CALLCOACH_DATA_DIR", default_value = "data")]
        data: PathBuf,
    },
    /// Ranks the scenarios that a customer line belongs to.
    Classify {
        /// The customer's words.
        text: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Corpus directory.
        #[arg(long, default_value = "corpus")]
        corpus: PathBuf,
        /// Scores with BM25 alone even when the embedding model is installed.
        #[arg(long)]
        no_embeddings: bool,
    },
    /// Transcribes top-seller calls and stores each answer to a customer
    /// line as a new example of the matching scenario.
    ///
    /// In a two-channel call each party has a channel (--rep-channel); in a
    /// mono call the turns are estimated from pauses. Each answer is
    /// appended to the scenario file under the strategy whose key phrases
    /// it covers best, with its clip times, and the call's audio is copied
    /// to the corpus's audio/ingested/ directory.
    Ingest {
        /// Name of the top seller on the calls.
        #[arg(long)]
        seller: String,
        /// Call recordings (WAV, FLAC, MP3, Ogg Vorbis or M4A).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Whisper model [default: CALLCOACH_MODEL, then models/ggml-tiny.en.bin]
        #[arg(long)]
        model: Option<PathBuf>,
        /// Channel of the rep in two-channel calls (0 left, 1 right); the
        /// customer is on the other channel.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=1))]
        rep_channel: u8,
        /// Appends the proposed key phrases to the scenario files with status proposed.
        #[arg(long)]
        write_phrases: bool,
        /// Corpus directory.
        #[arg(long, default_value = "corpus")]
        corpus: PathBuf,
        /// Data directory; the index goes into its `index/` folder.
        #[arg(long, env = "CALLCOACH_DATA_DIR", default_value = "data")]
        data: PathBuf,
    },
    /// Lists a scenario's key phrases; proposes and reviews new ones.
    Phrases {
        /// Scenario id.
        scenario: String,
        /// Also lists phrases extracted from the example answers.
        #[arg(long)]
        propose: bool,
        /// Proposals per strategy and language, 1 to 100.
        #[arg(long, default_value_t = 5,
            value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100))]
        limit: usize,
        /// Appends the proposals to the scenario file with status `proposed`.
        #[arg(long, requires = "propose")]
        write: bool,
        /// Marks the phrase with this text approved (needs --strategy and --lang).
        #[arg(long, conflicts_with_all = ["reject", "weight"])]
        approve: Option<String>,
        /// Marks the phrase with this text rejected (needs --strategy and --lang).
        #[arg(long, conflicts_with = "weight")]
        reject: Option<String>,
        /// Sets the weight of the phrase named by --phrase.
        #[arg(long, requires = "phrase")]
        weight: Option<f32>,
        /// Phrase text that --weight applies to.
        #[arg(long)]
        phrase: Option<String>,
        /// Strategy id of the reviewed phrase.
        #[arg(long)]
        strategy: Option<String>,
        /// Language of the reviewed phrase.
        #[arg(long)]
        lang: Option<Language>,
        /// Corpus directory.
        #[arg(long, default_value = "corpus")]
        corpus: PathBuf,
    },
}

/// Runs one `kb` subcommand.
pub(crate) fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Check { dir } => check(&dir),
        Command::Build { corpus, data } => build(&corpus, &data),
        Command::Search {
            query,
            lang,
            limit,
            format,
            data,
        } => {
            let request = SearchRequest {
                query,
                lang,
                limit,
                kind: None,
                scenario: None,
            };
            search(&request, format, &data)
        }
        Command::Classify {
            text,
            format,
            corpus,
            no_embeddings,
        } => classify(&text, format, &corpus, !no_embeddings),
        Command::Ingest {
            seller,
            files,
            model,
            rep_channel,
            write_phrases,
            corpus,
            data,
        } => {
            let mut options = IngestOptions::new(&seller, &corpus, &data.join("index"));
            options.rep_channel = usize::from(rep_channel);
            options.write_proposals = write_phrases;
            ingest::run(options, &files, model.as_deref())
        }
        Command::Phrases {
            scenario,
            propose,
            limit,
            write,
            approve,
            reject,
            weight,
            phrase,
            strategy,
            lang,
            corpus,
        } => {
            let review = match (approve, reject, weight) {
                (Some(text), _, _) => Some((text, PhraseReview::Approve)),
                (_, Some(text), _) => Some((text, PhraseReview::Reject)),
                (_, _, Some(weight)) => phrase.map(|text| (text, PhraseReview::Reweight(weight))),
                _ => None,
            };
            match review {
                Some((text, review)) => {
                    review_one(&corpus, &scenario, strategy, lang, &text, review)
                }
                None => phrases(&corpus, &scenario, propose.then_some(limit), write),
            }
        }
    }
}

fn check(dir: &Path) -> anyhow::Result<()> {
    let report = check_corpus(dir).with_context(|| format!("checking corpus {}", dir.display()))?;
    for problem in &report.problems {
        outln!("{problem}");
    }
    if !report.is_clean() {
        bail!(
            "{} problem(s) in {} scenario file(s) of {}",
            report.problems.len(),
            report.files_checked,
            dir.display()
        );
    }
    outln!(
        "{}: {} scenario files, no problems",
        dir.display(),
        report.files_checked
    );
    Ok(())
}

fn build(corpus_dir: &Path, data: &Path) -> anyhow::Result<()> {
    let corpus = load(corpus_dir)?;
    let index_dir = data.join("index");
    let mut index = KnowledgeIndex::open_or_create(&index_dir)
        .with_context(|| format!("opening index {}", index_dir.display()))?;
    let report = index.update(&corpus).context("updating the index")?;
    outln!(
        "{}: {} added, {} updated, {} removed, {} unchanged, {} documents written, {} commits",
        index_dir.display(),
        report.added.len(),
        report.updated.len(),
        report.removed.len(),
        report.unchanged.len(),
        report.documents,
        report.commits
    );
    Ok(())
}

fn search(request: &SearchRequest, format: Format, data: &Path) -> anyhow::Result<()> {
    let index_dir = data.join("index");
    let index = KnowledgeIndex::open(&index_dir)
        .with_context(|| format!("opening index {}", index_dir.display()))?;
    let hits = index.search(request).context("searching the index")?;
    if format == Format::Json {
        outln!("{}", serde_json::to_string_pretty(&hits)?);
        return Ok(());
    }
    for hit in &hits {
        let strategy = hit.strategy.as_deref().unwrap_or("-");
        let seller = hit.seller.as_deref().unwrap_or("-");
        outln!(
            "{:7.3}  {} / {strategy}  [{} {}]  {seller}",
            hit.score,
            hit.scenario,
            hit.lang,
            hit.kind.as_str()
        );
        outln!(
            "         {}",
            hit.text.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        if let Some(snippet) = &hit.snippet {
            outln!(
                "         audio {} {}-{} ms",
                snippet.audio.display(),
                snippet.start_ms,
                snippet.end_ms
            );
        }
    }
    if hits.is_empty() {
        outln!("no hits for {:?}", request.query);
    }
    Ok(())
}

fn classify(text: &str, format: Format, corpus_dir: &Path, embeddings: bool) -> anyhow::Result<()> {
    let corpus = load(corpus_dir)?;
    let (classifier, combined) = if embeddings {
        load_classifier(&corpus, None)
    } else {
        (Classifier::new(&corpus), false)
    };
    let matches = classifier.classify(text);
    if format == Format::Json {
        outln!("{}", serde_json::to_string_pretty(&matches)?);
        return Ok(());
    }
    for m in matches.iter().take(5) {
        let title = corpus
            .scenario(&m.scenario_id)
            .map_or("", |s| s.title_en.as_str());
        outln!("{:.3}  {}  ({title})", m.score, m.scenario_id);
    }
    if matches.is_empty() {
        outln!("none: the line matches no scenario");
    }
    let scorers = if combined { "bm25 + embedding" } else { "bm25" };
    outln!("scored with {scorers}");
    Ok(())
}

fn phrases(
    corpus_dir: &Path,
    scenario_id: &str,
    propose: Option<usize>,
    write: bool,
) -> anyhow::Result<()> {
    let corpus = load(corpus_dir)?;
    let Some(file) = corpus.file(scenario_id) else {
        bail!(
            "unknown scenario {scenario_id:?} in {}: run `callcoach kb check` to list the corpus",
            corpus_dir.display()
        );
    };
    // Proposals are written before anything is printed, so a reader that
    // closes the output early (`| head`) cannot cut the write short.
    let proposals = match propose {
        Some(limit) => Some(propose_phrases(&corpus, scenario_id, limit)?),
        None => None,
    };
    let added = match (&proposals, write) {
        (Some(proposals), true) => Some(append_proposed(&file.path, proposals)?),
        _ => None,
    };
    for strategy in &file.scenario.strategies {
        outln!(
            "{} ({} / {})",
            strategy.id,
            strategy.name_en,
            strategy.name_zh
        );
        for phrase in &strategy.key_phrases {
            let status = match phrase.status {
                PhraseStatus::Approved => "approved",
                PhraseStatus::Proposed => "proposed",
                PhraseStatus::Rejected => "rejected",
            };
            outln!(
                "  {} {:4.2} {status:8} {}",
                phrase.lang,
                phrase.weight,
                phrase.text
            );
        }
    }
    let Some(proposals) = proposals else {
        return Ok(());
    };
    outln!("proposed:");
    for p in &proposals {
        outln!(
            "  {} {} {:4.2} {}",
            p.strategy,
            p.phrase.lang,
            p.phrase.weight,
            p.phrase.text
        );
    }
    if let Some(added) = added {
        outln!("{added} proposal(s) written to {}", file.path.display());
    }
    Ok(())
}

fn review_one(
    corpus_dir: &Path,
    scenario_id: &str,
    strategy: Option<String>,
    lang: Option<Language>,
    text: &str,
    review: PhraseReview,
) -> anyhow::Result<()> {
    let (Some(strategy), Some(lang)) = (strategy, lang) else {
        bail!("a phrase review needs --strategy ID and --lang en|zh");
    };
    let path = corpus_dir.join(format!("{scenario_id}.toml"));
    review_phrase(&path, &strategy, lang, text, review)
        .with_context(|| format!("reviewing {text:?} in {}", path.display()))?;
    let report = check_corpus(corpus_dir)?;
    for problem in report.problems.iter().filter(|p| p.file == path) {
        outln!("{problem}");
    }
    outln!("{}: {text:?} updated", path.display());
    Ok(())
}

fn load(dir: &Path) -> anyhow::Result<Corpus> {
    Corpus::load(dir).with_context(|| format!("loading corpus {}", dir.display()))
}
