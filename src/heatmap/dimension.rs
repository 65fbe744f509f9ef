//! The configurable list of heatmap dimensions with English and Mandarin
//! labels, read from `config/dimensions.toml` or taken from [`Dimension`].

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Error, Result};
use crate::skill::Dimension;

/// One heatmap column: a dimension id and its report labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DimensionSpec {
    /// Id that score samples use, lowercase snake_case.
    pub id: String,
    /// English label.
    pub label_en: String,
    /// Mandarin label.
    pub label_zh: String,
}

/// The ordered dimensions of a heatmap, with unique ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DimensionSet {
    specs: Vec<DimensionSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DimensionFile {
    dimension: Vec<DimensionSpec>,
}

impl Default for DimensionSet {
    /// Returns the seven dimensions of [`Dimension::ALL`] in report order.
    fn default() -> Self {
        let specs = Dimension::ALL
            .iter()
            .map(|d| DimensionSpec {
                id: d.id().to_string(),
                label_en: d.label_en().to_string(),
                label_zh: d.label_zh().to_string(),
            })
            .collect();
        DimensionSet { specs }
    }
}

impl DimensionSet {
    /// Builds a set from specs, checking that ids are unique snake_case and
    /// labels are not empty.
    pub fn new(specs: Vec<DimensionSpec>) -> Result<Self> {
        if specs.is_empty() {
            return Err(Error::InvalidDimensions("the list is empty".to_string()));
        }
        let mut seen = HashSet::new();
        for spec in &specs {
            validate_spec(spec)?;
            if !seen.insert(spec.id.as_str()) {
                let reason = format!("dimension id {:?} appears twice", spec.id);
                return Err(Error::InvalidDimensions(reason));
            }
        }
        Ok(DimensionSet { specs })
    }

    /// Parses a `[[dimension]]` list in TOML.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let file: DimensionFile =
            toml::from_str(text).map_err(|e| Error::InvalidDimensions(e.to_string()))?;
        Self::new(file.dimension)
    }

    /// Reads a dimension file such as `config/dimensions.toml`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text).map_err(|e| match e {
            Error::InvalidDimensions(reason) => {
                Error::InvalidDimensions(format!("{}: {reason}", path.display()))
            }
            other => other,
        })
    }

    /// The specs in column order.
    pub fn specs(&self) -> &[DimensionSpec] {
        &self.specs
    }

    /// Returns the column index of a dimension id.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.specs.iter().position(|s| s.id == id)
    }

    /// Returns whether `id` is one of the dimensions.
    pub fn contains(&self, id: &str) -> bool {
        self.index_of(id).is_some()
    }

    /// Number of dimensions.
    pub fn len(&self) -> usize {
        self.specs.len()
    }

    /// Returns whether the set has no dimensions, which [`DimensionSet::new`]
    /// never builds.
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }
}

fn validate_spec(spec: &DimensionSpec) -> Result<()> {
    let valid_id = !spec.id.is_empty()
        && spec
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid_id {
        let reason = format!("dimension id {:?} is not lowercase snake_case", spec.id);
        return Err(Error::InvalidDimensions(reason));
    }
    if spec.label_en.trim().is_empty() || spec.label_zh.trim().is_empty() {
        let reason = format!("dimension {:?} needs both label_en and label_zh", spec.id);
        return Err(Error::InvalidDimensions(reason));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_has_seven_dimensions() {
        let set = DimensionSet::default();

        assert_eq!(set.len(), 7);
        assert_eq!(set.index_of("closing"), Some(6));
        assert_eq!(set.specs()[0].label_zh, "需求挖掘");
    }

    #[test]
    fn bundled_file_matches_default() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/dimensions.toml");

        let set = DimensionSet::load(&path).expect("config/dimensions.toml parses");

        assert_eq!(set, DimensionSet::default());
    }

    #[test]
    fn duplicate_id_is_rejected() {
        let text = r#"
            [[dimension]]
            id = "closing"
            label_en = "Closing"
            label_zh = "推进成交"
            [[dimension]]
            id = "closing"
            label_en = "Closing again"
            label_zh = "成交"
        "#;

        let err = DimensionSet::from_toml_str(text).unwrap_err();

        assert!(err.to_string().contains("appears twice"), "{err}");
    }

    #[test]
    fn missing_label_is_rejected() {
        let text = "[[dimension]]\nid = \"rapport\"\nlabel_en = \"Rapport\"\nlabel_zh = \"\"\n";

        let err = DimensionSet::from_toml_str(text).unwrap_err();

        assert!(err.to_string().contains("label_zh"), "{err}");
    }
}
