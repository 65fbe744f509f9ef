//! The call summary: talk ratio, longest monologue, questions asked,
//! scores per scenario and the moments a key phrase was said.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::turns::{Speaker, Turn};
use super::Exchange;

/// English words that open a question when they start a sentence.
const QUESTION_WORDS: [&str; 18] = [
    "what", "why", "how", "when", "where", "who", "which", "whose", "could", "would", "can", "do",
    "does", "did", "is", "are", "will", "should",
];
/// Mandarin sentence-final particles of a question.
const QUESTION_PARTICLES: [char; 3] = ['吗', '呢', '吧'];

/// A turn that talks longest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Monologue {
    /// Turn index.
    pub turn: usize,
    /// Who speaks.
    pub speaker: Speaker,
    /// Start of the turn, in milliseconds.
    pub start_ms: u64,
    /// Length of the turn from first to last speech, in milliseconds.
    pub duration_ms: u64,
}

/// A question the rep asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// Turn index.
    pub turn: usize,
    /// Start of the turn, in milliseconds.
    pub turn_start_ms: u64,
    /// The question's sentence.
    pub text: String,
}

/// Scores of the rep's answers in one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioScore {
    /// Scenario id.
    pub scenario_id: String,
    /// Mean overall score of the answers, 0 to 100.
    pub score: f64,
    /// Number of scored answers.
    pub answers: usize,
}

/// A key phrase the rep said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyMoment {
    /// Turn index of the rep's answer.
    pub turn: usize,
    /// Scenario of the customer's line.
    pub scenario_id: String,
    /// Strategy of the phrase.
    pub strategy_id: String,
    /// Canonical text of the phrase.
    pub phrase: String,
    /// The words as recognised.
    pub said: String,
    /// Start of the phrase on the call's clock, in milliseconds.
    pub start_ms: u64,
    /// End of the phrase, in milliseconds.
    pub end_ms: u64,
}

/// Summary of one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallSummary {
    /// Rep speech over all speech, 0 to 1.
    pub talk_ratio: f64,
    /// Rep speech, in milliseconds.
    pub rep_speech_ms: u64,
    /// Customer speech, in milliseconds.
    pub customer_speech_ms: u64,
    /// The rep's longest turn.
    pub longest_monologue: Option<Monologue>,
    /// The customer's longest turn.
    pub longest_customer_monologue: Option<Monologue>,
    /// Number of questions the rep asked.
    pub questions_asked: usize,
    /// The questions, in call order.
    pub questions: Vec<Question>,
    /// Mean score per scenario, by scenario id.
    pub scenario_scores: Vec<ScenarioScore>,
    /// Key phrases the rep said in scored answers, in call order.
    pub key_moments: Vec<KeyMoment>,
}

/// Summarises turns and exchanges.
pub fn summarize(turns: &[Turn], exchanges: &[Exchange]) -> CallSummary {
    let speech = |who: Speaker| -> u64 {
        turns
            .iter()
            .filter(|t| t.speaker == who)
            .map(|t| t.speech_ms)
            .sum()
    };
    let (rep_speech_ms, customer_speech_ms) = (speech(Speaker::Rep), speech(Speaker::Customer));
    let total = rep_speech_ms + customer_speech_ms;
    let questions: Vec<Question> = turns
        .iter()
        .filter(|t| t.speaker == Speaker::Rep)
        .flat_map(|t| {
            sentences(&t.text)
                .into_iter()
                .filter(|s| is_question(s))
                .map(|s| Question {
                    turn: t.index,
                    turn_start_ms: t.start_ms,
                    text: s,
                })
        })
        .collect();
    CallSummary {
        talk_ratio: if total == 0 {
            0.0
        } else {
            rep_speech_ms as f64 / total as f64
        },
        rep_speech_ms,
        customer_speech_ms,
        longest_monologue: longest(turns, Speaker::Rep),
        longest_customer_monologue: longest(turns, Speaker::Customer),
        questions_asked: questions.len(),
        questions,
        scenario_scores: scenario_scores(exchanges),
        key_moments: key_moments(exchanges),
    }
}

fn longest(turns: &[Turn], speaker: Speaker) -> Option<Monologue> {
    turns
        .iter()
        .filter(|t| t.speaker == speaker)
        .max_by_key(|t| (t.end_ms - t.start_ms, std::cmp::Reverse(t.index)))
        .map(|t| Monologue {
            turn: t.index,
            speaker,
            start_ms: t.start_ms,
            duration_ms: t.end_ms - t.start_ms,
        })
}

/// Splits text into sentences after `.`, `!`, `?` and their full-width forms,
/// keeping the end mark.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        current.push(c);
        if matches!(c, '.' | '!' | '?' | '。' | '！' | '？') {
            out.push(current.trim().to_string());
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out.retain(|s| s.chars().any(char::is_alphanumeric));
    out
}

/// Returns whether a sentence is a question: it ends with `?` or `？`,
/// starts with an English question word, or ends with 吗, 呢 or 吧.
pub fn is_question(sentence: &str) -> bool {
    let trimmed = sentence.trim();
    if trimmed.ends_with('?') || trimmed.ends_with('？') {
        return true;
    }
    let core = trimmed.trim_end_matches(|c: char| !c.is_alphanumeric());
    if core.ends_with(QUESTION_PARTICLES) {
        return true;
    }
    let first = core
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .next()
        .unwrap_or_default()
        .to_lowercase();
    QUESTION_WORDS.contains(&first.as_str())
}

fn scenario_scores(exchanges: &[Exchange]) -> Vec<ScenarioScore> {
    let mut sums: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    for exchange in exchanges {
        if let (Some(matched), Some(score)) = (&exchange.scenario, &exchange.score) {
            let entry = sums.entry(matched.scenario_id.as_str()).or_default();
            entry.0 += score.overall.score;
            entry.1 += 1;
        }
    }
    sums.into_iter()
        .map(|(id, (sum, answers))| ScenarioScore {
            scenario_id: id.to_string(),
            score: (sum / answers as f64 * 10.0).round() / 10.0,
            answers,
        })
        .collect()
}

fn key_moments(exchanges: &[Exchange]) -> Vec<KeyMoment> {
    let mut moments = Vec::new();
    for exchange in exchanges {
        let (Some(matched), Some(score), Some(turn)) =
            (&exchange.scenario, &exchange.score, exchange.rep_turn)
        else {
            continue;
        };
        let Some(best) = score.coverage.best() else {
            continue;
        };
        for phrase in &best.phrases {
            if let Some(occurrence) = &phrase.occurrence {
                moments.push(KeyMoment {
                    turn,
                    scenario_id: matched.scenario_id.clone(),
                    strategy_id: best.strategy_id.clone(),
                    phrase: phrase.phrase.clone(),
                    said: occurrence.words.join(" "),
                    start_ms: occurrence.start_ms,
                    end_ms: occurrence.end_ms,
                });
            }
        }
    }
    moments.sort_by_key(|m| m.start_ms);
    moments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_mark_counts() {
        assert!(is_question("So the budget is fixed?"));
        assert!(is_question("您觉得呢"));
        assert!(is_question("价格还会是主要顾虑吗。"));
        assert!(is_question("What did you have in mind."));
        assert!(!is_question("I understand the price feels high."));
        assert!(!is_question("我们可以一起算一下。"));
    }

    #[test]
    fn sentences_keep_end_marks() {
        let parts = sentences("I see. What number did you expect? 好的。");

        assert_eq!(
            parts,
            vec!["I see.", "What number did you expect?", "好的。"]
        );
    }

    #[test]
    fn talk_ratio_uses_speech_time() {
        let turn = |index, speaker, speech_ms| Turn {
            index,
            speaker,
            start_ms: 0,
            end_ms: speech_ms,
            speech_ms,
            text: String::new(),
        };
        let turns = [
            turn(0, Speaker::Customer, 1000),
            turn(1, Speaker::Rep, 3000),
        ];

        let summary = summarize(&turns, &[]);

        assert!((summary.talk_ratio - 0.75).abs() < 1e-9);
        assert_eq!(summary.longest_monologue.map(|m| m.turn), Some(1));
    }
}
