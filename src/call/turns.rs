//! Speaker turns of a call, from the speech regions of each channel or, in
//! a mono recording, from the pauses between regions.
//!
//! A stereo turn is a run of one speaker's regions that no region of the
//! other speaker starts inside. A mono turn is a run of regions separated
//! by pauses shorter than [`TURN_PAUSE_MS`]; who speaks is then estimated.

use serde::{Deserialize, Serialize};

use crate::audio::vad::SpeechRegion;
use crate::transcribe::{Segment, Transcript, Word};

/// Pause that ends a turn in a mono recording, in milliseconds. Pauses
/// inside one speaker's speech are mostly shorter; a turn gap may be
/// shorter too, so mono turns are an estimate.
pub const TURN_PAUSE_MS: u64 = 700;

/// Who speaks in a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    /// The customer.
    Customer,
    /// The sales rep.
    Rep,
}

impl Speaker {
    /// Returns the other party.
    pub fn other(self) -> Speaker {
        match self {
            Speaker::Customer => Speaker::Rep,
            Speaker::Rep => Speaker::Customer,
        }
    }
}

/// One speaker's stretch of speech before the other speaker takes over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// Position in the call, from 0.
    pub index: usize,
    /// Who speaks.
    pub speaker: Speaker,
    /// Start of the first speech region, in milliseconds.
    pub start_ms: u64,
    /// End of the last speech region, in milliseconds.
    pub end_ms: u64,
    /// Total duration of the turn's speech regions, in milliseconds.
    pub speech_ms: u64,
    /// Transcript text of the turn.
    pub text: String,
}

/// A turn's time span and speech regions, before text is attached.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnSpan {
    /// Who speaks, when known.
    pub speaker: Option<Speaker>,
    /// The turn's speech regions, in time order.
    pub regions: Vec<SpeechRegion>,
}

impl TurnSpan {
    /// Returns the start of the first region.
    pub fn start_ms(&self) -> u64 {
        self.regions.first().map_or(0, |r| r.start_ms)
    }

    /// Returns the end of the last region.
    pub fn end_ms(&self) -> u64 {
        self.regions.iter().map(|r| r.end_ms).max().unwrap_or(0)
    }

    /// Returns the summed duration of the regions.
    pub fn speech_ms(&self) -> u64 {
        self.regions.iter().map(SpeechRegion::duration_ms).sum()
    }
}

/// Builds turns from the regions of the customer and the rep channels.
pub fn turns_from_channels(customer: &[SpeechRegion], rep: &[SpeechRegion]) -> Vec<TurnSpan> {
    let mut all: Vec<(SpeechRegion, Speaker)> = customer
        .iter()
        .map(|r| (*r, Speaker::Customer))
        .chain(rep.iter().map(|r| (*r, Speaker::Rep)))
        .collect();
    all.sort_by_key(|(r, speaker)| (r.start_ms, *speaker == Speaker::Rep));

    let mut turns: Vec<TurnSpan> = Vec::new();
    for (region, speaker) in all {
        match turns.last_mut() {
            Some(last) if last.speaker == Some(speaker) => last.regions.push(region),
            _ => turns.push(TurnSpan {
                speaker: Some(speaker),
                regions: vec![region],
            }),
        }
    }
    turns
}

/// Builds turns of unknown speakers from one channel's regions, cut at
/// pauses of at least `pause_ms`.
pub fn turns_from_pauses(regions: &[SpeechRegion], pause_ms: u64) -> Vec<TurnSpan> {
    let mut turns: Vec<TurnSpan> = Vec::new();
    for region in regions {
        match turns.last_mut() {
            Some(last) if region.start_ms.saturating_sub(last.end_ms()) < pause_ms => {
                last.regions.push(*region);
            }
            _ => turns.push(TurnSpan {
                speaker: None,
                regions: vec![*region],
            }),
        }
    }
    turns
}

/// Assigns alternating speakers to mono turns. The first turn is the
/// customer's unless more rep-position turns than customer-position turns
/// read as customer lines (`customer_like`, one flag per turn).
pub fn alternate_speakers(turns: &mut [TurnSpan], customer_like: &[bool]) {
    let even = customer_like.iter().step_by(2).filter(|c| **c).count();
    let odd = customer_like
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|c| **c)
        .count();
    let first = if odd > even {
        Speaker::Rep
    } else {
        Speaker::Customer
    };
    let mut speaker = first;
    for turn in turns {
        turn.speaker = Some(speaker);
        speaker = speaker.other();
    }
}

/// Splits a transcript into one transcript per span. Each word goes to the
/// span that contains its midpoint, or else to the nearest span; times stay
/// on the call's clock.
pub fn split_transcript(transcript: &Transcript, spans: &[(u64, u64)]) -> Vec<Transcript> {
    let mut parts: Vec<Vec<Segment>> = vec![Vec::new(); spans.len()];
    for segment in &transcript.segments {
        let mut words_by_span: Vec<Vec<Word>> = vec![Vec::new(); spans.len()];
        for word in &segment.words {
            if let Some(index) = nearest_span(spans, (word.start_ms + word.end_ms) / 2) {
                words_by_span[index].push(word.clone());
            }
        }
        for (index, words) in words_by_span.into_iter().enumerate() {
            if let Some(segment) = segment_of(words, &transcript.language) {
                parts[index].push(segment);
            }
        }
    }
    parts
        .into_iter()
        .zip(spans)
        .map(|(segments, (_, end_ms))| transcript_of(&transcript.language, *end_ms, segments))
        .collect()
}

fn nearest_span(spans: &[(u64, u64)], at_ms: u64) -> Option<usize> {
    let distance = |(start, end): (u64, u64)| {
        if at_ms < start {
            start - at_ms
        } else {
            at_ms.saturating_sub(end)
        }
    };
    (0..spans.len()).min_by_key(|i| distance(spans[*i]))
}

fn segment_of(words: Vec<Word>, language: &str) -> Option<Segment> {
    let start_ms = words.first()?.start_ms;
    let end_ms = words.iter().map(|w| w.end_ms).max().unwrap_or(start_ms);
    let separator = if language == "zh" { "" } else { " " };
    let text = words
        .iter()
        .map(|w| w.text.trim())
        .collect::<Vec<_>>()
        .join(separator);
    Some(Segment {
        start_ms,
        end_ms,
        text: text.trim().to_string(),
        words,
    })
}

fn transcript_of(language: &str, end_ms: u64, segments: Vec<Segment>) -> Transcript {
    if segments.is_empty() {
        return Transcript::silent(language, end_ms);
    }
    let separator = if language == "zh" { "" } else { " " };
    let text = segments
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join(separator);
    Transcript {
        language: language.to_string(),
        duration_ms: end_ms,
        no_speech: false,
        text,
        segments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(start_ms: u64, end_ms: u64) -> SpeechRegion {
        SpeechRegion { start_ms, end_ms }
    }

    #[test]
    fn channels_alternate_into_turns() {
        let customer = [region(0, 1000), region(1300, 3800)];
        let rep = [region(5000, 7000), region(7400, 12000)];

        let turns = turns_from_channels(&customer, &rep);

        assert_eq!(turns.len(), 2);
        assert_eq!(turns[0].end_ms(), 3800);
        assert_eq!(turns[1].start_ms(), 5000);
        assert_eq!(turns[1].speaker, Some(Speaker::Rep));
    }

    #[test]
    fn pauses_cut_mono_turns() {
        let regions = [region(0, 1000), region(1300, 3800), region(5000, 9000)];

        let turns = turns_from_pauses(&regions, TURN_PAUSE_MS);

        assert_eq!(turns.len(), 2);
        assert_eq!(turns[1].start_ms(), 5000);
    }

    #[test]
    fn customer_lines_choose_first_speaker() {
        let regions = [region(0, 1000), region(2000, 3000), region(4000, 5000)];
        let mut turns = turns_from_pauses(&regions, TURN_PAUSE_MS);

        alternate_speakers(&mut turns, &[false, true, false]);

        assert_eq!(turns[0].speaker, Some(Speaker::Rep));
        assert_eq!(turns[1].speaker, Some(Speaker::Customer));
    }

    #[test]
    fn words_split_by_midpoint() {
        let word = |start_ms, text: &str| Word {
            start_ms,
            end_ms: start_ms + 200,
            text: text.to_string(),
            probability: 1.0,
        };
        let transcript = Transcript {
            language: "en".into(),
            duration_ms: 6000,
            no_speech: false,
            text: "too expensive let us compare".into(),
            segments: vec![Segment {
                start_ms: 0,
                end_ms: 6000,
                text: "too expensive let us compare".into(),
                words: vec![
                    word(100, "too"),
                    word(500, "expensive"),
                    word(5000, "compare"),
                ],
            }],
        };

        let parts = split_transcript(&transcript, &[(0, 1000), (4800, 6000)]);

        assert_eq!(parts[0].text, "too expensive");
        assert_eq!(parts[1].text, "compare");
        assert!(!parts[1].no_speech);
    }
}
