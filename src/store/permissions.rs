//! Granted permissions and their audit log. Unlock rules grant and revoke
//! permissions, and so can admins. Every change writes the permission row
//! and its audit entry in one transaction, and a change that alters nothing
//! (granting a held permission) writes neither.

use std::fmt;

use serde::Serialize;
use time::OffsetDateTime;

use super::record::parse_column;
use super::scores::check_key;
use super::{from_ms, now, to_ms, AuditEntryId, Error, Result, Store, UserId};

/// Whether an audit entry granted or revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PermissionAction {
    /// The permission was granted.
    Grant,
    /// The permission was revoked.
    Revoke,
}

impl PermissionAction {
    /// Returns the stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionAction::Grant => "grant",
            PermissionAction::Revoke => "revoke",
        }
    }
}

impl std::str::FromStr for PermissionAction {
    type Err = Error;

    fn from_str(text: &str) -> Result<PermissionAction> {
        match text {
            "grant" => Ok(PermissionAction::Grant),
            "revoke" => Ok(PermissionAction::Revoke),
            other => Err(Error::invalid("permission action", format!("{other:?}"))),
        }
    }
}

impl fmt::Display for PermissionAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A grant or revocation to apply.
#[derive(Debug, Clone)]
pub struct PermissionChange {
    /// The user whose permission changes.
    pub user_id: UserId,
    /// Permission name, such as "real_calls".
    pub permission: String,
    /// The unlock rule that decided it, if a rule did.
    pub rule_id: Option<String>,
    /// The user who decided it, if a person did.
    pub actor_id: Option<UserId>,
    /// Why, in words for the audit log.
    pub reason: String,
}

/// A permission a user holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantedPermission {
    /// Permission name.
    pub permission: String,
    /// Time of the grant.
    pub granted_at: OffsetDateTime,
    /// The rule that granted it, if any.
    pub rule_id: Option<String>,
    /// The user who granted it, if any.
    pub actor_id: Option<UserId>,
}

/// An entry of the permission audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Entry id.
    pub id: AuditEntryId,
    /// The user whose permission changed.
    pub user_id: UserId,
    /// Permission name.
    pub permission: String,
    /// Grant or revoke.
    pub action: PermissionAction,
    /// The rule that decided it, if any.
    pub rule_id: Option<String>,
    /// The user who decided it, if any.
    pub actor_id: Option<UserId>,
    /// Why.
    pub reason: String,
    /// Time of the change.
    pub at: OffsetDateTime,
}

type AuditRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    i64,
);

impl Store {
    /// Grants a permission and logs it; returns `false` if it was already held.
    pub async fn grant_permission(&self, change: &PermissionChange) -> Result<bool> {
        check_key("permission", &change.permission)?;
        let at = to_ms(now());
        let mut tx = self.begin().await?;

        let inserted = sqlx::query(
            "INSERT INTO user_permissions (user_id, permission, granted_at, rule_id, actor_id) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, permission) DO NOTHING",
        )
        .bind(change.user_id.as_str())
        .bind(&change.permission)
        .bind(at)
        .bind(change.rule_id.as_deref())
        .bind(change.actor_id.as_ref().map(UserId::as_str))
        .execute(&mut *tx)
        .await
        .map_err(|err| Error::from_db(err, format!("permission {:?}", change.permission)))?
        .rows_affected();
        if inserted == 0 {
            return Ok(false);
        }
        insert_audit(&mut tx, change, PermissionAction::Grant, at).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Revokes a permission and logs it; returns `false` if it was not held.
    pub async fn revoke_permission(&self, change: &PermissionChange) -> Result<bool> {
        let at = to_ms(now());
        let mut tx = self.begin().await?;

        let deleted =
            sqlx::query("DELETE FROM user_permissions WHERE user_id = $1 AND permission = $2")
                .bind(change.user_id.as_str())
                .bind(&change.permission)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if deleted == 0 {
            return Ok(false);
        }
        insert_audit(&mut tx, change, PermissionAction::Revoke, at).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Returns the permissions a user holds, by name.
    pub async fn user_permissions(&self, user: &UserId) -> Result<Vec<GrantedPermission>> {
        let rows: Vec<(String, i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT permission, granted_at, rule_id, actor_id FROM user_permissions \
             WHERE user_id = $1 ORDER BY permission",
        )
        .bind(user.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(permission, granted_at, rule_id, actor)| {
                Ok(GrantedPermission {
                    permission,
                    granted_at: from_ms(granted_at)?,
                    rule_id,
                    actor_id: actor.map(UserId::try_from).transpose()?,
                })
            })
            .collect()
    }

    /// Returns whether a user has `permission`.
    pub async fn has_permission(&self, user: &UserId, permission: &str) -> Result<bool> {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM user_permissions WHERE user_id = $1 AND permission = $2",
        )
        .bind(user.as_str())
        .bind(permission)
        .fetch_one(self.pool())
        .await?;
        Ok(count > 0)
    }

    /// Returns a user's audit log, oldest entry first.
    pub async fn permission_audit(&self, user: &UserId) -> Result<Vec<AuditEntry>> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, user_id, permission, action, rule_id, actor_id, reason, at \
             FROM permission_audit WHERE user_id = $1 ORDER BY seq",
        )
        .bind(user.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.into_iter().map(audit_entry).collect()
    }
}

fn audit_entry(row: AuditRow) -> Result<AuditEntry> {
    let (id, user_id, permission, action, rule_id, actor_id, reason, at) = row;
    Ok(AuditEntry {
        id: AuditEntryId::try_from(id)?,
        user_id: UserId::try_from(user_id)?,
        permission,
        action: parse_column("permission_audit.action", &action)?,
        rule_id,
        actor_id: actor_id.map(UserId::try_from).transpose()?,
        reason,
        at: from_ms(at)?,
    })
}

async fn insert_audit(
    conn: &mut sqlx::AnyConnection,
    change: &PermissionChange,
    action: PermissionAction,
    at: i64,
) -> Result<()> {
    let (last,): (i64,) =
        sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM permission_audit WHERE user_id = $1")
            .bind(change.user_id.as_str())
            .fetch_one(&mut *conn)
            .await?;
    sqlx::query(
        "INSERT INTO permission_audit (id, user_id, permission, action, rule_id, actor_id, \
         reason, at, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(AuditEntryId::generate().as_str())
    .bind(change.user_id.as_str())
    .bind(&change.permission)
    .bind(action.as_str())
    .bind(change.rule_id.as_deref())
    .bind(change.actor_id.as_ref().map(UserId::as_str))
    .bind(change.reason.trim())
    .bind(at)
    .bind(last + 1)
    .execute(&mut *conn)
    .await
    .map_err(|err| Error::from_db(err, format!("audit entry for {:?}", change.permission)))?;
    Ok(())
}
