//! Team skill heatmaps: `GET /teams/{id}/heatmap?format=json|svg|png|xlsx`
//! aggregates the team's score samples over a window of days.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use super::AppState;
use crate::heatmap::{self, team, Heatmap};
use crate::store::users::Role;
use crate::store::TeamId;

/// Maximum window of a heatmap, in days.
pub const MAX_WINDOW_DAYS: u32 = 366;
/// Content type of XLSX workbooks.
const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Query parameters of a heatmap.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HeatmapQuery {
    /// `json` (default), `svg`, `png` or `xlsx`.
    pub format: Option<String>,
    /// Days before now that samples may come from, 1 to 366 (default 30).
    pub window_days: Option<u32>,
}

/// Returns the route of heatmaps.
pub fn router() -> Router<AppState> {
    Router::new().route("/teams/{id}/heatmap", get(team_heatmap))
}

/// Returns a team's heatmap: reps as rows, skill dimensions as columns.
#[utoipa::path(get, path = "/api/v1/teams/{id}/heatmap", tag = "heatmaps",
    params(("id" = String, Path, description = "Team id"), HeatmapQuery),
    responses(
        (status = 200, description = "JSON, SVG, PNG or XLSX heatmap"),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "A rep, or another team", body = super::ErrorBody),
        (status = 404, description = "Unknown team", body = super::ErrorBody),
        (status = 422, description = "Invalid format or window", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn team_heatmap(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<HeatmapQuery>,
) -> ApiResult<Response> {
    caller.require_role(&[Role::Coach, Role::Manager, Role::Admin])?;
    let team_id = TeamId::parse(&id)?;
    caller.check_team(&team_id)?;
    let format = query
        .format
        .as_deref()
        .unwrap_or("json")
        .trim()
        .to_ascii_lowercase();
    if !["json", "svg", "png", "xlsx"].contains(&format.as_str()) {
        return Err(ApiError::invalid(format!(
            "format {format:?}: expected json, svg, png or xlsx"
        )));
    }
    let window_days = query.window_days.unwrap_or(30);
    if window_days == 0 || window_days > MAX_WINDOW_DAYS {
        return Err(ApiError::invalid(format!(
            "window_days {window_days}: expected 1 to {MAX_WINDOW_DAYS}"
        )));
    }
    let heatmap = build(&state, &team_id, window_days).await?;
    render(heatmap, &format).await
}

async fn build(state: &AppState, team_id: &TeamId, window_days: u32) -> ApiResult<Heatmap> {
    let dimensions = &state.config.dimensions_file;
    let now = crate::store::now();
    match team::build_team_heatmap(&state.store, team_id, window_days, dimensions, now).await {
        Ok(heatmap) => Ok(heatmap),
        Err(team::Error::UnknownTeam(_)) => {
            Err(ApiError::NotFound(format!("team {team_id} not found")))
        }
        Err(team::Error::Store(err)) => Err(err.into()),
        Err(err) => Err(ApiError::internal(err)),
    }
}

async fn render(heatmap: Heatmap, format: &str) -> ApiResult<Response> {
    let response = match format {
        "svg" => {
            let svg = heatmap::svg::render(&heatmap);
            ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response()
        }
        "png" => {
            let png = tokio::task::spawn_blocking(move || {
                heatmap::png::PngRenderer::new().render(&heatmap)
            })
            .await?
            .map_err(ApiError::internal)?;
            ([(header::CONTENT_TYPE, "image/png")], png).into_response()
        }
        "xlsx" => {
            let bytes = heatmap::xlsx::render(&heatmap).map_err(ApiError::internal)?;
            let disposition = "attachment; filename=\"heatmap.xlsx\"";
            let headers = [
                (header::CONTENT_TYPE, XLSX_TYPE),
                (header::CONTENT_DISPOSITION, disposition),
            ];
            (headers, bytes).into_response()
        }
        _ => ApiJson(heatmap).into_response(),
    };
    Ok(response)
}
