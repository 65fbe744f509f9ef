//! The caller's own account: `GET /me` returns who the bearer token
//! belongs to, with the role and team the pages need.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiResult;
use super::extract::{ApiJson, AuthUser};
use super::AppState;

/// The caller's account.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    /// User id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Role: `rep`, `coach`, `manager` or `admin`.
    pub role: String,
    /// Team id, absent for users without a team.
    pub team_id: Option<String>,
    /// Team name, absent for users without a team.
    pub team_name: Option<String>,
}

/// Returns the route of the caller's account.
pub fn router() -> Router<AppState> {
    Router::new().route("/me", get(me))
}

/// Returns the caller's id, name, role and team.
#[utoipa::path(get, path = "/api/v1/me", tag = "users", responses(
    (status = 200, description = "The caller", body = MeView),
    (status = 401, description = "Missing or invalid token", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn me(State(state): State<AppState>, caller: AuthUser) -> ApiResult<ApiJson<MeView>> {
    let user = caller.0;
    let team = match &user.team_id {
        Some(id) => Some(state.store.team(id).await?),
        None => None,
    };

    Ok(ApiJson(MeView {
        id: user.id.to_string(),
        name: user.display_name,
        role: user.role.as_str().to_string(),
        team_id: team.as_ref().map(|t| t.id.to_string()),
        team_name: team.map(|t| t.name),
    }))
}
