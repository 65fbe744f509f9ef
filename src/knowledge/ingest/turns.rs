//! Speaker turns of a call from voice activity and transcript words.
//!
//! In a two-channel call each party has a channel, so a turn is a run of
//! speech regions on one channel that the other channel does not
//! interrupt. A mono call has no speaker information: a pause of at least
//! [`MONO_TURN_GAP_MS`] starts a new turn, and which party spoke is left
//! open, so those turns are estimates. [`answer_pairs`] then pairs each
//! customer line that matched a scenario with the answer turn after it.

use serde::Serialize;

use super::CustomerTurn;
use crate::audio::vad::SpeechRegion;
use crate::transcribe::Transcript;

/// Pause that ends a turn in a mono call, in ms. Taken from the 800 ms pause
/// that `scripts/synth-snippets.sh` puts between a customer line and the
/// answer, less a margin. Pauses inside one speaker's turn can be as long.
pub const MONO_TURN_GAP_MS: u64 = 600;
/// Time that a word may reach outside its turn and still belong to it, in
/// ms, because Whisper's token timestamps drift from the audio.
const WORD_SLACK_MS: u64 = 250;

/// Party that speaks in a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    /// The customer channel of a two-channel call.
    Customer,
    /// The rep channel of a two-channel call.
    Rep,
    /// Either party, because mono calls carry no speaker information.
    Unknown,
}

/// One stretch of speech by one party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Turn {
    /// Who speaks.
    pub speaker: Speaker,
    /// Start of the first speech region, in ms from the start of the call.
    pub start_ms: u64,
    /// End of the last speech region, in ms from the start of the call.
    pub end_ms: u64,
    /// Transcribed words of the turn.
    pub text: String,
}

/// Builds the turns of a two-channel call in time order, without text.
pub fn stereo_turns(customer: &[SpeechRegion], rep: &[SpeechRegion]) -> Vec<Turn> {
    let mut regions: Vec<(Speaker, SpeechRegion)> = customer
        .iter()
        .map(|r| (Speaker::Customer, *r))
        .chain(rep.iter().map(|r| (Speaker::Rep, *r)))
        .collect();
    regions.sort_by_key(|(speaker, r)| (r.start_ms, *speaker == Speaker::Rep));
    let mut turns: Vec<Turn> = Vec::new();
    for (speaker, region) in regions {
        match turns.last_mut() {
            Some(last) if last.speaker == speaker => last.end_ms = last.end_ms.max(region.end_ms),
            _ => turns.push(empty_turn(speaker, region)),
        }
    }
    turns
}

/// Builds the estimated turns of a mono call: regions closer than `gap_ms`
/// join one turn.
pub fn mono_turns(regions: &[SpeechRegion], gap_ms: u64) -> Vec<Turn> {
    let mut turns: Vec<Turn> = Vec::new();
    for region in regions {
        match turns.last_mut() {
            Some(last) if region.start_ms < last.end_ms + gap_ms => last.end_ms = region.end_ms,
            _ => turns.push(empty_turn(Speaker::Unknown, *region)),
        }
    }
    turns
}

fn empty_turn(speaker: Speaker, region: SpeechRegion) -> Turn {
    Turn {
        speaker,
        start_ms: region.start_ms,
        end_ms: region.end_ms,
        text: String::new(),
    }
}

/// Returns the transcript words whose midpoint lies in `start_ms..end_ms`
/// (widened by the timestamp slack), joined as the language writes them.
/// Segments without word timings count as one word.
pub fn words_between(transcript: &Transcript, start_ms: u64, end_ms: u64) -> String {
    let from = start_ms.saturating_sub(WORD_SLACK_MS);
    let to = end_ms + WORD_SLACK_MS;
    let inside = |start: u64, end: u64| (from..to).contains(&((start + end) / 2));
    let mut words: Vec<&str> = Vec::new();
    for segment in &transcript.segments {
        if segment.words.is_empty() {
            if inside(segment.start_ms, segment.end_ms) {
                words.push(segment.text.trim());
            }
            continue;
        }
        let timed = segment
            .words
            .iter()
            .filter(|w| inside(w.start_ms, w.end_ms));
        words.extend(timed.map(|w| w.text.trim()));
    }
    let separator = if transcript.language == "zh" { "" } else { " " };
    words.retain(|w| !w.is_empty());
    words.join(separator)
}

/// A matched customer turn and the answer turn that follows it.
pub(crate) struct Pair {
    pub(crate) scenario: String,
    pub(crate) answer: Turn,
}

/// Pairs each matched customer turn with the next rep turn (the next turn
/// in a mono call). In a mono call a turn used as an answer is not also
/// taken as a customer line.
pub(crate) fn answer_pairs(
    turns: &[Turn],
    customers: &[CustomerTurn],
    estimated: bool,
) -> Vec<Pair> {
    let mut pairs = Vec::new();
    let mut used_until_ms = 0;
    for customer in customers {
        let Some(scenario) = &customer.scenario else {
            continue;
        };
        if estimated && customer.turn.start_ms < used_until_ms {
            continue;
        }
        let next = turns.iter().find(|t| {
            t.start_ms >= customer.turn.end_ms && (estimated || t.speaker == Speaker::Rep)
        });
        let Some(answer) = next else { continue };
        // A rep turn that the customer's next line precedes belongs to that line.
        if !estimated
            && turns.iter().any(|t| {
                t.speaker == Speaker::Customer
                    && t.start_ms > customer.turn.start_ms
                    && t.start_ms < answer.start_ms
            })
        {
            continue;
        }
        used_until_ms = answer.end_ms;
        pairs.push(Pair {
            scenario: scenario.clone(),
            answer: answer.clone(),
        });
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcribe::{Segment, Word};

    fn region(start_ms: u64, end_ms: u64) -> SpeechRegion {
        SpeechRegion { start_ms, end_ms }
    }

    fn word(text: &str, start_ms: u64, end_ms: u64) -> Word {
        Word {
            start_ms,
            end_ms,
            text: text.into(),
            probability: 0.9,
        }
    }

    #[test]
    fn stereo_regions_alternate_speakers() {
        let customer = [region(0, 1000), region(1300, 2000), region(6000, 7000)];
        let rep = [region(2600, 4000), region(4500, 5500)];

        let turns = stereo_turns(&customer, &rep);

        let spans: Vec<(Speaker, u64, u64)> = turns
            .iter()
            .map(|t| (t.speaker, t.start_ms, t.end_ms))
            .collect();
        assert_eq!(
            spans,
            vec![
                (Speaker::Customer, 0, 2000),
                (Speaker::Rep, 2600, 5500),
                (Speaker::Customer, 6000, 7000),
            ]
        );
    }

    #[test]
    fn mono_pause_splits_turns() {
        let regions = [region(0, 1000), region(1200, 2000), region(2900, 4000)];

        let turns = mono_turns(&regions, MONO_TURN_GAP_MS);

        assert_eq!(turns.len(), 2);
        assert_eq!((turns[0].start_ms, turns[0].end_ms), (0, 2000));
        assert_eq!(turns[1].speaker, Speaker::Unknown);
    }

    #[test]
    fn words_assigned_by_midpoint() {
        let transcript = Transcript {
            language: "en".into(),
            duration_ms: 5000,
            no_speech: false,
            text: String::new(),
            segments: vec![Segment {
                start_ms: 0,
                end_ms: 5000,
                text: "too expensive sure".into(),
                words: vec![
                    word("too", 100, 400),
                    word("expensive", 400, 1000),
                    word("sure", 3000, 3400),
                ],
            }],
        };

        assert_eq!(words_between(&transcript, 0, 1200), "too expensive");
        assert_eq!(words_between(&transcript, 2900, 3500), "sure");
    }
    #[test]
    fn matched_line_pairs_with_next_rep_turn() {
        let customer = [region(0, 1000), region(9000, 9500)];
        let rep = [region(1500, 8000)];
        let turns = stereo_turns(&customer, &rep);
        let classified: Vec<CustomerTurn> = turns
            .iter()
            .filter(|t| t.speaker == Speaker::Customer)
            .enumerate()
            .map(|(i, t)| CustomerTurn {
                turn: t.clone(),
                scenario: (i == 0).then(|| "price_too_expensive".to_string()),
                score: 0.5,
            })
            .collect();

        let pairs = answer_pairs(&turns, &classified, false);

        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].scenario, "price_too_expensive");
        assert_eq!(
            (pairs[0].answer.start_ms, pairs[0].answer.end_ms),
            (1500, 8000)
        );
    }
}
