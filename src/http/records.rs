//! A team's scored records, newest first: `GET /teams/{id}/records` lists
//! drill attempts and analysed calls with their rep, scenario and score,
//! for the coach's list.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use super::views::rfc3339;
use super::AppState;
use crate::store::{from_ms, TeamId};

/// Records one request returns by default.
pub const DEFAULT_RECORDS_LIMIT: i64 = 50;
/// Largest accepted `limit`.
pub const MAX_RECORDS_LIMIT: i64 = 500;

const DRILL_SQL: &str = "SELECT a.id, a.rep_id, u.display_name, a.scenario_id, \
    a.overall_score, a.created_at, \
    CAST(CASE WHEN a.audio_sha256 IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_audio \
    FROM drill_attempts a JOIN users u ON u.id = a.rep_id \
    WHERE u.team_id = $1 AND a.overall_score IS NOT NULL \
    ORDER BY a.created_at DESC, a.id DESC LIMIT $2";

const CALL_SQL: &str = "SELECT c.id, c.rep_id, u.display_name, \
    (SELECT s.scenario_id FROM call_scenario_scores s WHERE s.call_id = c.id \
     ORDER BY s.score DESC, s.scenario_id LIMIT 1) AS scenario_id, \
    (SELECT AVG(s.score) FROM call_scenario_scores s WHERE s.call_id = c.id) AS overall_score, \
    c.created_at, CAST(1 AS BIGINT) AS has_audio FROM calls c JOIN users u ON u.id = c.rep_id \
    WHERE u.team_id = $1 AND c.analyzed_at IS NOT NULL \
    AND EXISTS (SELECT 1 FROM call_scenario_scores s WHERE s.call_id = c.id) \
    ORDER BY c.created_at DESC, c.id DESC LIMIT $2";

/// Query parameters of the record list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordsQuery {
    /// `drill` or `call`, both when absent.
    pub kind: Option<String>,
    /// Maximum number of records, 1 to 500 (default 50).
    pub limit: Option<i64>,
}

/// One scored drill attempt or call.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordView {
    /// `drill` or `call`.
    pub kind: &'static str,
    /// Attempt or call id.
    pub id: String,
    /// The rep.
    pub rep_id: String,
    /// The rep's display name.
    pub rep_name: String,
    /// Scenario drilled, or for a call its best-scored scenario.
    pub scenario_id: Option<String>,
    /// Overall score 0 to 100, for a call the mean of its scenario scores.
    pub overall_score: Option<f64>,
    /// Time the record was stored.
    pub created_at: String,
    /// API path of the recording, absent when none was stored.
    pub audio_url: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: String,
    rep_id: String,
    display_name: String,
    scenario_id: Option<String>,
    overall_score: Option<f64>,
    created_at: i64,
    has_audio: i64,
}

/// Returns the route of team records.
pub fn router() -> Router<AppState> {
    Router::new().route("/teams/{id}/records", get(team_records))
}

/// Lists a team's scored drill attempts and calls, newest first.
#[utoipa::path(get, path = "/api/v1/teams/{id}/records", tag = "teams",
    params(("id" = String, Path, description = "Team id"), RecordsQuery),
    responses(
        (status = 200, description = "Records, newest first", body = [RecordView]),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Caller is a rep or outside the team",
            body = super::ErrorBody),
        (status = 404, description = "Unknown team", body = super::ErrorBody),
        (status = 422, description = "Invalid kind or limit", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn team_records(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<RecordsQuery>,
) -> ApiResult<ApiJson<Vec<RecordView>>> {
    let team = TeamId::parse(&id)?;
    caller.check_team(&team)?;
    state.store.team(&team).await?;
    let limit = query.limit.unwrap_or(DEFAULT_RECORDS_LIMIT);
    if !(1..=MAX_RECORDS_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(format!(
            "limit {limit}: expected 1 to {MAX_RECORDS_LIMIT}"
        )));
    }
    let (drills, calls) = match query.kind.as_deref().map(str::trim) {
        None | Some("") => (true, true),
        Some("drill") => (true, false),
        Some("call") => (false, true),
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "kind {other:?}: expected drill or call"
            )))
        }
    };

    let mut records = Vec::new();
    if drills {
        records.extend(fetch(&state, "drill", DRILL_SQL, &team, limit).await?);
    }
    if calls {
        records.extend(fetch(&state, "call", CALL_SQL, &team, limit).await?);
    }
    records.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.id.cmp(&a.1.id)));
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    Ok(ApiJson(
        records.into_iter().take(limit).map(|(_, r)| r).collect(),
    ))
}

async fn fetch(
    state: &AppState,
    kind: &'static str,
    sql: &str,
    team: &TeamId,
    limit: i64,
) -> ApiResult<Vec<(i64, RecordView)>> {
    let rows: Vec<RecordRow> = sqlx::query_as(sql)
        .bind(team.as_str())
        .bind(limit)
        .fetch_all(state.store.pool())
        .await
        .map_err(|err| ApiError::from(crate::store::Error::from(err)))?;
    rows.into_iter().map(|row| view(kind, row)).collect()
}

fn view(kind: &'static str, row: RecordRow) -> ApiResult<(i64, RecordView)> {
    let audio_url = match kind {
        "drill" => format!("/api/v1/drills/attempts/{}/audio", row.id),
        _ => format!("/api/v1/calls/{}/audio", row.id),
    };
    let audio_url = (row.has_audio != 0).then_some(audio_url);
    let created_at = rfc3339(from_ms(row.created_at)?);
    let record = RecordView {
        kind,
        id: row.id,
        rep_id: row.rep_id,
        rep_name: row.display_name,
        scenario_id: row.scenario_id,
        overall_score: row.overall_score,
        created_at,
        audio_url,
    };
    Ok((row.created_at, record))
}
