//! Typed record ids. Each id is TEXT in the database: a short prefix that
//! names the record kind and 32 random hex digits.

use std::fmt;

use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::{Error, Result};

/// Maximum length of an id accepted by `parse`, in bytes.
const MAX_ID_LEN: usize = 64;

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Creates a new random id.
            pub fn generate() -> Self {
                Self(format!("{}_{}", $prefix, random_hex()))
            }

            /// Parses an id from outside, such as a URL path segment.
            pub fn parse(text: &str) -> Result<Self> {
                check_id(text, stringify!($name))?;
                Ok(Self(text.to_string()))
            }

            /// Returns the id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;

            fn try_from(text: String) -> Result<Self> {
                check_id(&text, stringify!($name))?;
                Ok(Self(text))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

define_id!(
    /// Id of a team.
    TeamId, "team"
);
define_id!(
    /// Id of a user of any role.
    UserId, "user"
);
define_id!(
    /// Id of a bearer token record (not the token itself).
    TokenId, "tok"
);
define_id!(
    /// Id of a transcription job.
    JobId, "job"
);
define_id!(
    /// Id of a drill attempt.
    DrillAttemptId, "drill"
);
define_id!(
    /// Id of a real, consented call.
    CallId, "call"
);
define_id!(
    /// Id of a coach override.
    OverrideId, "ovr"
);
define_id!(
    /// Id of a training task.
    TrainingTaskId, "task"
);
define_id!(
    /// Id of a permission audit log entry.
    AuditEntryId, "audit"
);

/// Returns 32 random hex digits (128 bits from the thread-local CSPRNG).
pub(crate) fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn check_id(text: &str, kind: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if text.is_empty() || text.len() > MAX_ID_LEN || !text.chars().all(allowed) {
        return Err(Error::invalid(
            kind,
            format!(
                "{text:?} is not an id: expected 1 to {MAX_ID_LEN} ASCII letters, digits, \
                 '_' or '-'"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_id_parses_back() {
        let id = UserId::generate();

        let parsed = UserId::parse(id.as_str());

        assert_eq!(parsed.ok(), Some(id));
    }

    #[test]
    fn parse_rejects_path_characters() {
        assert!(UserId::parse("../etc").is_err());
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse(&"a".repeat(65)).is_err());
    }
}
