//! Values shared by several tables: which kind of record a row points at,
//! and scores on the 0 to 100 scale.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{Error, Result};

/// The kind of scored record: a practice drill or a real call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A drill attempt.
    Drill,
    /// A real, consented call.
    Call,
}

impl RecordKind {
    /// Returns the stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Drill => "drill",
            RecordKind::Call => "call",
        }
    }
}

impl FromStr for RecordKind {
    type Err = Error;

    fn from_str(text: &str) -> Result<RecordKind> {
        match text {
            "drill" => Ok(RecordKind::Drill),
            "call" => Ok(RecordKind::Call),
            other => Err(Error::invalid(
                "record kind",
                format!("{other:?}: expected drill or call"),
            )),
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A score from 0 to 100 inclusive; never NaN.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Score(f64);

impl Score {
    /// Highest score.
    pub const MAX: f64 = 100.0;

    /// Checks that `value` lies in 0 to 100.
    pub fn new(value: f64) -> Result<Score> {
        if !(0.0..=Self::MAX).contains(&value) {
            return Err(Error::invalid(
                "score",
                format!("{value}: expected 0 to 100"),
            ));
        }
        Ok(Score(value))
    }

    /// Returns the value.
    pub fn value(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Score {
    type Error = Error;

    fn try_from(value: f64) -> Result<Score> {
        Score::new(value)
    }
}

impl From<Score> for f64 {
    fn from(score: Score) -> f64 {
        score.0
    }
}

/// Parses a stored enum text, reporting a bad value as a corrupt column.
pub(crate) fn parse_column<T: FromStr>(column: &'static str, text: &str) -> Result<T> {
    text.parse()
        .map_err(|_| Error::corrupt(column, &format!("unknown value {text:?}")))
}

/// Serialises a JSON value for a TEXT column.
pub(crate) fn json_text(value: &serde_json::Value) -> String {
    value.to_string()
}

/// Parses a stored JSON TEXT column.
pub(crate) fn parse_json(
    column: &'static str,
    text: Option<String>,
) -> Result<Option<serde_json::Value>> {
    text.map(|t| serde_json::from_str(&t).map_err(|err| Error::corrupt(column, &err)))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_rejects_out_of_range() {
        assert!(Score::new(-0.1).is_err());
        assert!(Score::new(100.1).is_err());
        assert!(Score::new(f64::NAN).is_err());
        assert!(Score::new(100.0).is_ok());
    }

    #[test]
    fn record_kind_parse_round_trips() {
        for kind in [RecordKind::Drill, RecordKind::Call] {
            assert_eq!(kind.as_str().parse::<RecordKind>().ok(), Some(kind));
        }
    }
}
