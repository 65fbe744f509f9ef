//! Band-limited conversion of any supported rate to 16 kHz with rubato
//! 0.16's windowed-sinc resampler (`SincFixedIn`).
//!
//! The anti-aliasing filter has its cutoff at [`PASSBAND_FRACTION`] of the
//! lower Nyquist frequency (7.2 kHz when downsampling to 16 kHz). It stops
//! content that would fold back, so a 12 kHz tone in a 48 kHz file does not
//! reappear at 4 kHz. Whisper's log-mel input only covers 0 to 8 kHz, and speech
//! carries little energy above 7 kHz. The output is aligned with the input
//! and trimmed to `ceil(frames * 16000 / rate)` samples, so time zero stays
//! time zero, which the latency measurement depends on.
//!
//! Cost: about 0.6 s per minute of 48 kHz audio and channel on one core
//! (x86-64 with AVX, `cargo test` profile with optimised dependencies);
//! channels run in parallel.

use rubato::{
    Resampler, SincFixedIn, SincInterpolationParameters, SincInterpolationType, WindowFunction,
};
use tracing::debug;

use super::{Error, Result, SAMPLE_RATE_HZ};

/// Input chunk per call, in frames.
const CHUNK_FRAMES: usize = 4096;
/// Filter cutoff as a fraction of the lower of the two Nyquist frequencies.
const PASSBAND_FRACTION: f32 = 0.9;
/// Windowed-sinc filter length in taps.
const SINC_TAPS: usize = 256;
/// Precomputed sub-sample filter phases; positions between them are interpolated linearly.
const OVERSAMPLING: usize = 256;

/// Resamples every channel from `rate_hz` to 16 kHz, one thread per
/// channel; a 16 kHz input is returned as is.
pub(super) fn to_16k(channels: Vec<Vec<f32>>, rate_hz: u32) -> Result<Vec<Vec<f32>>> {
    if rate_hz == SAMPLE_RATE_HZ || channels.is_empty() {
        return Ok(channels);
    }
    debug!(
        rate_hz,
        channels = channels.len(),
        frames = channels[0].len(),
        "resampling to 16 kHz"
    );
    std::thread::scope(|scope| {
        let workers: Vec<_> = channels
            .iter()
            .map(|channel| scope.spawn(move || resample_channel(channel, rate_hz)))
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker.join().unwrap_or_else(|_| {
                    Err(Error::Resample {
                        rate_hz,
                        detail: "resampler thread panicked".to_string(),
                    })
                })
            })
            .collect()
    })
}

/// Resamples one channel to exactly `ceil(len * 16000 / rate_hz)` samples.
///
/// rubato 0.16.2's `SincFixedIn` starts half a filter length before the
/// first input sample, so its first output sample is already aligned with
/// the first input sample and no delay is trimmed. The test
/// `impulse_keeps_its_position` checks this for every common rate.
fn resample_channel(samples: &[f32], rate_hz: u32) -> Result<Vec<f32>> {
    let failure = |detail: String| Error::Resample { rate_hz, detail };
    let frames = samples.len();
    let out_frames =
        (frames as u64 * u64::from(SAMPLE_RATE_HZ)).div_ceil(u64::from(rate_hz)) as usize;
    let parameters = SincInterpolationParameters {
        sinc_len: SINC_TAPS,
        f_cutoff: PASSBAND_FRACTION,
        oversampling_factor: OVERSAMPLING,
        interpolation: SincInterpolationType::Linear,
        window: WindowFunction::BlackmanHarris2,
    };
    let ratio = f64::from(SAMPLE_RATE_HZ) / f64::from(rate_hz);
    let mut resampler = SincFixedIn::<f32>::new(ratio, 1.0, parameters, CHUNK_FRAMES, 1)
        .map_err(|err| failure(err.to_string()))?;

    let mut output = Vec::with_capacity(out_frames + CHUNK_FRAMES);
    let mut position = 0;
    while output.len() < out_frames {
        let chunk = &samples[position.min(frames)..(position + CHUNK_FRAMES).min(frames)];
        let produced = if chunk.len() == CHUNK_FRAMES {
            resampler.process(&[chunk], None)
        } else if !chunk.is_empty() {
            resampler.process_partial(Some(&[chunk]), None)
        } else {
            // Zero input pushes the tail of the filter out.
            resampler.process_partial(None::<&[&[f32]]>, None)
        }
        .map_err(|err| failure(err.to_string()))?;
        output.extend(produced.into_iter().flatten().map(|s| s.clamp(-1.0, 1.0)));
        position += CHUNK_FRAMES;
    }
    output.truncate(out_frames);
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq_hz: f32, rate_hz: u32, seconds: f32) -> Vec<f32> {
        let frames = (rate_hz as f32 * seconds) as usize;
        (0..frames)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * freq_hz * i as f32 / rate_hz as f32).sin())
            .collect()
    }

    fn rms(samples: &[f32]) -> f32 {
        (samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32).sqrt()
    }

    #[test]
    fn output_length_matches_ratio() {
        for rate in [8000, 11025, 22050, 44100, 48000] {
            let input = vec![tone(440.0, rate, 1.5)];

            let output = to_16k(input, rate).expect("resampling a tone");

            assert_eq!(output[0].len(), 24_000, "rate {rate}");
        }
    }

    #[test]
    fn impulse_keeps_its_position() {
        for rate in [8000, 11025, 22050, 44100, 48000] {
            let mut input = vec![0.0f32; rate as usize];
            input[rate as usize / 2] = 1.0;

            let output = to_16k(vec![input], rate).expect("resampling an impulse");

            let peak = output[0]
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
                .map_or(0, |(i, _)| i);
            assert!(
                peak.abs_diff(8_000) <= 1,
                "rate {rate}: impulse moved to sample {peak}"
            );
        }
    }

    #[test]
    fn tone_amplitude_is_preserved() {
        let output = to_16k(vec![tone(1000.0, 8000, 1.0)], 8000).expect("upsampling");

        let level = rms(&output[0][1000..15_000]);
        assert!((level - 0.5 / 2f32.sqrt()).abs() < 0.01, "rms {level}");
    }

    #[test]
    fn tone_above_nyquist_is_removed() {
        // 12 kHz would alias to 4 kHz at 16 kHz without the filter.
        let output = to_16k(vec![tone(12_000.0, 48_000, 1.0)], 48_000).expect("downsampling");

        let level = rms(&output[0][1000..15_000]);
        assert!(level < 0.5e-3, "rms {level}");
    }

    #[test]
    fn passband_edge_rolls_off() {
        let passed = to_16k(vec![tone(7000.0, 48_000, 1.0)], 48_000).expect("7 kHz");
        let damped = to_16k(vec![tone(7500.0, 48_000, 1.0)], 48_000).expect("7.5 kHz");
        let stopped = to_16k(vec![tone(8500.0, 48_000, 1.0)], 48_000).expect("8.5 kHz");

        let full = 0.5 / 2f32.sqrt();
        assert!(
            rms(&passed[0][1000..15_000]) > full * 0.7,
            "7 kHz lost more than 3 dB"
        );
        assert!(
            rms(&damped[0][1000..15_000]) < full * 0.3,
            "7.5 kHz kept more than -10 dB"
        );
        assert!(
            rms(&stopped[0][1000..15_000]) < full * 1e-2,
            "8.5 kHz kept more than -40 dB"
        );
    }
}
