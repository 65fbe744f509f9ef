//! Slaney mel filterbank, as Whisper computes its log-mel input.
//!
//! Equal to `librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)` (librosa
//! 0.10 defaults: Slaney mel scale, Slaney area normalisation, f32 output),
//! which is how OpenAI Whisper built its `mel_filters.npz`. The CTranslate2
//! files do not carry the filterbank, so the converter computes it.

/// Sample rate the filterbank is built for.
pub const SAMPLE_RATE_HZ: f64 = 16_000.0;
/// FFT length: 25 ms windows at 16 kHz.
pub const N_FFT: usize = 400;
/// Number of frequency bins of a real FFT of `N_FFT` samples.
pub const N_FREQS: usize = N_FFT / 2 + 1;

/// Slaney scale: linear at 200/3 Hz per mel below 1 kHz.
const LINEAR_HZ_PER_MEL: f64 = 200.0 / 3.0;
/// Slaney scale: start of the logarithmic part.
const LOG_START_HZ: f64 = 1000.0;
/// Mel value at `LOG_START_HZ`.
const LOG_START_MEL: f64 = LOG_START_HZ / LINEAR_HZ_PER_MEL;

/// Slaney scale: mels per natural-log step above 1 kHz is 27 / ln(6.4).
fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

/// Converts a frequency to the Slaney mel scale.
pub fn hz_to_mel(hz: f64) -> f64 {
    if hz >= LOG_START_HZ {
        LOG_START_MEL + (hz / LOG_START_HZ).ln() / log_step()
    } else {
        hz / LINEAR_HZ_PER_MEL
    }
}

/// Converts a Slaney mel value back to a frequency.
pub fn mel_to_hz(mel: f64) -> f64 {
    if mel >= LOG_START_MEL {
        LOG_START_HZ * (log_step() * (mel - LOG_START_MEL)).exp()
    } else {
        mel * LINEAR_HZ_PER_MEL
    }
}

/// Computes the `n_mels × N_FREQS` filterbank, row-major (one row per mel band).
///
/// Each band is a triangle between neighbouring mel points from 0 Hz to the
/// Nyquist frequency, scaled by `2 / (f_upper - f_lower)` so its area is one.
pub fn filterbank(n_mels: usize) -> Vec<f32> {
    let top_mel = hz_to_mel(SAMPLE_RATE_HZ / 2.0);
    let points: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(top_mel * i as f64 / (n_mels + 1) as f64))
        .collect();
    let bin_hz = |bin: usize| bin as f64 * SAMPLE_RATE_HZ / N_FFT as f64;

    let mut weights = Vec::with_capacity(n_mels * N_FREQS);
    for band in 0..n_mels {
        let (lower, centre, upper) = (points[band], points[band + 1], points[band + 2]);
        let area_norm = 2.0 / (upper - lower);
        for bin in 0..N_FREQS {
            let hz = bin_hz(bin);
            let rising = (hz - lower) / (centre - lower);
            let falling = (upper - hz) / (upper - centre);
            weights.push((rising.min(falling).max(0.0) * area_norm) as f32);
        }
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;

    const N_MELS: usize = 80;

    fn row(bank: &[f32], band: usize) -> &[f32] {
        &bank[band * N_FREQS..(band + 1) * N_FREQS]
    }

    #[test]
    fn mel_scale_round_trips() {
        for hz in [0.0, 100.0, 999.0, 1000.0, 4000.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9, "{hz} Hz");
        }
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(6400.0) - 42.0).abs() < 1e-9);
    }

    #[test]
    fn filterbank_has_whisper_shape() {
        let bank = filterbank(N_MELS);

        assert_eq!(bank.len(), 80 * 201);
        assert!(bank.iter().all(|w| *w >= 0.0));
        assert!((0..N_MELS).all(|band| row(&bank, band).iter().any(|w| *w > 0.0)));
    }

    #[test]
    fn first_band_matches_slaney_formula() {
        // Band 0 spans 0 Hz to 2 * step Hz, where step = 45.245640 mel / 81
        // in the linear part; bin 1 (40 Hz) sits on its falling edge.
        let step_hz = hz_to_mel(8000.0) / 81.0 * LINEAR_HZ_PER_MEL;
        let expected = (2.0 * step_hz - 40.0) / step_hz * (2.0 / (2.0 * step_hz));

        let bank = filterbank(N_MELS);

        assert!((hz_to_mel(8000.0) - 45.245640).abs() < 1e-6);
        assert!(
            (f64::from(bank[1]) - expected).abs() < 1e-7,
            "{} vs {expected}",
            bank[1]
        );
        assert!((bank[1] - 0.024_862_6).abs() < 1e-6, "{}", bank[1]);
        assert_eq!(bank[0], 0.0);
        assert_eq!(bank[2], 0.0);
    }

    #[test]
    fn bands_have_unit_area() {
        let bank = filterbank(N_MELS);
        let bin_hz = SAMPLE_RATE_HZ as f32 / N_FFT as f32;

        // Each continuous triangle has area one. Sampling it every 40 Hz
        // moves a single band's sum by up to 8% but averages out over bands.
        let areas: Vec<f32> = (0..N_MELS)
            .map(|band| row(&bank, band).iter().sum::<f32>() * bin_hz)
            .collect();
        let mean = areas.iter().sum::<f32>() / N_MELS as f32;

        for (band, area) in areas.iter().enumerate() {
            assert!((area - 1.0).abs() < 0.1, "band {band} area {area}");
        }
        assert!((mean - 1.0).abs() < 0.01, "mean area {mean}");
    }

    #[test]
    fn peaks_rise_in_frequency() {
        let bank = filterbank(N_MELS);

        let peaks: Vec<usize> = (0..N_MELS)
            .map(|band| {
                let r = row(&bank, band);
                (0..N_FREQS)
                    .max_by(|&a, &b| r[a].total_cmp(&r[b]))
                    .unwrap_or(0)
            })
            .collect();

        assert!(peaks.windows(2).all(|w| w[0] <= w[1]), "{peaks:?}");
        assert!(peaks[N_MELS - 1] > 180);
    }
}
