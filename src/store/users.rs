//! Teams, users with their roles, and bearer tokens.
//!
//! A token is 32 random bytes shown once to its owner as `cc_<64 hex>`. The
//! database keeps only its SHA-256, so a copy of the database cannot be used
//! to log in.

use std::fmt;
use std::str::FromStr;

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{from_ms, from_ms_opt, now, to_ms, Error, Result, Store, TeamId, TokenId, UserId};

/// Prefix of every bearer token, so leaked tokens are easy to recognise.
const TOKEN_PREFIX: &str = "cc_";
/// Random bytes in a bearer token.
const TOKEN_BYTES: usize = 32;
/// Minimum time between two writes of a token's `last_used_at`, in
/// milliseconds, so that authenticated reads do not queue on SQLite's
/// write lock.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

/// Role of a user: reps drill, coaches review their team, managers read
/// reports, admins manage everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A sales rep who does drills and real calls.
    Rep,
    /// A coach who reviews and overrides the scores of their team.
    Coach,
    /// A manager who reads heatmaps and checkpoint reports.
    Manager,
    /// An administrator of users, teams and rules.
    Admin,
}

impl Role {
    /// Every role, in order of increasing reach.
    pub const ALL: [Role; 4] = [Role::Rep, Role::Coach, Role::Manager, Role::Admin];

    /// Returns the stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Rep => "rep",
            Role::Coach => "coach",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = Error;

    fn from_str(text: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| {
                Error::invalid(
                    "role",
                    format!("{text:?}: expected rep, coach, manager or admin"),
                )
            })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A group of users; coaches and managers see the records of their team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Team {
    /// Team id.
    pub id: TeamId,
    /// Unique display name.
    pub name: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// A person who signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// User id.
    pub id: UserId,
    /// Team of the user; only admins may have none.
    pub team_id: Option<TeamId>,
    /// Unique sign-in address, stored in lowercase.
    pub email: String,
    /// Name shown in reports.
    pub display_name: String,
    /// Role of the user.
    pub role: Role,
    /// Whether the user is a top seller, whose answers are the baseline of
    /// heatmaps and monthly reviews; only reps can be.
    pub top_seller: bool,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Time the account was disabled; disabled users cannot authenticate.
    pub disabled_at: Option<OffsetDateTime>,
}

/// Fields of a user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Team of the user; required for every role but admin.
    pub team_id: Option<TeamId>,
    /// Sign-in address; compared without regard to case.
    pub email: String,
    /// Name shown in reports.
    pub display_name: String,
    /// Role of the user.
    pub role: Role,
}

/// A bearer token in clear text, shown once to its owner and never stored.
///
/// `Debug` prints `BearerToken(***)` so that the token never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(String);

impl BearerToken {
    /// Returns the token text to give to the user once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(***)")
    }
}

/// A new token: the record id and the clear text.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// Id of the token record, used to revoke it.
    pub id: TokenId,
    /// The clear text token.
    pub token: BearerToken,
}

/// Returns the SHA-256 of a token in lowercase hex, as stored.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    team_id: Option<String>,
    email: String,
    display_name: String,
    role: String,
    top_seller: i64,
    created_at: i64,
    disabled_at: Option<i64>,
}

impl TryFrom<UserRow> for User {
    type Error = Error;

    fn try_from(row: UserRow) -> Result<User> {
        Ok(User {
            id: UserId::try_from(row.id)?,
            team_id: row.team_id.map(TeamId::try_from).transpose()?,
            email: row.email,
            display_name: row.display_name,
            role: row
                .role
                .parse()
                .map_err(|err| Error::corrupt("users.role", &err))?,
            top_seller: row.top_seller != 0,
            created_at: from_ms(row.created_at)?,
            disabled_at: from_ms_opt(row.disabled_at)?,
        })
    }
}

const USER_COLUMNS: &str =
    "id, team_id, email, display_name, role, top_seller, created_at, disabled_at";

impl Store {
    /// Creates a team with a unique name.
    pub async fn create_team(&self, name: &str) -> Result<Team> {
        let name = name.trim();
        let team = Team {
            id: TeamId::generate(),
            name: name.to_string(),
            created_at: now(),
        };

        sqlx::query("INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(team.id.as_str())
            .bind(name)
            .bind(to_ms(team.created_at))
            .execute(self.pool())
            .await
            .map_err(|err| Error::from_db(err, format!("team named {name:?}")))?;
        Ok(team)
    }

    /// Returns the team with `id`.
    pub async fn team(&self, id: &TeamId) -> Result<Team> {
        let row: Option<(String, String, i64)> =
            sqlx::query_as("SELECT id, name, created_at FROM teams WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(self.pool())
                .await?;
        let (id_text, name, created_at) = row.ok_or_else(|| Error::NotFound {
            entity: "team",
            id: id.to_string(),
        })?;
        Ok(Team {
            id: TeamId::try_from(id_text)?,
            name,
            created_at: from_ms(created_at)?,
        })
    }

    /// Creates a user.
    ///
    /// # Errors
    ///
    /// [`Error::Conflict`] when the email is taken, [`Error::Invalid`] for a
    /// malformed email, an empty name, a non-admin without a team or an
    /// unknown team.
    pub async fn create_user(&self, new: &NewUser) -> Result<User> {
        self.create_user_with_top_seller(new, false).await
    }

    /// Creates a user, marked as a top seller when `top_seller` is true.
    ///
    /// # Errors
    ///
    /// As [`Store::create_user`], and [`Error::Invalid`] for a top seller
    /// whose role is not rep.
    pub async fn create_user_with_top_seller(
        &self,
        new: &NewUser,
        top_seller: bool,
    ) -> Result<User> {
        let mut user = validate_new_user(new)?;
        check_top_seller(user.role, top_seller)?;
        user.top_seller = top_seller;

        sqlx::query(
            "INSERT INTO users (id, team_id, email, display_name, role, top_seller, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(user.id.as_str())
        .bind(user.team_id.as_ref().map(TeamId::as_str))
        .bind(&user.email)
        .bind(&user.display_name)
        .bind(user.role.as_str())
        .bind(i64::from(top_seller))
        .bind(to_ms(user.created_at))
        .execute(self.pool())
        .await
        .map_err(|err| Error::from_db(err, format!("user with email {:?}", user.email)))?;
        Ok(user)
    }

    /// Returns the user with `id`.
    pub async fn user(&self, id: &UserId) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.ok_or_else(|| Error::NotFound {
            entity: "user",
            id: id.to_string(),
        })?
        .try_into()
    }

    /// Returns the user with `email` (any case), if any.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(email.trim().to_lowercase())
            .fetch_optional(self.pool())
            .await?;
        row.map(User::try_from).transpose()
    }

    /// Returns the members of a team, ordered by display name.
    pub async fn team_members(&self, team: &TeamId) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE team_id = $1 ORDER BY display_name, id"
        );
        let rows: Vec<UserRow> = sqlx::query_as(&sql)
            .bind(team.as_str())
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(User::try_from).collect()
    }

    /// Sets or clears the top-seller flag of a user and returns the user.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown user, [`Error::Invalid`] when
    /// setting the flag on a user whose role is not rep.
    pub async fn set_top_seller(&self, id: &UserId, top_seller: bool) -> Result<User> {
        let user = self.user(id).await?;
        check_top_seller(user.role, top_seller)?;

        sqlx::query("UPDATE users SET top_seller = $1 WHERE id = $2")
            .bind(i64::from(top_seller))
            .bind(id.as_str())
            .execute(self.pool())
            .await?;
        self.user(id).await
    }

    /// Returns the enabled top sellers of every team, ordered by display name.
    pub async fn top_sellers(&self) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE top_seller = 1 AND disabled_at IS NULL \
             ORDER BY display_name, id"
        );
        let rows: Vec<UserRow> = sqlx::query_as(&sql).fetch_all(self.pool()).await?;
        rows.into_iter().map(User::try_from).collect()
    }

    /// Returns the enabled reps of every team, ordered by display name.
    pub async fn active_reps(&self) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE role = $1 AND disabled_at IS NULL \
             ORDER BY display_name, id"
        );
        let rows: Vec<UserRow> = sqlx::query_as(&sql)
            .bind(Role::Rep.as_str())
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(User::try_from).collect()
    }

    /// Disables a user, so that their tokens stop authenticating.
    pub async fn disable_user(&self, id: &UserId) -> Result<()> {
        let result = sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
            .bind(to_ms(now()))
            .bind(id.as_str())
            .execute(self.pool())
            .await?;
        if result.rows_affected() == 0 {
            return Err(Error::NotFound {
                entity: "user",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    /// Creates a bearer token for `user` and returns its clear text once.
    pub async fn issue_token(
        &self,
        user: &UserId,
        label: &str,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<IssuedToken> {
        let mut bytes = [0u8; TOKEN_BYTES];
        rand::thread_rng().fill_bytes(&mut bytes);
        let token = BearerToken(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)));
        let id = TokenId::generate();

        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, token_sha256, label, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.as_str())
        .bind(user.as_str())
        .bind(hash_token(token.expose()))
        .bind(label)
        .bind(to_ms(now()))
        .bind(expires_at.map(to_ms))
        .execute(self.pool())
        .await
        .map_err(|err| Error::from_db(err, format!("token for user {user}")))?;
        Ok(IssuedToken { id, token })
    }

    /// Returns the enabled user that owns a valid, unexpired `token`.
    ///
    /// Returns `None` for an unknown, revoked or expired token and for a
    /// disabled user. A match records the time of use when the stored time
    /// is more than 60 s old, so most requests only read.
    pub async fn authenticate(&self, token: &str) -> Result<Option<User>> {
        let at = to_ms(now());
        let sql = format!(
            "SELECT t.id AS token_id, t.last_used_at AS token_last_used_at, {} \
             FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_sha256 = $1 AND t.revoked_at IS NULL \
             AND (t.expires_at IS NULL OR t.expires_at > $2) AND u.disabled_at IS NULL",
            USER_COLUMNS
                .split(", ")
                .map(|c| format!("u.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let row = sqlx::query(&sql)
            .bind(hash_token(token.trim()))
            .bind(at)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };

        let token_id: String = sqlx::Row::try_get(&row, "token_id")?;
        let last_used_at: Option<i64> = sqlx::Row::try_get(&row, "token_last_used_at")?;
        let user = <UserRow as sqlx::FromRow<_>>::from_row(&row)?.try_into()?;
        let stale_before = at - LAST_USED_RESOLUTION_MS;
        if last_used_at.is_none_or(|used| used <= stale_before) {
            self.touch_token(&token_id, at, stale_before).await?;
        }
        Ok(Some(user))
    }

    /// Records a use of a token unless another request recorded one after
    /// `stale_before` in the meantime.
    async fn touch_token(&self, token_id: &str, at: i64, stale_before: i64) -> Result<()> {
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1 \
             WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)",
        )
        .bind(at)
        .bind(token_id)
        .bind(stale_before)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Revokes a token; it stops authenticating at once.
    pub async fn revoke_token(&self, id: &TokenId) -> Result<()> {
        let result = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(to_ms(now()))
        .bind(id.as_str())
        .execute(self.pool())
        .await?;
        if result.rows_affected() == 0 {
            return Err(Error::NotFound {
                entity: "active token",
                id: id.to_string(),
            });
        }
        Ok(())
    }
}

fn check_top_seller(role: Role, top_seller: bool) -> Result<()> {
    if top_seller && role != Role::Rep {
        return Err(Error::invalid(
            "top seller",
            format!("a {role} cannot be a top seller: only reps can"),
        ));
    }
    Ok(())
}

fn validate_new_user(new: &NewUser) -> Result<User> {
    let email = new.email.trim().to_lowercase();
    let well_formed = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)
    });
    if !well_formed {
        return Err(Error::invalid(
            "email",
            format!("{:?} is not an email address", new.email),
        ));
    }
    let display_name = new.display_name.trim().to_string();
    if display_name.is_empty() {
        return Err(Error::invalid(
            "display name",
            "it is empty: give the user's name",
        ));
    }
    if new.team_id.is_none() && new.role != Role::Admin {
        return Err(Error::invalid(
            "user",
            format!("a {} needs a team", new.role),
        ));
    }
    Ok(User {
        id: UserId::generate(),
        team_id: new.team_id.clone(),
        email,
        display_name,
        role: new.role,
        top_seller: false,
        created_at: now(),
        disabled_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_parse_round_trips() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().ok(), Some(role));
        }
        assert!("owner".parse::<Role>().is_err());
    }

    #[test]
    fn token_debug_hides_text() {
        let token = BearerToken("cc_secret".to_string());

        let printed = format!("{token:?}");

        assert!(!printed.contains("secret"));
    }

    #[test]
    fn new_rep_needs_team() {
        let new = NewUser {
            team_id: None,
            email: "rep@example.com".to_string(),
            display_name: "Rep".to_string(),
            role: Role::Rep,
        };

        assert!(matches!(
            validate_new_user(&new),
            Err(Error::Invalid { .. })
        ));
    }
}
