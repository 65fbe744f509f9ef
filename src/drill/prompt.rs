//! What a drill shows the rep: the customer's line as text and as a stretch
//! of a corpus recording, and the time allowed for the answer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::draw::Draw;
use crate::knowledge::{snippet_path, Scenario, SNIPPET_TIMES_FILE};
use crate::language::Language;
use crate::skill::Dimension;

/// Longest answer a drill allows, in milliseconds (5 minutes).
pub const ANSWER_LIMIT_MS: u64 = 300_000;

/// A stretch of a corpus recording in which the customer speaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerAudio {
    /// The recording: the corpus directory joined with the snippet path.
    pub path: PathBuf,
    /// Start of the customer's line in the recording, in milliseconds.
    pub start_ms: u64,
    /// End of the customer's line in the recording, in milliseconds.
    pub end_ms: u64,
}

/// The drill of one day for one rep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrillPrompt {
    /// The rep.
    pub rep_id: String,
    /// Day of the drill, `YYYY-MM-DD`.
    pub date: String,
    /// Drawn scenario.
    pub scenario_id: String,
    /// Scenario title in `language`.
    pub title: String,
    /// Language of the customer's line.
    pub language: Language,
    /// Skill dimensions the scenario exercises.
    pub dimensions: Vec<Dimension>,
    /// What the customer says.
    pub customer_line: String,
    /// The customer's line in a corpus recording, when audio was generated.
    pub customer_audio: Option<CustomerAudio>,
    /// Longest answer allowed, in milliseconds.
    pub answer_limit_ms: u64,
    /// Target response latency after the line: `min_ms`, `max_ms`,
    /// `top_seller_ms`.
    pub latency: crate::knowledge::LatencyBand,
    /// Weight of the drawn scenario and the reasons for it.
    pub draw: Draw,
}

/// Builds the prompt for a drawn scenario.
///
/// The strategy whose recording supplies the customer audio is chosen from
/// the draw's variant seed. Its trigger line is trigger number `i` of the
/// language for strategy number `i`, as the snippet generator pairs them.
pub fn build_prompt(
    rep_id: &str,
    date: time::Date,
    scenario: &Scenario,
    language: Language,
    draw: Draw,
    corpus_dir: &Path,
) -> DrillPrompt {
    let triggers: Vec<&str> = scenario
        .triggers
        .iter()
        .filter(|t| t.lang == language)
        .map(|t| t.text.as_str())
        .collect();
    let strategies = scenario.strategies.len().max(1);
    let index = (draw.variant_seed % strategies as u64) as usize;
    let customer_line = match triggers.len() {
        0 => String::new(),
        n => triggers[index % n].to_string(),
    };
    let customer_audio = scenario
        .strategies
        .get(index)
        .and_then(|s| customer_audio(corpus_dir, &scenario.id, &s.id, language));
    let title = match language {
        Language::En => scenario.title_en.clone(),
        Language::Zh => scenario.title_zh.clone(),
    };
    DrillPrompt {
        rep_id: rep_id.to_string(),
        date: crate::store::date_text(date),
        scenario_id: scenario.id.clone(),
        title,
        language,
        dimensions: scenario.dimensions.clone(),
        customer_line,
        customer_audio,
        answer_limit_ms: ANSWER_LIMIT_MS,
        latency: scenario.latency,
        draw,
    }
}

#[derive(Debug, Deserialize)]
struct TimesFile {
    #[serde(default)]
    snippet: Vec<TimedSnippet>,
}

#[derive(Debug, Deserialize)]
struct TimedSnippet {
    audio: String,
    trigger_end_ms: Option<u64>,
}

/// Finds the customer's part of a generated snippet: from 0 to the
/// `trigger_end_ms` that `snippets.toml` records for it.
fn customer_audio(
    corpus_dir: &Path,
    scenario: &str,
    strategy: &str,
    language: Language,
) -> Option<CustomerAudio> {
    let text = std::fs::read_to_string(corpus_dir.join(SNIPPET_TIMES_FILE)).ok()?;
    let file: TimesFile = toml::from_str(&text).ok()?;
    let ends: BTreeMap<String, u64> = file
        .snippet
        .into_iter()
        .filter_map(|s| s.trigger_end_ms.map(|end| (s.audio, end)))
        .collect();
    let relative = snippet_path(scenario, strategy, language);
    let end_ms = *ends.get(&relative)?;
    let path = corpus_dir.join(&relative);
    path.is_file().then_some(CustomerAudio {
        path,
        start_ms: 0,
        end_ms,
    })
}
