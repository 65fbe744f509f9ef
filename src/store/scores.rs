//! Score samples: one score per rep, scenario, skill dimension and scored
//! record. They are the input of the skill heatmap, which reads them by
//! time window.

use serde::Serialize;
use sqlx::AnyConnection;
use time::OffsetDateTime;

use super::ids::random_hex;
use super::record::parse_column;
use super::{from_ms, to_ms, Error, RecordKind, Result, Score, Store, TeamId, UserId};

/// Longest accepted dimension or scenario id, in bytes.
const MAX_KEY_LEN: usize = 100;

/// A score to record for one scenario and dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct NewScoreSample {
    /// Scenario the score belongs to.
    pub scenario_id: String,
    /// Skill dimension id, such as "objection_handling".
    pub dimension: String,
    /// The score.
    pub score: Score,
}

/// A stored score sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreSample {
    /// The rep who was scored.
    pub rep_id: UserId,
    /// Scenario the score belongs to.
    pub scenario_id: String,
    /// Skill dimension id.
    pub dimension: String,
    /// Kind of the scored record.
    pub source_kind: RecordKind,
    /// Id of the drill attempt or call.
    pub source_id: String,
    /// The score.
    pub score: Score,
    /// Time of the scored drill or call.
    pub sampled_at: OffsetDateTime,
}

/// Sample selection: a time window and optionally one rep or team.
#[derive(Debug, Clone)]
pub struct SampleFilter {
    /// Only this rep's samples.
    pub rep_id: Option<UserId>,
    /// Only samples of reps in this team.
    pub team_id: Option<TeamId>,
    /// Start of the window, inclusive.
    pub from: OffsetDateTime,
    /// End of the window, exclusive.
    pub to: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct SampleRow {
    rep_id: String,
    scenario_id: String,
    dimension: String,
    source_kind: String,
    source_id: String,
    score: f64,
    sampled_at: i64,
}

impl TryFrom<SampleRow> for ScoreSample {
    type Error = Error;

    fn try_from(row: SampleRow) -> Result<ScoreSample> {
        Ok(ScoreSample {
            rep_id: UserId::try_from(row.rep_id)?,
            scenario_id: row.scenario_id,
            dimension: row.dimension,
            source_kind: parse_column("score_samples.source_kind", &row.source_kind)?,
            source_id: row.source_id,
            score: Score::new(row.score)
                .map_err(|err| Error::corrupt("score_samples.score", &err))?,
            sampled_at: from_ms(row.sampled_at)?,
        })
    }
}

impl Store {
    /// Returns the samples in the window, oldest first.
    pub async fn score_samples(&self, filter: &SampleFilter) -> Result<Vec<ScoreSample>> {
        let mut sql = String::from(
            "SELECT s.rep_id, s.scenario_id, s.dimension, s.source_kind, s.source_id, s.score, \
             s.sampled_at FROM score_samples s JOIN users u ON u.id = s.rep_id \
             WHERE s.sampled_at >= $1 AND s.sampled_at < $2",
        );
        let mut next = 3;
        if filter.rep_id.is_some() {
            sql.push_str(&format!(" AND s.rep_id = ${next}"));
            next += 1;
        }
        if filter.team_id.is_some() {
            sql.push_str(&format!(" AND u.team_id = ${next}"));
        }
        sql.push_str(" ORDER BY s.sampled_at, s.id");

        let mut query = sqlx::query_as::<_, SampleRow>(&sql)
            .bind(to_ms(filter.from))
            .bind(to_ms(filter.to));
        if let Some(rep) = &filter.rep_id {
            query = query.bind(rep.as_str());
        }
        if let Some(team) = &filter.team_id {
            query = query.bind(team.as_str());
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.into_iter().map(ScoreSample::try_from).collect()
    }
}

/// Replaces the samples of one scored record inside the caller's transaction.
pub(crate) async fn replace_samples(
    conn: &mut AnyConnection,
    rep: &UserId,
    source: (RecordKind, &str),
    sampled_at: OffsetDateTime,
    samples: &[NewScoreSample],
) -> Result<()> {
    let (kind, source_id) = source;
    sqlx::query("DELETE FROM score_samples WHERE source_kind = $1 AND source_id = $2")
        .bind(kind.as_str())
        .bind(source_id)
        .execute(&mut *conn)
        .await?;

    for sample in samples {
        check_key("scenario id", &sample.scenario_id)?;
        check_key("dimension", &sample.dimension)?;
        sqlx::query(
            "INSERT INTO score_samples (id, rep_id, scenario_id, dimension, source_kind, \
             source_id, score, sampled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(format!("sample_{}", random_hex()))
        .bind(rep.as_str())
        .bind(&sample.scenario_id)
        .bind(&sample.dimension)
        .bind(kind.as_str())
        .bind(source_id)
        .bind(sample.score.value())
        .bind(to_ms(sampled_at))
        .execute(&mut *conn)
        .await
        .map_err(|err| {
            let subject = format!("score sample {}/{}", sample.scenario_id, sample.dimension);
            Error::from_db(err, subject)
        })?;
    }
    Ok(())
}

/// Checks a scenario, dimension, phrase or permission key from outside.
pub(crate) fn check_key(what: &str, key: &str) -> Result<()> {
    if key.trim().is_empty() || key.len() > MAX_KEY_LEN {
        return Err(Error::invalid(
            what,
            format!("{key:?}: expected 1 to {MAX_KEY_LEN} bytes of text"),
        ));
    }
    Ok(())
}
