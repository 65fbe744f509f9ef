//! Entry points that pick a decoder by content, check the limits and
//! resample the result to 16 kHz.

use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use tracing::{debug, info};

use super::{compressed, io_error, resample, wav};
use super::{Audio, DecodeLimits, Error, Result, SourceInfo};
use super::{MAX_CHANNELS, MAX_SOURCE_RATE_HZ, MIN_SOURCE_RATE_HZ};

/// Bytes read to recognise the container.
const SNIFF_LEN: usize = 16;

/// Channels at the source rate with facts about the source.
pub(super) struct Decoded {
    pub(super) channels: Vec<Vec<f32>>,
    pub(super) info: SourceInfo,
}

/// Decodes an audio file of any supported format into 16 kHz channels.
///
/// The content decides the decoder; the file extension is passed to the
/// container probe only as a hint.
///
/// # Errors
///
/// Returns [`Error::Io`] when the file cannot be read, and the errors of
/// [`decode_bytes`] for its content.
pub fn decode_file(path: &Path, limits: &DecodeLimits) -> Result<Audio> {
    let mut file = File::open(path).map_err(|err| io_error(path, err))?;
    let file_len = file.metadata().map_err(|err| io_error(path, err))?.len();
    let prefix = read_prefix(&mut file).map_err(|err| io_error(path, err))?;
    let extension = path.extension().and_then(|e| e.to_str());
    debug!(path = %path.display(), file_len, "decoding audio file");

    let mut decoded = None;
    let container = container_of(&prefix);
    if container == "wav" {
        decoded = decode_wav(&mut file, file_len, limits)?;
        file.seek(SeekFrom::Start(0))
            .map_err(|err| io_error(path, err))?;
    }
    let decoded = match decoded {
        Some(decoded) => decoded,
        None => compressed::decode(Box::new(file), container, extension, &prefix, limits)?,
    };
    finish(decoded, limits)
}

/// Decodes an in-memory audio file of any supported format into 16 kHz channels.
///
/// # Errors
///
/// Returns [`Error::NotAudio`] for unknown content, [`Error::Corrupt`] for a
/// damaged container, [`Error::NoSamples`], [`Error::TooShort`] and
/// [`Error::TooLong`] for the duration limits, and
/// [`Error::UnsupportedCodec`], [`Error::UnsupportedChannels`] or
/// [`Error::UnsupportedSampleRate`] for streams this module cannot convert.
pub fn decode_bytes(
    bytes: &[u8],
    extension_hint: Option<&str>,
    limits: &DecodeLimits,
) -> Result<Audio> {
    let prefix = &bytes[..bytes.len().min(SNIFF_LEN)];
    let container = container_of(prefix);
    let mut decoded = None;
    if container == "wav" {
        decoded = decode_wav(&mut Cursor::new(bytes), bytes.len() as u64, limits)?;
    }
    let decoded = match decoded {
        Some(decoded) => decoded,
        None => {
            let source = Box::new(Cursor::new(bytes.to_vec()));
            compressed::decode(source, container, extension_hint, prefix, limits)?
        }
    };
    finish(decoded, limits)
}

/// Decodes a WAV file with the chunk walker, or returns `None` for an
/// ADPCM file that symphonia decodes instead.
fn decode_wav<R: Read + Seek>(
    reader: &mut R,
    file_len: u64,
    limits: &DecodeLimits,
) -> Result<Option<Decoded>> {
    let layout = match wav::parse(reader, file_len)? {
        wav::Parsed::Pcm(layout) => layout,
        wav::Parsed::Adpcm(tag) => {
            debug!(tag, "passing ADPCM WAV to symphonia");
            return Ok(None);
        }
    };
    check_declared_frames(layout.frames(), layout.sample_rate_hz, limits)?;
    let data = wav::read_data(reader, &layout)?;
    let info = SourceInfo {
        container: "wav".to_string(),
        codec: layout.encoding.codec_name(),
        sample_rate_hz: layout.sample_rate_hz,
        channels: layout.channels,
        bits_per_sample: Some(layout.bits_per_sample),
        truncated: layout.truncated,
    };
    Ok(Some(Decoded {
        channels: wav::convert(&layout, &data),
        info,
    }))
}

fn read_prefix(file: &mut File) -> std::io::Result<Vec<u8>> {
    let mut prefix = Vec::with_capacity(SNIFF_LEN);
    file.by_ref()
        .take(SNIFF_LEN as u64)
        .read_to_end(&mut prefix)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(prefix)
}

/// Returns the container name that the first bytes announce, or `unknown`.
fn container_of(prefix: &[u8]) -> &'static str {
    let starts = |magic: &[u8]| prefix.starts_with(magic);
    if wav::is_wav(prefix) {
        "wav"
    } else if starts(b"fLaC") {
        "flac"
    } else if starts(b"OggS") {
        "ogg"
    } else if prefix.len() >= 8 && &prefix[4..8] == b"ftyp" {
        "mp4"
    } else if starts(b"ID3") || (prefix.len() >= 2 && prefix[0] == 0xFF && prefix[1] & 0xE0 == 0xE0)
    {
        "mp3"
    } else {
        "unknown"
    }
}

/// Checks the sample rate and channel count from a header.
pub(super) fn check_format(rate_hz: u32, channels: usize) -> Result<()> {
    if !(MIN_SOURCE_RATE_HZ..=MAX_SOURCE_RATE_HZ).contains(&rate_hz) {
        return Err(Error::UnsupportedSampleRate { rate_hz });
    }
    if channels == 0 || channels > MAX_CHANNELS {
        return Err(Error::UnsupportedChannels { channels });
    }
    Ok(())
}

/// Rejects a stream whose declared length already exceeds the maximum duration.
pub(super) fn check_declared_frames(
    frames: u64,
    rate_hz: u32,
    limits: &DecodeLimits,
) -> Result<()> {
    let duration_ms = frames.saturating_mul(1000) / u64::from(rate_hz.max(1));
    if duration_ms > limits.max_duration_ms {
        return Err(Error::TooLong {
            duration_ms,
            max_ms: limits.max_duration_ms,
        });
    }
    Ok(())
}

/// Renders bytes as hex followed by their printable ASCII, for error messages.
pub(super) fn describe_bytes(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "none, the input is empty".to_string();
    }
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let ascii: String = bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            }
        })
        .collect();
    format!("{} \"{ascii}\"", hex.join(" "))
}

/// Checks the decoded length against the limits and resamples to 16 kHz.
fn finish(decoded: Decoded, limits: &DecodeLimits) -> Result<Audio> {
    let Decoded { channels, info } = decoded;
    let frames = channels.first().map_or(0, Vec::len) as u64;
    if frames == 0 {
        return Err(Error::NoSamples);
    }
    let duration_ms = frames * 1000 / u64::from(info.sample_rate_hz);
    if duration_ms < limits.min_duration_ms {
        return Err(Error::TooShort {
            duration_ms,
            min_ms: limits.min_duration_ms,
        });
    }
    if duration_ms > limits.max_duration_ms {
        return Err(Error::TooLong {
            duration_ms,
            max_ms: limits.max_duration_ms,
        });
    }

    let channels = resample::to_16k(channels, info.sample_rate_hz)?;
    info!(
        container = %info.container,
        codec = %info.codec,
        rate_hz = info.sample_rate_hz,
        channels = info.channels,
        duration_ms,
        truncated = info.truncated,
        "decoded audio"
    );
    Ok(Audio::with_source(channels, info))
}
