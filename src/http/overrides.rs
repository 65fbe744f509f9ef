//! Coach overrides of drill and call scores. Each override is stored as a
//! new history entry with the coach's comment; the scorer's result is
//! never changed.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiResult;
use super::extract::{ApiJson, ApiQuery, AuthUser};
use super::views::rfc3339;
use super::AppState;
use crate::store::overrides::{NewOverride, Override, OverrideChange};
use crate::store::users::Role;
use crate::store::{CallId, DrillAttemptId, RecordKind, Score, UserId};

/// The change an override makes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "field", rename_all = "snake_case")]
pub enum ChangeBody {
    /// Marks a key phrase as spoken or not spoken.
    PhraseMatch {
        /// Phrase id, `strategy/phrase`.
        phrase_id: String,
        /// Whether the phrase counts as spoken.
        matched: bool,
    },
    /// Replaces the overall score.
    OverallScore {
        /// The new score, 0 to 100.
        score: f64,
    },
}

/// An override to add.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewOverrideBody {
    /// `drill` or `call`.
    pub target_kind: String,
    /// Id of the drill attempt or call.
    pub target_id: String,
    /// The change.
    pub change: ChangeBody,
    /// Reason for the change, 1 to 4000 characters.
    pub comment: String,
}

/// A stored override.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverrideView {
    /// Override id.
    pub id: String,
    /// `drill` or `call`.
    pub target_kind: String,
    /// Id of the drill attempt or call.
    pub target_id: String,
    /// The change, tagged by `field`.
    #[schema(value_type = Object)]
    pub change: OverrideChange,
    /// The coach's comment.
    pub comment: String,
    /// The coach.
    pub coach_id: String,
    /// Time of the override.
    pub created_at: String,
    /// Position in the target's history, from 1.
    pub seq: u32,
}

impl From<Override> for OverrideView {
    fn from(entry: Override) -> OverrideView {
        OverrideView {
            id: entry.id.to_string(),
            target_kind: entry.target_kind.to_string(),
            target_id: entry.target_id,
            change: entry.change,
            comment: entry.comment,
            coach_id: entry.coach_id.to_string(),
            created_at: rfc3339(entry.created_at),
            seq: entry.seq,
        }
    }
}

/// Query parameters of a history request.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TargetQuery {
    /// `drill` or `call`.
    pub target_kind: String,
    /// Id of the drill attempt or call.
    pub target_id: String,
}

/// Returns the routes of overrides.
pub fn router() -> Router<AppState> {
    Router::new().route("/overrides", get(history).post(add_override))
}

/// Adds an override to a drill attempt or call of the coach's team.
#[utoipa::path(post, path = "/api/v1/overrides", tag = "overrides", request_body = NewOverrideBody,
    responses(
        (status = 201, description = "Stored", body = OverrideView),
        (status = 400, description = "Malformed JSON", body = super::ErrorBody),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Not a coach or admin of the rep", body = super::ErrorBody),
        (status = 404, description = "Unknown target", body = super::ErrorBody),
        (status = 422, description = "Invalid score, phrase or comment", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_override(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(body): ApiJson<NewOverrideBody>,
) -> ApiResult<(StatusCode, ApiJson<OverrideView>)> {
    caller.require_role(&[Role::Coach, Role::Admin])?;
    let kind: RecordKind = body.target_kind.parse()?;
    let rep = target_rep(&state, kind, &body.target_id).await?;
    caller.readable_user(&state, rep.as_str()).await?;
    let change = match body.change {
        ChangeBody::PhraseMatch { phrase_id, matched } => {
            OverrideChange::PhraseMatch { phrase_id, matched }
        }
        ChangeBody::OverallScore { score } => OverrideChange::OverallScore {
            score: Score::new(score)?,
        },
    };
    let new = NewOverride {
        target_kind: kind,
        target_id: body.target_id,
        change,
        comment: body.comment,
        coach_id: caller.id().clone(),
    };
    let stored = state.store.add_override(&new).await?;
    Ok((StatusCode::CREATED, ApiJson(stored.into())))
}

/// Returns the override history of a drill attempt or call, oldest first.
#[utoipa::path(get, path = "/api/v1/overrides", tag = "overrides", params(TargetQuery),
    responses(
        (status = 200, description = "History", body = [OverrideView]),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Outside the caller's reach", body = super::ErrorBody),
        (status = 404, description = "Unknown target", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn history(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<TargetQuery>,
) -> ApiResult<ApiJson<Vec<OverrideView>>> {
    let kind: RecordKind = query.target_kind.parse()?;
    let rep = target_rep(&state, kind, &query.target_id).await?;
    caller.readable_user(&state, rep.as_str()).await?;
    let history = state.store.override_history(kind, &query.target_id).await?;
    Ok(ApiJson(
        history.into_iter().map(OverrideView::from).collect(),
    ))
}

async fn target_rep(state: &AppState, kind: RecordKind, id: &str) -> ApiResult<UserId> {
    let rep = match kind {
        RecordKind::Drill => {
            state
                .store
                .drill_attempt(&DrillAttemptId::parse(id)?)
                .await?
                .rep_id
        }
        RecordKind::Call => state.store.call(&CallId::parse(id)?).await?.rep_id,
    };
    Ok(rep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_body_reads_tagged_json() {
        let text = r#"{"field": "overall_score", "score": 72.5}"#;

        let change: ChangeBody = serde_json::from_str(text).expect("parses");

        assert!(
            matches!(change, ChangeBody::OverallScore { score } if (score - 72.5).abs() < 1e-9)
        );
    }

    #[test]
    fn unknown_field_is_rejected() {
        let text = r#"{"field": "latency", "score": 1}"#;

        assert!(serde_json::from_str::<ChangeBody>(text).is_err());
    }
}
