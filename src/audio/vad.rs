//! Voice activity detection: finds speech regions with start and end times
//! in one 16 kHz channel, for response-latency measurement.
//!
//! The detector is an energy and spectral one built on ndarray and realfft:
//!
//! 1. Frames of 25 ms every 10 ms give an energy in dBFS, and a Hann-windowed
//!    spectrum gives the spectral flatness of the 300-3400 Hz telephone band.
//! 2. The noise floor is the moving minimum of frame energy over a few
//!    seconds, kept between [`VadConfig::min_floor_dbfs`] and
//!    [`VadConfig::max_floor_dbfs`], so it adapts to line noise that changes
//!    during a call.
//! 3. A region is a run of frames above `floor + offset_margin_db` that contains
//!    [`VadConfig::min_voiced_ms`] of voiced frames: frames above
//!    `floor + onset_margin_db` whose flatness is below
//!    [`VadConfig::max_flatness`]. The two thresholds form a hysteresis, and
//!    the flatness test rejects clicks and broadband noise.
//! 4. Each boundary is refined on 10 ms block energies: it moves to the
//!    outermost block above `floor + offset_margin_db` near the edge frame,
//!    then keeps extending while blocks stay above `floor + edge_margin_db`,
//!    for at most [`VadConfig::max_edge_extension_ms`]. This recovers weak
//!    onsets such as fricatives that lie only a few dB above line noise.
//! 5. Regions closer than [`VadConfig::min_silence_ms`] merge (the hangover),
//!    and regions shorter than [`VadConfig::min_speech_ms`] are dropped.
//!
//! Why not a crate: webrtc-vad 0.4 and fvad 0.1 wrap the WebRTC C code, take
//! only 8, 16, 32 or 48 kHz in 10, 20 or 30 ms frames and return one binary
//! decision per frame with no boundary refinement. Silero-based crates need
//! an ONNX runtime and model weights. Because this detector runs over a
//! whole recording, it can centre its noise-floor window on each frame and
//! move boundaries after seeing what follows them.

use ndarray::{s, Array1, ArrayView1};
use realfft::RealFftPlanner;
use serde::Serialize;

use super::{Audio, SAMPLE_RATE_HZ};

/// Analysis frame length in ms.
const FRAME_MS: usize = 25;
/// Hop between frames in ms, which is also the boundary refinement resolution.
const HOP_MS: usize = 10;
/// FFT length in samples for a 400-sample frame at 16 kHz (zero-padded).
const FFT_LEN: usize = 512;
/// Telephone speech band used for the flatness test, in Hz.
const BAND_HZ: (f32, f32) = (300.0, 3400.0);
/// Energy assigned to digital silence, in dBFS.
const SILENCE_DBFS: f32 = -120.0;

/// Settings of [`detect_speech`]. The default suits speech at 16 kHz.
#[derive(Debug, Clone, PartialEq)]
pub struct VadConfig {
    /// Margin over the noise floor that a voiced frame must reach, in dB (default 15).
    pub onset_margin_db: f32,
    /// Margin over the noise floor that keeps a region going, in dB (default 8).
    pub offset_margin_db: f32,
    /// Lowest noise floor, in dBFS, so that a quiet tail over digital silence
    /// does not count as speech (default -70).
    pub min_floor_dbfs: f32,
    /// Highest 300-3400 Hz spectral flatness of a voiced frame, 0 to 1 (default 0.45).
    pub max_flatness: f32,
    /// Minimum total duration of voiced frames in a region, in ms (default 50).
    pub min_voiced_ms: u64,
    /// Margin over the noise floor that lets a boundary extend, in dB (default 3).
    pub edge_margin_db: f32,
    /// Maximum extension of a boundary past the thresholded frames, in ms (default 200).
    pub max_edge_extension_ms: u64,
    /// Highest noise floor, in dBFS (default -45). A clip that holds speech
    /// from its first to its last frame has no pause to measure line noise
    /// in, and its moving minimum would otherwise sit on the speech itself.
    pub max_floor_dbfs: f32,
    /// Window of the moving-minimum noise floor, in ms (default 4000).
    pub floor_window_ms: u64,
    /// Minimum duration of a kept region, in ms (default 80).
    pub min_speech_ms: u64,
    /// Gaps shorter than this merge their neighbours, in ms (default 200).
    pub min_silence_ms: u64,
}

impl Default for VadConfig {
    fn default() -> Self {
        VadConfig {
            onset_margin_db: 15.0,
            offset_margin_db: 8.0,
            min_floor_dbfs: -70.0,
            max_floor_dbfs: -45.0,
            max_flatness: 0.45,
            min_voiced_ms: 50,
            edge_margin_db: 3.0,
            max_edge_extension_ms: 200,
            floor_window_ms: 4000,
            min_speech_ms: 80,
            min_silence_ms: 200,
        }
    }
}

/// One stretch of speech, in ms from the start of the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SpeechRegion {
    /// First ms of speech.
    pub start_ms: u64,
    /// First ms after the speech.
    pub end_ms: u64,
}

impl SpeechRegion {
    /// Returns the length of the region in ms.
    pub fn duration_ms(&self) -> u64 {
        self.end_ms.saturating_sub(self.start_ms)
    }
}

/// Finds the speech regions of one 16 kHz channel, in time order.
pub fn detect_speech(samples_16k: &[f32], config: &VadConfig) -> Vec<SpeechRegion> {
    let features = Features::measure(samples_16k);
    let floor = noise_floor(&features.energy_db, config);
    let runs = hysteresis_runs(&features, &floor, config);
    let blocks = block_energy_db(samples_16k);
    let regions = runs
        .into_iter()
        .map(|(first, last)| refine(first, last, &blocks, &floor, config));
    let merged = merge_close(regions.collect(), config.min_silence_ms);
    merged
        .into_iter()
        .filter(|r| r.duration_ms() >= config.min_speech_ms)
        .collect()
}

/// Runs [`detect_speech`] on every channel of `audio`.
pub fn detect_speech_per_channel(audio: &Audio, config: &VadConfig) -> Vec<Vec<SpeechRegion>> {
    (0..audio.channel_count())
        .filter_map(|index| audio.channel(index))
        .map(|channel| detect_speech(channel, config))
        .collect()
}

/// Per-frame energy and band flatness.
struct Features {
    energy_db: Array1<f32>,
    flatness: Array1<f32>,
}

impl Features {
    fn measure(samples: &[f32]) -> Features {
        let frame_len = samples_per_ms(FRAME_MS);
        let hop = samples_per_ms(HOP_MS);
        let frames = if samples.len() <= frame_len {
            1
        } else {
            (samples.len() - frame_len) / hop + 1
        };
        let window = hann(frame_len);
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT_LEN);
        let mut input = fft.make_input_vec();
        let mut spectrum = fft.make_output_vec();
        let bin_hz = SAMPLE_RATE_HZ as f32 / FFT_LEN as f32;
        let band = (
            (BAND_HZ.0 / bin_hz).ceil() as usize,
            (BAND_HZ.1 / bin_hz).floor() as usize,
        );
        let mut energy_db = Array1::zeros(frames);
        let mut flatness = Array1::zeros(frames);

        for index in 0..frames {
            let start = index * hop;
            let mut frame = Array1::<f32>::zeros(frame_len);
            let end = (start + frame_len).min(samples.len());
            frame
                .slice_mut(s![..end - start])
                .assign(&ArrayView1::from(&samples[start..end]));
            energy_db[index] = to_db(frame.mapv(|x| x * x).mean().unwrap_or(0.0));
            input.fill(0.0);
            for (slot, value) in input.iter_mut().zip((&frame * &window).iter()) {
                *slot = *value;
            }
            // Buffers come from the same plan, so their lengths always match.
            if fft.process(&mut input, &mut spectrum).is_ok() {
                let power: Array1<f32> = spectrum[band.0..=band.1]
                    .iter()
                    .map(|c| c.norm_sqr())
                    .collect();
                flatness[index] = spectral_flatness(power.view());
            }
        }
        Features {
            energy_db,
            flatness,
        }
    }
}

/// Returns the geometric over the arithmetic mean of a power spectrum, 0 to 1.
fn spectral_flatness(power: ArrayView1<f32>) -> f32 {
    let floored = power.mapv(|p| p + 1e-12);
    let arithmetic = floored.mean().unwrap_or(1.0);
    let geometric = floored.mapv(f32::ln).mean().unwrap_or(0.0).exp();
    (geometric / arithmetic).clamp(0.0, 1.0)
}

/// Returns the moving minimum of frame energy, centred, never below the configured floor.
fn noise_floor(energy_db: &Array1<f32>, config: &VadConfig) -> Array1<f32> {
    let half = (config.floor_window_ms as usize / HOP_MS / 2).max(1);
    let len = energy_db.len();
    let mut floor = Array1::zeros(len);
    // A monotonic queue of indices keeps the minimum in O(n).
    let mut queue = std::collections::VecDeque::new();
    let mut next = 0;
    for index in 0..len {
        while next < len && next <= index + half {
            while queue
                .back()
                .is_some_and(|&j| energy_db[j] >= energy_db[next])
            {
                queue.pop_back();
            }
            queue.push_back(next);
            next += 1;
        }
        while queue.front().is_some_and(|&j| j + half < index) {
            queue.pop_front();
        }
        let minimum = queue.front().map_or(SILENCE_DBFS, |&j| energy_db[j]);
        floor[index] = minimum.clamp(
            config.min_floor_dbfs,
            config.max_floor_dbfs.max(config.min_floor_dbfs),
        );
    }
    floor
}

/// Returns the first and last frame of every run above the offset threshold
/// that contains enough voiced frames.
fn hysteresis_runs(
    features: &Features,
    floor: &Array1<f32>,
    config: &VadConfig,
) -> Vec<(usize, usize)> {
    let needed = (config.min_voiced_ms as usize / HOP_MS).max(1);
    let mut runs = Vec::new();
    // First frame of the current run and its count of voiced frames.
    let mut current: Option<(usize, usize)> = None;
    for (index, &energy) in features.energy_db.iter().enumerate() {
        let active = energy > floor[index] + config.offset_margin_db;
        let voiced = energy > floor[index] + config.onset_margin_db
            && features.flatness[index] < config.max_flatness;
        current = match (current, active) {
            (Some((first, count)), true) => Some((first, count + usize::from(voiced))),
            (None, true) => Some((index, usize::from(voiced))),
            (Some((first, count)), false) => {
                if count >= needed {
                    runs.push((first, index - 1));
                }
                None
            }
            (None, false) => None,
        };
    }
    if let Some((first, count)) = current {
        if count >= needed {
            runs.push((first, features.energy_db.len() - 1));
        }
    }
    runs
}

/// Returns the energy of consecutive 10 ms blocks in dBFS.
fn block_energy_db(samples: &[f32]) -> Vec<f32> {
    samples
        .chunks(samples_per_ms(HOP_MS))
        .map(|block| to_db(block.iter().map(|x| x * x).sum::<f32>() / block.len() as f32))
        .collect()
}

/// Moves a run's edges to the outermost 10 ms block above the offset
/// threshold near each edge frame, then extends them over weaker blocks.
fn refine(
    first: usize,
    last: usize,
    blocks: &[f32],
    floor: &Array1<f32>,
    config: &VadConfig,
) -> SpeechRegion {
    let blocks_per_frame = FRAME_MS.div_ceil(HOP_MS);
    let above = |block: usize, frame: usize, margin: f32| blocks[block] > floor[frame] + margin;
    let last_block = blocks.len().saturating_sub(1);
    let mut start = (first.saturating_sub(1)..=(first + blocks_per_frame).min(last_block))
        .find(|&b| above(b, first, config.offset_margin_db))
        .unwrap_or(first);
    let mut end = (last..=(last + blocks_per_frame).min(last_block))
        .rev()
        .find(|&b| above(b, last, config.offset_margin_db))
        .unwrap_or(last);
    let max_steps = config.max_edge_extension_ms as usize / HOP_MS;
    let start_limit = start.saturating_sub(max_steps);
    while start > start_limit && above(start - 1, first, config.edge_margin_db) {
        start -= 1;
    }
    let end_limit = (end + max_steps).min(last_block);
    while end < end_limit && above(end + 1, last, config.edge_margin_db) {
        end += 1;
    }
    let total_ms = (blocks.len() * HOP_MS) as u64;
    SpeechRegion {
        start_ms: (start * HOP_MS) as u64,
        end_ms: (((end + 1) * HOP_MS) as u64).min(total_ms),
    }
}

/// Merges regions whose gap is shorter than `min_silence_ms`.
fn merge_close(regions: Vec<SpeechRegion>, min_silence_ms: u64) -> Vec<SpeechRegion> {
    let mut merged: Vec<SpeechRegion> = Vec::with_capacity(regions.len());
    for region in regions {
        match merged.last_mut() {
            Some(previous) if region.start_ms < previous.end_ms + min_silence_ms => {
                previous.end_ms = previous.end_ms.max(region.end_ms);
            }
            _ => merged.push(region),
        }
    }
    merged
}

fn hann(len: usize) -> Array1<f32> {
    Array1::from_shape_fn(len, |i| {
        0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / len as f32).cos()
    })
}

fn samples_per_ms(ms: usize) -> usize {
    SAMPLE_RATE_HZ as usize * ms / 1000
}

fn to_db(mean_square: f32) -> f32 {
    if mean_square <= 0.0 {
        SILENCE_DBFS
    } else {
        (10.0 * mean_square.log10()).max(SILENCE_DBFS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns a deterministic pseudo-random sequence in [-1, 1].
    fn noise(len: usize, amplitude: f32) -> Vec<f32> {
        let mut state = 0x2545_f491_u32;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                amplitude * (state as f32 / u32::MAX as f32 * 2.0 - 1.0)
            })
            .collect()
    }

    /// Adds a 200 Hz sawtooth-like harmonic burst, a crude voiced sound.
    fn add_voiced(samples: &mut [f32], start_ms: usize, end_ms: usize) {
        let first = samples_per_ms(start_ms);
        for (offset, sample) in samples[first..samples_per_ms(end_ms)]
            .iter_mut()
            .enumerate()
        {
            let t = (first + offset) as f32 / SAMPLE_RATE_HZ as f32;
            let tone: f32 = (1..=10)
                .map(|h| (2.0 * std::f32::consts::PI * 200.0 * h as f32 * t).sin() / h as f32)
                .sum();
            *sample += 0.1 * tone;
        }
    }

    #[test]
    fn bursts_in_noise_are_found() {
        let mut samples = noise(samples_per_ms(4000), 0.003);
        add_voiced(&mut samples, 500, 1500);
        add_voiced(&mut samples, 2300, 3400);

        let regions = detect_speech(&samples, &VadConfig::default());

        assert_eq!(regions.len(), 2, "{regions:?}");
        assert!(regions[0].start_ms.abs_diff(500) <= 20, "{regions:?}");
        assert!(regions[0].end_ms.abs_diff(1500) <= 20, "{regions:?}");
        assert!(regions[1].start_ms.abs_diff(2300) <= 20, "{regions:?}");
        assert!(regions[1].end_ms.abs_diff(3400) <= 20, "{regions:?}");
    }

    #[test]
    fn loud_noise_burst_is_not_speech() {
        // White noise 30 dB over the floor has a flat spectrum, so it never starts a region.
        let mut samples = noise(samples_per_ms(3000), 0.001);
        let burst = noise(samples_per_ms(500), 0.03);
        samples[samples_per_ms(1000)..samples_per_ms(1500)].copy_from_slice(&burst);

        let regions = detect_speech(&samples, &VadConfig::default());

        assert!(regions.is_empty(), "{regions:?}");
    }

    #[test]
    fn short_gap_merges_regions() {
        let mut samples = vec![0.0; samples_per_ms(2000)];
        add_voiced(&mut samples, 300, 800);
        add_voiced(&mut samples, 900, 1400);

        let regions = detect_speech(&samples, &VadConfig::default());

        assert_eq!(
            regions,
            vec![SpeechRegion {
                start_ms: 300,
                end_ms: 1400
            }]
        );
    }

    #[test]
    fn click_is_too_short() {
        let mut samples = vec![0.0; samples_per_ms(1000)];
        add_voiced(&mut samples, 400, 440);

        let regions = detect_speech(&samples, &VadConfig::default());

        assert!(regions.is_empty(), "{regions:?}");
    }

    #[test]
    fn flatness_separates_noise_and_tone() {
        let white: Array1<f32> = noise(400, 1.0).iter().map(|x| x * x + 0.5).collect();
        let mut peaked = Array1::from_elem(100, 1e-6f32);
        peaked[10] = 1.0;

        assert!(spectral_flatness(white.view()) > 0.8);
        assert!(spectral_flatness(peaked.view()) < 0.01);
    }

    #[test]
    fn noise_floor_follows_minimum() {
        let energy = Array1::from_vec(vec![-60.0, -20.0, -20.0, -50.0, -20.0]);
        let config = VadConfig {
            floor_window_ms: 20,
            min_floor_dbfs: -55.0,
            ..VadConfig::default()
        };

        let floor = noise_floor(&energy, &config);

        assert_eq!(floor.to_vec(), vec![-55.0, -55.0, -50.0, -50.0, -50.0]);
    }
}
