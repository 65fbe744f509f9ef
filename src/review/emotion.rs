//! Customer emotion curve of an analysed call: one value in [-1, 1] per
//! customer turn, from prosody of the customer channel and lexical
//! sentiment of the turn text.
//!
//! The value is a documented proxy, not a measured emotion:
//!
//! - Energy: frame RMS in dB (40 ms frames, 10 ms hop), the turn's median
//!   relative to the median over all customer turns of the call.
//! - Pitch: F0 per frame from the normalised autocorrelation peak between
//!   75 and 400 Hz; a frame is voiced when the peak reaches 0.6. The turn
//!   keeps the median F0 and the range (10th to 90th percentile) in
//!   semitones.
//! - Arousal in [-1, 1]: the mean of energy (+6 dB relative is +1) and pitch
//!   range (3 semitones is neutral, each further 6 semitones is +1).
//! - Lexical sentiment in [-1, 1] from [`lexicon`](super::lexicon).
//! - Value: with sentiment words, `lexical * (0.75 + 0.25 * arousal)`, so a
//!   raised voice strengthens the words. Without them, the value is
//!   `-0.3 * max(arousal, 0)`, on the assumption that customers in sales
//!   calls raise voice and pitch more in objections than in agreement.

use ndarray::{s, ArrayView1};
use serde::{Deserialize, Serialize};

use super::lexicon::{lexical_score, sentiment_hits, SentimentHit};
use super::{Error, Result};
use crate::heatmap::median;

/// Sample rate of the customer channel, that of every decoded channel.
pub const SAMPLE_RATE_HZ: usize = crate::audio::SAMPLE_RATE_HZ as usize;
const FRAME_LEN: usize = SAMPLE_RATE_HZ * 40 / 1000; // 40 ms
const HOP_LEN: usize = SAMPLE_RATE_HZ * 10 / 1000; // 10 ms
const MIN_F0_HZ: usize = 75;
const MAX_F0_HZ: usize = 400;
/// Normalised autocorrelation peak at or above which a frame is voiced.
const VOICING_THRESHOLD: f32 = 0.6;
/// Frames quieter than this (dBFS) are silence and carry no prosody.
const SILENCE_DB: f64 = -60.0;
/// Relative turn energy that maps to arousal +1, in dB.
const ENERGY_FULL_SCALE_DB: f64 = 6.0;
/// Pitch range of neutral speech, in semitones.
const PITCH_RANGE_NEUTRAL_ST: f64 = 3.0;
/// Pitch range above neutral that maps to arousal +1, in semitones.
const PITCH_RANGE_SPAN_ST: f64 = 6.0;
/// Weight of arousal in a turn without sentiment words.
const NEUTRAL_AROUSAL_WEIGHT: f64 = 0.3;
/// Fewest voiced frames for a pitch range.
const MIN_VOICED_FRAMES: usize = 3;

/// A customer turn with its transcript text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerTurn {
    /// Start in the call, in milliseconds.
    pub start_ms: u64,
    /// End in the call, in milliseconds.
    pub end_ms: u64,
    /// Transcript text of the turn.
    pub text: String,
}

/// A point of the call where a scenario was detected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioMoment {
    /// Time in the call, in milliseconds.
    pub at_ms: u64,
    /// Scenario id.
    pub scenario_id: String,
}

/// Emotion proxy of one customer turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmotionPoint {
    /// Turn start, in milliseconds.
    pub start_ms: u64,
    /// Turn end, in milliseconds.
    pub end_ms: u64,
    /// Combined value in [-1, 1]; negative is displeased or tense.
    pub value: f64,
    /// Lexical sentiment in [-1, 1].
    pub lexical: f64,
    /// Prosodic arousal in [-1, 1].
    pub arousal: f64,
    /// Median frame energy relative to the call median, in dB.
    pub energy_db: Option<f64>,
    /// Median F0 of voiced frames, in Hz.
    pub pitch_median_hz: Option<f64>,
    /// F0 range of voiced frames (10th to 90th percentile), in semitones.
    pub pitch_range_semitones: Option<f64>,
    /// Voiced frames in the turn.
    pub voiced_frames: usize,
    /// Sentiment words found in the text.
    pub sentiment_words: Vec<SentimentHit>,
}

/// A scenario moment with the emotion at that time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmotionMarker {
    /// Time in the call, in milliseconds.
    pub at_ms: u64,
    /// Scenario id.
    pub scenario_id: String,
    /// Turn that contains the moment, or the last one before it.
    pub turn_index: Option<usize>,
    /// Value of that turn.
    pub value: Option<f64>,
}

/// Customer emotion over one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmotionCurve {
    /// Length of the customer channel, in milliseconds.
    pub duration_ms: u64,
    /// One point per turn, in time order.
    pub points: Vec<EmotionPoint>,
    /// Scenario moments on the curve.
    pub markers: Vec<EmotionMarker>,
}

struct FrameStats {
    db: Vec<f64>,
    f0_hz: Vec<Option<f64>>,
}

/// Computes the emotion curve from the customer channel (16 kHz, [-1, 1]).
///
/// # Errors
///
/// [`Error::InvalidAudio`] for non-finite samples, and [`Error::InvalidTurn`]
/// for a turn that ends before it starts or starts after the audio ends.
pub fn emotion_curve(
    customer_16k: &[f32],
    turns: &[CustomerTurn],
    moments: &[ScenarioMoment],
) -> Result<EmotionCurve> {
    if let Some(index) = customer_16k.iter().position(|x| !x.is_finite()) {
        return Err(Error::InvalidAudio(format!(
            "sample {index} is not a finite number"
        )));
    }
    let duration_ms = (customer_16k.len() as u64 * 1000) / SAMPLE_RATE_HZ as u64;
    let mut ordered: Vec<&CustomerTurn> = turns.iter().collect();
    ordered.sort_by_key(|t| t.start_ms);
    for turn in &ordered {
        if turn.end_ms <= turn.start_ms || turn.start_ms >= duration_ms {
            return Err(Error::InvalidTurn {
                start_ms: turn.start_ms,
                end_ms: turn.end_ms,
                duration_ms,
            });
        }
    }
    let stats: Vec<FrameStats> = ordered
        .iter()
        .map(|t| frame_stats(turn_samples(customer_16k, t)))
        .collect();
    let mut all_db: Vec<f64> = stats
        .iter()
        .flat_map(|s| s.db.iter().copied())
        .filter(|db| *db > SILENCE_DB)
        .collect();
    let call_median_db = median(&mut all_db);

    let points: Vec<EmotionPoint> = ordered
        .iter()
        .zip(&stats)
        .map(|(turn, stats)| emotion_point(turn, stats, call_median_db))
        .collect();
    let markers = moments.iter().map(|m| marker(m, &points)).collect();
    Ok(EmotionCurve {
        duration_ms,
        points,
        markers,
    })
}

fn turn_samples<'a>(samples: &'a [f32], turn: &CustomerTurn) -> &'a [f32] {
    let to_index = |ms: u64| {
        usize::try_from(ms)
            .unwrap_or(usize::MAX)
            .saturating_mul(SAMPLE_RATE_HZ / 1000)
            .min(samples.len())
    };
    &samples[to_index(turn.start_ms)..to_index(turn.end_ms)]
}

fn frame_stats(samples: &[f32]) -> FrameStats {
    let mut stats = FrameStats {
        db: Vec::new(),
        f0_hz: Vec::new(),
    };
    let mut start = 0;
    while start + FRAME_LEN <= samples.len() {
        let frame = ArrayView1::from(&samples[start..start + FRAME_LEN]);
        let rms = (frame.dot(&frame) / FRAME_LEN as f32).sqrt();
        let db = 20.0 * f64::from(rms.max(1e-10)).log10();
        stats.db.push(db);
        stats.f0_hz.push(if db > SILENCE_DB {
            estimate_f0(frame)
        } else {
            None
        });
        start += HOP_LEN;
    }
    stats
}

/// Estimates F0 from the normalised autocorrelation of one frame.
///
/// The shortest lag whose peak reaches 90% of the best one wins, which
/// avoids picking a multiple of the period (an octave too low).
fn estimate_f0(frame: ArrayView1<'_, f32>) -> Option<f64> {
    let mean = frame.mean()?;
    let centred = frame.mapv(|x| x - mean);
    let n = centred.len();
    let mut cumulative = Vec::with_capacity(n + 1);
    cumulative.push(0.0f32);
    for x in centred.iter() {
        cumulative.push(cumulative[cumulative.len() - 1] + x * x);
    }

    let min_lag = SAMPLE_RATE_HZ / MAX_F0_HZ;
    let max_lag = SAMPLE_RATE_HZ / MIN_F0_HZ;
    let correlations: Vec<f32> = (min_lag..=max_lag)
        .map(|lag| {
            let head = centred.slice(s![..n - lag]);
            let tail = centred.slice(s![lag..]);
            let energy = (cumulative[n - lag] * (cumulative[n] - cumulative[lag])).sqrt();
            if energy > 0.0 {
                head.dot(&tail) / energy
            } else {
                0.0
            }
        })
        .collect();

    let best = correlations.iter().copied().fold(f32::MIN, f32::max);
    if best < VOICING_THRESHOLD {
        return None;
    }
    let is_peak = |i: usize| {
        let left = if i == 0 {
            f32::MIN
        } else {
            correlations[i - 1]
        };
        let right = correlations.get(i + 1).copied().unwrap_or(f32::MIN);
        correlations[i] >= left && correlations[i] >= right
    };
    let index = (0..correlations.len()).find(|&i| correlations[i] >= 0.9 * best && is_peak(i))?;
    Some(SAMPLE_RATE_HZ as f64 / (min_lag + index) as f64)
}

fn emotion_point(
    turn: &CustomerTurn,
    stats: &FrameStats,
    call_median_db: Option<f64>,
) -> EmotionPoint {
    let mut active: Vec<f64> = stats
        .db
        .iter()
        .copied()
        .filter(|db| *db > SILENCE_DB)
        .collect();
    let energy_db = median(&mut active)
        .zip(call_median_db)
        .map(|(turn_db, call_db)| turn_db - call_db);
    let mut f0: Vec<f64> = stats.f0_hz.iter().flatten().copied().collect();
    let voiced_frames = f0.len();
    let pitch_median_hz = median(&mut f0);
    let pitch_range_semitones = (voiced_frames >= MIN_VOICED_FRAMES).then(|| {
        let low = percentile_sorted(&f0, 0.1);
        let high = percentile_sorted(&f0, 0.9);
        12.0 * (high / low).log2()
    });

    let energy_term = energy_db.map_or(0.0, |db| (db / ENERGY_FULL_SCALE_DB).clamp(-1.0, 1.0));
    let pitch_term = pitch_range_semitones.map_or(0.0, |st| {
        ((st - PITCH_RANGE_NEUTRAL_ST) / PITCH_RANGE_SPAN_ST).clamp(-1.0, 1.0)
    });
    let arousal = 0.5 * energy_term + 0.5 * pitch_term;
    let sentiment_words = sentiment_hits(&turn.text);
    let lexical = lexical_score(&sentiment_words);
    let value = if sentiment_words.is_empty() {
        -NEUTRAL_AROUSAL_WEIGHT * arousal.max(0.0)
    } else {
        lexical * (0.75 + 0.25 * arousal)
    };
    EmotionPoint {
        start_ms: turn.start_ms,
        end_ms: turn.end_ms,
        value: value.clamp(-1.0, 1.0),
        lexical,
        arousal,
        energy_db,
        pitch_median_hz,
        pitch_range_semitones,
        voiced_frames,
        sentiment_words,
    }
}

/// Returns the value at fraction `q` of sorted `values` (nearest rank).
fn percentile_sorted(values: &[f64], q: f64) -> f64 {
    let index = ((values.len() - 1) as f64 * q).round() as usize;
    values[index]
}

fn marker(moment: &ScenarioMoment, points: &[EmotionPoint]) -> EmotionMarker {
    let turn_index = points.iter().rposition(|p| p.start_ms <= moment.at_ms);
    EmotionMarker {
        at_ms: moment.at_ms,
        scenario_id: moment.scenario_id.clone(),
        turn_index,
        value: turn_index.map(|i| points[i].value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f32::consts::TAU;

    /// Harmonic tone: F0 sweeps linearly from `f0_start` to `f0_end` Hz with
    /// the 2nd and 3rd harmonics at half and third amplitude.
    fn tone(seconds: f32, f0_start: f32, f0_end: f32, amplitude: f32) -> Vec<f32> {
        let n = (seconds * SAMPLE_RATE_HZ as f32) as usize;
        let mut phase = 0.0f32;
        (0..n)
            .map(|i| {
                let t = i as f32 / n as f32;
                phase += TAU * (f0_start + (f0_end - f0_start) * t) / SAMPLE_RATE_HZ as f32;
                amplitude * (phase.sin() + 0.5 * (2.0 * phase).sin() + 0.33 * (3.0 * phase).sin())
                    / 1.83
            })
            .collect()
    }

    fn turn(start_ms: u64, end_ms: u64, text: &str) -> CustomerTurn {
        CustomerTurn {
            start_ms,
            end_ms,
            text: text.into(),
        }
    }

    #[test]
    fn f0_of_steady_tone() {
        let samples = tone(0.2, 150.0, 150.0, 0.3);

        let f0 = estimate_f0(ArrayView1::from(&samples[..FRAME_LEN])).expect("voiced");

        assert!((f0 - 150.0).abs() < 4.0, "f0 {f0}");
    }

    #[test]
    fn noise_is_unvoiced() {
        let mut state = 12345u32;
        let noise: Vec<f32> = (0..FRAME_LEN)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect();

        assert_eq!(estimate_f0(ArrayView1::from(&noise[..])), None);
    }

    #[test]
    fn loud_varied_turn_is_more_aroused() {
        let mut audio = tone(2.0, 150.0, 150.0, 0.03);
        audio.extend(tone(2.0, 120.0, 300.0, 0.5));
        let turns = [turn(0, 2000, "okay"), turn(2000, 4000, "okay")];

        let curve = emotion_curve(&audio, &turns, &[]).expect("valid input");
        let (quiet, loud) = (&curve.points[0], &curve.points[1]);

        assert!(
            loud.arousal > quiet.arousal + 0.5,
            "{} vs {}",
            loud.arousal,
            quiet.arousal
        );
        assert!(loud.energy_db.expect("energy") > 10.0);
        assert!(quiet.pitch_range_semitones.expect("voiced") < 1.0);
        assert!(loud.pitch_range_semitones.expect("voiced") > 10.0);
        assert!(loud.value < quiet.value);
    }

    #[test]
    fn sentiment_sets_sign_and_arousal_strength() {
        let mut audio = tone(2.0, 150.0, 150.0, 0.03);
        audio.extend(tone(2.0, 120.0, 300.0, 0.5));
        audio.extend(tone(2.0, 150.0, 150.0, 0.1));
        let turns = [
            turn(0, 2000, "我们不满意"),
            turn(2000, 4000, "this is too expensive, I'm not happy"),
            turn(4000, 6000, "sounds great, thanks"),
        ];

        let curve = emotion_curve(&audio, &turns, &[]).expect("valid input");

        assert!(curve.points[0].value < 0.0);
        assert!(curve.points[1].value < curve.points[0].value);
        assert!(curve.points[2].value > 0.0);
        assert!(curve.points.iter().all(|p| (-1.0..=1.0).contains(&p.value)));
    }

    #[test]
    fn moments_mark_containing_turn() {
        let audio = tone(3.0, 150.0, 150.0, 0.2);
        let turns = [turn(0, 1000, "good"), turn(1500, 3000, "too expensive")];
        let moments = [ScenarioMoment {
            at_ms: 1800,
            scenario_id: "price_objection".into(),
        }];

        let curve = emotion_curve(&audio, &turns, &moments).expect("valid input");

        assert_eq!(curve.markers[0].turn_index, Some(1));
        assert!(curve.markers[0].value.expect("value") < 0.0);
    }

    #[test]
    fn turn_after_audio_is_rejected() {
        let audio = tone(1.0, 150.0, 150.0, 0.2);

        let err = emotion_curve(&audio, &[turn(5000, 6000, "hi")], &[]).unwrap_err();

        assert!(matches!(err, Error::InvalidTurn { .. }), "{err}");
    }

    #[test]
    fn non_finite_sample_is_rejected() {
        let mut audio = tone(1.0, 150.0, 150.0, 0.2);
        audio[10] = f32::NAN;

        assert!(emotion_curve(&audio, &[turn(0, 500, "hi")], &[]).is_err());
    }
}
