//! Monthly review of a rep against top sellers, per scenario: response
//! latency, key-phrase coverage and density, the trend over the month, and
//! readable lines in English and Mandarin.
//!
//! [`build_review`] works on [`ResponseObservation`]s that scoring produces
//! for each answer; [`emotion`] adds the customer emotion curve of a call and
//! [`html`] renders a PDF-ready page.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub mod emotion;
pub mod html;
mod lexicon;
mod lines;
pub mod observe;

pub use lexicon::{lexical_score, sentiment_hits, SentimentHit};

use crate::heatmap::Window;
use crate::knowledge::Scenario;

/// Errors of review building.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An observation has impossible values.
    #[error("invalid observation of rep {rep_id:?} in scenario {scenario_id:?}: {reason}")]
    InvalidObservation {
        /// Rep of the observation.
        rep_id: String,
        /// Scenario of the observation.
        scenario_id: String,
        /// Description of the problem.
        reason: String,
    },
    /// The year and month do not form a valid month.
    #[error("invalid month {year}-{month}: expected a year and a month from 1 to 12")]
    InvalidMonth {
        /// Requested year.
        year: i32,
        /// Requested month number.
        month: u8,
    },
    /// The audio of an emotion curve is unusable.
    #[error("invalid customer audio: {0}")]
    InvalidAudio(String),
    /// A customer turn lies outside the audio or has no length.
    #[error("invalid customer turn {start_ms}-{end_ms} ms in audio of {duration_ms} ms")]
    InvalidTurn {
        /// Turn start.
        start_ms: u64,
        /// Turn end.
        end_ms: u64,
        /// Audio length.
        duration_ms: u64,
    },
}

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One answer of a rep to a scenario moment, as scoring measured it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseObservation {
    /// Rep who answered.
    pub rep_id: String,
    /// Scenario of the customer line.
    pub scenario_id: String,
    /// Call or drill the answer came from.
    #[serde(default)]
    pub call_id: Option<String>,
    /// When the answer was given.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Time from the end of the customer line to the answer, in milliseconds.
    pub latency_ms: u32,
    /// Key phrases of the scenario found in the answer.
    pub phrases_matched: u32,
    /// Key phrases the best-matching strategy expects.
    pub phrases_expected: u32,
    /// Length of the answer, in milliseconds.
    pub answer_ms: u64,
}

/// A calendar month in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Month {
    /// Year.
    pub year: i32,
    /// Month number, 1 to 12.
    pub month: u8,
}

impl Month {
    /// Returns the half-open window from the first instant of the month to
    /// the first instant of the next.
    pub fn window(&self) -> Result<Window> {
        let invalid = || Error::InvalidMonth {
            year: self.year,
            month: self.month,
        };
        let month = time::Month::try_from(self.month).map_err(|_| invalid())?;
        let start = time::Date::from_calendar_date(self.year, month, 1).map_err(|_| invalid())?;
        let (next_year, next_month) = if month == time::Month::December {
            (self.year + 1, time::Month::January)
        } else {
            (self.year, month.next())
        };
        let end =
            time::Date::from_calendar_date(next_year, next_month, 1).map_err(|_| invalid())?;
        Ok(Window {
            start: start.midnight().assume_utc(),
            end: end.midnight().assume_utc(),
        })
    }
}

/// Latency, coverage and density over a set of answers.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ResponseStats {
    /// Answers counted.
    pub responses: usize,
    /// Mean response latency, in seconds.
    pub mean_latency_s: Option<f64>,
    /// Matched over expected key phrases, 0 to 1.
    pub coverage: Option<f64>,
    /// Matched key phrases per minute of answer.
    pub phrases_per_minute: Option<f64>,
}

/// Change between the first and second half of the month, and the least
/// squares slope per week over all answers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// Answers before the middle of the month.
    pub first_half: ResponseStats,
    /// Answers from the middle of the month on.
    pub second_half: ResponseStats,
    /// Latency slope, in seconds per week.
    pub latency_s_per_week: Option<f64>,
    /// Coverage slope, in coverage points (0 to 1) per week.
    pub coverage_per_week: Option<f64>,
}

/// The review of one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioReview {
    /// Scenario id.
    pub scenario_id: String,
    /// English title.
    pub title_en: String,
    /// Mandarin title.
    pub title_zh: String,
    /// The rep's answers.
    pub rep: ResponseStats,
    /// Top sellers' answers in the same month.
    pub top_sellers: ResponseStats,
    /// The rep's trend over the month.
    pub trend: Trend,
    /// Readable English lines.
    pub lines_en: Vec<String>,
    /// Readable Mandarin lines.
    pub lines_zh: Vec<String>,
}

/// A rep's monthly review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthlyReview {
    /// Rep id.
    pub rep_id: String,
    /// Display name.
    pub rep_name: String,
    /// Month reviewed.
    pub month: Month,
    /// Its window.
    pub window: Window,
    /// Scenarios the rep answered, ordered by id.
    pub scenarios: Vec<ScenarioReview>,
    /// Customer emotion over each analysed call of the month, oldest first.
    pub emotions: Vec<CallEmotion>,
}

/// The customer emotion curve of one analysed call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallEmotion {
    /// Call id.
    pub call_id: String,
    /// When the call took place.
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// Whether the customer's turns were estimated from pauses (mono).
    pub turns_estimated: bool,
    /// The curve.
    pub curve: emotion::EmotionCurve,
}

/// Builds the review of `rep_id` for `month` against the answers of
/// `top_sellers` in the same scenarios and month.
///
/// # Errors
///
/// [`Error::InvalidMonth`], and [`Error::InvalidObservation`] for an answer
/// with more matched than expected phrases.
pub fn build_review(
    rep_id: &str,
    rep_name: &str,
    month: Month,
    observations: &[ResponseObservation],
    top_sellers: &BTreeSet<String>,
    scenarios: &[Scenario],
) -> Result<MonthlyReview> {
    let window = month.window()?;
    observations.iter().try_for_each(validate)?;
    let in_month: Vec<&ResponseObservation> = observations
        .iter()
        .filter(|o| window.contains(o.at))
        .collect();
    let mut by_scenario: BTreeMap<&str, (Vec<&ResponseObservation>, Vec<&ResponseObservation>)> =
        BTreeMap::new();
    for obs in &in_month {
        if obs.rep_id == rep_id {
            by_scenario
                .entry(obs.scenario_id.as_str())
                .or_default()
                .0
                .push(obs);
        }
    }
    for obs in &in_month {
        if top_sellers.contains(&obs.rep_id) && obs.rep_id != rep_id {
            if let Some(entry) = by_scenario.get_mut(obs.scenario_id.as_str()) {
                entry.1.push(obs);
            }
        }
    }
    let reviews = by_scenario
        .into_iter()
        .map(|(id, (own, top))| scenario_review(id, &own, &top, &window, scenarios))
        .collect();
    Ok(MonthlyReview {
        rep_id: rep_id.to_string(),
        rep_name: rep_name.to_string(),
        month,
        window,
        scenarios: reviews,
        emotions: Vec::new(),
    })
}

fn validate(obs: &ResponseObservation) -> Result<()> {
    if obs.phrases_matched <= obs.phrases_expected {
        return Ok(());
    }
    Err(Error::InvalidObservation {
        rep_id: obs.rep_id.clone(),
        scenario_id: obs.scenario_id.clone(),
        reason: format!(
            "{} phrases matched but only {} expected",
            obs.phrases_matched, obs.phrases_expected
        ),
    })
}

fn scenario_review(
    scenario_id: &str,
    own: &[&ResponseObservation],
    top: &[&ResponseObservation],
    window: &Window,
    scenarios: &[Scenario],
) -> ScenarioReview {
    let (title_en, title_zh) = match scenarios.iter().find(|s| s.id == scenario_id) {
        Some(s) => (s.title_en.clone(), s.title_zh.clone()),
        None => (scenario_id.replace('_', " "), scenario_id.replace('_', " ")),
    };
    let middle = window.start + (window.end - window.start) / 2;
    let (first, second): (Vec<&ResponseObservation>, Vec<&ResponseObservation>) =
        own.iter().partition(|o| o.at < middle);
    let weeks = |o: &ResponseObservation| (o.at - window.start).as_seconds_f64() / (7.0 * 86_400.0);
    let trend = Trend {
        first_half: stats(&first),
        second_half: stats(&second),
        latency_s_per_week: slope(
            own.iter()
                .map(|o| (weeks(o), f64::from(o.latency_ms) / 1000.0)),
        ),
        coverage_per_week: slope(
            own.iter()
                .filter_map(|o| coverage_of(o).map(|c| (weeks(o), c))),
        ),
    };
    let mut review = ScenarioReview {
        scenario_id: scenario_id.to_string(),
        title_en,
        title_zh,
        rep: stats(own),
        top_sellers: stats(top),
        trend,
        lines_en: Vec::new(),
        lines_zh: Vec::new(),
    };
    review.lines_en = lines::english(&review);
    review.lines_zh = lines::mandarin(&review);
    review
}

fn coverage_of(obs: &ResponseObservation) -> Option<f64> {
    (obs.phrases_expected > 0)
        .then(|| f64::from(obs.phrases_matched) / f64::from(obs.phrases_expected))
}

/// Returns the statistics of a set of answers.
pub fn stats(observations: &[&ResponseObservation]) -> ResponseStats {
    let n = observations.len();
    if n == 0 {
        return ResponseStats::default();
    }
    let latency_sum: f64 = observations.iter().map(|o| f64::from(o.latency_ms)).sum();
    let matched: u64 = observations
        .iter()
        .map(|o| u64::from(o.phrases_matched))
        .sum();
    let expected: u64 = observations
        .iter()
        .map(|o| u64::from(o.phrases_expected))
        .sum();
    let answer_ms: u64 = observations.iter().map(|o| o.answer_ms).sum();
    ResponseStats {
        responses: n,
        mean_latency_s: Some(latency_sum / n as f64 / 1000.0),
        coverage: (expected > 0).then(|| matched as f64 / expected as f64),
        phrases_per_minute: (answer_ms > 0).then(|| matched as f64 / (answer_ms as f64 / 60_000.0)),
    }
}

/// Returns the least squares slope of `(x, y)` points, or `None` with fewer
/// than two distinct x values.
fn slope(points: impl Iterator<Item = (f64, f64)>) -> Option<f64> {
    let points: Vec<(f64, f64)> = points.collect();
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    (points.len() >= 2 && sxx > 1e-12).then(|| sxy / sxx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn observation(
        rep: &str,
        at: OffsetDateTime,
        latency_ms: u32,
        matched: u32,
    ) -> ResponseObservation {
        ResponseObservation {
            rep_id: rep.into(),
            scenario_id: "price_objection".into(),
            call_id: None,
            at,
            latency_ms,
            phrases_matched: matched,
            phrases_expected: 4,
            answer_ms: 30_000,
        }
    }

    /// Builds March answers: slow with few phrases early in the month, faster
    /// with more phrases late, and one top-seller answer in 1.8 s.
    fn march() -> Vec<ResponseObservation> {
        vec![
            observation("rep", datetime!(2025-03-03 10:00 UTC), 5000, 1),
            observation("rep", datetime!(2025-03-05 10:00 UTC), 5400, 1),
            observation("rep", datetime!(2025-03-24 10:00 UTC), 3600, 3),
            observation("rep", datetime!(2025-03-26 10:00 UTC), 2800, 3),
            observation("top", datetime!(2025-03-10 10:00 UTC), 1800, 4),
            observation("rep", datetime!(2025-04-01 00:00 UTC), 9000, 0),
        ]
    }

    fn review() -> MonthlyReview {
        let top: BTreeSet<String> = ["top".to_string()].into();
        build_review(
            "rep",
            "王小明",
            Month {
                year: 2025,
                month: 3,
            },
            &march(),
            &top,
            &[],
        )
        .expect("valid input")
    }

    #[test]
    fn stats_compare_with_top_sellers() {
        let review = review();
        let scenario = &review.scenarios[0];

        assert_eq!(scenario.rep.responses, 4, "April answer excluded");
        assert!((scenario.rep.mean_latency_s.expect("latency") - 4.2).abs() < 1e-9);
        assert!((scenario.top_sellers.mean_latency_s.expect("latency") - 1.8).abs() < 1e-9);
        assert!((scenario.rep.coverage.expect("coverage") - 0.5).abs() < 1e-9);
        assert!((scenario.rep.phrases_per_minute.expect("density") - 4.0).abs() < 1e-9);
    }

    #[test]
    fn trend_halves_and_slope() {
        let trend = review().scenarios[0].trend;

        assert!((trend.first_half.mean_latency_s.expect("latency") - 5.2).abs() < 1e-9);
        assert!((trend.second_half.mean_latency_s.expect("latency") - 3.2).abs() < 1e-9);
        assert!(trend.latency_s_per_week.expect("slope") < 0.0);
        assert!(trend.coverage_per_week.expect("slope") > 0.0);
    }

    #[test]
    fn lines_in_both_languages() {
        let scenario = &review().scenarios[0];

        assert_eq!(
            scenario.lines_en[0],
            "price objection: your latency 4.2 s, top sellers 1.8 s"
        );
        assert!(scenario
            .lines_en
            .iter()
            .any(|l| l.contains("latency fell from 5.2 s to 3.2 s")));
        assert!(scenario
            .lines_en
            .iter()
            .any(|l| l.contains("coverage rose from 25% to 75%")));
        assert!(scenario.lines_zh[0].contains("你的响应延迟 4.2 秒，顶尖销售 1.8 秒"));
        assert!(scenario
            .lines_zh
            .iter()
            .any(|l| l.contains("从上半月的 5.2 秒缩短到下半月的 3.2 秒")));
    }

    #[test]
    fn matched_above_expected_is_rejected() {
        let mut bad = march();
        bad[0].phrases_matched = 9;

        let err = build_review(
            "rep",
            "x",
            Month {
                year: 2025,
                month: 3,
            },
            &bad,
            &BTreeSet::new(),
            &[],
        )
        .unwrap_err();

        assert!(err.to_string().contains("9 phrases matched"), "{err}");
    }

    #[test]
    fn invalid_month_is_rejected() {
        assert!(Month {
            year: 2025,
            month: 13
        }
        .window()
        .is_err());
        assert_eq!(
            Month {
                year: 2025,
                month: 12
            }
            .window()
            .expect("valid")
            .end,
            datetime!(2026-01-01 00:00 UTC)
        );
    }
}
