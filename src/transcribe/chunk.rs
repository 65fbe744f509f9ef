//! Cutting long audio into Whisper-sized chunks at pauses, and removing
//! repetition loops from decoded text.

use crate::audio::vad::SpeechRegion;

/// Longest chunk handed to Whisper, which decodes 30 s windows.
pub(super) const MAX_CHUNK_MS: u64 = 28_000;
/// Audio kept before and after detected speech so that onsets survive.
pub(super) const PADDING_MS: u64 = 300;

/// A span of the input, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Chunk {
    pub(super) start_ms: u64,
    pub(super) end_ms: u64,
}

/// Groups speech regions into chunks of at most `MAX_CHUNK_MS`, each cut in
/// a pause where one exists; a region longer than that is split evenly.
pub(super) fn plan_chunks(regions: &[SpeechRegion], duration_ms: u64) -> Vec<Chunk> {
    let mut chunks: Vec<Chunk> = Vec::new();
    for region in split_long_regions(regions) {
        let start = region.start_ms.saturating_sub(PADDING_MS);
        let end = (region.end_ms + PADDING_MS).min(duration_ms);
        match chunks.last_mut() {
            Some(last) if end - last.start_ms <= MAX_CHUNK_MS => last.end_ms = end,
            _ => chunks.push(Chunk {
                start_ms: start.max(chunks.last().map_or(0, |c| c.end_ms)),
                end_ms: end,
            }),
        }
    }
    chunks.retain(|c| c.end_ms > c.start_ms);
    chunks
}

fn split_long_regions(regions: &[SpeechRegion]) -> Vec<SpeechRegion> {
    let limit = MAX_CHUNK_MS - 2 * PADDING_MS;
    let mut out = Vec::with_capacity(regions.len());
    for region in regions {
        let length = region.end_ms.saturating_sub(region.start_ms);
        let pieces = length.div_ceil(limit).max(1);
        let step = length.div_ceil(pieces);
        for i in 0..pieces {
            let start_ms = region.start_ms + i * step;
            let end_ms = (start_ms + step).min(region.end_ms);
            out.push(SpeechRegion { start_ms, end_ms });
        }
    }
    out
}

/// Returns how many leading words to keep so that a phrase repeated three or
/// more times in a row (a decoding loop) is kept once.
pub(super) fn words_before_loop(words: &[&str]) -> usize {
    const MAX_PERIOD: usize = 8;
    const MIN_REPEATS: usize = 3;

    for start in 0..words.len() {
        for period in 1..=MAX_PERIOD {
            let repeats = count_repeats(&words[start..], period);
            if repeats >= MIN_REPEATS {
                return start + period;
            }
        }
    }
    words.len()
}

fn count_repeats(words: &[&str], period: usize) -> usize {
    if words.len() < period * 2 {
        return 1;
    }
    let unit = &words[..period];
    let same = |a: &str, b: &str| normalise(a) == normalise(b);
    let mut repeats = 1;
    while words.len() >= (repeats + 1) * period
        && words[repeats * period..(repeats + 1) * period]
            .iter()
            .zip(unit)
            .all(|(a, b)| same(a, b))
    {
        repeats += 1;
    }
    repeats
}

fn normalise(word: &str) -> String {
    word.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(start_ms: u64, end_ms: u64) -> SpeechRegion {
        SpeechRegion { start_ms, end_ms }
    }

    #[test]
    fn short_speech_is_one_padded_chunk() {
        let chunks = plan_chunks(&[region(1000, 3000), region(4000, 6000)], 10_000);

        assert_eq!(
            chunks,
            vec![Chunk {
                start_ms: 700,
                end_ms: 6300
            }]
        );
    }

    #[test]
    fn long_speech_is_cut_in_pauses() {
        let regions: Vec<_> = (0..10)
            .map(|i| region(i * 10_000, i * 10_000 + 8_000))
            .collect();

        let chunks = plan_chunks(&regions, 100_000);

        assert!(chunks.len() >= 4);
        assert!(chunks.iter().all(|c| c.end_ms - c.start_ms <= MAX_CHUNK_MS));
        assert!(chunks.windows(2).all(|w| w[0].end_ms <= w[1].start_ms));
    }

    #[test]
    fn one_long_region_is_split() {
        let chunks = plan_chunks(&[region(0, 70_000)], 70_000);

        assert!(chunks.len() >= 3);
        assert!(chunks.iter().all(|c| c.end_ms - c.start_ms <= MAX_CHUNK_MS));
        assert_eq!(chunks.last().map(|c| c.end_ms), Some(70_000));
    }

    #[test]
    fn decoding_loop_is_cut() {
        let words = ["we", "can", "help", "you", "you", "you", "you", "you"];

        assert_eq!(words_before_loop(&words), 4);
    }

    #[test]
    fn ordinary_text_is_kept() {
        let words = [
            "ask", "not", "what", "your", "country", "can", "do", "for", "you",
        ];

        assert_eq!(words_before_loop(&words), words.len());
    }
}
