//! RIFF/WAVE chunk walker and sample converter.
//!
//! It reads the chunk headers only, so the duration limit can be checked
//! before the sample data is loaded. It accepts the variants that call
//! recorders write. The `fmt ` chunk may be 16, 18 or 40 bytes long, and
//! WAVE_FORMAT_EXTENSIBLE (tag 0xFFFE) carries the real tag in the first two
//! bytes of its subformat GUID. LIST, JUNK, fact and cue chunks may appear
//! anywhere, and odd chunk sizes are followed by a pad byte. A partial frame
//! at the end of the data is dropped. A data chunk that declares more bytes
//! than the file contains is decoded as far as the file goes.

use std::io::{Read, Seek, SeekFrom};

use tracing::{debug, warn};

use super::{g711, Error, Result};

const TAG_PCM: u16 = 0x0001;
const TAG_MS_ADPCM: u16 = 0x0002;
const TAG_IEEE_FLOAT: u16 = 0x0003;
const TAG_ALAW: u16 = 0x0006;
const TAG_MULAW: u16 = 0x0007;
const TAG_IMA_ADPCM: u16 = 0x0011;
const TAG_EXTENSIBLE: u16 = 0xFFFE;
/// Bytes 2..16 of every standard KSDATAFORMAT_SUBTYPE GUID.
const GUID_SUFFIX: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];
/// Data sizes that streaming writers put in the header when the length is unknown.
const UNKNOWN_SIZES: [u32; 2] = [0xFFFF_FFFF, 0x7FFF_FFFF];

/// Sample encoding of a WAV data chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    /// Unsigned 8-bit PCM with 128 as zero.
    Unsigned8,
    /// Signed little-endian PCM in a container of this many bytes (2 to 4).
    Signed(usize),
    /// IEEE float of this many bytes (4 or 8).
    Float(usize),
    /// G.711 mu-law, one byte per sample.
    MuLaw,
    /// G.711 A-law, one byte per sample.
    ALaw,
}

impl Encoding {
    /// Returns a codec name in ffmpeg's spelling.
    pub(super) fn codec_name(self) -> String {
        match self {
            Encoding::Unsigned8 => "pcm_u8".to_string(),
            Encoding::Signed(bytes) => format!("pcm_s{}le", bytes * 8),
            Encoding::Float(bytes) => format!("pcm_f{}le", bytes * 8),
            Encoding::MuLaw => "pcm_mulaw".to_string(),
            Encoding::ALaw => "pcm_alaw".to_string(),
        }
    }
}

/// Layout of a WAV file whose samples this module can convert.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    pub(super) encoding: Encoding,
    pub(super) channels: usize,
    pub(super) sample_rate_hz: u32,
    pub(super) bits_per_sample: u32,
    pub(super) block_align: usize,
    pub(super) data_offset: u64,
    /// Bytes of sample data present in the file, a whole number of frames.
    pub(super) data_len: u64,
    /// Whether the data chunk declared more bytes than the file contains.
    pub(super) truncated: bool,
}

impl Layout {
    /// Returns the number of whole frames in the data chunk.
    pub(super) fn frames(&self) -> u64 {
        self.data_len / self.block_align as u64
    }
}

/// Result of the chunk walk.
#[derive(Debug)]
pub(super) enum Parsed {
    /// A format this module converts itself.
    Pcm(Layout),
    /// An ADPCM format that symphonia decodes, with its format tag.
    Adpcm(u16),
}

/// Raw fields of the `fmt ` chunk.
struct Fmt {
    tag: u16,
    channels: usize,
    sample_rate_hz: u32,
    block_align: usize,
    bits_per_sample: u32,
}

/// Returns whether `prefix` starts a RIFF/WAVE file.
pub(super) fn is_wav(prefix: &[u8]) -> bool {
    prefix.len() >= 12 && &prefix[0..4] == b"RIFF" && &prefix[8..12] == b"WAVE"
}

/// Walks the chunks of a WAV file of `file_len` bytes and returns its layout.
pub(super) fn parse<R: Read + Seek>(reader: &mut R, file_len: u64) -> Result<Parsed> {
    let mut fmt = None;
    let mut data = None;
    let mut offset = 12u64;
    while offset + 8 <= file_len {
        let (id, size) = read_chunk_header(reader, offset)?;
        let body = offset + 8;
        let declared = u64::from(size);
        debug!(chunk = %String::from_utf8_lossy(&id), offset, size, "wav chunk");
        if &id == b"fmt " {
            fmt = Some(read_fmt(reader, body, declared.min(file_len - body))?);
        } else if &id == b"data" {
            let open_ended = UNKNOWN_SIZES.contains(&size);
            let available = file_len - body;
            if open_ended || declared > available {
                data = Some((body, available, !open_ended));
                break;
            }
            data = Some((body, declared, false));
        }
        offset = body + declared + (declared & 1);
    }
    let fmt = fmt.ok_or_else(|| corrupt("WAV file has no fmt chunk".to_string()))?;
    let (data_offset, data_len, truncated) =
        data.ok_or_else(|| corrupt("WAV file has no data chunk".to_string()))?;
    layout(&fmt, data_offset, data_len, truncated)
}

fn read_chunk_header<R: Read + Seek>(reader: &mut R, offset: u64) -> Result<([u8; 4], u32)> {
    let mut header = [0u8; 8];
    seek_read(reader, offset, &mut header)?;
    let id = [header[0], header[1], header[2], header[3]];
    let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    Ok((id, size))
}

fn read_fmt<R: Read + Seek>(reader: &mut R, offset: u64, len: u64) -> Result<Fmt> {
    if len < 16 {
        return Err(corrupt(format!(
            "WAV fmt chunk is {len} bytes, expected at least 16"
        )));
    }
    let mut raw = vec![0u8; len.min(64) as usize];
    seek_read(reader, offset, &mut raw)?;
    let u16_at = |i: usize| u16::from_le_bytes([raw[i], raw[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([raw[i], raw[i + 1], raw[i + 2], raw[i + 3]]);
    let mut tag = u16_at(0);
    if tag == TAG_EXTENSIBLE {
        tag = extensible_subformat(&raw)?;
    }
    Ok(Fmt {
        tag,
        channels: usize::from(u16_at(2)),
        sample_rate_hz: u32_at(4),
        block_align: usize::from(u16_at(12)),
        bits_per_sample: u32::from(u16_at(14)),
    })
}

/// Returns the format tag stored in the subformat GUID of an extensible `fmt ` chunk.
fn extensible_subformat(raw: &[u8]) -> Result<u16> {
    if raw.len() < 40 {
        return Err(corrupt(format!(
            "WAVE_FORMAT_EXTENSIBLE fmt chunk is {} bytes, expected 40",
            raw.len()
        )));
    }
    let guid = &raw[24..40];
    if guid[2..16] != GUID_SUFFIX {
        let hex: String = guid.iter().map(|b| format!("{b:02x}")).collect();
        return Err(Error::UnsupportedCodec {
            codec: format!("WAVE subformat GUID {hex}"),
        });
    }
    Ok(u16::from_le_bytes([guid[0], guid[1]]))
}

fn layout(fmt: &Fmt, data_offset: u64, data_len: u64, truncated: bool) -> Result<Parsed> {
    if fmt.tag == TAG_MS_ADPCM || fmt.tag == TAG_IMA_ADPCM {
        return Ok(Parsed::Adpcm(fmt.tag));
    }
    super::decode::check_format(fmt.sample_rate_hz, fmt.channels)?;
    let block_align = frame_size(fmt)?;
    let bytes = block_align / fmt.channels;
    let encoding = encoding(fmt.tag, bytes, fmt.bits_per_sample)?;
    let partial = data_len % block_align as u64;
    if partial != 0 {
        debug!(
            data_len,
            block_align, partial, "dropping partial frame at end of WAV data"
        );
    }
    if truncated {
        warn!(
            data_offset,
            available = data_len,
            "WAV data chunk is cut short; decoding what is present"
        );
    }
    Ok(Parsed::Pcm(Layout {
        encoding,
        channels: fmt.channels,
        sample_rate_hz: fmt.sample_rate_hz,
        bits_per_sample: fmt.bits_per_sample,
        block_align,
        data_offset,
        data_len: data_len - partial,
        truncated,
    }))
}

/// Returns the frame size in bytes, derived from the bit depth when
/// `block_align` is zero or not a multiple of the channel count.
fn frame_size(fmt: &Fmt) -> Result<usize> {
    if fmt.block_align != 0 && fmt.block_align % fmt.channels == 0 {
        return Ok(fmt.block_align);
    }
    let bytes = (fmt.bits_per_sample as usize).div_ceil(8);
    if bytes == 0 {
        return Err(corrupt(format!(
            "WAV fmt chunk has block_align {} and bits_per_sample 0",
            fmt.block_align
        )));
    }
    debug!(
        block_align = fmt.block_align,
        bytes, "deriving WAV frame size from bit depth"
    );
    Ok(bytes * fmt.channels)
}

fn encoding(tag: u16, bytes: usize, bits: u32) -> Result<Encoding> {
    match (tag, bytes) {
        (TAG_PCM, 1) => Ok(Encoding::Unsigned8),
        (TAG_PCM, 2..=4) => Ok(Encoding::Signed(bytes)),
        (TAG_IEEE_FLOAT, 4 | 8) => Ok(Encoding::Float(bytes)),
        (TAG_MULAW, 1) => Ok(Encoding::MuLaw),
        (TAG_ALAW, 1) => Ok(Encoding::ALaw),
        (TAG_PCM | TAG_IEEE_FLOAT | TAG_MULAW | TAG_ALAW, _) => Err(Error::UnsupportedCodec {
            codec: format!(
                "WAVE format tag {tag:#06x} ({}) with {bits}-bit samples \
                 in {bytes}-byte containers",
                tag_name(tag)
            ),
        }),
        _ => Err(Error::UnsupportedCodec {
            codec: format!("WAVE format tag {tag:#06x} ({})", tag_name(tag)),
        }),
    }
}

/// Returns the usual name of a WAVE format tag.
fn tag_name(tag: u16) -> &'static str {
    match tag {
        TAG_PCM => "PCM",
        TAG_IEEE_FLOAT => "IEEE float",
        TAG_ALAW => "G.711 A-law",
        TAG_MULAW => "G.711 mu-law",
        0x0031 => "GSM 6.10",
        0x0040 | 0x0064 => "G.721 ADPCM",
        0x0045 => "G.726 ADPCM",
        0x0050 => "MPEG",
        0x0055 => "MPEG layer 3",
        0x0161..=0x0163 => "Windows Media Audio",
        0x1610 => "AAC",
        _ => "unknown",
    }
}

/// Converts little-endian frames to one `f32` vector per channel.
pub(super) fn convert(layout: &Layout, data: &[u8]) -> Vec<Vec<f32>> {
    let frames = data.len() / layout.block_align;
    let width = layout.block_align / layout.channels;
    let mut channels = vec![Vec::with_capacity(frames); layout.channels];
    for frame in data.chunks_exact(layout.block_align) {
        for (channel, sample) in channels.iter_mut().zip(frame.chunks_exact(width)) {
            channel.push(convert_sample(layout.encoding, sample));
        }
    }
    channels
}

fn convert_sample(encoding: Encoding, bytes: &[u8]) -> f32 {
    match encoding {
        Encoding::Unsigned8 => (f32::from(bytes[0]) - 128.0) / 128.0,
        Encoding::Signed(width) => {
            // Left-justify into an i32 so every container width scales alike.
            let mut word = [0u8; 4];
            word[4 - width..].copy_from_slice(&bytes[..width]);
            i32::from_le_bytes(word) as f32 / 2_147_483_648.0
        }
        Encoding::Float(4) => {
            clean_float(f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        }
        Encoding::Float(_) => {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[..8]);
            clean_float(f64::from_le_bytes(word) as f32)
        }
        Encoding::MuLaw => f32::from(g711::mulaw_to_linear(bytes[0])) / 32768.0,
        Encoding::ALaw => f32::from(g711::alaw_to_linear(bytes[0])) / 32768.0,
    }
}

/// Clamps a float sample to [-1, 1] and maps NaN to silence.
fn clean_float(sample: f32) -> f32 {
    if sample.is_nan() {
        0.0
    } else {
        sample.clamp(-1.0, 1.0)
    }
}

/// Reads the sample data that `layout` describes.
pub(super) fn read_data<R: Read + Seek>(reader: &mut R, layout: &Layout) -> Result<Vec<u8>> {
    let len = usize::try_from(layout.data_len).map_err(|_| {
        corrupt(format!(
            "WAV data chunk of {} bytes does not fit in memory",
            layout.data_len
        ))
    })?;
    let mut data = vec![0u8; len];
    seek_read(reader, layout.data_offset, &mut data)?;
    Ok(data)
}

fn seek_read<R: Read + Seek>(reader: &mut R, offset: u64, buf: &mut [u8]) -> Result<()> {
    let result = reader
        .seek(SeekFrom::Start(offset))
        .and_then(|_| reader.read_exact(buf));
    result.map_err(|err| {
        corrupt(format!(
            "failed to read {} bytes at offset {offset}: {err}",
            buf.len()
        ))
    })
}

fn corrupt(detail: String) -> Error {
    Error::Corrupt { detail }
}
