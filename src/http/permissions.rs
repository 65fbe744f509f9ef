//! Permissions of a rep: what is granted, the audit log of every change,
//! and manual grants and revocations by managers and admins.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, ApiPath, AuthUser};
use super::views::rfc3339;
use super::AppState;
use crate::store::permissions::{PermissionAction, PermissionChange};
use crate::store::users::Role;

/// A rep's permissions and their history.
#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionsView {
    /// The rep.
    pub rep_id: String,
    /// Granted permissions with the time and rule or actor of the grant.
    pub granted: Vec<GrantView>,
    /// Every grant and revocation, oldest first.
    pub audit: Vec<AuditView>,
}

/// One granted permission.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantView {
    /// Permission name.
    pub permission: String,
    /// Grant time.
    pub granted_at: String,
    /// Unlock rule that granted it, if any.
    pub rule_id: Option<String>,
    /// User who granted it by hand, if any.
    pub actor_id: Option<String>,
}

/// One audit log entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// Permission name.
    pub permission: String,
    /// `grant` or `revoke`.
    pub action: String,
    /// Unlock rule behind the change, if any.
    pub rule_id: Option<String>,
    /// User behind the change, if any.
    pub actor_id: Option<String>,
    /// Reason for the change.
    pub reason: String,
    /// When it changed.
    pub at: String,
}

/// A manual change.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangeRequest {
    /// Permission name, such as `live_calls`.
    pub permission: String,
    /// `grant` or `revoke`.
    pub action: String,
    /// Why; stored in the audit log.
    pub reason: String,
}

/// Returns the routes of permissions.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/reps/{id}/permissions",
        get(permissions).post(change_permission),
    )
}

/// Returns a rep's permissions and audit log.
#[utoipa::path(get, path = "/api/v1/reps/{id}/permissions", tag = "permissions",
    params(("id" = String, Path, description = "Rep id")),
    responses(
        (status = 200, description = "Permissions and audit log", body = PermissionsView),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Outside the caller's reach", body = super::ErrorBody),
        (status = 404, description = "Unknown rep", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn permissions(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<PermissionsView>> {
    let rep = caller.readable_user(&state, &id).await?;
    view(&state, &rep.id).await.map(ApiJson)
}

async fn view(state: &AppState, rep: &crate::store::UserId) -> ApiResult<PermissionsView> {
    let granted = state.store.user_permissions(rep).await?;
    let audit = state.store.permission_audit(rep).await?;
    Ok(PermissionsView {
        rep_id: rep.to_string(),
        granted: granted
            .into_iter()
            .map(|g| GrantView {
                permission: g.permission,
                granted_at: rfc3339(g.granted_at),
                rule_id: g.rule_id,
                actor_id: g.actor_id.map(|id| id.to_string()),
            })
            .collect(),
        audit: audit
            .into_iter()
            .map(|a| AuditView {
                permission: a.permission,
                action: a.action.to_string(),
                rule_id: a.rule_id,
                actor_id: a.actor_id.map(|id| id.to_string()),
                reason: a.reason,
                at: rfc3339(a.at),
            })
            .collect(),
    })
}

/// Grants or revokes a permission by hand, with an audit entry.
#[utoipa::path(post, path = "/api/v1/reps/{id}/permissions", tag = "permissions",
    params(("id" = String, Path, description = "Rep id")), request_body = ChangeRequest,
    responses(
        (status = 200, description = "Permissions after the change", body = PermissionsView),
        (status = 401, description = "Missing or invalid token", body = super::ErrorBody),
        (status = 403, description = "Not a manager or admin of the rep", body = super::ErrorBody),
        (status = 404, description = "Unknown rep", body = super::ErrorBody),
        (status = 422, description = "Invalid action, permission or reason", body = super::ErrorBody)),
    security(("bearer" = [])))]
pub async fn change_permission(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ChangeRequest>,
) -> ApiResult<ApiJson<PermissionsView>> {
    caller.require_role(&[Role::Manager, Role::Admin])?;
    let rep = caller.readable_user(&state, &id).await?;
    let action: PermissionAction = body.action.trim().parse()?;
    if body.reason.trim().is_empty() {
        return Err(ApiError::invalid(
            "reason is empty: say why the permission changes",
        ));
    }
    let change = PermissionChange {
        user_id: rep.id.clone(),
        permission: body.permission.trim().to_string(),
        rule_id: None,
        actor_id: Some(caller.id().clone()),
        reason: body.reason,
    };
    let changed = match action {
        PermissionAction::Grant => state.store.grant_permission(&change).await?,
        PermissionAction::Revoke => state.store.revoke_permission(&change).await?,
    };
    tracing::info!(rep = %rep.id, permission = %change.permission, %action, changed, "permission changed");
    view(&state, &rep.id).await.map(ApiJson)
}
