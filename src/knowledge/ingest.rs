//! Ingestion of real top-seller calls into the corpus and its index.
//!
//! [`Ingest::ingest_file`] decodes one call, finds speaker turns
//! ([`turns`]), transcribes it, classifies each customer turn into a
//! scenario and stores the rep's answer that follows as a new example of
//! that scenario, with its clip times. In a two-channel call the rep is on
//! [`IngestOptions::rep_channel`] and the customer on the other channel. A
//! mono call has no speaker information, so its turns are estimated from
//! pauses: a turn that matches a scenario counts as the customer's line and
//! the next turn as the answer, and the report says so.
//!
//! Each answer goes to the strategy of its scenario whose approved key
//! phrases it covers best (ties go to the strategy whose examples share the
//! most terms with it), as a `[[strategies.examples]]` table appended to the
//! scenario file ([`store`]). A file is written only when the edited text
//! passes the corpus rules (English answers of 40 to 120 words, for
//! example), through a temporary file and a rename. After each call the
//! index re-indexes the changed scenarios. A call that cannot be decoded or
//! transcribed changes nothing.

pub mod store;
pub mod turns;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use self::turns::{
    answer_pairs, mono_turns, stereo_turns, words_between, Pair, Speaker, Turn, MONO_TURN_GAP_MS,
};
use super::analyzer::Analyzers;
use super::snippet::SnippetTimes;
use super::validate::{phrase_occurs, Context};
use super::{Classifier, Corpus, Example, KnowledgeIndex, ProposedPhrase, Scenario, Snippet};
use crate::audio::vad::{detect_speech, VadConfig};
use crate::audio::{decode_file, Audio, DecodeLimits};
use crate::language::Language;
use crate::transcribe::{Engine, Settings, Transcript};

/// Errors of call ingestion.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The call could not be decoded as audio.
    #[error("failed to decode {path}: {source}")]
    Audio {
        /// The call file.
        path: PathBuf,
        /// Decoder error.
        source: crate::audio::Error,
    },
    /// Whisper failed on the call.
    #[error("failed to transcribe {path}: {source}")]
    Transcribe {
        /// The call file.
        path: PathBuf,
        /// Transcription error.
        source: crate::transcribe::Error,
    },
    /// The call has more than two channels.
    #[error("{path} has {channels} channels: ingest takes mono calls or two-channel calls with one party per channel")]
    UnsupportedChannels {
        /// The call file.
        path: PathBuf,
        /// Channel count found.
        channels: usize,
    },
    /// The seller name is empty or contains control characters.
    #[error(
        "invalid seller name {0:?}: pass the top seller's name, such as --seller \"Maya Chen\""
    )]
    InvalidSeller(String),
    /// The rep channel is not 0 or 1.
    #[error("invalid rep channel {0}: expected 0 (left) or 1 (right)")]
    InvalidRepChannel(usize),
    /// A file could not be read or written.
    #[error("failed to access {path}: {source}")]
    Io {
        /// File or directory that failed.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// A scenario file could not be edited.
    #[error("cannot edit {path}: {message}")]
    Edit {
        /// Scenario file.
        path: PathBuf,
        /// Description of the problem.
        message: String,
    },
    /// The corpus or index failed.
    #[error(transparent)]
    Knowledge(#[from] super::Error),
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Result of ingestion.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Settings of an ingestion run.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Name of the top seller whose calls these are.
    pub seller: String,
    /// Channel of the rep in two-channel calls, 0 or 1; the customer is on
    /// the other one.
    pub rep_channel: usize,
    /// Corpus directory whose scenario files receive the examples.
    pub corpus_dir: PathBuf,
    /// Directory of the knowledge index.
    pub index_dir: PathBuf,
    /// Whisper settings.
    pub settings: Settings,
    /// Duration limits of a call.
    pub limits: DecodeLimits,
    /// Key-phrase proposals per strategy for each new answer.
    pub proposals: usize,
    /// Appends the proposals to the scenario files with status `proposed`.
    pub write_proposals: bool,
}

impl IngestOptions {
    /// Builds options with rep channel 1, default Whisper settings and three
    /// proposals per strategy that are reported but not written.
    pub fn new(seller: &str, corpus_dir: &Path, index_dir: &Path) -> IngestOptions {
        IngestOptions {
            seller: seller.trim().to_string(),
            rep_channel: 1,
            corpus_dir: corpus_dir.to_path_buf(),
            index_dir: index_dir.to_path_buf(),
            settings: Settings::default(),
            limits: DecodeLimits::default(),
            proposals: 3,
            write_proposals: false,
        }
    }

    fn validate(&self) -> Result<()> {
        if self.seller.is_empty() || self.seller.chars().any(char::is_control) {
            return Err(Error::InvalidSeller(self.seller.clone()));
        }
        if self.rep_channel > 1 {
            return Err(Error::InvalidRepChannel(self.rep_channel));
        }
        Ok(())
    }
}

/// A customer turn with the scenario it was classified into.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerTurn {
    /// The turn.
    pub turn: Turn,
    /// Best matching scenario, if any is above the threshold.
    pub scenario: Option<String>,
    /// Combined classifier score of that scenario.
    pub score: f32,
}

/// An answer stored as a new example.
#[derive(Debug, Clone, Serialize)]
pub struct AddedExample {
    /// Scenario id.
    pub scenario: String,
    /// Strategy id the example was appended to.
    pub strategy: String,
    /// The example as stored, with its snippet.
    pub example: Example,
}

/// An answer that was not stored, with the reason.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedAnswer {
    /// Scenario the customer turn matched.
    pub scenario: String,
    /// Start of the answer, in ms.
    pub start_ms: u64,
    /// Reason the answer was not stored.
    pub reason: String,
}

/// Additions from one call.
#[derive(Debug, Clone, Serialize)]
pub struct CallReport {
    /// The call file.
    pub file: PathBuf,
    /// True for mono calls, whose turns and speakers are estimated from pauses.
    pub turns_estimated: bool,
    /// Every customer turn (every turn in a mono call) with its scenario.
    pub customer_turns: Vec<CustomerTurn>,
    /// Answers stored as examples.
    pub added: Vec<AddedExample>,
    /// Answers that were not stored.
    pub skipped: Vec<SkippedAnswer>,
    /// Key phrases proposed from the new answers, by scenario.
    pub proposals: Vec<(String, ProposedPhrase)>,
}

/// An ingestion run: Whisper engine, classifier, corpus and index.
pub struct Ingest {
    engine: Engine,
    classifier: Classifier,
    index: KnowledgeIndex,
    options: IngestOptions,
    analyzers: Analyzers,
}

impl Ingest {
    /// Checks the options, loads the corpus and brings the index up to date.
    pub fn new(engine: Engine, classifier: Classifier, options: IngestOptions) -> Result<Ingest> {
        options.validate()?;
        let corpus = Corpus::load(&options.corpus_dir)?;
        let mut index = KnowledgeIndex::open_or_create(&options.index_dir)?;
        index.update(&corpus)?;
        Ok(Ingest {
            engine,
            classifier,
            index,
            options,
            analyzers: Analyzers::new(),
        })
    }

    /// Returns the knowledge index, for searches after ingestion.
    pub fn index(&self) -> &KnowledgeIndex {
        &self.index
    }

    /// Ingests each file in turn, calling `progress` after each one. A file
    /// that fails is reported in its slot and leaves corpus and index as
    /// they were.
    pub fn ingest_all(
        &mut self,
        files: &[PathBuf],
        mut progress: impl FnMut(&Path, &Result<CallReport>),
    ) -> Vec<(PathBuf, Result<CallReport>)> {
        let mut out = Vec::with_capacity(files.len());
        for file in files {
            let result = self.ingest_file(file);
            if let Err(err) = &result {
                tracing::warn!(file = %file.display(), error = %err, "call skipped");
            }
            progress(file, &result);
            out.push((file.clone(), result));
        }
        out
    }

    /// Ingests one call.
    #[tracing::instrument(skip_all, fields(file = %path.display()))]
    pub fn ingest_file(&mut self, path: &Path) -> Result<CallReport> {
        let audio = decode_file(path, &self.options.limits).map_err(|source| Error::Audio {
            path: path.to_path_buf(),
            source,
        })?;
        let (turns, estimated) = self.transcribe_turns(path, &audio)?;
        let customer_turns = self.classify_turns(&turns, estimated);
        let corpus = Corpus::load(&self.options.corpus_dir)?;
        let pairs = answer_pairs(&turns, &customer_turns, estimated);

        let mut report = CallReport {
            file: path.to_path_buf(),
            turns_estimated: estimated,
            customer_turns,
            added: Vec::new(),
            skipped: Vec::new(),
            proposals: Vec::new(),
        };
        if !pairs.is_empty() {
            self.store_answers(path, &corpus, &pairs, &mut report)?;
        }
        tracing::info!(
            added = report.added.len(),
            skipped = report.skipped.len(),
            "call ingested"
        );
        Ok(report)
    }

    /// Returns the turns with their text, and whether they are estimated.
    fn transcribe_turns(&self, path: &Path, audio: &Audio) -> Result<(Vec<Turn>, bool)> {
        let vad = VadConfig::default();
        let transcribe = |samples: &[f32]| -> Result<Transcript> {
            self.engine
                .transcribe(samples, &self.options.settings)
                .map_err(|source| Error::Transcribe {
                    path: path.to_path_buf(),
                    source,
                })
        };
        match (audio.channel_count(), audio.channel(0), audio.channel(1)) {
            (1, Some(mono), _) => {
                let mut turns = mono_turns(&detect_speech(mono, &vad), MONO_TURN_GAP_MS);
                let transcript = transcribe(mono)?;
                for turn in &mut turns {
                    turn.text = words_between(&transcript, turn.start_ms, turn.end_ms);
                }
                Ok((turns, true))
            }
            (2, Some(left), Some(right)) => {
                let (customer, rep) = match self.options.rep_channel {
                    0 => (right, left),
                    _ => (left, right),
                };
                let mut turns =
                    stereo_turns(&detect_speech(customer, &vad), &detect_speech(rep, &vad));
                let transcripts = [transcribe(customer)?, transcribe(rep)?];
                for turn in &mut turns {
                    let transcript = &transcripts[usize::from(turn.speaker == Speaker::Rep)];
                    turn.text = words_between(transcript, turn.start_ms, turn.end_ms);
                }
                Ok((turns, false))
            }
            (channels, _, _) => Err(Error::UnsupportedChannels {
                path: path.to_path_buf(),
                channels,
            }),
        }
    }

    fn classify_turns(&self, turns: &[Turn], estimated: bool) -> Vec<CustomerTurn> {
        let customer = |t: &&Turn| estimated || t.speaker == Speaker::Customer;
        turns
            .iter()
            .filter(customer)
            .map(|turn| {
                let best = self.classifier.classify(&turn.text).into_iter().next();
                CustomerTurn {
                    turn: turn.clone(),
                    score: best.as_ref().map_or(0.0, |m| m.score),
                    scenario: best.map(|m| m.scenario_id),
                }
            })
            .collect()
    }
}

impl Ingest {
    fn store_answers(
        &mut self,
        path: &Path,
        corpus: &Corpus,
        pairs: &[Pair],
        report: &mut CallReport,
    ) -> Result<()> {
        let (audio, created) = store::copy_audio(&corpus.dir, &self.options.seller, path)?;
        let ctx = Context {
            corpus_dir: corpus.dir.clone(),
            times: SnippetTimes::load(&corpus.dir).ok().flatten(),
            analyzers: Analyzers::new(),
        };
        let mut edited: BTreeMap<PathBuf, (String, String)> = BTreeMap::new();
        for pair in pairs {
            let Some(file) = corpus.file(&pair.scenario) else {
                continue;
            };
            let original = match edited.get(&file.path) {
                Some((_, text)) => text.clone(),
                None => {
                    std::fs::read_to_string(&file.path).map_err(|e| Error::io(&file.path, e))?
                }
            };
            let outcome =
                self.add_answer(&ctx, &file.path, &file.scenario, &original, pair, &audio);
            match outcome {
                Ok((text, added)) => {
                    let entry = edited
                        .entry(file.path.clone())
                        .or_insert((original, String::new()));
                    entry.1 = text;
                    report.added.push(added);
                }
                Err(reason) => report.skipped.push(SkippedAnswer {
                    scenario: pair.scenario.clone(),
                    start_ms: pair.answer.start_ms,
                    reason,
                }),
            }
        }
        if edited.is_empty() {
            if created {
                let _ = std::fs::remove_file(corpus.dir.join(&audio));
            }
            return Ok(());
        }
        self.commit(&edited)?;
        self.propose(report)
    }

    /// Returns the scenario text with the answer appended, or why the
    /// answer cannot be stored.
    fn add_answer(
        &self,
        ctx: &Context,
        path: &Path,
        scenario: &Scenario,
        text: &str,
        pair: &Pair,
        audio: &str,
    ) -> std::result::Result<(String, AddedExample), String> {
        let answer = pair.answer.text.trim();
        if answer.is_empty() {
            return Err("no words were transcribed in the answer".into());
        }
        let lang = Language::detect(answer);
        let example = Example {
            lang,
            seller: self.options.seller.clone(),
            text: answer.to_string(),
            snippets: vec![Snippet {
                audio: audio.into(),
                start_ms: pair.answer.start_ms,
                end_ms: pair.answer.end_ms,
            }],
        };
        if store::has_example(text, &example) {
            return Err("this answer was ingested before".into());
        }
        let strategy = self.best_strategy(scenario, lang, answer);
        let edited =
            store::append_example(path, text, &strategy, &example).map_err(|e| e.to_string())?;
        let problems = store::check_text(ctx, path, &edited);
        if !problems.is_empty() {
            return Err(format!(
                "the answer breaks the corpus rules: {}",
                problems.join("; ")
            ));
        }
        let added = AddedExample {
            scenario: scenario.id.clone(),
            strategy,
            example,
        };
        Ok((edited, added))
    }

    /// Picks the strategy whose approved phrases the answer covers best,
    /// then the one whose examples share the most terms with it.
    fn best_strategy(&self, scenario: &Scenario, lang: Language, answer: &str) -> String {
        let terms: std::collections::BTreeSet<String> =
            self.analyzers.terms(lang, answer).into_iter().collect();
        let score = |strategy: &super::Strategy| {
            let covered: f32 = strategy
                .scoring_phrases(lang)
                .filter(|p| {
                    std::iter::once(&p.text)
                        .chain(&p.synonyms)
                        .chain(&p.variants)
                        .any(|form| phrase_occurs(&self.analyzers, lang, form, answer))
                })
                .map(|p| p.weight)
                .sum();
            let shared = strategy
                .examples
                .iter()
                .filter(|e| e.lang == lang)
                .flat_map(|e| self.analyzers.terms(lang, &e.text))
                .collect::<std::collections::BTreeSet<String>>()
                .intersection(&terms)
                .count();
            (covered, shared)
        };
        let mut best: Option<(&str, (f32, usize))> = None;
        for strategy in &scenario.strategies {
            let s = score(strategy);
            if best.is_none_or(|(_, b)| s.0 > b.0 || (s.0 == b.0 && s.1 > b.1)) {
                best = Some((&strategy.id, s));
            }
        }
        best.map_or_else(String::new, |(id, _)| id.to_string())
    }

    /// Writes every edited scenario file, checks that the corpus still
    /// loads (restoring the originals when it does not) and updates the index.
    fn commit(&mut self, edited: &BTreeMap<PathBuf, (String, String)>) -> Result<()> {
        for (path, (_, text)) in edited {
            store::write_atomically(path, text.as_bytes())?;
        }
        let corpus = match Corpus::load(&self.options.corpus_dir) {
            Ok(corpus) => corpus,
            Err(err) => {
                for (path, (original, _)) in edited {
                    store::write_atomically(path, original.as_bytes())?;
                }
                return Err(err.into());
            }
        };
        self.index.update(&corpus)?;
        Ok(())
    }

    /// Proposes key phrases of the strategies that received answers, keeping
    /// those that occur in a new answer; writes them when asked to.
    fn propose(&mut self, report: &mut CallReport) -> Result<()> {
        let corpus = Corpus::load(&self.options.corpus_dir)?;
        let mut written = false;
        let scenarios: std::collections::BTreeSet<&str> =
            report.added.iter().map(|a| a.scenario.as_str()).collect();
        for scenario in scenarios {
            let new: Vec<&AddedExample> = report
                .added
                .iter()
                .filter(|a| a.scenario == scenario)
                .collect();
            let proposals: Vec<ProposedPhrase> =
                super::propose_phrases(&corpus, scenario, self.options.proposals)?
                    .into_iter()
                    .filter(|p| {
                        new.iter().any(|a| {
                            a.strategy == p.strategy
                                && a.example.lang == p.phrase.lang
                                && phrase_occurs(
                                    &self.analyzers,
                                    a.example.lang,
                                    &p.phrase.text,
                                    &a.example.text,
                                )
                        })
                    })
                    .collect();
            if self.options.write_proposals && !proposals.is_empty() {
                if let Some(file) = corpus.file(scenario) {
                    written |= super::append_proposed(&file.path, &proposals)? > 0;
                }
            }
            report
                .proposals
                .extend(proposals.into_iter().map(|p| (scenario.to_string(), p)));
        }
        if written {
            let corpus = Corpus::load(&self.options.corpus_dir)?;
            self.index.update(&corpus)?;
        }
        Ok(())
    }
}
