//! The unlock rules in force: staff read them, and an admin reloads the
//! rule file after editing it. A file with errors is rejected with its
//! file, line and reason, and the rules in force stay.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, AuthUser};
use super::AppState;
use crate::store::users::Role;
use crate::unlock::{RuleSet, Rules};

/// The rules in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesView {
    /// Rule file the service reads.
    pub file: String,
    /// Version of the rules in force, recorded in every audit entry.
    pub version: u32,
    /// The rules, one per permission, in file order.
    #[schema(value_type = Object)]
    pub rules: Vec<crate::unlock::Rule>,
}

impl From<&Rules> for RulesView {
    fn from(rules: &Rules) -> RulesView {
        RulesView {
            file: rules.source.display().to_string(),
            version: rules.version,
            rules: rules.rules.clone(),
        }
    }
}

/// Returns the routes of the unlock rules.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/unlock-rules", get(current_rules))
        .route("/unlock-rules/reload", post(reload_rules))
}

/// Returns the unlock rules in force.
#[utoipa::path(get, path = "/api/v1/unlock-rules", tag = "permissions",
    responses(
        (status = 200, description = "The rules in force", body = RulesView),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "A rep", body = super::ErrorBody),
        (status = 409, description = "No rules were loaded at start-up", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn current_rules(
    State(state): State<AppState>,
    caller: AuthUser,
) -> ApiResult<ApiJson<RulesView>> {
    caller.require_role(&[Role::Coach, Role::Manager, Role::Admin])?;
    let rules = loaded(&state)?;
    Ok(ApiJson(RulesView::from(rules.current().as_ref())))
}

/// Reads the rule file again and, when it is valid, puts it in force and
/// re-evaluates every rep under it.
#[utoipa::path(post, path = "/api/v1/unlock-rules/reload", tag = "permissions",
    responses(
        (status = 200, description = "The reloaded rules, now in force", body = RulesView),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Not an admin", body = super::ErrorBody),
        (status = 409, description = "No rules were loaded at start-up", body = super::ErrorBody),
        (status = 422, description = "The file has errors (file:line:column: reason); the \
            rules in force stay", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn reload_rules(
    State(state): State<AppState>,
    caller: AuthUser,
) -> ApiResult<ApiJson<RulesView>> {
    caller.require_role(&[Role::Admin])?;
    let rules = Arc::clone(loaded(&state)?);
    let in_force = rules.current().version;
    let reloading = Arc::clone(&rules);
    match tokio::task::spawn_blocking(move || reloading.reload()).await? {
        Ok(reloaded) => {
            crate::worker::reevaluate_all_reps(&state.store, &rules).await;
            Ok(ApiJson(RulesView::from(reloaded.as_ref())))
        }
        Err(err) => Err(ApiError::invalid(format!(
            "{err}; version {in_force} stays in force"
        ))),
    }
}

fn loaded(state: &AppState) -> ApiResult<&Arc<RuleSet>> {
    state.rules.as_ref().ok_or_else(|| {
        ApiError::Conflict(format!(
            "no unlock rules are in force: {} did not load at start-up (see the service log); \
             fix it and restart the service",
            state.config.unlock_rules_file.display()
        ))
    })
}
