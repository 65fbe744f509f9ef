//! `callcoach drill`: today's drill for a rep, scoring of a recorded answer,
//! and coach overrides of a stored attempt.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use time::Date;

use crate::audio::{self, DecodeLimits};
use crate::coach::{self, AttemptReview};
use crate::drill::{self, AnswerOptions, DrillPrompt, ScoredAnswer, ANSWER_LIMIT_MS};
use crate::knowledge::Corpus;
use crate::language::Language;
use crate::scoring::DrillScore;
use crate::store::overrides::OverrideChange;
use crate::store::{DrillAttemptId, Score, Store, StoreConfig, UserId};
use crate::transcribe::{self, Engine, LanguageChoice};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable text.
    Text,
    /// One JSON object.
    Json,
}

/// Subcommands of `callcoach drill`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Prints the rep's drill of the day and records the draw.
    Today {
        /// The rep's user id.
        #[arg(long)]
        rep: String,
        /// Day of the drill, YYYY-MM-DD [default: today, UTC]
        #[arg(long)]
        date: Option<String>,
        /// Language of the customer's line: en or zh.
        #[arg(long, default_value = "en")]
        language: Language,
        /// Data directory.
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// Scenario corpus directory.
        #[arg(long, default_value = "corpus")]
        corpus: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Scores a recorded answer to a scenario.
    Score(ScoreArgs),
    /// Adds a coach override to a stored attempt and prints the review.
    Override(OverrideArgs),
    /// Prints a stored attempt's original and effective results and history.
    Review {
        /// Drill attempt id.
        #[arg(long)]
        attempt: String,
        /// Data directory.
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// Arguments of `callcoach drill score`.
#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// Scenario id of the drill.
    #[arg(long)]
    pub scenario: String,
    /// Recording of the answer (WAV, FLAC, MP3, Ogg Vorbis, M4A/AAC).
    #[arg(long)]
    pub audio: PathBuf,
    /// End of the customer's line in the recording, in milliseconds; 0 when
    /// the recording starts after it.
    #[arg(long, default_value_t = 0)]
    pub prompt_end_ms: u64,
    /// Language of the answer: auto, en or zh.
    #[arg(long, default_value = "auto")]
    pub language: LanguageChoice,
    /// whisper.cpp ggml model file [default: $CALLCOACH_MODEL, then
    /// models/ggml-tiny.en.bin; models/ggml-base.bin for --language zh]
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// CPU threads for inference [default: all cores]
    #[arg(long)]
    pub threads: Option<usize>,
    /// The rep's user id; stores the attempt in --data.
    #[arg(long)]
    pub rep: Option<String>,
    /// Day of the drill for the stored attempt, YYYY-MM-DD [default: today, UTC]
    #[arg(long)]
    pub date: Option<String>,
    /// Data directory.
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// Scenario corpus directory.
    #[arg(long, default_value = "corpus")]
    pub corpus: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Arguments of `callcoach drill override`.
#[derive(Debug, clap::Args)]
pub struct OverrideArgs {
    /// Drill attempt id.
    #[arg(long)]
    pub attempt: String,
    /// The coach's user id.
    #[arg(long)]
    pub coach: String,
    /// Reason for the change.
    #[arg(long)]
    pub comment: String,
    /// Phrase to correct, as STRATEGY/PHRASE (see `drill review`).
    #[arg(long, requires = "matched", conflicts_with = "score")]
    pub phrase: Option<String>,
    /// Verdict for --phrase: true when the phrase was said.
    #[arg(long)]
    pub matched: Option<bool>,
    /// Corrected overall score, 0 to 100.
    #[arg(long, required_unless_present = "phrase")]
    pub score: Option<f64>,
    /// Data directory.
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs one `drill` subcommand.
pub(crate) fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Today {
            rep,
            date,
            language,
            data,
            corpus,
            format,
        } => {
            let corpus = load_corpus(&corpus)?;
            let (rep, date) = (parse_user(&rep, "--rep")?, parse_date(date.as_deref())?);
            let prompt = block_on(&data, |store| async move {
                Ok(drill::today(&store, &corpus, &rep, date, language).await?)
            })?;
            print_prompt(&prompt, format)
        }
        Command::Score(args) => score(args),
        Command::Override(args) => override_attempt(args),
        Command::Review {
            attempt,
            data,
            format,
        } => {
            let id = DrillAttemptId::parse(&attempt).context("invalid --attempt")?;
            let review = block_on(&data, |store| async move {
                Ok(coach::review_attempt(&store, &id).await?)
            })?;
            print_review(&review, format)
        }
    }
}

fn score(args: ScoreArgs) -> anyhow::Result<()> {
    let corpus = load_corpus(&args.corpus)?;
    let scenario = drill::find_scenario(&corpus, &args.scenario)?.clone();
    let rep = args
        .rep
        .as_deref()
        .map(|r| parse_user(r, "--rep"))
        .transpose()?;
    let date = parse_date(args.date.as_deref())?;
    let limits = DecodeLimits {
        max_duration_ms: args.prompt_end_ms + 2 * ANSWER_LIMIT_MS,
        ..DecodeLimits::default()
    };
    let recording = audio::decode_file(&args.audio, &limits)
        .with_context(|| format!("cannot read answer recording {}", args.audio.display()))?;
    if args.prompt_end_ms >= recording.duration_ms() && args.prompt_end_ms > 0 {
        anyhow::bail!(
            "--prompt-end-ms {} is at or past the end of {} ({} ms long): pass the offset at \
             which the customer's line ends inside the recording, or 0 when it holds only \
             the answer",
            args.prompt_end_ms,
            args.audio.display(),
            recording.duration_ms()
        );
    }
    let engine = load_engine(args.model.as_deref(), args.language)?;
    let mut options = AnswerOptions {
        language: args.language,
        prompt_end_ms: args.prompt_end_ms,
        ..AnswerOptions::default()
    };
    if let Some(threads) = args.threads {
        options.threads = threads;
    }

    let scored = drill::score_samples(&engine, &scenario, &recording.mono(), options)
        .with_context(|| format!("scoring of {} failed", args.audio.display()))?;

    let attempt = match rep {
        Some(rep) => {
            let bytes = std::fs::read(&args.audio)
                .with_context(|| format!("cannot read {}", args.audio.display()))?;
            let extension = args
                .audio
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_string);
            let score = scored.score.clone();
            Some(block_on(&args.data, |store| async move {
                let audio = Some((bytes, extension.as_deref()));
                Ok(drill::store_attempt(&store, &rep, date, &scenario, &score, audio).await?)
            })?)
        }
        None => None,
    };
    match args.format {
        Format::Json => {
            let mut value = serde_json::to_value(&scored)?;
            if let (Some(attempt), Some(object)) = (&attempt, value.as_object_mut()) {
                object.insert("attempt_id".into(), attempt.id.to_string().into());
            }
            outln!("{}", serde_json::to_string_pretty(&value)?);
        }
        Format::Text => {
            print_score(&scored);
            if let Some(attempt) = attempt {
                outln!("stored as attempt {}", attempt.id);
            }
        }
    }
    Ok(())
}

fn override_attempt(args: OverrideArgs) -> anyhow::Result<()> {
    let id = DrillAttemptId::parse(&args.attempt).context("invalid --attempt")?;
    let coach_id = parse_user(&args.coach, "--coach")?;
    let change = match (args.phrase, args.matched, args.score) {
        (Some(phrase_id), Some(matched), _) => OverrideChange::PhraseMatch { phrase_id, matched },
        (_, _, Some(value)) => OverrideChange::OverallScore {
            score: Score::new(value).context("invalid --score")?,
        },
        _ => anyhow::bail!("pass --phrase STRATEGY/PHRASE with --matched, or --score N"),
    };
    let comment = args.comment;
    let review = block_on(&args.data, |store| async move {
        Ok(coach::override_attempt(&store, &id, change, &comment, &coach_id).await?)
    })?;
    print_review(&review, args.format)
}

/// Loads the model for an answer: `explicit`, else the multilingual base
/// model for Mandarin, else [`transcribe::locate_model`].
pub(super) fn load_engine(
    explicit: Option<&Path>,
    language: LanguageChoice,
) -> anyhow::Result<Engine> {
    let path = match (explicit, language) {
        (Some(path), _) => path.to_path_buf(),
        (None, LanguageChoice::Fixed(Language::Zh))
            if std::env::var_os(transcribe::MODEL_ENV).is_none() =>
        {
            let base = super::models_dir().join("ggml-base.bin");
            if !base.is_file() {
                anyhow::bail!(
                    "Mandarin needs the multilingual model, but {} is missing: \
                     run `callcoach model install base` (or `make model-base`)",
                    base.display()
                );
            }
            base
        }
        (None, _) => transcribe::locate_model(None)?,
    };
    Engine::load(&path).with_context(|| format!("cannot load model {}", path.display()))
}

/// Loads the scenario corpus.
pub(super) fn load_corpus(dir: &Path) -> anyhow::Result<Corpus> {
    Corpus::load(dir).with_context(|| format!("cannot load the corpus in {}", dir.display()))
}

/// Parses a user id flag.
pub(super) fn parse_user(text: &str, flag: &str) -> anyhow::Result<UserId> {
    UserId::parse(text).with_context(|| format!("invalid {flag}"))
}

fn parse_date(text: Option<&str>) -> anyhow::Result<Date> {
    let Some(text) = text else {
        return Ok(time::OffsetDateTime::now_utc().date());
    };
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).with_context(|| {
        format!("invalid --date {text:?}: expected YYYY-MM-DD, such as 2025-03-04")
    })
}

/// Opens the store in `data`, runs `work` on it and closes it.
pub(super) fn block_on<T, F, Fut>(data: &Path, work: F) -> anyhow::Result<T>
where
    F: FnOnce(Store) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?;
    runtime.block_on(async {
        let store = Store::open(&StoreConfig::from_env(data))
            .await
            .with_context(|| format!("cannot open the store in {}", data.display()))?;
        let result = work(store.clone()).await;
        store.close().await;
        result
    })
}

fn print_prompt(prompt: &DrillPrompt, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        outln!("{}", serde_json::to_string_pretty(prompt)?);
        return Ok(());
    }
    outln!(
        "Drill of {} for {}: {} ({})",
        prompt.date,
        prompt.rep_id,
        prompt.title,
        prompt.scenario_id
    );
    outln!("Customer: \"{}\"", prompt.customer_line);
    match &prompt.customer_audio {
        Some(audio) => outln!(
            "Audio: {} from {} ms to {} ms",
            audio.path.display(),
            audio.start_ms,
            audio.end_ms
        ),
        None => outln!("Audio: none (run scripts/synth-snippets.sh to generate corpus audio)"),
    }
    outln!(
        "Answer within {} s; top sellers start after about {} ms.",
        prompt.answer_limit_ms / 1000,
        prompt.latency.top_seller_ms
    );
    let reasons = if prompt.draw.chosen.reasons.is_empty() {
        "no weak dimension or task".to_string()
    } else {
        prompt.draw.chosen.reasons.join("; ")
    };
    outln!(
        "Drawn with weight {:.2} of {:.2} among {} unseen scenario(s): {reasons}",
        prompt.draw.chosen.weight,
        prompt.draw.total_weight,
        prompt.draw.candidates
    );
    Ok(())
}

/// Prints a drill score as readable text.
pub(super) fn print_score(scored: &ScoredAnswer) {
    let score = &scored.score;
    outln!(
        "Scenario {} ({}), overall {:.1} / 100",
        score.scenario_id,
        score.language,
        score.overall.score
    );
    print_transcript(score);
    for strategy in &score.coverage.strategies {
        let best = if strategy.strategy_id == score.coverage.best_strategy_id {
            " (best)"
        } else {
            ""
        };
        outln!(
            "Strategy {}{best}: coverage {:.2}",
            strategy.strategy_id,
            strategy.adjusted_coverage
        );
        for phrase in &strategy.phrases {
            let mark = if phrase.matched { "x" } else { " " };
            let at = phrase
                .occurrence
                .as_ref()
                .map(|o| format!(" at {} ms", o.start_ms))
                .unwrap_or_default();
            outln!(
                "  [{mark}] {} (weight {}){at}",
                phrase.phrase,
                phrase.weight
            );
        }
    }
    let latency = &score.latency;
    match latency.latency_ms {
        Some(ms) => outln!(
            "Latency {ms} ms against top seller {} ms (band {}-{} ms)",
            latency.band.top_seller_ms,
            latency.band.min_ms,
            latency.band.max_ms
        ),
        None => outln!("Latency: no speech after the prompt"),
    }
    let delivery = &score.delivery;
    outln!(
        "Delivery {:.2}: rate {:.0} ({:?}), {} filler(s), {} ms{}",
        delivery.score,
        delivery.rate,
        delivery.rate_unit,
        delivery.filler_count,
        delivery.duration_ms,
        if delivery.over_limit {
            ", over the 5-minute limit"
        } else {
            ""
        }
    );
    print_feedback(score);
    outln!(
        "Feedback ready {} ms after the end of the audio",
        scored.feedback_ms
    );
}

fn print_transcript(score: &DrillScore) {
    if score.transcript.no_speech {
        outln!("Transcript: no speech detected in the answer");
        return;
    }
    for segment in &score.transcript.segments {
        outln!(
            "  [{} - {} ms] {}",
            segment.start_ms,
            segment.end_ms,
            segment.text
        );
    }
}

fn print_feedback(score: &DrillScore) {
    let feedback = &score.feedback;
    let missed: Vec<&str> = feedback.missed.iter().map(|m| m.phrase.as_str()).collect();
    if !missed.is_empty() {
        outln!(
            "Missed phrases of {}: {}",
            feedback.strategy_id,
            missed.join(", ")
        );
    }
    if let Some(example) = &feedback.example {
        outln!("Top seller {}: {}", example.seller, example.text.trim());
        if let Some(snippet) = &example.snippet {
            outln!(
                "  snippet {} from {} ms to {} ms",
                snippet.audio.display(),
                snippet.start_ms,
                snippet.end_ms
            );
        }
    }
    for note in &feedback.notes {
        outln!("Note: {}", note.message);
    }
}

fn print_review(review: &AttemptReview, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        outln!("{}", serde_json::to_string_pretty(review)?);
        return Ok(());
    }
    let (original, effective) = (&review.reviewed.original, &review.reviewed.effective);
    outln!(
        "Attempt {}: overall {:.1} original, {:.1} effective",
        review.attempt_id,
        original.overall.score,
        effective.overall.score
    );
    for id in coach::phrase_ids(effective) {
        outln!("  phrase id {id}");
    }
    for entry in &review.history {
        outln!(
            "  #{} by {}: {:?} ({})",
            entry.seq,
            entry.coach_id,
            entry.change,
            entry.comment
        );
    }
    Ok(())
}
