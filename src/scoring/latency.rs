//! Response latency: the time from the end of the customer's line to the
//! first speech of the answer, compared with the scenario's band.
//!
//! Drill latency and call latency are kept apart by [`LatencyKind`]. A drill
//! answer starts after the seller presses a button, so its latency includes
//! that reaction. A call latency is the conversational gap between
//! speakers, and may be negative when the seller talks over the customer.

use serde::{Deserialize, Serialize};

use super::{Error, Result};
use crate::audio::vad::SpeechRegion;
use crate::knowledge::LatencyBand;

/// Setting in which a latency is measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatencyKind {
    /// A recorded drill answer, started by a button press after the prompt.
    #[default]
    Drill,
    /// A turn in a real call, measured between the two speakers.
    Call,
}

/// A latency compared with its band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatencyClass {
    /// Below the band's minimum: the answer cuts the customer off.
    TooFast,
    /// Inside the band.
    InBand,
    /// Above the band's maximum: the answer stalls.
    TooSlow,
}

/// Source of the answer's onset time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnsetSource {
    /// Voice activity detection on the audio.
    Vad,
    /// The first word timing of the transcript, used without VAD regions.
    Transcript,
}

/// The response latency of one answer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Drill or call latency.
    pub kind: LatencyKind,
    /// End of the customer's line, in milliseconds on the answer's clock.
    pub prompt_end_ms: u64,
    /// First speech of the answer, in milliseconds; `None` without speech.
    pub onset_ms: Option<u64>,
    /// Source of `onset_ms`.
    pub onset_source: Option<OnsetSource>,
    /// `onset_ms - prompt_end_ms`, negative when speech starts before the
    /// prompt ends.
    pub latency_ms: Option<i64>,
    /// Comparison with the band; `None` without speech.
    pub class: Option<LatencyClass>,
    /// The scenario's band, with the top-seller value.
    pub band: LatencyBand,
    /// Distance from the nearest band edge, 0 inside the band.
    pub distance_ms: u64,
    /// Latency score, 0 to 1 (see [`latency_score`]).
    pub score: f64,
}

/// Measures the latency of an answer from its VAD regions, or from the
/// first word start `word_onset_ms` when there are no regions.
///
/// Regions that end at or before `prompt_end_ms` are earlier speech, not
/// the answer, and are skipped.
///
/// # Errors
///
/// [`Error::InvalidLatencyBand`] when the band's edges are out of order, and
/// [`Error::InvalidSpeechRegion`] for a region that ends before it starts.
pub fn measure_latency(
    band: &LatencyBand,
    speech: &[SpeechRegion],
    word_onset_ms: Option<u64>,
    prompt_end_ms: u64,
    kind: LatencyKind,
) -> Result<Latency> {
    validate_band(band)?;
    if let Some(bad) = speech.iter().find(|r| r.end_ms < r.start_ms) {
        return Err(Error::InvalidSpeechRegion {
            start_ms: bad.start_ms,
            end_ms: bad.end_ms,
        });
    }
    let vad_onset = speech
        .iter()
        .filter(|r| r.end_ms > prompt_end_ms)
        .map(|r| r.start_ms)
        .min();
    let (onset_ms, onset_source) = match (vad_onset, word_onset_ms) {
        (Some(onset), _) => (Some(onset), Some(OnsetSource::Vad)),
        (None, Some(onset)) if speech.is_empty() => (Some(onset), Some(OnsetSource::Transcript)),
        _ => (None, None),
    };
    let latency_ms = onset_ms.map(|onset| signed_ms(onset) - signed_ms(prompt_end_ms));
    Ok(Latency {
        kind,
        prompt_end_ms,
        onset_ms,
        onset_source,
        latency_ms,
        class: latency_ms.map(|ms| classify_latency(ms, band)),
        band: *band,
        distance_ms: latency_ms.map_or(0, |ms| band_distance_ms(ms, band)),
        score: latency_ms.map_or(0.0, |ms| latency_score(ms, band)),
    })
}

fn validate_band(band: &LatencyBand) -> Result<()> {
    let ordered = band.min_ms <= band.top_seller_ms && band.top_seller_ms <= band.max_ms;
    if ordered && band.max_ms > 0 {
        return Ok(());
    }
    Err(Error::InvalidLatencyBand {
        min_ms: band.min_ms,
        top_seller_ms: band.top_seller_ms,
        max_ms: band.max_ms,
    })
}

fn signed_ms(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// Classifies a latency against a band; both edges belong to the band.
pub fn classify_latency(latency_ms: i64, band: &LatencyBand) -> LatencyClass {
    if latency_ms < i64::from(band.min_ms) {
        LatencyClass::TooFast
    } else if latency_ms > i64::from(band.max_ms) {
        LatencyClass::TooSlow
    } else {
        LatencyClass::InBand
    }
}

/// Returns the distance of a latency from the nearest band edge, in ms.
pub fn band_distance_ms(latency_ms: i64, band: &LatencyBand) -> u64 {
    let below = i64::from(band.min_ms) - latency_ms;
    let above = latency_ms - i64::from(band.max_ms);
    u64::try_from(below.max(above).max(0)).unwrap_or(0)
}

/// Scores a latency from 0 to 1: 1 inside the band, falling linearly to 0
/// at a latency of zero below the band and at twice `max_ms` above it.
pub fn latency_score(latency_ms: i64, band: &LatencyBand) -> f64 {
    let distance = band_distance_ms(latency_ms, band) as f64;
    let scale = match classify_latency(latency_ms, band) {
        LatencyClass::InBand => return 1.0,
        LatencyClass::TooFast => f64::from(band.min_ms),
        LatencyClass::TooSlow => f64::from(band.max_ms),
    };
    (1.0 - distance / scale).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BAND: LatencyBand = LatencyBand {
        min_ms: 300,
        max_ms: 1500,
        top_seller_ms: 700,
    };

    fn near(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn classify_covers_three_classes() {
        assert_eq!(classify_latency(100, &BAND), LatencyClass::TooFast);
        assert_eq!(classify_latency(700, &BAND), LatencyClass::InBand);
        assert_eq!(classify_latency(2000, &BAND), LatencyClass::TooSlow);
    }

    #[test]
    fn band_edges_are_in_band() {
        assert_eq!(classify_latency(300, &BAND), LatencyClass::InBand);
        assert_eq!(classify_latency(1500, &BAND), LatencyClass::InBand);
    }

    #[test]
    fn score_falls_linearly_outside_band() {
        assert!(near(latency_score(150, &BAND), 0.5));
        assert!(near(latency_score(2250, &BAND), 0.5));
        assert!(near(latency_score(3000, &BAND), 0.0));
        assert!(near(latency_score(-200, &BAND), 0.0));
    }

    #[test]
    fn vad_onset_after_prompt_end() {
        let speech = [
            SpeechRegion {
                start_ms: 100,
                end_ms: 900,
            },
            SpeechRegion {
                start_ms: 2600,
                end_ms: 4000,
            },
        ];

        let latency = measure_latency(&BAND, &speech, Some(2700), 2000, LatencyKind::Call)
            .expect("valid band");

        assert_eq!(latency.latency_ms, Some(600));
        assert_eq!(latency.onset_source, Some(OnsetSource::Vad));
        assert_eq!(latency.class, Some(LatencyClass::InBand));
    }

    #[test]
    fn overlap_gives_negative_latency() {
        let speech = [SpeechRegion {
            start_ms: 1800,
            end_ms: 3000,
        }];

        let latency =
            measure_latency(&BAND, &speech, None, 2000, LatencyKind::Call).expect("valid band");

        assert_eq!(latency.latency_ms, Some(-200));
        assert_eq!(latency.class, Some(LatencyClass::TooFast));
    }

    #[test]
    fn word_onset_without_regions() {
        let latency =
            measure_latency(&BAND, &[], Some(800), 0, LatencyKind::Drill).expect("valid band");

        assert_eq!(latency.onset_source, Some(OnsetSource::Transcript));
        assert_eq!(latency.latency_ms, Some(800));
    }

    #[test]
    fn no_speech_scores_zero() {
        let latency = measure_latency(&BAND, &[], None, 0, LatencyKind::Drill).expect("valid band");

        assert_eq!(latency.class, None);
        assert!(near(latency.score, 0.0));
    }

    #[test]
    fn unordered_band_is_rejected() {
        let band = LatencyBand {
            min_ms: 2000,
            max_ms: 1000,
            top_seller_ms: 1500,
        };

        let err = measure_latency(&band, &[], None, 0, LatencyKind::Drill).unwrap_err();

        assert!(err.to_string().contains("2000"));
    }
}
