//! Request extractors whose rejections use the [`ApiError`] JSON shape,
//! and [`AuthUser`], the bearer-token caller with its role and team checks.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::{ApiError, ApiResult};
use super::AppState;
use crate::config::Secret;
use crate::store::users::{Role, User};
use crate::store::{TeamId, UserId};

/// A JSON body or response. A rejected body returns the error shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> ApiResult<Self> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    let detail = rejection.body_text();
    match rejection {
        JsonRejection::JsonDataError(_) => ApiError::invalid(detail),
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(format!(
            "{detail}: send the body with Content-Type: application/json"
        )),
        _ => from_status(rejection.status(), detail),
    }
}

/// Maps a framework rejection's status and text to the error of that status.
pub(crate) fn from_status(status: StatusCode, detail: String) -> ApiError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(detail),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(detail),
        StatusCode::UNPROCESSABLE_ENTITY => ApiError::invalid(detail),
        StatusCode::NOT_FOUND => ApiError::NotFound(detail),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed(detail),
        status if status.is_server_error() => ApiError::internal(std::io::Error::other(detail)),
        _ => ApiError::bad_request(detail),
    }
}

/// Query parameters. A rejected query string returns 400 in the error shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|query| ApiQuery(query.0))
            .map_err(|rejection: QueryRejection| ApiError::bad_request(rejection.body_text()))
    }
}

/// Path parameters. A rejected segment returns 400 in the error shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|path| ApiPath(path.0))
            .map_err(|rejection: PathRejection| {
                from_status(rejection.status(), rejection.body_text())
            })
    }
}

/// The authenticated caller, from `Authorization: Bearer <token>`.
///
/// A rep reaches only their own records, coaches and managers the records
/// of their team, and admins every record.
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let token = bearer_token(parts)?;
        let user = state.store.authenticate(token.expose()).await?;
        let user = user.ok_or_else(|| {
            ApiError::Unauthorized(
                "the bearer token is unknown, revoked or expired: ask an admin for a new one"
                    .to_string(),
            )
        })?;
        tracing::Span::current().record("user", tracing::field::display(&user.id));
        Ok(AuthUser(user))
    }
}

fn bearer_token(parts: &Parts) -> ApiResult<Secret> {
    let missing = || {
        ApiError::Unauthorized(
            "missing bearer token: send the header Authorization: Bearer <token>".to_string(),
        )
    };
    let value = parts.headers.get(AUTHORIZATION).ok_or_else(missing)?;
    let text = value.to_str().map_err(|_| missing())?;
    let (scheme, token) = text.trim().split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(missing());
    }
    Ok(Secret::new(token.trim()))
}

impl AuthUser {
    /// Returns the caller's id.
    pub fn id(&self) -> &UserId {
        &self.0.id
    }

    /// Returns the caller's role.
    pub fn role(&self) -> Role {
        self.0.role
    }

    /// Rejects with 403 unless the caller has one of `roles`.
    pub fn require_role(&self, roles: &[Role]) -> ApiResult<()> {
        if roles.contains(&self.0.role) {
            return Ok(());
        }
        let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(ApiError::Forbidden(format!(
            "this request needs the role {}, and the caller is a {}",
            allowed.join(" or "),
            self.0.role
        )))
    }

    /// Returns whether the caller may read the records of `rep`.
    pub fn can_read_user(&self, other: &User) -> bool {
        match self.0.role {
            Role::Admin => true,
            Role::Rep => self.0.id == other.id,
            Role::Coach | Role::Manager => {
                self.0.id == other.id
                    || (self.0.team_id.is_some() && self.0.team_id == other.team_id)
            }
        }
    }

    /// Rejects with 403 unless the caller may read the records of `other`.
    pub fn check_user(&self, other: &User) -> ApiResult<()> {
        if self.can_read_user(other) {
            return Ok(());
        }
        Err(ApiError::Forbidden(format!(
            "user {} is outside the caller's reach: reps see their own records, \
             coaches and managers those of their team",
            other.id
        )))
    }

    /// Rejects with 403 unless the caller may read the records of `team`.
    pub fn check_team(&self, team: &TeamId) -> ApiResult<()> {
        let member = self.0.team_id.as_ref() == Some(team);
        match self.0.role {
            Role::Admin => Ok(()),
            Role::Coach | Role::Manager if member => Ok(()),
            Role::Rep => Err(ApiError::Forbidden(
                "team reports need the role coach, manager or admin".to_string(),
            )),
            _ => Err(ApiError::Forbidden(format!(
                "team {team} is not the caller's team"
            ))),
        }
    }

    /// Loads `rep_id` and checks that the caller is a coach, manager or
    /// admin who may read its records.
    pub async fn staff_over(&self, state: &AppState, rep_id: &str) -> ApiResult<User> {
        self.require_role(&[Role::Coach, Role::Manager, Role::Admin])?;
        self.readable_user(state, rep_id).await
    }

    /// Loads `rep_id` and checks that the caller may read its records.
    pub async fn readable_user(&self, state: &AppState, rep_id: &str) -> ApiResult<User> {
        let id = UserId::parse(rep_id)?;
        let user = state.store.user(&id).await?;
        self.check_user(&user)?;
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::now;

    fn user(id: &str, role: Role, team: Option<&str>) -> User {
        User {
            id: UserId::parse(id).expect("id"),
            team_id: team.map(|t| TeamId::parse(t).expect("team")),
            email: format!("{id}@example.com"),
            display_name: id.to_string(),
            role,
            top_seller: false,
            created_at: now(),
            disabled_at: None,
        }
    }

    #[test]
    fn rep_reads_only_self() {
        let rep = AuthUser(user("user_a", Role::Rep, Some("team_1")));
        let peer = user("user_b", Role::Rep, Some("team_1"));

        assert!(rep.can_read_user(&rep.0.clone()));
        assert!(!rep.can_read_user(&peer));
    }

    #[test]
    fn coach_reads_own_team_only() {
        let coach = AuthUser(user("user_c", Role::Coach, Some("team_1")));
        let member = user("user_a", Role::Rep, Some("team_1"));
        let outsider = user("user_b", Role::Rep, Some("team_2"));

        assert!(coach.can_read_user(&member));
        assert!(!coach.can_read_user(&outsider));
    }

    #[test]
    fn admin_without_team_reads_all() {
        let admin = AuthUser(user("user_z", Role::Admin, None));
        let outsider = user("user_b", Role::Rep, Some("team_2"));

        assert!(admin.can_read_user(&outsider));
        assert!(admin
            .check_team(&TeamId::parse("team_2").expect("team"))
            .is_ok());
    }
}
