//! Delivery of an answer: speaking rate, filler words and length.
//!
//! The rate counts words per minute in English and characters per minute
//! in Mandarin (a Latin word inside Mandarin counts as one character), over
//! the speaking span from the first to the last speech. Fillers are
//! described in [`super::filler`].

use serde::{Deserialize, Serialize};

use super::filler::{count_fillers, split_pieces, FillerCount};
use super::token::TimedToken;
use crate::audio::vad::SpeechRegion;
use crate::language::Language;
use crate::transcribe::Transcript;

/// Target English speaking rate, words per minute; an estimate of the
/// range of clear conversational speech.
pub const EN_RATE_BAND: (f64, f64) = (120.0, 170.0);
/// Target Mandarin speaking rate, characters per minute; an estimate of the
/// range of clear conversational speech.
pub const ZH_RATE_BAND: (f64, f64) = (180.0, 280.0);
/// The rate score reaches 0 this fraction of the band edge outside it.
pub const RATE_FALLOFF: f64 = 0.5;
/// Filler ratio (fillers per word) at which the filler score reaches 0.
pub const FILLER_RATIO_AT_ZERO: f64 = 0.10;
/// Default longest answer, in milliseconds (5 minutes).
pub const DEFAULT_MAX_ANSWER_MS: u64 = 300_000;
/// Factor on the delivery score of an answer over the length limit.
pub const OVER_LIMIT_FACTOR: f64 = 0.5;

/// The unit of a speaking rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateUnit {
    /// English words per minute.
    WordsPerMinute,
    /// Mandarin characters per minute.
    CharactersPerMinute,
}

/// Delivery measurements of one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// Unit of `rate`.
    pub rate_unit: RateUnit,
    /// Words (English) or characters (Mandarin) spoken.
    pub unit_count: usize,
    /// From the first to the last speech, in milliseconds.
    pub speaking_ms: u64,
    /// Speaking rate in `rate_unit`; 0 without speech.
    pub rate: f64,
    /// Lower edge of the target rate band.
    pub rate_min: f64,
    /// Upper edge of the target rate band.
    pub rate_max: f64,
    /// Each filler spoken, in list order.
    pub fillers: Vec<FillerCount>,
    /// Total number of fillers.
    pub filler_count: usize,
    /// Fillers per word, 0 to 1.
    pub filler_ratio: f64,
    /// Length of the answer after the prompt, in milliseconds.
    pub duration_ms: u64,
    /// The length limit, in milliseconds.
    pub max_duration_ms: u64,
    /// Whether `duration_ms` exceeds `max_duration_ms`.
    pub over_limit: bool,
    /// Delivery score, 0 to 1 (see [`delivery_score`]).
    pub score: f64,
}

/// Measures the delivery of an answer.
///
/// `speech` regions that end at or before `prompt_end_ms` are ignored; with
/// no regions left, the word timings give the speaking span.
pub fn measure_delivery(
    transcript: &Transcript,
    tokens: &[TimedToken],
    speech: &[SpeechRegion],
    language: Language,
    prompt_end_ms: u64,
    max_duration_ms: u64,
) -> Delivery {
    let speaking_ms = speaking_span_ms(tokens, speech, prompt_end_ms);
    let (rate_unit, (rate_min, rate_max)) = match language {
        Language::En => (RateUnit::WordsPerMinute, EN_RATE_BAND),
        Language::Zh => (RateUnit::CharactersPerMinute, ZH_RATE_BAND),
    };
    let pieces = answer_pieces(transcript, language);
    let (fillers, filler_count) = count_fillers(&pieces, language);

    let last_end = tokens.last().map_or(0, |t| t.end_ms);
    let duration_ms = transcript
        .duration_ms
        .max(last_end)
        .saturating_sub(prompt_end_ms);
    let mut delivery = Delivery {
        rate_unit,
        unit_count: tokens.len(),
        speaking_ms,
        rate: per_minute(tokens.len(), speaking_ms),
        rate_min,
        rate_max,
        fillers,
        filler_count,
        filler_ratio: share(filler_count, pieces.len()),
        duration_ms,
        max_duration_ms,
        over_limit: duration_ms > max_duration_ms,
        score: 0.0,
    };
    delivery.score = delivery_score(&delivery);
    delivery
}

fn per_minute(count: usize, span_ms: u64) -> f64 {
    if span_ms == 0 {
        return 0.0;
    }
    count as f64 * 60_000.0 / span_ms as f64
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    part as f64 / whole as f64
}

fn speaking_span_ms(tokens: &[TimedToken], speech: &[SpeechRegion], prompt_end_ms: u64) -> u64 {
    let answer: Vec<&SpeechRegion> = speech.iter().filter(|r| r.end_ms > prompt_end_ms).collect();
    let start = answer.iter().map(|r| r.start_ms.max(prompt_end_ms)).min();
    let end = answer.iter().map(|r| r.end_ms).max();
    match (start, end, tokens.first(), tokens.last()) {
        (Some(start), Some(end), _, _) => end.saturating_sub(start),
        (_, _, Some(first), Some(last)) => last.end_ms.saturating_sub(first.start_ms),
        _ => 0,
    }
}

fn answer_pieces(transcript: &Transcript, language: Language) -> Vec<super::filler::Piece> {
    if transcript.segments.is_empty() {
        return split_pieces(&transcript.text, language);
    }
    transcript
        .segments
        .iter()
        .flat_map(|s| split_pieces(&s.text, language))
        .collect()
}

/// Scores a rate from 0 to 1: 1 inside `[min, max]`, falling linearly to 0
/// at [`RATE_FALLOFF`] times the nearer edge outside the band.
pub fn rate_score(rate: f64, min: f64, max: f64) -> f64 {
    let score = if rate < min {
        1.0 - (min - rate) / (min * RATE_FALLOFF)
    } else if rate > max {
        1.0 - (rate - max) / (max * RATE_FALLOFF)
    } else {
        1.0
    };
    if score.is_finite() {
        score.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Scores delivery from 0 to 1: the mean of the rate score and the filler
/// score `1 - filler_ratio / FILLER_RATIO_AT_ZERO`, times
/// [`OVER_LIMIT_FACTOR`] over the length limit, and 0 without words.
pub fn delivery_score(delivery: &Delivery) -> f64 {
    if delivery.unit_count == 0 {
        return 0.0;
    }
    let rate = rate_score(delivery.rate, delivery.rate_min, delivery.rate_max);
    let fillers = (1.0 - delivery.filler_ratio / FILLER_RATIO_AT_ZERO).clamp(0.0, 1.0);
    let limit = if delivery.over_limit {
        OVER_LIMIT_FACTOR
    } else {
        1.0
    };
    0.5 * (rate + fillers) * limit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn near(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn rate_inside_band_scores_one() {
        assert!(near(rate_score(150.0, 120.0, 170.0), 1.0));
    }

    #[test]
    fn rate_score_falls_outside_band() {
        assert!(near(rate_score(90.0, 120.0, 170.0), 0.5));
        assert!(near(rate_score(255.0, 120.0, 170.0), 0.0));
    }

    #[test]
    fn span_uses_regions_after_prompt() {
        let speech = [
            SpeechRegion {
                start_ms: 0,
                end_ms: 500,
            },
            SpeechRegion {
                start_ms: 1000,
                end_ms: 4000,
            },
        ];

        assert_eq!(speaking_span_ms(&[], &speech, 800), 3000);
    }
}
