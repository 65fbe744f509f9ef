//! Coach overrides of a phrase match or an overall score.
//!
//! Overrides are append-only. The scorer's result stays untouched in its
//! drill attempt or call, every override stays in the history, and the
//! effective value of a field is its latest override. Each target numbers
//! its overrides 1, 2, 3…, which orders them even within one millisecond.

use std::collections::BTreeMap;

use serde::Serialize;
use time::OffsetDateTime;

use super::record::parse_column;
use super::scores::check_key;
use super::{from_ms, now, to_ms, Error, OverrideId, RecordKind, Result, Score, Store, UserId};

/// Longest accepted comment, in characters.
const MAX_COMMENT_CHARS: usize = 4000;

/// The corrected value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "field", rename_all = "snake_case")]
pub enum OverrideChange {
    /// Verdict on whether a key phrase counts as matched.
    PhraseMatch {
        /// Id of the key phrase in the scoring result.
        phrase_id: String,
        /// The coach's verdict.
        matched: bool,
    },
    /// The overall score of the attempt or call.
    OverallScore {
        /// The coach's score.
        score: Score,
    },
}

/// Fields of an override to add.
#[derive(Debug, Clone)]
pub struct NewOverride {
    /// Kind of the corrected record.
    pub target_kind: RecordKind,
    /// Id of the drill attempt or call.
    pub target_id: String,
    /// The corrected value.
    pub change: OverrideChange,
    /// Reason for the change, required.
    pub comment: String,
    /// The coach.
    pub coach_id: UserId,
}

/// A stored override.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Override {
    /// Override id.
    pub id: OverrideId,
    /// Kind of the corrected record.
    pub target_kind: RecordKind,
    /// Id of the drill attempt or call.
    pub target_id: String,
    /// The corrected value.
    pub change: OverrideChange,
    /// Reason for the change.
    pub comment: String,
    /// The coach.
    pub coach_id: UserId,
    /// Time of the override.
    pub created_at: OffsetDateTime,
    /// Position in the target's history, from 1.
    pub seq: u32,
}

/// The latest override of each field of one target.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EffectiveOverrides {
    /// Latest override of the overall score, if any.
    pub overall_score: Option<Override>,
    /// Latest override per phrase id.
    pub phrases: BTreeMap<String, Override>,
}

#[derive(sqlx::FromRow)]
struct OverrideRow {
    id: String,
    target_kind: String,
    target_id: String,
    field: String,
    phrase_id: String,
    value: f64,
    comment: String,
    coach_id: String,
    created_at: i64,
    seq: i64,
}

impl TryFrom<OverrideRow> for Override {
    type Error = Error;

    fn try_from(row: OverrideRow) -> Result<Override> {
        let change = match row.field.as_str() {
            "phrase_match" => OverrideChange::PhraseMatch {
                phrase_id: row.phrase_id,
                matched: row.value >= 0.5,
            },
            "overall_score" => OverrideChange::OverallScore {
                score: Score::new(row.value).map_err(|e| Error::corrupt("override value", &e))?,
            },
            other => return Err(Error::corrupt("score_overrides.field", &other)),
        };
        Ok(Override {
            id: OverrideId::try_from(row.id)?,
            target_kind: parse_column("score_overrides.target_kind", &row.target_kind)?,
            target_id: row.target_id,
            change,
            comment: row.comment,
            coach_id: UserId::try_from(row.coach_id)?,
            created_at: from_ms(row.created_at)?,
            seq: u32::try_from(row.seq).map_err(|e| Error::corrupt("override seq", &e))?,
        })
    }
}

impl Store {
    /// Appends an override to the target's history and returns it.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown target, [`Error::Invalid`] for an
    /// empty or long comment, a bad phrase id or an unknown coach.
    pub async fn add_override(&self, new: &NewOverride) -> Result<Override> {
        let comment = check_comment(&new.comment)?;
        let (field, phrase_id, value) = match &new.change {
            OverrideChange::PhraseMatch { phrase_id, matched } => {
                check_key("phrase id", phrase_id)?;
                (
                    "phrase_match",
                    phrase_id.as_str(),
                    if *matched { 1.0 } else { 0.0 },
                )
            }
            OverrideChange::OverallScore { score } => ("overall_score", "", score.value()),
        };
        let id = OverrideId::generate();
        let mut tx = self.begin().await?;

        let table = match new.target_kind {
            RecordKind::Drill => "drill_attempts",
            RecordKind::Call => "calls",
        };
        let exists: Option<(String,)> =
            sqlx::query_as(&format!("SELECT id FROM {table} WHERE id = $1"))
                .bind(&new.target_id)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Err(Error::NotFound {
                entity: new.target_kind.as_str(),
                id: new.target_id.clone(),
            });
        }
        let (last,): (i64,) = sqlx::query_as(
            "SELECT COALESCE(MAX(seq), 0) FROM score_overrides \
             WHERE target_kind = $1 AND target_id = $2",
        )
        .bind(new.target_kind.as_str())
        .bind(&new.target_id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO score_overrides (id, target_kind, target_id, field, phrase_id, value, \
             comment, coach_id, created_at, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id.as_str())
        .bind(new.target_kind.as_str())
        .bind(&new.target_id)
        .bind(field)
        .bind(phrase_id)
        .bind(value)
        .bind(comment)
        .bind(new.coach_id.as_str())
        .bind(to_ms(now()))
        .bind(last + 1)
        .execute(&mut *tx)
        .await
        .map_err(|err| {
            Error::from_db(
                err,
                format!("override of {} {}", new.target_kind, new.target_id),
            )
        })?;
        tx.commit().await?;

        let history = self
            .override_history(new.target_kind, &new.target_id)
            .await?;
        history
            .into_iter()
            .find(|o| o.id == id)
            .ok_or(Error::NotFound {
                entity: "override",
                id: id.to_string(),
            })
    }

    /// Returns every override of a target, oldest first.
    pub async fn override_history(
        &self,
        kind: RecordKind,
        target_id: &str,
    ) -> Result<Vec<Override>> {
        let rows: Vec<OverrideRow> = sqlx::query_as(
            "SELECT id, target_kind, target_id, field, phrase_id, value, comment, coach_id, \
             created_at, seq FROM score_overrides WHERE target_kind = $1 AND target_id = $2 \
             ORDER BY seq",
        )
        .bind(kind.as_str())
        .bind(target_id)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(Override::try_from).collect()
    }

    /// Returns the latest override of each field of a target.
    pub async fn effective_overrides(
        &self,
        kind: RecordKind,
        target_id: &str,
    ) -> Result<EffectiveOverrides> {
        let mut effective = EffectiveOverrides::default();
        for entry in self.override_history(kind, target_id).await? {
            match &entry.change {
                OverrideChange::PhraseMatch { phrase_id, .. } => {
                    effective.phrases.insert(phrase_id.clone(), entry);
                }
                OverrideChange::OverallScore { .. } => effective.overall_score = Some(entry),
            }
        }
        Ok(effective)
    }
}

fn check_comment(comment: &str) -> Result<&str> {
    let trimmed = comment.trim();
    let chars = trimmed.chars().count();
    if chars == 0 || chars > MAX_COMMENT_CHARS {
        return Err(Error::invalid(
            "override comment",
            format!("{chars} characters: explain the change in 1 to {MAX_COMMENT_CHARS}"),
        ));
    }
    Ok(trimmed)
}
