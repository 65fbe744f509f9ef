//! ggml `Q8_0` quantization: blocks of 32 weights, one f16 scale each.
//!
//! Layout of one block, as ggml 0.9.5 defines `block_q8_0`: the scale
//! `d = max|x| / 127` as little-endian f16, then 32 signed bytes
//! `round(x / d)`. A row's length must be a multiple of 32.

use std::str::FromStr;

use super::error::Error;

/// Weights per `Q8_0` block.
pub const BLOCK_LEN: usize = 32;
/// Bytes per `Q8_0` block: a 2-byte scale and 32 quantized values.
pub const BLOCK_BYTES: usize = 2 + BLOCK_LEN;

/// Weight format of the linear layers and token embedding in the output file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeightType {
    /// IEEE half precision (whisper.cpp ftype 1).
    #[default]
    F16,
    /// 8-bit blocks with an f16 scale (whisper.cpp ftype 7, `MOSTLY_Q8_0`).
    Q8_0,
}

impl FromStr for WeightType {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        match text.to_ascii_lowercase().as_str() {
            "f16" => Ok(WeightType::F16),
            "q8_0" => Ok(WeightType::Q8_0),
            _ => Err(Error::UnsupportedQuantization(text.to_owned())),
        }
    }
}

/// Quantizes values whose count is a multiple of [`BLOCK_LEN`] into `Q8_0` blocks.
///
/// Returns `None` when the count is not a multiple of the block length.
pub fn quantize_q8_0(values: &[f32]) -> Option<Vec<u8>> {
    if values.len() % BLOCK_LEN != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(values.len() / BLOCK_LEN * BLOCK_BYTES);
    for block in values.chunks_exact(BLOCK_LEN) {
        let max_abs = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let scale = max_abs / 127.0;
        let inverse = if scale > 0.0 { 1.0 / scale } else { 0.0 };
        out.extend(half::f16::from_f32(scale).to_le_bytes());
        out.extend(block.iter().map(|v| (v * inverse).round() as i8 as u8));
    }
    Some(out)
}

/// Expands `Q8_0` blocks back to `f32`.
pub fn dequantize_q8_0(bytes: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(bytes.len() / BLOCK_BYTES * BLOCK_LEN);
    for block in bytes.chunks_exact(BLOCK_BYTES) {
        let scale = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
        out.extend(block[2..].iter().map(|&q| f32::from(q as i8) * scale));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i as f32 * 0.37).sin() * 0.8) + (i % 7) as f32 * 0.01)
            .collect()
    }

    #[test]
    fn round_trip_within_half_step() {
        let values = ramp(4 * BLOCK_LEN);

        let bytes = quantize_q8_0(&values).expect("whole blocks");
        let restored = dequantize_q8_0(&bytes);

        assert_eq!(bytes.len(), 4 * BLOCK_BYTES);
        assert_eq!(restored.len(), values.len());
        for (block, chunk) in values.chunks(BLOCK_LEN).zip(restored.chunks(BLOCK_LEN)) {
            let max_abs = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            // Half a quantization step, plus the f16 rounding of the scale.
            let bound = max_abs / 127.0 * 0.5 + max_abs * 1e-3;
            for (v, r) in block.iter().zip(chunk) {
                assert!((v - r).abs() <= bound, "{v} vs {r}, bound {bound}");
            }
        }
    }

    #[test]
    fn zero_block_stays_zero() {
        let bytes = quantize_q8_0(&[0.0; BLOCK_LEN]).expect("whole block");

        assert_eq!(dequantize_q8_0(&bytes), vec![0.0; BLOCK_LEN]);
    }

    #[test]
    fn extreme_value_maps_to_127() {
        let mut values = vec![0.1f32; BLOCK_LEN];
        values[5] = -2.0;

        let bytes = quantize_q8_0(&values).expect("whole block");

        assert_eq!(bytes[2 + 5] as i8, -127);
    }

    #[test]
    fn partial_block_is_rejected() {
        assert!(quantize_q8_0(&[1.0; 33]).is_none());
    }

    #[test]
    fn weight_type_parses_names() {
        assert_eq!("q8_0".parse::<WeightType>().ok(), Some(WeightType::Q8_0));
        assert_eq!("F16".parse::<WeightType>().ok(), Some(WeightType::F16));
        assert!("q4_0".parse::<WeightType>().is_err());
    }
}
