//! Drill attempts and the history of daily scenario draws.
//!
//! An attempt is created when a rep submits a recording and gets its result
//! JSON and overall score once scoring finishes. The result is written
//! together with the attempt's score samples in one transaction.

use serde::Serialize;
use time::{Date, OffsetDateTime};

use super::audio_blobs::AudioSha256;
use super::record::{json_text, parse_column, parse_json};
use super::scores::{check_key, replace_samples, NewScoreSample};
use super::{
    date_text, from_ms, from_ms_opt, now, parse_date, to_ms, DrillAttemptId, Error, RecordKind,
    Result, Score, Store, TeamId, UserId,
};
use crate::language::Language;

/// Fields of a drill attempt to create.
#[derive(Debug, Clone)]
pub struct NewDrillAttempt {
    /// The rep who responded.
    pub rep_id: UserId,
    /// Scenario that was drilled.
    pub scenario_id: String,
    /// Day of the daily drill the attempt belongs to.
    pub drill_date: Date,
    /// Language of the response.
    pub language: Language,
    /// The recorded response, if stored.
    pub audio_sha256: Option<AudioSha256>,
}

/// A stored drill attempt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrillAttempt {
    /// Attempt id.
    pub id: DrillAttemptId,
    /// The rep who responded.
    pub rep_id: UserId,
    /// Scenario that was drilled.
    pub scenario_id: String,
    /// Day of the daily drill.
    pub drill_date: Date,
    /// Language of the response.
    pub language: Language,
    /// The recorded response.
    pub audio_sha256: Option<AudioSha256>,
    /// Scoring result JSON, as the scorer produced it; overrides never change it.
    pub result: Option<serde_json::Value>,
    /// Overall score from the scorer.
    pub overall_score: Option<Score>,
    /// Time the attempt was submitted.
    pub created_at: OffsetDateTime,
    /// Time the result was stored.
    pub scored_at: Option<OffsetDateTime>,
}

/// The scenarios drawn for one rep on one day, in draw order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DailyDraw {
    /// The day.
    pub date: Date,
    /// Scenario ids in draw order.
    pub scenario_ids: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    id: String,
    rep_id: String,
    scenario_id: String,
    drill_date: String,
    language: String,
    audio_sha256: Option<String>,
    result_json: Option<String>,
    overall_score: Option<f64>,
    created_at: i64,
    scored_at: Option<i64>,
}

impl TryFrom<AttemptRow> for DrillAttempt {
    type Error = Error;

    fn try_from(row: AttemptRow) -> Result<DrillAttempt> {
        let score = |value: f64| Score::new(value).map_err(|e| Error::corrupt("overall_score", &e));
        Ok(DrillAttempt {
            id: DrillAttemptId::try_from(row.id)?,
            rep_id: UserId::try_from(row.rep_id)?,
            scenario_id: row.scenario_id,
            drill_date: parse_date(&row.drill_date)?,
            language: parse_column("drill_attempts.language", &row.language)?,
            audio_sha256: row.audio_sha256.map(AudioSha256::try_from).transpose()?,
            result: parse_json("drill_attempts.result_json", row.result_json)?,
            overall_score: row.overall_score.map(score).transpose()?,
            created_at: from_ms(row.created_at)?,
            scored_at: from_ms_opt(row.scored_at)?,
        })
    }
}

const ATTEMPT_COLUMNS: &str = "a.id, a.rep_id, a.scenario_id, a.drill_date, a.language, \
    a.audio_sha256, a.result_json, a.overall_score, a.created_at, a.scored_at";

impl Store {
    /// Stores a submitted drill attempt without a result.
    pub async fn create_drill_attempt(&self, new: &NewDrillAttempt) -> Result<DrillAttempt> {
        check_key("scenario id", &new.scenario_id)?;
        let id = DrillAttemptId::generate();

        sqlx::query(
            "INSERT INTO drill_attempts (id, rep_id, scenario_id, drill_date, language, \
             audio_sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.as_str())
        .bind(new.rep_id.as_str())
        .bind(&new.scenario_id)
        .bind(date_text(new.drill_date))
        .bind(new.language.code())
        .bind(new.audio_sha256.as_ref().map(AudioSha256::as_str))
        .bind(to_ms(now()))
        .execute(self.pool())
        .await
        .map_err(|err| Error::from_db(err, format!("drill attempt of rep {}", new.rep_id)))?;
        self.drill_attempt(&id).await
    }

    /// Returns the drill attempt with `id`.
    pub async fn drill_attempt(&self, id: &DrillAttemptId) -> Result<DrillAttempt> {
        let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM drill_attempts a WHERE a.id = $1");
        let row: Option<AttemptRow> = sqlx::query_as(&sql)
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.ok_or_else(|| Error::NotFound {
            entity: "drill attempt",
            id: id.to_string(),
        })?
        .try_into()
    }

    /// Stores the scoring result of an attempt and replaces its score samples.
    ///
    /// The samples take the attempt's submission time, so a rescored attempt
    /// stays in the heatmap window it was drilled in.
    pub async fn record_drill_result(
        &self,
        id: &DrillAttemptId,
        result: &serde_json::Value,
        overall: Score,
        samples: &[NewScoreSample],
    ) -> Result<DrillAttempt> {
        let attempt = self.drill_attempt(id).await?;
        let mut tx = self.begin().await?;

        sqlx::query(
            "UPDATE drill_attempts SET result_json = $1, overall_score = $2, scored_at = $3 \
             WHERE id = $4",
        )
        .bind(json_text(result))
        .bind(overall.value())
        .bind(to_ms(now()))
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        let source = (RecordKind::Drill, id.as_str());
        replace_samples(
            &mut tx,
            &attempt.rep_id,
            source,
            attempt.created_at,
            samples,
        )
        .await?;
        tx.commit().await?;
        self.drill_attempt(id).await
    }

    /// Returns a rep's attempts submitted in `[from, to)`, oldest first.
    pub async fn rep_drill_attempts(
        &self,
        rep: &UserId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<DrillAttempt>> {
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM drill_attempts a WHERE a.rep_id = $1 \
             AND a.created_at >= $2 AND a.created_at < $3 ORDER BY a.created_at, a.id"
        );
        self.fetch_attempts(&sql, rep.as_str(), from, to).await
    }

    /// Returns the attempts of a team's reps submitted in `[from, to)`, oldest first.
    pub async fn team_drill_attempts(
        &self,
        team: &TeamId,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<DrillAttempt>> {
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM drill_attempts a JOIN users u ON u.id = a.rep_id \
             WHERE u.team_id = $1 AND a.created_at >= $2 AND a.created_at < $3 \
             ORDER BY a.created_at, a.id"
        );
        self.fetch_attempts(&sql, team.as_str(), from, to).await
    }

    async fn fetch_attempts(
        &self,
        sql: &str,
        key: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<DrillAttempt>> {
        let rows: Vec<AttemptRow> = sqlx::query_as(sql)
            .bind(key)
            .bind(to_ms(from))
            .bind(to_ms(to))
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(DrillAttempt::try_from).collect()
    }

    /// Records the scenarios drawn for a rep on a day.
    ///
    /// # Errors
    ///
    /// [`Error::Conflict`] when that day already has a draw or a scenario
    /// repeats, [`Error::Invalid`] for an empty list.
    pub async fn record_draw(
        &self,
        rep: &UserId,
        date: Date,
        scenario_ids: &[String],
    ) -> Result<()> {
        if scenario_ids.is_empty() {
            return Err(Error::invalid("draw", "no scenarios: draw at least one"));
        }
        let created_at = to_ms(now());
        let mut tx = self.begin().await?;

        for (position, scenario) in scenario_ids.iter().enumerate() {
            check_key("scenario id", scenario)?;
            sqlx::query(
                "INSERT INTO drill_draws (rep_id, draw_date, position, scenario_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(rep.as_str())
            .bind(date_text(date))
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(scenario)
            .bind(created_at)
            .execute(&mut *tx)
            .await
            .map_err(|err| Error::from_db(err, format!("draw of rep {rep} on {date}")))?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Returns a rep's draws for days in `[from, to]`, oldest day first.
    pub async fn draw_history(&self, rep: &UserId, from: Date, to: Date) -> Result<Vec<DailyDraw>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT draw_date, scenario_id FROM drill_draws WHERE rep_id = $1 \
             AND draw_date >= $2 AND draw_date <= $3 ORDER BY draw_date, position",
        )
        .bind(rep.as_str())
        .bind(date_text(from))
        .bind(date_text(to))
        .fetch_all(self.pool())
        .await?;

        let mut draws: Vec<DailyDraw> = Vec::new();
        for (date_text, scenario) in rows {
            let date = parse_date(&date_text)?;
            match draws.last_mut() {
                Some(last) if last.date == date => last.scenario_ids.push(scenario),
                _ => draws.push(DailyDraw {
                    date,
                    scenario_ids: vec![scenario],
                }),
            }
        }
        Ok(draws)
    }
}
