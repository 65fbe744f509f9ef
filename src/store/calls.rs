//! Real customer calls. A call is stored only with its consent record: who
//! recorded the customer's consent, when and how. Analysis adds a result
//! JSON, a score per detected scenario and score samples, in one transaction.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::audio_blobs::AudioSha256;
use super::record::{json_text, parse_column, parse_json};
use super::scores::{check_key, replace_samples, NewScoreSample};
use super::{
    from_ms, from_ms_opt, now, to_ms, CallId, Error, RecordKind, Result, Score, Store, UserId,
};
use crate::language::Language;

/// Method by which the customer consented to recording and analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentMethod {
    /// Said aloud at the start of the recording.
    VerbalOnRecording,
    /// Signed on paper or in a contract.
    Written,
    /// Given in an online form or by e-mail.
    Electronic,
}

impl ConsentMethod {
    /// Returns the stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentMethod::VerbalOnRecording => "verbal_on_recording",
            ConsentMethod::Written => "written",
            ConsentMethod::Electronic => "electronic",
        }
    }
}

impl FromStr for ConsentMethod {
    type Err = Error;

    fn from_str(text: &str) -> Result<ConsentMethod> {
        [
            ConsentMethod::VerbalOnRecording,
            ConsentMethod::Written,
            ConsentMethod::Electronic,
        ]
        .into_iter()
        .find(|method| method.as_str() == text)
        .ok_or_else(|| {
            Error::invalid(
                "consent method",
                format!("{text:?}: expected verbal_on_recording, written or electronic"),
            )
        })
    }
}

impl fmt::Display for ConsentMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Channel of the rep in a stereo recording: 0 (left) or 1 (right).
/// Mono recordings ignore it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct RepChannel(u8);

impl RepChannel {
    /// The channel assumed when an upload names none: the right channel.
    pub const DEFAULT: RepChannel = RepChannel(1);

    /// Checks that `index` is 0 or 1.
    pub fn new(index: u8) -> Result<RepChannel> {
        if index > 1 {
            return Err(Error::invalid(
                "rep channel",
                format!("{index}: expected 0 (left) or 1 (right) of a stereo recording"),
            ));
        }
        Ok(RepChannel(index))
    }

    /// Parses `0` or `1`.
    pub fn parse(text: &str) -> Result<RepChannel> {
        let invalid = || {
            Error::invalid(
                "rep channel",
                format!("{text:?}: expected 0 (left) or 1 (right) of a stereo recording"),
            )
        };
        let index = text.trim().parse::<u8>().map_err(|_| invalid())?;
        RepChannel::new(index).map_err(|_| invalid())
    }

    /// Returns the channel index, 0 or 1.
    pub fn index(self) -> u8 {
        self.0
    }
}

impl Default for RepChannel {
    fn default() -> RepChannel {
        RepChannel::DEFAULT
    }
}

impl TryFrom<u8> for RepChannel {
    type Error = Error;

    fn try_from(index: u8) -> Result<RepChannel> {
        RepChannel::new(index)
    }
}

impl From<RepChannel> for u8 {
    fn from(channel: RepChannel) -> u8 {
        channel.0
    }
}

/// The record of a customer's consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Consent {
    /// The user who recorded the consent.
    pub recorded_by: UserId,
    /// Time the consent was given.
    pub recorded_at: OffsetDateTime,
    /// Method of consent.
    pub method: ConsentMethod,
    /// Location of the evidence, such as "0:00-0:12 of the recording" or a document id.
    pub note: String,
}

/// Fields of a call to store.
#[derive(Debug, Clone)]
pub struct NewCall {
    /// The rep on the call.
    pub rep_id: UserId,
    /// The recording.
    pub audio_sha256: AudioSha256,
    /// Spoken language, if known.
    pub language: Option<Language>,
    /// Time the call took place.
    pub occurred_at: OffsetDateTime,
    /// The customer's consent.
    pub consent: Consent,
}

/// A stored call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Call {
    /// Call id.
    pub id: CallId,
    /// The rep on the call.
    pub rep_id: UserId,
    /// The recording.
    pub audio_sha256: AudioSha256,
    /// Spoken language, if known.
    pub language: Option<Language>,
    /// Time the call took place.
    pub occurred_at: OffsetDateTime,
    /// The customer's consent.
    pub consent: Consent,
    /// Channel of the rep when the recording is stereo.
    pub rep_channel: RepChannel,
    /// Analysis result JSON; overrides never change it.
    pub analysis: Option<serde_json::Value>,
    /// Time the analysis was stored.
    pub analyzed_at: Option<OffsetDateTime>,
    /// Score per scenario found in the call, ordered by scenario id.
    pub scenario_scores: Vec<(String, Score)>,
    /// Time the call was stored.
    pub created_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct CallRow {
    id: String,
    rep_id: String,
    audio_sha256: String,
    language: Option<String>,
    occurred_at: i64,
    consent_recorded_by: String,
    consent_recorded_at: i64,
    consent_method: String,
    consent_note: String,
    rep_channel: i64,
    analysis_json: Option<String>,
    analyzed_at: Option<i64>,
    created_at: i64,
}

impl CallRow {
    fn into_call(self, scenario_scores: Vec<(String, Score)>) -> Result<Call> {
        Ok(Call {
            id: CallId::try_from(self.id)?,
            rep_id: UserId::try_from(self.rep_id)?,
            audio_sha256: AudioSha256::try_from(self.audio_sha256)?,
            language: self
                .language
                .map(|t| parse_column("calls.language", &t))
                .transpose()?,
            occurred_at: from_ms(self.occurred_at)?,
            consent: Consent {
                recorded_by: UserId::try_from(self.consent_recorded_by)?,
                recorded_at: from_ms(self.consent_recorded_at)?,
                method: parse_column("calls.consent_method", &self.consent_method)?,
                note: self.consent_note,
            },
            rep_channel: u8::try_from(self.rep_channel)
                .ok()
                .and_then(|index| RepChannel::new(index).ok())
                .ok_or_else(|| Error::corrupt("calls.rep_channel", &self.rep_channel))?,
            analysis: parse_json("calls.analysis_json", self.analysis_json)?,
            analyzed_at: from_ms_opt(self.analyzed_at)?,
            scenario_scores,
            created_at: from_ms(self.created_at)?,
        })
    }
}

const CALL_COLUMNS: &str = "id, rep_id, audio_sha256, language, occurred_at, \
    consent_recorded_by, consent_recorded_at, consent_method, consent_note, rep_channel, \
    analysis_json, analyzed_at, created_at";

impl Store {
    /// Stores a consented call with the rep on [`RepChannel::DEFAULT`].
    ///
    /// # Errors
    ///
    /// As [`Store::create_call_on_channel`].
    pub async fn create_call(&self, new: &NewCall) -> Result<Call> {
        self.create_call_on_channel(new, RepChannel::DEFAULT).await
    }

    /// Stores a consented call whose rep speaks on `rep_channel` when the
    /// recording is stereo.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when the consent note is empty, the consent lies in
    /// the future, or the rep, recorder or audio does not exist.
    pub async fn create_call_on_channel(
        &self,
        new: &NewCall,
        rep_channel: RepChannel,
    ) -> Result<Call> {
        let created_at = now();
        check_consent(&new.consent, created_at)?;
        let id = CallId::generate();

        sqlx::query(&format!(
            "INSERT INTO calls ({CALL_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, $11)"
        ))
        .bind(id.as_str())
        .bind(new.rep_id.as_str())
        .bind(new.audio_sha256.as_str())
        .bind(new.language.map(Language::code))
        .bind(to_ms(new.occurred_at))
        .bind(new.consent.recorded_by.as_str())
        .bind(to_ms(new.consent.recorded_at))
        .bind(new.consent.method.as_str())
        .bind(new.consent.note.trim())
        .bind(i64::from(rep_channel.index()))
        .bind(to_ms(created_at))
        .execute(self.pool())
        .await
        .map_err(|err| Error::from_db(err, format!("call of rep {}", new.rep_id)))?;
        self.call(&id).await
    }

    /// Returns the call with `id` and its scenario scores.
    pub async fn call(&self, id: &CallId) -> Result<Call> {
        let sql = format!("SELECT {CALL_COLUMNS} FROM calls WHERE id = $1");
        let row: Option<CallRow> = sqlx::query_as(&sql)
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        let row = row.ok_or_else(|| Error::NotFound {
            entity: "call",
            id: id.to_string(),
        })?;
        let scores = self.call_scenario_scores(id.as_str()).await?;
        row.into_call(scores)
    }

    /// Returns a rep's calls that took place in `[from, to)`, oldest first.
    pub async fn rep_calls(
        &self,
        rep: &UserId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<Call>> {
        let sql = format!(
            "SELECT {CALL_COLUMNS} FROM calls WHERE rep_id = $1 AND occurred_at >= $2 \
             AND occurred_at < $3 ORDER BY occurred_at, id"
        );
        let rows: Vec<CallRow> = sqlx::query_as(&sql)
            .bind(rep.as_str())
            .bind(to_ms(from))
            .bind(to_ms(to))
            .fetch_all(self.pool())
            .await?;

        let mut calls = Vec::with_capacity(rows.len());
        for row in rows {
            let scores = self.call_scenario_scores(&row.id).await?;
            calls.push(row.into_call(scores)?);
        }
        Ok(calls)
    }

    /// Stores a call's analysis, replacing earlier scenario scores and samples.
    pub async fn record_call_analysis(
        &self,
        id: &CallId,
        analysis: &serde_json::Value,
        scenario_scores: &[(String, Score)],
        samples: &[NewScoreSample],
    ) -> Result<Call> {
        let call = self.call(id).await?;
        let mut tx = self.begin().await?;

        sqlx::query("UPDATE calls SET analysis_json = $1, analyzed_at = $2 WHERE id = $3")
            .bind(json_text(analysis))
            .bind(to_ms(now()))
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM call_scenario_scores WHERE call_id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        for (scenario, score) in scenario_scores {
            check_key("scenario id", scenario)?;
            sqlx::query(
                "INSERT INTO call_scenario_scores (call_id, scenario_id, score) \
                 VALUES ($1, $2, $3)",
            )
            .bind(id.as_str())
            .bind(scenario)
            .bind(score.value())
            .execute(&mut *tx)
            .await
            .map_err(|err| Error::from_db(err, format!("score of scenario {scenario:?}")))?;
        }
        let source = (RecordKind::Call, id.as_str());
        replace_samples(&mut tx, &call.rep_id, source, call.occurred_at, samples).await?;
        tx.commit().await?;
        self.call(id).await
    }

    async fn call_scenario_scores(&self, call_id: &str) -> Result<Vec<(String, Score)>> {
        let rows: Vec<(String, f64)> = sqlx::query_as(
            "SELECT scenario_id, score FROM call_scenario_scores WHERE call_id = $1 \
             ORDER BY scenario_id",
        )
        .bind(call_id)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(scenario, value)| {
                let score = Score::new(value).map_err(|e| Error::corrupt("call score", &e))?;
                Ok((scenario, score))
            })
            .collect()
    }
}

fn check_consent(consent: &Consent, at: OffsetDateTime) -> Result<()> {
    if consent.note.trim().is_empty() {
        return Err(Error::invalid(
            "consent",
            "the note is empty: say where the evidence of consent is",
        ));
    }
    if consent.recorded_at > at {
        return Err(Error::invalid(
            "consent",
            format!("recorded_at {} is in the future", consent.recorded_at),
        ));
    }
    Ok(())
}
