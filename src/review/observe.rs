//! Builds [`ResponseObservation`]s from stored results: one per scored
//! drill attempt, and one per scored exchange of an analysed call; and
//! collects the customer emotion curves of analysed calls.
//!
//! Drill results are stored as [`DrillScore`] JSON and call results as
//! [`CallAnalysis`] JSON. A result that no longer parses as those types
//! (written by an older version, or a placeholder) is skipped with a debug
//! log, so one odd row never blocks a rep's review.

use time::{Duration, OffsetDateTime};

use super::{CallEmotion, ResponseObservation};
use crate::call::CallAnalysis;
use crate::heatmap::Window;
use crate::scoring::DrillScore;
use crate::store::{self, Store, UserId};

/// Returns the observation of one scored drill answer, or `None` when the
/// answer has no speech, so no latency.
pub fn from_drill_score(
    rep_id: &str,
    attempt_id: &str,
    at: OffsetDateTime,
    score: &DrillScore,
) -> Option<ResponseObservation> {
    let latency_ms = score.latency.latency_ms?;
    let (phrases_matched, phrases_expected) = phrase_counts(score);
    Some(ResponseObservation {
        rep_id: rep_id.to_string(),
        scenario_id: score.scenario_id.clone(),
        call_id: Some(attempt_id.to_string()),
        at,
        latency_ms: clamp_latency(latency_ms),
        phrases_matched,
        phrases_expected,
        answer_ms: score.delivery.duration_ms,
    })
}

/// Returns one observation per exchange of a call whose answer was scored.
///
/// The latency is the call latency of the exchange (rep turn start minus
/// customer turn end), and the time is the call's start plus the start of
/// the rep's turn.
pub fn from_call_analysis(
    rep_id: &str,
    call_id: &str,
    occurred_at: OffsetDateTime,
    analysis: &CallAnalysis,
) -> Vec<ResponseObservation> {
    let mut observations = Vec::new();
    for exchange in &analysis.exchanges {
        let Some(score) = &exchange.score else {
            continue;
        };
        let latency_ms = exchange
            .response
            .as_ref()
            .map(|r| r.latency_ms)
            .or(score.latency.latency_ms);
        let Some(latency_ms) = latency_ms else {
            continue;
        };
        let offset_ms = exchange
            .rep_turn
            .and_then(|index| analysis.turns.get(index))
            .map_or(0, |turn| turn.start_ms);
        let (phrases_matched, phrases_expected) = phrase_counts(score);
        observations.push(ResponseObservation {
            rep_id: rep_id.to_string(),
            scenario_id: score.scenario_id.clone(),
            call_id: Some(call_id.to_string()),
            at: occurred_at + Duration::milliseconds(i64::try_from(offset_ms).unwrap_or(0)),
            latency_ms: clamp_latency(latency_ms),
            phrases_matched,
            phrases_expected,
            answer_ms: score.delivery.duration_ms,
        });
    }
    observations
}

/// Loads the observations of `rep` from drill attempts submitted and calls
/// that took place inside `window`.
pub async fn rep_observations(
    store: &Store,
    rep: &UserId,
    window: &Window,
) -> store::Result<Vec<ResponseObservation>> {
    let mut observations = Vec::new();
    let attempts = store
        .rep_drill_attempts(rep, window.start, window.end)
        .await?;
    for attempt in attempts {
        let Some(result) = attempt.result else {
            continue;
        };
        match serde_json::from_value::<DrillScore>(result) {
            Ok(score) => observations.extend(from_drill_score(
                rep.as_str(),
                attempt.id.as_str(),
                attempt.created_at,
                &score,
            )),
            Err(err) => tracing::debug!(attempt = %attempt.id, error = %err,
                "drill result skipped: not a drill score"),
        }
    }

    let calls = store.rep_calls(rep, window.start, window.end).await?;
    for call in calls {
        let Some(analysis) = call.analysis else {
            continue;
        };
        match serde_json::from_value::<CallAnalysis>(analysis) {
            Ok(analysis) => observations.extend(from_call_analysis(
                rep.as_str(),
                call.id.as_str(),
                call.occurred_at,
                &analysis,
            )),
            Err(err) => tracing::debug!(call = %call.id, error = %err,
                "call result skipped: not a call analysis"),
        }
    }
    Ok(observations)
}

/// Loads the customer emotion curves of `rep`'s analysed calls that took
/// place inside `window`, oldest first. Calls analysed before curves were
/// computed have none and are left out.
pub async fn rep_call_emotions(
    store: &Store,
    rep: &UserId,
    window: &Window,
) -> store::Result<Vec<CallEmotion>> {
    let mut emotions = Vec::new();
    for call in store.rep_calls(rep, window.start, window.end).await? {
        let Some(analysis) = call.analysis else {
            continue;
        };
        match serde_json::from_value::<CallAnalysis>(analysis) {
            Ok(analysis) => {
                if let Some(curve) = analysis.customer_emotion {
                    emotions.push(CallEmotion {
                        call_id: call.id.to_string(),
                        occurred_at: call.occurred_at,
                        turns_estimated: analysis.turns_estimated,
                        curve,
                    });
                }
            }
            Err(err) => tracing::debug!(call = %call.id, error = %err,
                "call result skipped: not a call analysis"),
        }
    }
    emotions.sort_by_key(|e| e.occurred_at);
    Ok(emotions)
}

/// Returns the matched and expected key phrases of the best strategy.
fn phrase_counts(score: &DrillScore) -> (u32, u32) {
    let Some(best) = score.coverage.best() else {
        return (0, 0);
    };
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let matched = best.phrases.iter().filter(|p| p.matched).count();
    (count(matched), count(best.phrases.len()))
}

/// Clamps a signed latency to the observation's range: an answer that
/// starts before the customer's line ends counts as 0 ms.
fn clamp_latency(latency_ms: i64) -> u32 {
    u32::try_from(latency_ms.max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_latency_clamps_to_zero() {
        assert_eq!(clamp_latency(-350), 0);
        assert_eq!(clamp_latency(1200), 1200);
        assert_eq!(clamp_latency(i64::MAX), u32::MAX);
    }
}
