//! Monthly reviews: `GET /reps/{id}/reviews/monthly?month=YYYY-MM` compares
//! a rep's answers in drills and calls of that month with the answers of
//! every top seller, per scenario, as JSON or a PDF-ready HTML page.

use std::collections::BTreeSet;

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
use crate::knowledge::Scenario;
use crate::review::{self, observe, Month, MonthlyReview};
use crate::store::users::User;

/// Query parameters of a monthly review.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewQuery {
    /// Month in UTC, `YYYY-MM` such as `2025-03`.
    pub month: Option<String>,
    /// `json` (default) or `html`.
    pub format: Option<String>,
}

/// Returns the route of monthly reviews.
pub fn router() -> Router<AppState> {
    Router::new().route("/reps/{id}/reviews/monthly", get(monthly_review))
}

/// Returns a rep's monthly review against the top sellers.
#[utoipa::path(get, path = "/api/v1/reps/{id}/reviews/monthly", tag = "reviews",
    params(("id" = String, Path, description = "Rep id"), ReviewQuery),
    responses(
        (status = 200, description = "The review as JSON, or as an HTML page ready to print",
            body = Object),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Outside the caller's reach", body = super::ErrorBody),
        (status = 404, description = "Unknown rep", body = super::ErrorBody),
        (status = 422, description = "Missing or invalid month, or invalid format",
            body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn monthly_review(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<ReviewQuery>,
) -> ApiResult<Response> {
    let rep = caller.readable_user(&state, &id).await?;
    if rep.role != crate::store::users::Role::Rep {
        return Err(ApiError::NotFound(format!(
            "user {id} is a {}, not a rep: monthly reviews are kept for reps",
            rep.role
        )));
    }
    let month = parse_month(query.month.as_deref())?;
    let format = query
        .format
        .as_deref()
        .unwrap_or("json")
        .trim()
        .to_ascii_lowercase();
    if !["json", "html"].contains(&format.as_str()) {
        return Err(ApiError::invalid(format!(
            "format {format:?}: expected json or html"
        )));
    }

    let review = build(&state, &rep, month).await?;
    let response = if format == "html" {
        let page = review::html::render(&review);
        let content_type = "text/html; charset=utf-8";
        ([(header::CONTENT_TYPE, content_type)], page).into_response()
    } else {
        ApiJson(review).into_response()
    };
    Ok(response)
}

/// Parses `YYYY-MM` into a month, rejecting anything else with 422.
fn parse_month(text: Option<&str>) -> ApiResult<Month> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Err(ApiError::invalid(
            "month is missing: pass month=YYYY-MM, such as month=2025-03",
        ));
    };
    let invalid = || {
        ApiError::invalid(format!(
            "month {text:?}: expected YYYY-MM with a month from 01 to 12, such as 2025-03"
        ))
    };
    let (year, month) = text.split_once('-').ok_or_else(invalid)?;
    let digits =
        |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
    if !digits(year, 4) || !digits(month, 2) {
        return Err(invalid());
    }
    let month = Month {
        year: year.parse().map_err(|_| invalid())?,
        month: month.parse().map_err(|_| invalid())?,
    };
    month.window().map_err(|_| invalid())?;
    Ok(month)
}

/// Loads the rep's and the top sellers' answers of the month and the
/// emotion curves of the rep's calls, and builds the review.
async fn build(state: &AppState, rep: &User, month: Month) -> ApiResult<MonthlyReview> {
    let window = month
        .window()
        .map_err(|err| ApiError::invalid(err.to_string()))?;
    let mut observations = observe::rep_observations(&state.store, &rep.id, &window).await?;
    let mut top_sellers = BTreeSet::new();
    for seller in state.store.top_sellers().await? {
        if seller.id == rep.id {
            continue;
        }
        let theirs = observe::rep_observations(&state.store, &seller.id, &window).await?;
        observations.extend(theirs);
        top_sellers.insert(seller.id.to_string());
    }

    let scenarios: Vec<Scenario> = state.corpus.scenarios().cloned().collect();
    let mut review = review::build_review(
        rep.id.as_str(),
        &rep.display_name,
        month,
        &observations,
        &top_sellers,
        &scenarios,
    )
    .map_err(ApiError::internal)?;
    review.emotions = observe::rep_call_emotions(&state.store, &rep.id, &window).await?;
    Ok(review)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_parses_year_and_number() {
        let month = parse_month(Some("2025-03")).expect("valid month");

        assert_eq!(month.year, 2025);
        assert_eq!(month.month, 3);
    }

    #[test]
    fn malformed_months_are_rejected() {
        for text in [
            "2025-13", "2025-00", "2025-3", "25-03", "2025/03", "march", "",
        ] {
            assert!(parse_month(Some(text)).is_err(), "{text:?} accepted");
        }
        assert!(parse_month(None).is_err());
    }
}
