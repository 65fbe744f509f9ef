//! Parsing and validation of unlock rule files such as `config/unlock.toml`.
//!
//! Every error names the file, the line and column, and the reason, so a
//! coach can fix the rule file without reading code.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::{Error, Result};
use crate::heatmap::DimensionSet;

/// Window of a score requirement when the rule gives none, in days.
pub const DEFAULT_WINDOW_DAYS: u32 = 30;
/// Maximum score window of a rule, in days.
pub const MAX_WINDOW_DAYS: u32 = 365;

/// A validated rule file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rules {
    /// Version number of the rule set, recorded in every audit entry.
    pub version: u32,
    /// Rules in file order, one per permission.
    pub rules: Vec<Rule>,
    /// File the rules came from.
    pub source: PathBuf,
}

/// Requirements that grant one permission when all of them are met.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    /// Permission id that the rule grants, unique in the file.
    pub permission: String,
    /// Human description.
    pub description: Option<String>,
    /// Checkpoints the rep must have passed.
    pub requires_checkpoints: Vec<String>,
    /// Minimum dimension scores.
    pub min_scores: Vec<MinScore>,
}

/// A minimum mean score in one dimension over a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MinScore {
    /// Dimension id.
    pub dimension: String,
    /// Lowest passing mean score, 0 to 100.
    pub at_least: f64,
    /// Window ending at the evaluation time, in days.
    pub window_days: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: Spanned<i64>,
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    permission: Spanned<String>,
    description: Option<String>,
    #[serde(default)]
    requires_checkpoints: Vec<Spanned<String>>,
    #[serde(default)]
    min_score: Vec<Spanned<RawMinScore>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMinScore {
    dimension: Spanned<String>,
    at_least: Spanned<f64>,
    window_days: Option<Spanned<i64>>,
}

impl Rules {
    /// Reads and validates a rule file.
    pub fn load(path: &Path, dimensions: &DimensionSet) -> Result<Rules> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path, dimensions)
    }

    /// Parses and validates rule text; `file` names the source in errors.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRules`] for TOML syntax, unknown fields, unknown
    /// dimensions, thresholds outside 0-100, windows outside 1-365 days,
    /// duplicate permissions and rules without requirements.
    pub fn parse(text: &str, file: &Path, dimensions: &DimensionSet) -> Result<Rules> {
        let locate = Locator { text, file };
        let raw: RawFile = toml::from_str(text)
            .map_err(|e| locate.error(e.span().unwrap_or(0..0), e.message().trim().to_string()))?;

        let version = u32::try_from(*raw.version.get_ref())
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(|| {
                locate.error(
                    raw.version.span(),
                    "version must be a whole number of at least 1".into(),
                )
            })?;
        let mut first_line: HashMap<String, usize> = HashMap::new();
        let mut rules = Vec::with_capacity(raw.rule.len());
        for raw_rule in raw.rule {
            let span = raw_rule.permission.span();
            let rule = validate_rule(raw_rule, &locate, dimensions)?;
            let line = locate.line_col(span.start).0;
            if let Some(first) = first_line.insert(rule.permission.clone(), line) {
                let reason = format!(
                    "duplicate permission {:?}, first defined at line {first}",
                    rule.permission
                );
                return Err(locate.error(span, reason));
            }
            rules.push(rule);
        }
        Ok(Rules {
            version,
            rules,
            source: file.to_path_buf(),
        })
    }

    /// Returns the rule that grants `permission`.
    pub fn rule(&self, permission: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.permission == permission)
    }
}

struct Locator<'a> {
    text: &'a str,
    file: &'a Path,
}

impl Locator<'_> {
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    fn error(&self, span: Range<usize>, reason: String) -> Error {
        let (line, column) = self.line_col(span.start);
        Error::InvalidRules {
            file: self.file.to_path_buf(),
            line,
            column,
            reason,
        }
    }
}

fn validate_rule(raw: RawRule, locate: &Locator<'_>, dimensions: &DimensionSet) -> Result<Rule> {
    let permission = check_id(&raw.permission, "permission", locate)?;
    if raw.requires_checkpoints.is_empty() && raw.min_score.is_empty() {
        let reason = format!(
            "rule for permission {permission:?} has no requirements; \
             add requires_checkpoints or [[rule.min_score]]"
        );
        return Err(locate.error(raw.permission.span(), reason));
    }
    let mut checkpoints: Vec<String> = Vec::with_capacity(raw.requires_checkpoints.len());
    for checkpoint in &raw.requires_checkpoints {
        let id = check_id(checkpoint, "checkpoint id", locate)?;
        if checkpoints.contains(&id) {
            return Err(locate.error(
                checkpoint.span(),
                format!("checkpoint {id:?} is listed twice"),
            ));
        }
        checkpoints.push(id);
    }
    let min_scores = raw
        .min_score
        .into_iter()
        .map(|m| validate_min_score(m.into_inner(), locate, dimensions))
        .collect::<Result<Vec<_>>>()?;
    Ok(Rule {
        permission,
        description: raw.description,
        requires_checkpoints: checkpoints,
        min_scores,
    })
}

fn validate_min_score(
    raw: RawMinScore,
    locate: &Locator<'_>,
    dimensions: &DimensionSet,
) -> Result<MinScore> {
    let dimension = raw.dimension.get_ref();
    if !dimensions.contains(dimension) {
        let known: Vec<&str> = dimensions.specs().iter().map(|s| s.id.as_str()).collect();
        let reason = format!(
            "unknown dimension {dimension:?}: expected one of {}",
            known.join(", ")
        );
        return Err(locate.error(raw.dimension.span(), reason));
    }
    let at_least = *raw.at_least.get_ref();
    if !(0.0..=100.0).contains(&at_least) {
        let reason = format!("at_least {at_least} is outside 0-100");
        return Err(locate.error(raw.at_least.span(), reason));
    }
    let window_days = match raw.window_days {
        None => DEFAULT_WINDOW_DAYS,
        Some(days) => u32::try_from(*days.get_ref())
            .ok()
            .filter(|d| (1..=MAX_WINDOW_DAYS).contains(d))
            .ok_or_else(|| {
                let reason = format!(
                    "window_days {} is outside 1-{MAX_WINDOW_DAYS}",
                    days.get_ref()
                );
                locate.error(days.span(), reason)
            })?,
    };
    Ok(MinScore {
        dimension: dimension.clone(),
        at_least,
        window_days,
    })
}

fn check_id(value: &Spanned<String>, kind: &str, locate: &Locator<'_>) -> Result<String> {
    let id = value.get_ref();
    let valid = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        return Ok(id.clone());
    }
    let reason = format!("{kind} {id:?} must be lowercase snake_case (a-z, 0-9, _)");
    Err(locate.error(value.span(), reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Rules> {
        Rules::parse(text, Path::new("unlock.toml"), &DimensionSet::default())
    }

    #[test]
    fn bundled_rules_parse() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/unlock.toml");

        let rules =
            Rules::load(&path, &DimensionSet::default()).expect("config/unlock.toml is valid");

        assert!(rules.rule("large_account_quote").is_some());
        assert!(rules.version >= 1);
    }

    #[test]
    fn window_defaults_to_thirty_days() {
        let text = "version = 1\n[[rule]]\npermission = \"p\"\n\
                    [[rule.min_score]]\ndimension = \"closing\"\nat_least = 70\n";

        let rules = parse(text).expect("valid rules");

        assert_eq!(rules.rules[0].min_scores[0].window_days, 30);
        assert!((rules.rules[0].min_scores[0].at_least - 70.0).abs() < 1e-9);
    }

    #[test]
    fn window_out_of_range_is_rejected() {
        let text = "version = 1\n[[rule]]\npermission = \"p\"\n[[rule.min_score]]\n\
                    dimension = \"closing\"\nat_least = 70\nwindow_days = 0\n";

        let err = parse(text).unwrap_err();

        assert!(err.to_string().starts_with("unlock.toml:7:"), "{err}");
    }

    #[test]
    fn zero_version_is_rejected() {
        let err = parse("version = 0\n").unwrap_err();

        assert!(err.to_string().contains("unlock.toml:1:"), "{err}");
    }

    #[test]
    fn uppercase_permission_is_rejected() {
        let text =
            "version = 1\n[[rule]]\npermission = \"Big Deal\"\nrequires_checkpoints = [\"a\"]\n";

        let err = parse(text).unwrap_err();

        assert!(err.to_string().contains("unlock.toml:3:"), "{err}");
    }
}
