//! Sentence embeddings with all-MiniLM-L6-v2 on the CPU, and the scenario
//! scorer built on them.
//!
//! [`SentenceEncoder`] loads the model that `callcoach model install minilm`
//! unpacks into `models/minilm/` (`config.json`, `model.safetensors`,
//! `tokenizer.json`) into candle-transformers' BERT. It embeds text the way
//! sentence-transformers does for this model: at most 256 tokens, the mean
//! of the last hidden states over the attention mask, then L2
//! normalisation. [`EmbeddingScorer`] gives each scenario the best cosine
//! similarity between an utterance and the scenario's trigger lines, and
//! [`load_classifier`] adds it to the BM25 [`Classifier`] when the model is
//! installed.
//!
//! all-MiniLM-L6-v2 was trained on English text only, and its tokenizer
//! splits Han text into single characters. On the Mandarin lines of
//! `tests/data/heldout_triggers.tsv` the embeddings alone rank the right
//! scenario first for 0.407 of the lines against 1.000 for BM25. Adding them
//! to BM25 changes no Mandarin result, so Mandarin utterances are scored by
//! BM25 alone ([`EMBEDDING_LANGUAGES`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::classify::{Classifier, ScenarioScorer};
use super::{Corpus, Error, Result};
use crate::language::Language;

/// Name of the embedding model in `models/manifest.toml`.
pub const EMBEDDING_MODEL_NAME: &str = "minilm";
/// Environment variable that names the embedding model directory.
pub const EMBEDDING_MODEL_ENV: &str = "CALLCOACH_EMBEDDING_MODEL";
/// Languages whose utterances the embedding scorer covers.
pub const EMBEDDING_LANGUAGES: [Language; 1] = [Language::En];
/// Weight of the embedding scorer against BM25 (weight 1) in the
/// classifier's weighted mean. On the English lines of
/// `tests/data/heldout_triggers.tsv` and `tests/data/heldout_paraphrases.tsv`,
/// weights from 0.5 to 3 all rank every held-out trigger first. Above 0.5
/// the small-talk lines score higher than most correct paraphrases ("How
/// was your weekend?" reaches cosine 0.57), so no threshold keeps more
/// paraphrases.
pub const EMBEDDING_WEIGHT: f32 = 0.5;
/// Combined English score below which no scenario matches. With
/// [`EMBEDDING_WEIGHT`] the highest small-talk score of the held-out set is
/// 0.189 and the lowest correct held-out trigger score is above 0.3.
pub const COMBINED_EN_THRESHOLD: f32 = 0.20;
/// Maximum input length in tokens, as in the model's `sentence_bert_config.json`.
const MAX_TOKENS: usize = 256;
/// Sentences embedded in one forward pass.
const BATCH_SIZE: usize = 32;

/// The all-MiniLM-L6-v2 sentence encoder on the CPU.
pub struct SentenceEncoder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    dimension: usize,
}

impl SentenceEncoder {
    /// Loads `config.json`, `model.safetensors` and `tokenizer.json` from `dir`.
    ///
    /// # Errors
    /// [`Error::EmbeddingModel`] when a file is missing or unreadable.
    pub fn load(dir: &Path) -> Result<SentenceEncoder> {
        let failed = |reason: String| Error::EmbeddingModel {
            dir: dir.to_path_buf(),
            reason,
        };
        let config_path = dir.join("config.json");
        let config_text = std::fs::read_to_string(&config_path)
            .map_err(|e| failed(format!("cannot read {}: {e}", config_path.display())))?;
        let config: Config = serde_json::from_str(&config_text)
            .map_err(|e| failed(format!("invalid config.json: {e}")))?;
        let device = Device::Cpu;
        let weights = candle_core::safetensors::load(dir.join("model.safetensors"), &device)
            .map_err(|e| failed(format!("cannot read model.safetensors: {e}")))?;
        let vb = VarBuilder::from_tensors(weights, DType::F32, &device);
        let model =
            BertModel::load(vb, &config).map_err(|e| failed(format!("invalid weights: {e}")))?;
        let tokenizer = load_tokenizer(&dir.join("tokenizer.json")).map_err(failed)?;
        let dimension = config.hidden_size;
        tracing::info!(dir = %dir.display(), dimension, "embedding model loaded");
        Ok(SentenceEncoder {
            model,
            tokenizer,
            device,
            dimension: config.hidden_size,
        })
    }

    /// Returns the length of one embedding.
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// Embeds each text as a unit-length vector, in input order.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(BATCH_SIZE) {
            out.extend(self.embed_batch(batch)?);
        }
        Ok(out)
    }

    /// Embeds one text as a unit-length vector.
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>> {
        let mut vectors = self.embed(&[text])?;
        Ok(vectors.pop().unwrap_or_default())
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let inputs: Vec<String> = texts.iter().map(|t| (*t).to_string()).collect();
        let encodings = self
            .tokenizer
            .encode_batch(inputs, true)
            .map_err(|e| Error::Embedding(format!("tokenizer failed: {e}")))?;
        let rows = encodings.len();
        let cols = encodings.first().map_or(0, |e| e.get_ids().len());
        let ids: Vec<u32> = encodings
            .iter()
            .flat_map(|e| e.get_ids().to_vec())
            .collect();
        let mask: Vec<u32> = encodings
            .iter()
            .flat_map(|e| e.get_attention_mask().to_vec())
            .collect();

        let pooled = self
            .forward(ids, mask, (rows, cols))
            .map_err(|e| candle_error(&e))?;

        pooled.to_vec2::<f32>().map_err(|e| candle_error(&e))
    }

    /// Runs BERT and returns the masked mean of the last hidden states,
    /// L2-normalised, as a (rows, dimension) tensor.
    fn forward(
        &self,
        ids: Vec<u32>,
        mask: Vec<u32>,
        shape: (usize, usize),
    ) -> candle_core::Result<Tensor> {
        let ids = Tensor::from_vec(ids, shape, &self.device)?;
        let mask = Tensor::from_vec(mask, shape, &self.device)?;
        let token_types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &token_types, Some(&mask))?;

        let weights = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&weights)?.sum(1)?;
        let counts = weights.sum(1)?.clamp(1e-9, f32::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f32::MAX)?;
        mean.broadcast_div(&norms)
    }
}

fn load_tokenizer(path: &Path) -> std::result::Result<Tokenizer, String> {
    let mut tokenizer =
        Tokenizer::from_file(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let truncation = TruncationParams {
        max_length: MAX_TOKENS,
        ..TruncationParams::default()
    };
    tokenizer
        .with_truncation(Some(truncation))
        .map_err(|e| format!("invalid truncation: {e}"))?;
    // The file pads every input to 128 tokens; padding to the longest input
    // of a batch gives the same pooled vectors with less work.
    tokenizer.with_padding(Some(PaddingParams {
        strategy: PaddingStrategy::BatchLongest,
        ..PaddingParams::default()
    }));
    Ok(tokenizer)
}

fn candle_error(err: &candle_core::Error) -> Error {
    Error::Embedding(err.to_string())
}

/// Returns the cosine similarity of two vectors, 0 when either is zero.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm_a = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let norm_b = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm_a > 0.0 && norm_b > 0.0 {
        dot / (norm_a * norm_b)
    } else {
        0.0
    }
}

/// Finds the installed embedding model directory: `explicit`, then
/// `CALLCOACH_EMBEDDING_MODEL`, then `models/minilm` (or under
/// `CALLCOACH_MODELS_DIR`); `None` when the chosen directory has no
/// `model.safetensors`.
pub fn locate_embedding_model(explicit: Option<&Path>) -> Option<PathBuf> {
    let dir = match (explicit, std::env::var_os(EMBEDDING_MODEL_ENV)) {
        (Some(path), _) => path.to_path_buf(),
        (None, Some(path)) => PathBuf::from(path),
        (None, None) => crate::cli::models_dir().join(EMBEDDING_MODEL_NAME),
    };
    dir.join("model.safetensors").is_file().then_some(dir)
}

/// Scores scenarios by the cosine similarity of an utterance with their
/// trigger lines.
pub struct EmbeddingScorer {
    encoder: Arc<SentenceEncoder>,
    /// Scenario position, language and embedding of every trigger line.
    lines: Vec<(usize, Language, Vec<f32>)>,
    scenarios: usize,
    languages: Vec<Language>,
}

impl EmbeddingScorer {
    /// Embeds the trigger lines of `corpus` in [`EMBEDDING_LANGUAGES`].
    pub fn new(encoder: Arc<SentenceEncoder>, corpus: &Corpus) -> Result<EmbeddingScorer> {
        EmbeddingScorer::with_languages(encoder, corpus, &EMBEDDING_LANGUAGES)
    }

    /// Embeds the trigger lines of `corpus` in `languages`, so that the
    /// scorer covers exactly those languages.
    pub fn with_languages(
        encoder: Arc<SentenceEncoder>,
        corpus: &Corpus,
        languages: &[Language],
    ) -> Result<EmbeddingScorer> {
        let mut owners = Vec::new();
        let mut texts = Vec::new();
        for (i, scenario) in corpus.scenarios().enumerate() {
            let covered = scenario
                .triggers
                .iter()
                .filter(|t| languages.contains(&t.lang));
            for trigger in covered {
                owners.push((i, trigger.lang));
                texts.push(trigger.text.as_str());
            }
        }
        let vectors = encoder.embed(&texts)?;
        let lines = owners
            .into_iter()
            .zip(vectors)
            .map(|((i, lang), v)| (i, lang, v))
            .collect();
        Ok(EmbeddingScorer {
            encoder,
            lines,
            scenarios: corpus.files.len(),
            languages: languages.to_vec(),
        })
    }

    /// Returns each scenario's best cosine similarity, clamped to 0 to 1.
    fn best_similarity(&self, query: &[f32], lang: Language) -> Vec<f32> {
        let mut best = vec![0.0f32; self.scenarios];
        for (i, _, line) in self.lines.iter().filter(|(_, l, _)| *l == lang) {
            best[*i] = best[*i].max(cosine(query, line).clamp(0.0, 1.0));
        }
        best
    }
}

impl ScenarioScorer for EmbeddingScorer {
    fn name(&self) -> &str {
        "embedding"
    }

    fn covers(&self, lang: Language) -> bool {
        self.languages.contains(&lang)
    }

    fn score(&self, utterance: &str, lang: Language) -> Vec<f32> {
        if !self.covers(lang) || utterance.trim().is_empty() {
            return vec![0.0; self.scenarios];
        }
        match self.encoder.embed_one(utterance) {
            Ok(query) => self.best_similarity(&query, lang),
            Err(err) => {
                tracing::warn!(error = %err, "embedding failed, scoring with BM25 alone");
                vec![0.0; self.scenarios]
            }
        }
    }
}

/// Builds the BM25 classifier with the embedding scorer added at
/// [`EMBEDDING_WEIGHT`] and the English threshold for combined scores.
pub fn combined_classifier(corpus: &Corpus, encoder: Arc<SentenceEncoder>) -> Result<Classifier> {
    let scorer = EmbeddingScorer::new(encoder, corpus)?;
    Ok(Classifier::new(corpus)
        .with_scorer(Box::new(scorer), EMBEDDING_WEIGHT)
        .with_threshold(Language::En, COMBINED_EN_THRESHOLD))
}

/// Builds the combined classifier when the embedding model is installed,
/// and BM25 alone (with a logged note) when it is not or fails to load.
/// The flag tells whether embeddings are in use.
pub fn load_classifier(corpus: &Corpus, model_dir: Option<&Path>) -> (Classifier, bool) {
    let Some(dir) = locate_embedding_model(model_dir) else {
        tracing::info!(
            "embedding model not installed, classifying with BM25 alone; \
             run `callcoach model install minilm` to add embeddings"
        );
        return (Classifier::new(corpus), false);
    };
    let combined = SentenceEncoder::load(&dir)
        .and_then(|encoder| combined_classifier(corpus, Arc::new(encoder)));
    match combined {
        Ok(classifier) => (classifier, true),
        Err(err) => {
            tracing::warn!(error = %err, "embedding model unusable, classifying with BM25 alone");
            (Classifier::new(corpus), false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_parallel_vectors_is_one() {
        let similarity = cosine(&[1.0, 2.0, 2.0], &[2.0, 4.0, 4.0]);

        assert!((similarity - 1.0).abs() < 1e-6, "{similarity}");
    }

    #[test]
    fn cosine_with_zero_vector_is_zero() {
        assert!(cosine(&[0.0, 0.0], &[1.0, 0.0]).abs() < 1e-9);
    }

    #[test]
    fn missing_model_directory_locates_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");

        assert!(locate_embedding_model(Some(dir.path())).is_none());
    }

    #[test]
    fn load_from_empty_directory_names_install() {
        let dir = tempfile::tempdir().expect("temp dir");

        let err = SentenceEncoder::load(dir.path()).err().expect("no model");

        assert!(err.to_string().contains("model install minilm"), "{err}");
    }
}
