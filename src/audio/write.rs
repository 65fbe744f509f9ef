//! Writes 16 kHz mono PCM16 WAV files with hound, through a temporary file
//! in the destination directory that is renamed into place, so a failed
//! write never leaves a partial file under the final name.

use std::io::BufWriter;
use std::path::Path;

use super::{Error, Result, SAMPLE_RATE_HZ};

/// Writes `samples` (16 kHz, [-1, 1], clamped) as a mono 16-bit PCM WAV file.
///
/// # Errors
///
/// Returns [`Error::Write`] when the directory is not writable, the disk is
/// full or the rename fails.
pub fn write_wav_16k(path: &Path, samples: &[f32]) -> Result<()> {
    let failure = |detail: String| Error::Write {
        path: path.to_path_buf(),
        detail,
    };
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let temp =
        tempfile::NamedTempFile::new_in(directory).map_err(|err| failure(err.to_string()))?;
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE_HZ,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };

    let file = temp.reopen().map_err(|err| failure(err.to_string()))?;
    let mut writer = hound::WavWriter::new(BufWriter::new(file), spec)
        .map_err(|err| failure(err.to_string()))?;
    for &sample in samples {
        let value = (sample.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16;
        writer
            .write_sample(value)
            .map_err(|err| failure(err.to_string()))?;
    }
    writer.finalize().map_err(|err| failure(err.to_string()))?;
    temp.persist(path)
        .map_err(|err| failure(err.error.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_wav_decodes_back() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("tone.wav");
        let samples: Vec<f32> = (0..8000).map(|i| ((i as f32) * 0.05).sin() * 0.5).collect();

        write_wav_16k(&path, &samples).expect("writing the WAV file");
        let audio = super::super::decode_file(&path, &Default::default()).expect("decoding it");

        let decoded = audio.channel(0).expect("one channel");
        assert_eq!(decoded.len(), samples.len());
        let max_error = decoded
            .iter()
            .zip(&samples)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(max_error < 1e-4, "max error {max_error}");
    }

    #[test]
    fn missing_directory_is_reported() {
        let result = write_wav_16k(Path::new("/nonexistent-dir/out.wav"), &[0.0; 10]);

        assert!(matches!(result, Err(Error::Write { .. })), "{result:?}");
    }
}
