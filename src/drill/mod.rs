//! Daily drills: the scenario of the day, the prompt shown to the rep, and
//! the scoring and storage of the recorded answer.
//!
//! [`draw_scenario`] is the pure, seeded draw; [`today`] runs it against the
//! store (recent scores, open training tasks, draw history) and records the
//! draw, so the drill stays the same all day. [`AnswerSession`] turns the
//! answer's audio into a [`crate::scoring::DrillScore`], and
//! [`store_attempt`] saves it with its heatmap score samples.

mod answer;
mod draw;
mod prompt;

use std::collections::BTreeMap;
use std::path::PathBuf;

use time::{Date, Duration};

use crate::knowledge::{Corpus, Scenario};
use crate::language::Language;
use crate::scoring::DrillScore;
use crate::store::drills::{DrillAttempt, NewDrillAttempt};
use crate::store::scores::{NewScoreSample, SampleFilter};
use crate::store::training::TaskStatus;
use crate::store::{Score, Store, UserId};

pub use answer::{score_samples, AnswerOptions, AnswerSession, ScoredAnswer, PUSH_PIECE_MS};
pub use draw::{
    draw_scenario, Candidate, Draw, DrawInput, BASE_WEIGHT, TASK_DIMENSION_WEIGHT,
    TASK_SCENARIO_WEIGHT, WEAK_DIMENSION_WEIGHT,
};
pub use prompt::{build_prompt, CustomerAudio, DrillPrompt, ANSWER_LIMIT_MS};

/// Days of score samples that count as recent for the draw.
pub const RECENT_SCORE_DAYS: i64 = 30;
/// Days of draw history that the no-repeat rule reads.
pub const HISTORY_DAYS: i64 = 730;

/// Errors of drills.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario id is not in the corpus.
    #[error("unknown scenario {id:?}: expected one of {valid}")]
    UnknownScenario {
        /// The requested id.
        id: String,
        /// Every scenario id of the corpus, comma-separated.
        valid: String,
    },
    /// The corpus has no scenarios to draw from.
    #[error("the corpus has no scenarios to draw from")]
    EmptyCorpus,
    /// Drills are drawn for reps only.
    #[error("user {user} is a {role}, not a rep: drills are drawn for reps only")]
    NotARep {
        /// The user id.
        user: UserId,
        /// The user's role.
        role: crate::store::users::Role,
    },
    /// The answer needs a multilingual model, but an English-only one is loaded.
    #[error(
        "the answer is in {language} but model {model} is English-only: \
         install the multilingual model with `callcoach model install base` \
         and pass --model models/ggml-base.bin"
    )]
    NeedsMultilingualModel {
        /// The loaded model.
        model: PathBuf,
        /// Language of the answer.
        language: String,
    },
    /// Transcription failed.
    #[error(transparent)]
    Transcribe(#[from] crate::transcribe::Error),
    /// Scoring rejected the scenario or the options.
    #[error(transparent)]
    Scoring(#[from] crate::scoring::Error),
    /// The store failed or rejected a value.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
}

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Returns the scenario with `id`, or an error that lists the valid ids.
pub fn find_scenario<'a>(corpus: &'a Corpus, id: &str) -> Result<&'a Scenario> {
    corpus.scenario(id).ok_or_else(|| Error::UnknownScenario {
        id: id.to_string(),
        valid: corpus
            .scenarios()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Returns the rep's drill for `date`, drawing and recording it on the
/// first call of the day.
///
/// # Errors
///
/// [`Error::EmptyCorpus`], and store errors such as an unknown rep.
#[tracing::instrument(skip_all, fields(rep = %rep, date = %date))]
pub async fn today(
    store: &Store,
    corpus: &Corpus,
    rep: &UserId,
    date: Date,
    language: Language,
) -> Result<DrillPrompt> {
    let user = store.user(rep).await?;
    if user.role != crate::store::users::Role::Rep {
        return Err(Error::NotARep {
            user: user.id,
            role: user.role,
        });
    }
    let scenarios: Vec<&Scenario> = corpus.scenarios().collect();
    let history = store
        .draw_history(rep, date - Duration::days(HISTORY_DAYS), date)
        .await?;
    let scores = dimension_means(store, rep, date).await?;
    let tasks = store.training_tasks(rep, Some(TaskStatus::Open)).await?;
    let input = DrawInput {
        rep_id: rep.as_str(),
        date,
        scenarios: &scenarios,
        dimension_scores: &scores,
        open_tasks: &tasks,
        history: &history,
    };
    let draw = draw_scenario(&input).ok_or(Error::EmptyCorpus)?;

    let recorded = history.iter().find(|d| d.date == date);
    let scenario_id = match recorded.and_then(|d| d.scenario_ids.first()) {
        Some(id) => id.clone(),
        None => {
            store
                .record_draw(rep, date, std::slice::from_ref(&draw.chosen.scenario_id))
                .await?;
            tracing::info!(scenario = %draw.chosen.scenario_id, "daily drill drawn");
            draw.chosen.scenario_id.clone()
        }
    };
    let scenario = find_scenario(corpus, &scenario_id)?;
    Ok(build_prompt(
        rep.as_str(),
        date,
        scenario,
        language,
        draw,
        &corpus.dir,
    ))
}

/// Returns the rep's mean score per dimension over the
/// [`RECENT_SCORE_DAYS`] before the end of `date`.
pub async fn dimension_means(
    store: &Store,
    rep: &UserId,
    date: Date,
) -> Result<BTreeMap<String, f64>> {
    let end = date.next_day().unwrap_or(date).midnight().assume_utc();
    let filter = SampleFilter {
        rep_id: Some(rep.clone()),
        team_id: None,
        from: end - Duration::days(RECENT_SCORE_DAYS),
        to: end,
    };
    let mut sums: BTreeMap<String, (f64, u32)> = BTreeMap::new();
    for sample in store.score_samples(&filter).await? {
        let entry = sums.entry(sample.dimension).or_default();
        entry.0 += sample.score.value();
        entry.1 += 1;
    }
    Ok(sums
        .into_iter()
        .map(|(dimension, (sum, count))| (dimension, sum / f64::from(count)))
        .collect())
}

/// Stores a scored attempt with one score sample per scenario dimension.
///
/// `audio` is the recording with its file extension; it is stored in the
/// content-addressed audio area.
///
/// # Errors
///
/// Store errors, such as an unknown rep.
pub async fn store_attempt(
    store: &Store,
    rep: &UserId,
    date: Date,
    scenario: &Scenario,
    score: &DrillScore,
    audio: Option<(Vec<u8>, Option<&str>)>,
) -> Result<DrillAttempt> {
    store.user(rep).await?;
    let audio_sha256 = match audio {
        Some((bytes, extension)) => Some(store.put_audio(bytes, extension).await?.sha256),
        None => None,
    };
    let new = NewDrillAttempt {
        rep_id: rep.clone(),
        scenario_id: scenario.id.clone(),
        drill_date: date,
        language: score.language,
        audio_sha256,
    };
    let attempt = store.create_drill_attempt(&new).await?;
    let overall = Score::new(score.overall.score)?;
    let samples = score_samples_of(scenario, overall);
    let result = serde_json::to_value(score).map_err(|err| {
        crate::store::Error::invalid("drill result", format!("cannot serialise: {err}"))
    })?;

    let stored = store
        .record_drill_result(&attempt.id, &result, overall, &samples)
        .await?;
    tracing::info!(attempt = %stored.id, overall = overall.value(), "drill attempt stored");
    Ok(stored)
}

/// Returns one heatmap sample per dimension of `scenario`, all at `score`.
pub fn score_samples_of(scenario: &Scenario, score: Score) -> Vec<NewScoreSample> {
    scenario
        .dimensions
        .iter()
        .map(|d| NewScoreSample {
            scenario_id: scenario.id.clone(),
            dimension: d.id().to_string(),
            score,
        })
        .collect()
}
