//! The overall drill score, 0 to 100, from coverage, latency and delivery.
//!
//! `overall = 100 * (0.6 * coverage + 0.2 * latency + 0.2 * delivery)`,
//! where each part is 0 to 1: coverage is the best strategy's coverage after
//! the stuffing factor, latency is [`super::latency::latency_score`] and
//! delivery is [`super::delivery::delivery_score`]. The result is rounded to
//! one decimal, so equal inputs always give equal scores.

use serde::{Deserialize, Serialize};

/// Weight of the best strategy's adjusted coverage.
pub const COVERAGE_WEIGHT: f64 = 0.6;
/// Weight of the latency score.
pub const LATENCY_WEIGHT: f64 = 0.2;
/// Weight of the delivery score.
pub const DELIVERY_WEIGHT: f64 = 0.2;

/// The overall score with the parts it was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Overall {
    /// Overall score, 0 to 100, one decimal.
    pub score: f64,
    /// Adjusted coverage of the best strategy, 0 to 1.
    pub coverage: f64,
    /// Latency score, 0 to 1.
    pub latency: f64,
    /// Delivery score, 0 to 1.
    pub delivery: f64,
}

/// Combines the three parts (each clamped to 0..=1, non-finite as 0).
pub fn overall_score(coverage: f64, latency: f64, delivery: f64) -> Overall {
    let (coverage, latency, delivery) = (unit(coverage), unit(latency), unit(delivery));
    let weighted =
        COVERAGE_WEIGHT * coverage + LATENCY_WEIGHT * latency + DELIVERY_WEIGHT * delivery;
    let score = ((weighted * 1000.0).round() / 10.0).clamp(0.0, 100.0);
    Overall {
        score,
        coverage,
        latency,
        delivery,
    }
}

fn unit(value: f64) -> f64 {
    if value.is_finite() {
        value.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn near(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn perfect_parts_score_hundred() {
        assert!(near(overall_score(1.0, 1.0, 1.0).score, 100.0));
    }

    #[test]
    fn weights_follow_formula() {
        assert!(near(overall_score(0.5, 1.0, 0.0).score, 50.0));
    }

    #[test]
    fn out_of_range_parts_are_clamped() {
        assert!(near(overall_score(7.0, -1.0, f64::NAN).score, 60.0));
    }

    #[test]
    fn weights_sum_to_one() {
        assert!(near(
            COVERAGE_WEIGHT + LATENCY_WEIGHT + DELIVERY_WEIGHT,
            1.0
        ));
    }
}
