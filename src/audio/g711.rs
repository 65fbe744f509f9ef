//! G.711 expansion (ITU-T Recommendation G.711, 1988): mu-law as used on
//! North American and Japanese telephone networks, A-law as used elsewhere.
//! WAV stores them with format tags 7 and 6, one byte per sample.

/// Bias added to the mu-law magnitude before the segment shift.
const MULAW_BIAS: i16 = 0x84;

/// Expands one mu-law byte to linear 16-bit PCM (range -32124 to 32124).
pub(super) fn mulaw_to_linear(byte: u8) -> i16 {
    let code = !byte;
    let exponent = (code >> 4) & 0x07;
    let mantissa = i16::from(code & 0x0F);
    let magnitude = (((mantissa << 3) + MULAW_BIAS) << exponent) - MULAW_BIAS;
    if code & 0x80 != 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// Expands one A-law byte to linear 16-bit PCM (range -32256 to 32256).
pub(super) fn alaw_to_linear(byte: u8) -> i16 {
    // Even bits are inverted on the line to keep enough transitions.
    let code = byte ^ 0x55;
    let exponent = (code >> 4) & 0x07;
    let mantissa = i16::from(code & 0x0F);
    let magnitude = match exponent {
        0 => (mantissa << 4) + 8,
        _ => ((mantissa << 4) + 0x108) << (exponent - 1),
    };
    // In A-law a set sign bit means a positive sample.
    if code & 0x80 != 0 {
        magnitude
    } else {
        -magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mulaw_known_codes_expand() {
        assert_eq!(mulaw_to_linear(0xFF), 0);
        assert_eq!(mulaw_to_linear(0x7F), 0);
        assert_eq!(mulaw_to_linear(0x80), 32124);
        assert_eq!(mulaw_to_linear(0x00), -32124);
    }

    #[test]
    fn alaw_known_codes_expand() {
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
    }

    #[test]
    fn mulaw_is_monotonic_per_sign() {
        // Codes 0x80..=0xFF run from the largest positive value down to zero.
        let positive: Vec<i16> = (0x80..=0xFFu8).map(mulaw_to_linear).collect();

        assert!(positive.windows(2).all(|pair| pair[0] >= pair[1]));
    }
}
