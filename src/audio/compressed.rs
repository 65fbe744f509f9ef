//! FLAC, MP3, Ogg Vorbis, MP4/AAC and ADPCM WAV through symphonia 0.5.
//!
//! The container is probed by content; the file extension is only a hint.
//! The duration limit is checked against the track's frame count when the
//! container declares one, and again while packets decode, so an endless
//! or mislabelled stream stops at the limit.

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{self, CodecType, DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader, Track};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;
use tracing::{debug, warn};

use super::decode::{check_declared_frames, check_format, describe_bytes, Decoded};
use super::{DecodeLimits, Error, Result, SourceInfo};

/// Decodes the first audio track of `source`.
pub(super) fn decode(
    source: Box<dyn MediaSource>,
    container: &str,
    extension_hint: Option<&str>,
    first_bytes: &[u8],
    limits: &DecodeLimits,
) -> Result<Decoded> {
    let mut format = probe(source, extension_hint, first_bytes)?;
    let track = audio_track(format.as_ref())?;
    let params = track.codec_params.clone();
    let track_id = track.id;
    let codec = codec_name(params.codec);
    let registry = symphonia::default::get_codecs();
    let mut decoder = registry
        .make(&params, &DecoderOptions::default())
        .map_err(|_| Error::UnsupportedCodec {
            codec: codec.clone(),
        })?;
    let rate_hz = params
        .sample_rate
        .ok_or_else(|| corrupt(format!("{container} track declares no sample rate")))?;
    if let Some(channels) = params.channels {
        check_format(rate_hz, channels.count())?;
    }
    if let Some(frames) = params.n_frames {
        check_declared_frames(frames, rate_hz, limits)?;
    }
    debug!(container, codec, rate_hz, frames = ?params.n_frames, "decoding compressed audio");

    let max_frames = limits.max_duration_ms.saturating_mul(u64::from(rate_hz)) / 1000;
    let mut sink = Sink::default();
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(err))
                if err.kind() == std::io::ErrorKind::UnexpectedEof =>
            {
                break
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(err) if sink.frames() > 0 => {
                warn!(error = %err, "audio stream ends early; decoding what is present");
                sink.truncated = true;
                break;
            }
            Err(err) => return Err(corrupt(format!("failed to read {container} packet: {err}"))),
        };
        if packet.track_id() != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buffer) => sink.push(buffer)?,
            Err(SymphoniaError::DecodeError(msg)) => {
                sink.skipped_packets += 1;
                debug!(reason = msg, "skipping undecodable packet");
            }
            Err(SymphoniaError::IoError(_)) => {
                sink.truncated = true;
                break;
            }
            Err(err) => return Err(corrupt(format!("failed to decode {codec} packet: {err}"))),
        }
        if sink.frames() as u64 > max_frames {
            return Err(Error::TooLong {
                duration_ms: sink.frames() as u64 * 1000 / u64::from(rate_hz),
                max_ms: limits.max_duration_ms,
            });
        }
    }
    if sink.skipped_packets > 0 {
        warn!(
            skipped = sink.skipped_packets,
            "skipped undecodable packets"
        );
    }
    let info = SourceInfo {
        container: container.to_string(),
        codec,
        sample_rate_hz: rate_hz,
        channels: sink.channels.len(),
        bits_per_sample: params.bits_per_sample,
        truncated: sink.truncated,
    };
    Ok(Decoded {
        channels: sink.channels,
        info,
    })
}

fn probe(
    source: Box<dyn MediaSource>,
    extension_hint: Option<&str>,
    first_bytes: &[u8],
) -> Result<Box<dyn FormatReader>> {
    let stream = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(extension) = extension_hint {
        hint.with_extension(extension);
    }
    // Gapless mode trims encoder delay and padding where the container
    // declares them (the LAME tag of MP3, Ogg granule positions).
    // NOTE: symphonia 0.5 ignores MP4 edit lists, so AAC in M4A keeps its
    // encoder priming (1024 samples from ffmpeg) at the start.
    let options = FormatOptions {
        enable_gapless: true,
        ..FormatOptions::default()
    };
    let probed = symphonia::default::get_probe().format(
        &hint,
        stream,
        &options,
        &MetadataOptions::default(),
    );
    match probed {
        Ok(result) => Ok(result.format),
        Err(SymphoniaError::Unsupported(_)) => Err(Error::NotAudio {
            first_bytes: describe_bytes(first_bytes),
        }),
        Err(err) => Err(corrupt(format!("failed to read container: {err}"))),
    }
}

/// Returns the default track when it carries a codec, else the first one that does.
fn audio_track(format: &dyn FormatReader) -> Result<&Track> {
    let has_codec = |track: &&Track| track.codec_params.codec != CODEC_TYPE_NULL;
    format
        .default_track()
        .filter(has_codec)
        .or_else(|| format.tracks().iter().find(has_codec))
        .ok_or_else(|| corrupt("container holds no audio track".to_string()))
}

/// Returns symphonia's short name for a codec, or a name for common codecs it cannot decode.
fn codec_name(codec: CodecType) -> String {
    if let Some(descriptor) = symphonia::default::get_codecs().get_codec(codec) {
        return descriptor.short_name.to_string();
    }
    let known = [
        (codecs::CODEC_TYPE_OPUS, "opus"),
        (codecs::CODEC_TYPE_ALAC, "alac"),
        (codecs::CODEC_TYPE_SPEEX, "speex"),
        (codecs::CODEC_TYPE_EAC3, "eac3"),
        (codecs::CODEC_TYPE_WMA, "wma"),
        (codecs::CODEC_TYPE_WAVPACK, "wavpack"),
        (codecs::CODEC_TYPE_ADPCM_G722, "g722"),
        (codecs::CODEC_TYPE_ADPCM_G726, "g726"),
    ];
    known.iter().find(|(kind, _)| *kind == codec).map_or_else(
        || format!("codec id {codec}"),
        |(_, name)| (*name).to_string(),
    )
}

/// Planar samples collected from decoded packets.
#[derive(Default)]
struct Sink {
    channels: Vec<Vec<f32>>,
    buffer: Option<SampleBuffer<f32>>,
    skipped_packets: usize,
    truncated: bool,
}

impl Sink {
    fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    fn push(&mut self, decoded: symphonia::core::audio::AudioBufferRef<'_>) -> Result<()> {
        let spec = *decoded.spec();
        let count = spec.channels.count();
        if self.channels.is_empty() {
            check_format(spec.rate, count)?;
            self.channels = vec![Vec::new(); count];
        } else if count != self.channels.len() {
            return Err(corrupt(format!(
                "channel count changed from {} to {count} inside the stream",
                self.channels.len()
            )));
        }
        let capacity = decoded.capacity() as u64;
        let buffer = match &mut self.buffer {
            Some(buffer) if buffer.capacity() as u64 >= capacity * count as u64 => buffer,
            slot => slot.insert(SampleBuffer::new(capacity, spec)),
        };
        buffer.copy_interleaved_ref(decoded);
        for frame in buffer.samples().chunks_exact(count) {
            for (channel, sample) in self.channels.iter_mut().zip(frame) {
                channel.push(sample.clamp(-1.0, 1.0));
            }
        }
        Ok(())
    }
}

fn corrupt(detail: String) -> Error {
    Error::Corrupt { detail }
}
