//! Analysis of an authorized real call: turns, the scenario of each
//! customer turn, the rep's scored answer and response latency, and a
//! summary.
//!
//! [`analyze`] runs VAD and Whisper on each channel of a stereo recording
//! (one speaker per channel), or on the mixdown of a mono one, where turns
//! are estimated from pauses ([`CallAnalysis::turns_estimated`]). Each
//! customer turn is classified with [`Classifier`]; when a scenario matches,
//! the rep's next turn is scored with [`score_answer`] against it, with
//! [`LatencyKind::Call`] latency. The customer's turns also give the
//! call's emotion curve ([`crate::review::emotion`]). [`store_call`] saves
//! the call with its consent, scenario scores and heatmap samples.

mod summary;
mod turns;

use serde::{Deserialize, Serialize};

use crate::audio::vad::{detect_speech, SpeechRegion, VadConfig};
use crate::audio::Audio;
use crate::knowledge::{Classifier, Corpus, LatencyBand};
use crate::language::Language;
use crate::review::emotion::{emotion_curve, CustomerTurn, EmotionCurve, ScenarioMoment};
use crate::scoring::{score_answer, DrillScore, LatencyClass, LatencyKind, ScoreOptions};
use crate::store::calls::{Call, Consent, ConsentMethod, NewCall};
use crate::store::{Score, Store, UserId};
use crate::transcribe::{Engine, LanguageChoice, Settings, Transcript};

pub use summary::{
    is_question, sentences, summarize, CallSummary, KeyMoment, Monologue, Question, ScenarioScore,
};
pub use turns::{
    alternate_speakers, split_transcript, turns_from_channels, turns_from_pauses, Speaker, Turn,
    TurnSpan, TURN_PAUSE_MS,
};

/// Errors of call analysis.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The customer's consent was not recorded.
    #[error(
        "call analysis rejected: the customer's consent to recording and analysis must be \
         recorded first (pass --consent once consent is on record)"
    )]
    ConsentMissing,
    /// The rep channel does not exist in the recording.
    #[error("rep channel {channel} does not exist: the recording has {channels} channel(s)")]
    InvalidRepChannel {
        /// The requested channel.
        channel: usize,
        /// Channels in the recording.
        channels: usize,
    },
    /// The recording has more channels than two speakers need.
    #[error("the recording has {0} channels: expected mono or stereo (one speaker per channel)")]
    TooManyChannels(usize),
    /// Transcription failed.
    #[error(transparent)]
    Transcribe(#[from] crate::transcribe::Error),
    /// Scoring rejected a scenario.
    #[error(transparent)]
    Scoring(#[from] crate::scoring::Error),
    /// The store failed or rejected a value.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
}

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The record that the customer agreed to recording and analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// Whether consent is on record; analysis is rejected without it.
    pub consent_recorded: bool,
    /// Name of the person who recorded the consent.
    pub recorded_by: String,
    /// Method by which the customer consented.
    pub method: ConsentMethod,
}

/// Settings of a call analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct CallOptions {
    /// Channel of the rep in a stereo recording (0 or 1); ignored for mono.
    pub rep_channel: usize,
    /// Language of the call, or detection.
    pub language: LanguageChoice,
    /// CPU threads for inference.
    pub threads: usize,
}

/// A scenario that a customer turn matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedScenario {
    /// Scenario id.
    pub scenario_id: String,
    /// Classifier score, 0 to 1.
    pub score: f32,
}

/// Meaning of a latency outside the band in a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatencyFlaw {
    /// The rep answers before the band: cuts the customer off.
    Interrupts,
    /// The rep answers after the band: the conversation stalls.
    Stalls,
}

/// The rep's response time to one customer turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseLatency {
    /// Rep turn start minus customer turn end, in milliseconds; negative
    /// when the rep starts before the customer ends.
    pub latency_ms: i64,
    /// Comparison with the scenario's band; `None` without a scenario.
    pub class: Option<LatencyClass>,
    /// The flaw of a latency outside the band; `None` inside it.
    pub flaw: Option<LatencyFlaw>,
    /// The scenario's band, with the top-seller value.
    pub band: Option<LatencyBand>,
}

/// A customer turn with the rep's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exchange {
    /// Index of the customer turn.
    pub customer_turn: usize,
    /// The best scenario above the classifier threshold, if any.
    pub scenario: Option<MatchedScenario>,
    /// Index of the rep's answering turn, if the rep answered.
    pub rep_turn: Option<usize>,
    /// Response latency, when the rep answered.
    pub response: Option<ResponseLatency>,
    /// The answer scored against the scenario, when both exist.
    pub score: Option<DrillScore>,
}

/// The analysis of one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallAnalysis {
    /// Length of the recording, in milliseconds.
    pub duration_ms: u64,
    /// Channels of the recording.
    pub channels: usize,
    /// Rep channel of a stereo recording; `None` for mono.
    pub rep_channel: Option<usize>,
    /// Whether speakers were estimated from pauses (mono recording).
    pub turns_estimated: bool,
    /// Every turn in time order.
    pub turns: Vec<Turn>,
    /// One entry per customer turn.
    pub exchanges: Vec<Exchange>,
    /// Talk ratio, questions, scores and key moments.
    pub summary: CallSummary,
    /// The customer's emotion proxy per turn, marked where a scenario was
    /// detected; `None` without customer turns. From the customer channel
    /// of a stereo call, and from the whole recording inside the estimated
    /// customer turns of a mono one.
    #[serde(default)]
    pub customer_emotion: Option<EmotionCurve>,
}

/// Analyses an authorized call.
///
/// # Errors
///
/// [`Error::ConsentMissing`] without consent, [`Error::InvalidRepChannel`]
/// and [`Error::TooManyChannels`] for the channel layout, transcription
/// and scoring errors.
#[tracing::instrument(skip_all, fields(channels = audio.channel_count()))]
pub fn analyze(
    engine: &Engine,
    corpus: &Corpus,
    classifier: &Classifier,
    audio: &Audio,
    authorization: &Authorization,
    options: &CallOptions,
) -> Result<CallAnalysis> {
    if !authorization.consent_recorded {
        return Err(Error::ConsentMissing);
    }
    let settings = Settings {
        language: options.language,
        threads: options.threads,
        ..Settings::default()
    };
    let (spans, parts, estimated) = match audio.channel_count() {
        1 => mono_turns(engine, classifier, audio, &settings)?,
        2 => stereo_turns(engine, audio, options.rep_channel, &settings)?,
        n => return Err(Error::TooManyChannels(n)),
    };
    let turns: Vec<Turn> = spans
        .iter()
        .zip(&parts)
        .enumerate()
        .map(|(index, (span, part))| Turn {
            index,
            speaker: span.speaker.unwrap_or(Speaker::Customer),
            start_ms: span.start_ms(),
            end_ms: span.end_ms(),
            speech_ms: span.speech_ms(),
            text: part.text.clone(),
        })
        .collect();

    let mut exchanges = Vec::new();
    for customer in turns.iter().filter(|t| t.speaker == Speaker::Customer) {
        let answer = turns
            .get(customer.index + 1)
            .filter(|t| t.speaker == Speaker::Rep);
        let answer = answer.map(|t| (t, &parts[t.index], spans[t.index].regions.as_slice()));
        exchanges.push(exchange(corpus, classifier, customer, answer)?);
    }
    let summary = summarize(&turns, &exchanges);
    let customer_emotion = customer_emotion(audio, options.rep_channel, &turns, &exchanges);
    tracing::info!(
        turns = turns.len(),
        exchanges = exchanges.len(),
        "call analysed"
    );
    Ok(CallAnalysis {
        duration_ms: audio.duration_ms(),
        channels: audio.channel_count(),
        rep_channel: (audio.channel_count() == 2).then_some(options.rep_channel),
        turns_estimated: estimated,
        turns,
        exchanges,
        summary,
        customer_emotion,
    })
}

/// Computes the customer emotion curve; a failure is logged and leaves the
/// rest of the analysis intact.
fn customer_emotion(
    audio: &Audio,
    rep_channel: usize,
    turns: &[Turn],
    exchanges: &[Exchange],
) -> Option<EmotionCurve> {
    let customer_turns: Vec<CustomerTurn> = turns
        .iter()
        .filter(|t| t.speaker == Speaker::Customer && t.end_ms > t.start_ms)
        .map(|t| CustomerTurn {
            start_ms: t.start_ms,
            end_ms: t.end_ms,
            text: t.text.clone(),
        })
        .collect();
    if customer_turns.is_empty() {
        return None;
    }
    let moments: Vec<ScenarioMoment> = exchanges
        .iter()
        .filter_map(|e| {
            let scenario = e.scenario.as_ref()?;
            Some(ScenarioMoment {
                at_ms: turns.get(e.customer_turn)?.start_ms,
                scenario_id: scenario.scenario_id.clone(),
            })
        })
        .collect();
    let mixed;
    let samples = if audio.channel_count() == 2 {
        audio.channel(1 - rep_channel.min(1)).unwrap_or_default()
    } else {
        mixed = audio.mono();
        &mixed
    };
    match emotion_curve(samples, &customer_turns, &moments) {
        Ok(curve) => Some(curve),
        Err(err) => {
            tracing::warn!(error = %err, "customer emotion curve not computed");
            None
        }
    }
}

type TurnParts = (Vec<TurnSpan>, Vec<Transcript>, bool);

fn stereo_turns(
    engine: &Engine,
    audio: &Audio,
    rep_channel: usize,
    settings: &Settings,
) -> Result<TurnParts> {
    if rep_channel > 1 {
        return Err(Error::InvalidRepChannel {
            channel: rep_channel,
            channels: audio.channel_count(),
        });
    }
    let channel = |index: usize| audio.channel(index).unwrap_or_default();
    let (rep, customer) = (channel(rep_channel), channel(1 - rep_channel));
    let vad = VadConfig::default();
    let spans = turns_from_channels(&detect_speech(customer, &vad), &detect_speech(rep, &vad));
    let rep_text = engine.transcribe(rep, settings)?;
    let customer_text = engine.transcribe(customer, settings)?;

    let mut parts = vec![Transcript::silent("en", 0); spans.len()];
    for (speaker, transcript) in [(Speaker::Rep, rep_text), (Speaker::Customer, customer_text)] {
        let own: Vec<usize> = (0..spans.len())
            .filter(|i| spans[*i].speaker == Some(speaker))
            .collect();
        let bounds: Vec<(u64, u64)> = own
            .iter()
            .map(|i| (spans[*i].start_ms(), spans[*i].end_ms()))
            .collect();
        for (index, part) in own.into_iter().zip(split_transcript(&transcript, &bounds)) {
            parts[index] = part;
        }
    }
    Ok((spans, parts, false))
}

fn mono_turns(
    engine: &Engine,
    classifier: &Classifier,
    audio: &Audio,
    settings: &Settings,
) -> Result<TurnParts> {
    let samples = audio.mono();
    let mut spans = turns_from_pauses(
        &detect_speech(&samples, &VadConfig::default()),
        TURN_PAUSE_MS,
    );
    let transcript = engine.transcribe(&samples, settings)?;
    let bounds: Vec<(u64, u64)> = spans.iter().map(|s| (s.start_ms(), s.end_ms())).collect();
    let parts = split_transcript(&transcript, &bounds);
    let customer_like: Vec<bool> = parts
        .iter()
        .map(|p| !classifier.classify(&p.text).is_empty())
        .collect();
    alternate_speakers(&mut spans, &customer_like);
    Ok((spans, parts, true))
}

fn exchange(
    corpus: &Corpus,
    classifier: &Classifier,
    customer: &Turn,
    answer: Option<(&Turn, &Transcript, &[SpeechRegion])>,
) -> Result<Exchange> {
    let matched = classifier.classify(&customer.text).into_iter().next();
    let scenario = matched
        .as_ref()
        .and_then(|m| corpus.scenario(&m.scenario_id));
    let mut result = Exchange {
        customer_turn: customer.index,
        scenario: matched.map(|m| MatchedScenario {
            scenario_id: m.scenario_id,
            score: m.score,
        }),
        rep_turn: None,
        response: None,
        score: None,
    };
    let Some((rep, transcript, regions)) = answer else {
        return Ok(result);
    };
    result.rep_turn = Some(rep.index);
    let latency_ms = signed(rep.start_ms) - signed(customer.end_ms);
    result.response = Some(ResponseLatency {
        latency_ms,
        class: None,
        flaw: None,
        band: None,
    });
    let Some(scenario) = scenario else {
        return Ok(result);
    };
    let options = ScoreOptions {
        language: Some(Language::detect(&transcript.text)),
        prompt_end_ms: customer.end_ms,
        latency_kind: LatencyKind::Call,
        ..ScoreOptions::default()
    };
    let score = score_answer(scenario, transcript, regions, &options)?;
    result.response = Some(ResponseLatency {
        latency_ms: score.latency.latency_ms.unwrap_or(latency_ms),
        class: score.latency.class,
        flaw: score.latency.class.and_then(flaw_of),
        band: Some(scenario.latency),
    });
    result.score = Some(score);
    Ok(result)
}

fn flaw_of(class: LatencyClass) -> Option<LatencyFlaw> {
    match class {
        LatencyClass::TooFast => Some(LatencyFlaw::Interrupts),
        LatencyClass::TooSlow => Some(LatencyFlaw::Stalls),
        LatencyClass::InBand => None,
    }
}

fn signed(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// Stores an analysed call with its consent, its recording, a score per
/// scenario and one heatmap sample per scenario dimension.
///
/// # Errors
///
/// Store errors, such as an unknown rep.
pub async fn store_call(
    store: &Store,
    corpus: &Corpus,
    rep: &UserId,
    analysis: &CallAnalysis,
    authorization: &Authorization,
    recording: (Vec<u8>, Option<&str>),
) -> Result<Call> {
    store.user(rep).await?;
    let audio = store.put_audio(recording.0, recording.1).await?;
    let now = crate::store::now();
    let new = NewCall {
        rep_id: rep.clone(),
        audio_sha256: audio.sha256,
        language: None,
        occurred_at: now,
        consent: Consent {
            recorded_by: rep.clone(),
            recorded_at: now,
            method: authorization.method,
            note: format!("consent recorded by {}", authorization.recorded_by.trim()),
        },
    };
    let call = store.create_call(&new).await?;

    let mut scores = Vec::new();
    let mut samples = Vec::new();
    for entry in &analysis.summary.scenario_scores {
        let score = Score::new(entry.score)?;
        scores.push((entry.scenario_id.clone(), score));
        if let Some(scenario) = corpus.scenario(&entry.scenario_id) {
            samples.extend(crate::drill::score_samples_of(scenario, score));
        }
    }
    let json = serde_json::to_value(analysis).map_err(|err| {
        crate::store::Error::invalid("call analysis", format!("cannot serialise: {err}"))
    })?;
    let stored = store
        .record_call_analysis(&call.id, &json, &scores, &samples)
        .await?;
    tracing::info!(call = %stored.id, scenarios = scores.len(), "call stored");
    Ok(stored)
}
