//! Score samples, the reps they belong to, the time window and the
//! weighted mean that heatmaps, training tasks and unlock rules share.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::{Error, Result};

/// Origin of a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A practice drill against a scenario.
    Drill,
    /// A real customer call.
    Call,
}

/// One scored answer of a rep, from a drill attempt or a real call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreSample {
    /// Rep who answered.
    pub rep_id: String,
    /// Scenario that the answer belonged to.
    pub scenario_id: String,
    /// Dimension ids that the score counts for (usually the scenario's).
    pub dimensions: Vec<String>,
    /// Drill or call.
    pub source: Source,
    /// Score from 0 to 100.
    pub score: f64,
    /// When the answer was given.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Call the answer came from, for call samples.
    #[serde(default)]
    pub call_id: Option<String>,
    /// Drill attempt the answer came from, for drill samples.
    #[serde(default)]
    pub attempt_id: Option<String>,
}

impl ScoreSample {
    /// Checks that the score is a finite number from 0 to 100.
    pub fn validate(&self) -> Result<()> {
        if self.score.is_finite() && (0.0..=100.0).contains(&self.score) {
            return Ok(());
        }
        Err(Error::InvalidScore {
            rep_id: self.rep_id.clone(),
            scenario_id: self.scenario_id.clone(),
            score: self.score,
        })
    }

    /// Returns whether the sample counts for `dimension`.
    pub fn has_dimension(&self, dimension: &str) -> bool {
        self.dimensions.iter().any(|d| d == dimension)
    }
}

/// A sales rep: one heatmap row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rep {
    /// Stable id that samples refer to.
    pub id: String,
    /// Display name, in any script.
    pub name: String,
    /// Team the rep belongs to.
    pub team: String,
    /// Whether the rep is a top seller whose scores form the baseline.
    #[serde(default)]
    pub top_seller: bool,
}

/// The half-open time range `[start, end)` that samples must fall into.
///
/// A sample at exactly `start` counts and a sample at exactly `end` does not,
/// so consecutive windows never count a sample twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// First instant inside the window.
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    /// First instant after the window.
    #[serde(with = "time::serde::rfc3339")]
    pub end: OffsetDateTime,
}

impl Window {
    /// Builds the window of `days` days that ends at `end`.
    pub fn ending_at(end: OffsetDateTime, days: u32) -> Window {
        Window {
            start: end - Duration::days(i64::from(days)),
            end,
        }
    }

    /// Returns whether `at` lies in `[start, end)`.
    pub fn contains(&self, at: OffsetDateTime) -> bool {
        self.start <= at && at < self.end
    }
}

/// Weights of drill and call samples in a rep's mean score.
///
/// Calls weigh twice as much as drills by default, because a real call shows
/// what the rep does under pressure while a drill can be repeated until it
/// goes well. Sample counts are never weighted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SampleWeights {
    /// Weight of one drill sample.
    pub drill: f64,
    /// Weight of one call sample.
    pub call: f64,
}

impl Default for SampleWeights {
    fn default() -> Self {
        SampleWeights {
            drill: 1.0,
            call: 2.0,
        }
    }
}

impl SampleWeights {
    /// Returns the weight of a sample from `source`.
    pub fn of(&self, source: Source) -> f64 {
        match source {
            Source::Drill => self.drill,
            Source::Call => self.call,
        }
    }

    /// Checks that both weights are finite and positive.
    pub fn validate(&self) -> Result<()> {
        let valid = |w: f64| w.is_finite() && w > 0.0;
        if valid(self.drill) && valid(self.call) {
            return Ok(());
        }
        Err(Error::InvalidConfig(format!(
            "sample weights must be positive numbers, got drill {} and call {}",
            self.drill, self.call
        )))
    }
}

/// Running weighted mean of scores with an unweighted sample count.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MeanAccumulator {
    weighted_sum: f64,
    weight: f64,
    /// Number of samples added.
    pub samples: usize,
}

impl MeanAccumulator {
    /// Adds one score with its weight.
    pub fn add(&mut self, score: f64, weight: f64) {
        self.weighted_sum += score * weight;
        self.weight += weight;
        self.samples += 1;
    }

    /// Returns the weighted mean, or `None` when nothing was added.
    pub fn mean(&self) -> Option<f64> {
        (self.samples > 0 && self.weight > 0.0).then(|| self.weighted_sum / self.weight)
    }
}

/// Returns the weighted mean score of one rep in one dimension over a window.
///
/// Samples outside the window, of other reps or without the dimension are
/// skipped; `filter` can narrow further (for example to calls only).
pub fn mean_score(
    samples: &[ScoreSample],
    rep_id: &str,
    dimension: &str,
    window: &Window,
    weights: &SampleWeights,
    filter: impl Fn(&ScoreSample) -> bool,
) -> MeanAccumulator {
    let mut acc = MeanAccumulator::default();
    let matching = samples.iter().filter(|s| {
        s.rep_id == rep_id && window.contains(s.at) && s.has_dimension(dimension) && filter(s)
    });
    for sample in matching {
        acc.add(sample.score, weights.of(sample.source));
    }
    acc
}

/// Returns the median of `values`, or `None` when empty; sorts in place.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        Some(values[mid])
    } else {
        Some((values[mid - 1] + values[mid]) / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn window_includes_start_excludes_end() {
        let end = datetime!(2025-03-31 00:00 UTC);
        let window = Window::ending_at(end, 30);

        assert!(window.contains(datetime!(2025-03-01 00:00 UTC)));
        assert!(!window.contains(end));
        assert!(!window.contains(datetime!(2025-02-28 23:59:59 UTC)));
    }

    #[test]
    fn median_of_even_count() {
        let mut values = [4.0, 1.0, 3.0, 2.0];

        let m = median(&mut values).expect("non-empty");

        assert!((m - 2.5).abs() < 1e-9);
    }

    #[test]
    fn calls_weigh_double_by_default() {
        let weights = SampleWeights::default();
        let mut acc = MeanAccumulator::default();

        acc.add(90.0, weights.of(Source::Call));
        acc.add(60.0, weights.of(Source::Drill));

        assert!((acc.mean().expect("two samples") - 80.0).abs() < 1e-9);
        assert_eq!(acc.samples, 2);
    }

    #[test]
    fn score_out_of_range_is_rejected() {
        let sample = ScoreSample {
            rep_id: "r1".into(),
            scenario_id: "price_objection".into(),
            dimensions: vec!["closing".into()],
            source: Source::Drill,
            score: 101.0,
            at: datetime!(2025-03-01 00:00 UTC),
            call_id: None,
            attempt_id: None,
        };

        let err = sample.validate().unwrap_err();

        assert!(err.to_string().contains("101"), "{err}");
    }
}
