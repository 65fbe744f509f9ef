//! Audio input: decodes every supported recording format into 16 kHz `f32`
//! channels for transcription and voice activity detection.
//!
//! [`decode_file`] and [`decode_bytes`] return an [`Audio`], which keeps
//! every channel of the source (a stereo call keeps one party per channel)
//! resampled to [`SAMPLE_RATE_HZ`]. [`Audio::mono`] mixes them down.
//!
//! WAV files go through our own RIFF chunk walker (`wav`), because call
//! systems write variants that `hound` 3.5 rejects: G.711 mu-law and A-law,
//! extra chunks, data lengths that are not a multiple of the frame size and
//! files cut short. FLAC, MP3, Ogg Vorbis and MP4/AAC go through symphonia
//! (`compressed`). Resampling uses rubato's FFT resampler (`resample`).
//! [`vad`] finds speech regions in one 16 kHz channel.
//!
//! This module is the first step of the flow: its output feeds
//! `transcribe` and the latency measurement in `scoring`.

use std::path::{Path, PathBuf};

mod compressed;
mod decode;
mod g711;
mod resample;
pub mod vad;
mod wav;
mod write;

pub use decode::{decode_bytes, decode_file};
pub use write::write_wav_16k;

/// Sample rate of every channel in an [`Audio`], in Hz.
pub const SAMPLE_RATE_HZ: u32 = 16_000;
/// Lowest accepted source sample rate, in Hz (narrowband telephony).
pub const MIN_SOURCE_RATE_HZ: u32 = 8_000;
/// Highest accepted source sample rate, in Hz.
pub const MAX_SOURCE_RATE_HZ: u32 = 48_000;
/// Highest accepted channel count.
pub const MAX_CHANNELS: usize = 8;

/// Result of the audio functions.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Failure to read, decode, check or write audio.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read.
    #[error("failed to read audio file {path}: {source}")]
    Io {
        /// File that failed.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The bytes match no supported audio container.
    #[error(
        "input is not a supported audio file (first bytes: {first_bytes}); \
         expected WAV, FLAC, MP3, Ogg Vorbis or M4A"
    )]
    NotAudio {
        /// Hex and ASCII rendering of the first 16 bytes.
        first_bytes: String,
    },
    /// The container or stream is damaged in a way that leaves nothing to decode.
    #[error("audio is truncated or corrupt: {detail}")]
    Corrupt {
        /// Description of the damage, with the offending value.
        detail: String,
    },
    /// The stream decoded to zero samples.
    #[error("audio contains zero samples")]
    NoSamples,
    /// The recording is shorter than [`DecodeLimits::min_duration_ms`].
    #[error("audio is {duration_ms} ms long, shorter than the minimum of {min_ms} ms")]
    TooShort {
        /// Decoded duration in milliseconds.
        duration_ms: u64,
        /// Configured minimum in milliseconds.
        min_ms: u64,
    },
    /// The recording is longer than [`DecodeLimits::max_duration_ms`].
    #[error(
        "audio is {duration_ms} ms long, longer than the maximum of {max_ms} ms; \
         split the recording or raise the limit"
    )]
    TooLong {
        /// Duration in milliseconds, from the header or from the samples decoded so far.
        duration_ms: u64,
        /// Configured maximum in milliseconds.
        max_ms: u64,
    },
    /// The codec inside the container is not supported.
    #[error("unsupported audio codec: {codec}; convert the file to PCM WAV or FLAC")]
    UnsupportedCodec {
        /// Codec name or WAVE format tag.
        codec: String,
    },
    /// The stream has no channels or more than [`MAX_CHANNELS`].
    #[error("unsupported channel count {channels}; expected 1 to {MAX_CHANNELS}")]
    UnsupportedChannels {
        /// Channel count from the header.
        channels: usize,
    },
    /// The sample rate is outside [`MIN_SOURCE_RATE_HZ`] to [`MAX_SOURCE_RATE_HZ`].
    #[error(
        "unsupported sample rate {rate_hz} Hz; expected {MIN_SOURCE_RATE_HZ} to \
         {MAX_SOURCE_RATE_HZ} Hz"
    )]
    UnsupportedSampleRate {
        /// Sample rate from the header, in Hz.
        rate_hz: u32,
    },
    /// The resampler could not be built or failed while running.
    #[error("failed to resample from {rate_hz} Hz to 16000 Hz: {detail}")]
    Resample {
        /// Source sample rate in Hz.
        rate_hz: u32,
        /// Message from the resampler.
        detail: String,
    },
    /// Writing a WAV file failed.
    #[error("failed to write WAV file {path}: {detail}")]
    Write {
        /// Destination file.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
}

/// Facts about the source recording before conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    /// Container format: `wav`, `flac`, `mp3`, `ogg`, `mp4` or `memory`.
    pub container: String,
    /// Codec name, such as `pcm_s16le`, `pcm_mulaw`, `flac`, `aac` or `vorbis`.
    pub codec: String,
    /// Sample rate of the source in Hz.
    pub sample_rate_hz: u32,
    /// Channel count of the source.
    pub channels: usize,
    /// Bits per sample where the format has them (PCM, FLAC); `None` for lossy codecs.
    pub bits_per_sample: Option<u32>,
    /// Whether the file ended before the length its header declared.
    pub truncated: bool,
}

/// Duration limits checked while decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Shortest accepted recording in milliseconds; default 100.
    pub min_duration_ms: u64,
    /// Longest accepted recording in milliseconds; default 2 hours.
    pub max_duration_ms: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            min_duration_ms: 100,
            max_duration_ms: 2 * 60 * 60 * 1000,
        }
    }
}

/// Decoded recording: every channel at 16 kHz, samples in [-1, 1].
#[derive(Debug, Clone)]
pub struct Audio {
    channels: Vec<Vec<f32>>,
    source: SourceInfo,
}

impl Audio {
    /// Wraps one channel that is already at 16 kHz.
    pub fn from_mono_16k(samples: Vec<f32>) -> Audio {
        Audio::from_channels_16k(vec![samples])
    }

    /// Wraps channels that are already at 16 kHz; shorter channels are
    /// padded with silence to the length of the longest.
    pub fn from_channels_16k(mut channels: Vec<Vec<f32>>) -> Audio {
        let frames = channels.iter().map(Vec::len).max().unwrap_or(0);
        for channel in &mut channels {
            channel.resize(frames, 0.0);
        }
        let source = SourceInfo {
            container: "memory".to_string(),
            codec: "pcm_f32".to_string(),
            sample_rate_hz: SAMPLE_RATE_HZ,
            channels: channels.len(),
            bits_per_sample: Some(32),
            truncated: false,
        };
        Audio { channels, source }
    }

    pub(crate) fn with_source(channels: Vec<Vec<f32>>, source: SourceInfo) -> Audio {
        Audio { channels, source }
    }

    /// Returns the number of channels.
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Returns one channel's samples, or `None` when `index` is out of range.
    pub fn channel(&self, index: usize) -> Option<&[f32]> {
        self.channels.get(index).map(Vec::as_slice)
    }

    /// Mixes all channels down to one by averaging them.
    pub fn mono(&self) -> Vec<f32> {
        match self.channels.as_slice() {
            [] => Vec::new(),
            [only] => only.clone(),
            all => {
                let scale = 1.0 / all.len() as f32;
                (0..self.frame_count())
                    .map(|i| all.iter().map(|c| c[i]).sum::<f32>() * scale)
                    .collect()
            }
        }
    }

    /// Returns the number of samples in each channel.
    pub fn frame_count(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    /// Returns the duration in whole milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.frame_count() as u64 * 1000 / u64::from(SAMPLE_RATE_HZ)
    }

    /// Returns facts about the source recording.
    pub fn source(&self) -> &SourceInfo {
        &self.source
    }
}

/// Builds an [`Error::Io`] for `path`.
fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}
