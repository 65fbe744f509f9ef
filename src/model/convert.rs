//! CTranslate2 Whisper directory to whisper.cpp ggml file.
//!
//! Reads `model.bin` one variable at a time, splits fused projections,
//! writes each tensor in the type the whisper.cpp 1.8.3 loader checks, and
//! adds the computed mel filterbank and byte-level vocabulary.

use std::io::Write;
use std::path::Path;

use indicatif::ProgressBar;

use super::atomic::write_atomically;
use super::ct2::Ct2Model;
use super::error::{Error, Result};
use super::ggml::{self, TensorType, FTYPE_F16, FTYPE_Q8_0};
use super::mapping::{self, Hparams, Role, TensorPlan};
use super::quantize::{quantize_q8_0, WeightType, BLOCK_LEN};
use super::{mel, vocab};

/// Summary of a finished conversion.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvertSummary {
    /// Dimensions derived from the CTranslate2 file.
    pub hparams: Hparams,
    /// The 11 header integers written.
    pub header: [i32; 11],
    /// Tensors written.
    pub tensor_count: usize,
    /// Vocabulary entries written (ids below `<|endoftext|>`).
    pub token_count: usize,
}

/// Converts the CTranslate2 model in `ct2_dir` to a ggml file at `out`.
///
/// `ct2_dir` must hold `model.bin` and `vocabulary.txt` or `vocabulary.json`.
/// The output appears atomically, so a failure never leaves a partial file.
/// `progress` advances once per tensor.
pub fn convert(
    ct2_dir: &Path,
    out: &Path,
    weight_type: WeightType,
    progress: &ProgressBar,
) -> Result<ConvertSummary> {
    let mut model = Ct2Model::open(&ct2_dir.join("model.bin"))?;
    let (hparams, plans) = mapping::plan(&mut model)?;
    check_key_biases(&mut model, &hparams)?;
    let tokens = load_vocabulary(ct2_dir, &hparams)?;
    let ftype = match weight_type {
        WeightType::F16 => FTYPE_F16,
        WeightType::Q8_0 => FTYPE_Q8_0,
    };
    let header = hparams.header(ftype);

    progress.set_length(plans.len() as u64);
    write_atomically(out, |writer| {
        let filters = mel::filterbank(hparams.n_mels);
        ggml::write_header(writer, &header, &filters, mel::N_FREQS)
            .map_err(|e| write_error(out, e))?;
        ggml::write_vocabulary(writer, &tokens).map_err(|e| write_error(out, e))?;
        write_tensors(&mut model, &plans, weight_type, writer, out, progress)
    })?;

    tracing::info!(out = %out.display(), tensors = plans.len(), "converted model");
    Ok(ConvertSummary {
        hparams,
        header,
        tensor_count: plans.len(),
        token_count: tokens.len(),
    })
}

fn write_error(out: &Path, source: std::io::Error) -> Error {
    Error::io("failed to write", out, source)
}

fn load_vocabulary(ct2_dir: &Path, hparams: &Hparams) -> Result<Vec<Vec<u8>>> {
    let path = vocab::find_vocabulary(ct2_dir)?;
    let tokens = vocab::token_bytes(&vocab::load_tokens(&path)?, &path)?;
    if tokens.len() >= hparams.n_vocab {
        let reason = format!(
            "{} tokens before <|endoftext|>, but the model has {} rows",
            tokens.len(),
            hparams.n_vocab
        );
        return Err(Error::InvalidVocabulary { path, reason });
    }
    Ok(tokens)
}

/// Checks that the key part of every fused bias is zero before it is dropped.
fn check_key_biases<R: std::io::Read + std::io::Seek>(
    model: &mut Ct2Model<R>,
    hparams: &Hparams,
) -> Result<()> {
    for (name, (start, end)) in mapping::key_bias_rows(hparams) {
        let bias = model.read_f32(&name)?;
        let max_abs = bias[start..end].iter().fold(0.0f32, |m, v| m.max(v.abs()));
        if max_abs != 0.0 {
            return Err(Error::NonZeroKeyBias { name, max_abs });
        }
    }
    Ok(())
}

fn write_tensors<R: std::io::Read + std::io::Seek>(
    model: &mut Ct2Model<R>,
    plans: &[TensorPlan],
    weight_type: WeightType,
    writer: &mut impl Write,
    out: &Path,
    progress: &ProgressBar,
) -> Result<()> {
    // Fused query/key/value plans read the same variable in a row, so the
    // last variable read is kept.
    let mut cached: Option<(String, Vec<f32>)> = None;
    for plan in plans {
        if cached.as_ref().is_none_or(|(name, _)| *name != plan.source) {
            cached = Some((plan.source.clone(), model.read_f32(&plan.source)?));
        }
        let values = cached
            .as_ref()
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default();
        let values = select_rows(values, plan);
        let (tensor_type, data) = encode(plan, values, weight_type)?;
        ggml::write_tensor(writer, &plan.name, &plan.shape, tensor_type, &data)
            .map_err(|e| write_error(out, e))?;
        progress.inc(1);
    }
    Ok(())
}

/// Returns the plan's rows of a source tensor, or all of it.
fn select_rows<'a>(values: &'a [f32], plan: &TensorPlan) -> &'a [f32] {
    let Some((start, end)) = plan.rows else {
        return values;
    };
    let row_len: usize = plan.shape[1..].iter().product();
    &values[start * row_len..end * row_len]
}

/// Encodes values in the type whisper.cpp expects for the plan's role.
fn encode(
    plan: &TensorPlan,
    values: &[f32],
    weight_type: WeightType,
) -> Result<(TensorType, Vec<u8>)> {
    let tensor_type = match (plan.role, weight_type) {
        (Role::F32, _) => TensorType::F32,
        (Role::Conv, _) | (Role::Weight, WeightType::F16) => TensorType::F16,
        (Role::Weight, WeightType::Q8_0) => TensorType::Q8_0,
    };
    let data = match tensor_type {
        TensorType::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        TensorType::F16 => values
            .iter()
            .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
            .collect(),
        TensorType::Q8_0 => quantize_rows(plan, values)?,
    };
    Ok((tensor_type, data))
}

fn quantize_rows(plan: &TensorPlan, values: &[f32]) -> Result<Vec<u8>> {
    let row_len = plan.shape.last().copied().unwrap_or(0);
    let reason = || {
        format!(
            "tensor {} has rows of {row_len} values, not a multiple of {BLOCK_LEN}",
            plan.name
        )
    };
    if row_len % BLOCK_LEN != 0 {
        return Err(Error::InvalidModel(reason()));
    }
    quantize_q8_0(values).ok_or_else(|| Error::InvalidModel(reason()))
}

#[cfg(test)]
mod tests {
    use super::super::ct2::tests::Ct2Builder;
    use super::*;

    const D: usize = 32;
    const VOCAB: usize = 6;

    fn values(count: usize, seed: f32) -> Vec<f32> {
        (0..count)
            .map(|i| ((i as f32 + seed) * 0.731).sin() * 0.5)
            .collect()
    }

    fn with_linear(b: Ct2Builder, name: &str, out: usize, inp: usize, seed: f32) -> Ct2Builder {
        let mut bias = values(out, seed + 0.5);
        if name.ends_with("self_attention/linear_0") {
            bias[D..2 * D].iter_mut().for_each(|v| *v = 0.0);
        }
        if name.ends_with("/attention/linear_1") {
            bias[..D].iter_mut().for_each(|v| *v = 0.0);
        }
        let (o, i) = (out as u32, inp as u32);
        b.f16(&format!("{name}/weight"), &[o, i], &values(out * inp, seed))
            .f16(&format!("{name}/bias"), &[o], &bias)
    }

    fn with_norm(b: Ct2Builder, name: &str) -> Ct2Builder {
        b.f16(&format!("{name}/gamma"), &[D as u32], &[1.0; D]).f16(
            &format!("{name}/beta"),
            &[D as u32],
            &[0.0; D],
        )
    }

    fn with_block(mut b: Ct2Builder, prefix: &str, cross: bool) -> Ct2Builder {
        b = with_norm(b, &format!("{prefix}/self_attention/layer_norm"));
        b = with_linear(
            b,
            &format!("{prefix}/self_attention/linear_0"),
            3 * D,
            D,
            1.0,
        );
        b = with_linear(b, &format!("{prefix}/self_attention/linear_1"), D, D, 2.0);
        if cross {
            b = with_norm(b, &format!("{prefix}/attention/layer_norm"));
            b = with_linear(b, &format!("{prefix}/attention/linear_0"), D, D, 3.0);
            b = with_linear(b, &format!("{prefix}/attention/linear_1"), 2 * D, D, 4.0);
            b = with_linear(b, &format!("{prefix}/attention/linear_2"), D, D, 5.0);
        }
        b = with_norm(b, &format!("{prefix}/ffn/layer_norm"));
        b = with_linear(b, &format!("{prefix}/ffn/linear_0"), 4 * D, D, 6.0);
        with_linear(b, &format!("{prefix}/ffn/linear_1"), D, 4 * D, 7.0)
    }

    /// Builds a one-layer Whisper with width 32, 2 mel bands and 6 tokens.
    fn tiny_model() -> Ct2Builder {
        let d = D as u32;
        let heads = 2i16.to_le_bytes().to_vec();
        let mut b = Ct2Builder::new()
            .f16("encoder/conv1/weight", &[d, 2, 3], &values(D * 6, 8.0))
            .f16("encoder/conv1/bias", &[d], &values(D, 9.0))
            .f16("encoder/conv2/weight", &[d, d, 3], &values(D * D * 3, 10.0))
            .f16("encoder/conv2/bias", &[d], &values(D, 11.0))
            .f16(
                "encoder/position_encodings/encodings",
                &[4, d],
                &values(4 * D, 12.0),
            )
            .f16(
                "decoder/embeddings/weight",
                &[VOCAB as u32, d],
                &values(VOCAB * D, 13.0),
            )
            .f16(
                "decoder/position_encodings/encodings",
                &[3, d],
                &values(3 * D, 14.0),
            )
            .raw("encoder/num_heads", &[], 2, heads.clone())
            .raw("decoder/num_heads", &[], 2, heads)
            .alias("decoder/projection/weight", "decoder/embeddings/weight");
        b = with_norm(b, "encoder/layer_norm");
        b = with_norm(b, "decoder/layer_norm");
        b = with_block(b, "encoder/layer_0", false);
        with_block(b, "decoder/layer_0", true)
    }

    fn write_dir(model: Vec<u8>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("model.bin"), model).expect("model.bin");
        let vocabulary = "!\nĠa\nb\n<|endoftext|>\n<|startoftranscript|>\n";
        std::fs::write(dir.path().join("vocabulary.txt"), vocabulary).expect("vocabulary");
        dir
    }

    fn run(dir: &tempfile::TempDir, weight_type: WeightType) -> Result<ConvertSummary> {
        convert(
            dir.path(),
            &dir.path().join("out.bin"),
            weight_type,
            &ProgressBar::hidden(),
        )
    }

    #[test]
    fn converts_synthetic_model() {
        let dir = write_dir(tiny_model().build());

        let summary = run(&dir, WeightType::F16).expect("converts");
        let file = ggml::inspect(&dir.path().join("out.bin")).expect("valid ggml");

        assert_eq!(summary.header, [6, 4, 32, 2, 1, 3, 32, 2, 1, 2, 1]);
        assert_eq!(summary.tensor_count, 11 + 15 + 24);
        assert_eq!(file.tensors.len(), 50);
        assert_eq!(file.token_count, 3);
        assert_eq!(file.filters, (2, 201));
    }

    #[test]
    fn tensor_types_follow_loader_rules() {
        let dir = write_dir(tiny_model().build());
        run(&dir, WeightType::Q8_0).expect("converts");

        let file = ggml::inspect(&dir.path().join("out.bin")).expect("valid ggml");
        let type_of = |name: &str| {
            file.tensors
                .iter()
                .find(|t| t.name == name)
                .map(|t| (t.tensor_type, t.ne.clone()))
        };

        assert_eq!(file.header[10], FTYPE_Q8_0);
        assert_eq!(
            type_of("encoder.conv1.weight"),
            Some((TensorType::F16, vec![3, 2, 32]))
        );
        assert_eq!(
            type_of("encoder.conv1.bias"),
            Some((TensorType::F32, vec![1, 32]))
        );
        assert_eq!(
            type_of("encoder.blocks.0.attn.key.weight"),
            Some((TensorType::Q8_0, vec![32, 32]))
        );
        assert_eq!(
            type_of("decoder.token_embedding.weight"),
            Some((TensorType::Q8_0, vec![32, 6]))
        );
        assert_eq!(
            type_of("decoder.positional_embedding"),
            Some((TensorType::F32, vec![32, 3]))
        );
        assert_eq!(type_of("encoder.blocks.0.attn.key.bias"), None);
    }

    #[test]
    fn non_zero_key_bias_is_rejected() {
        let mut bias = values(3 * D, 1.5);
        bias[D] = 0.25;
        let model = tiny_model().f16(
            "encoder/layer_0/self_attention/linear_0/bias",
            &[3 * D as u32],
            &bias,
        );
        let dir = write_dir(model.build());

        let err = run(&dir, WeightType::F16).expect_err("key bias");

        assert!(
            matches!(err, Error::NonZeroKeyBias { ref name, .. } if name.contains("encoder/layer_0"))
        );
        assert!(!dir.path().join("out.bin").exists());
    }

    #[test]
    fn untied_projection_is_rejected() {
        let model = tiny_model().f16(
            "decoder/projection/weight",
            &[VOCAB as u32, D as u32],
            &values(VOCAB * D, 1.0),
        );
        let dir = write_dir(model.build());

        let err = run(&dir, WeightType::F16).expect_err("untied");

        assert!(matches!(err, Error::UntiedProjection));
    }

    #[test]
    fn projection_bias_is_rejected() {
        let model = tiny_model().f16("decoder/projection/bias", &[VOCAB as u32], &[0.0; VOCAB]);
        let dir = write_dir(model.build());

        let err = run(&dir, WeightType::F16).expect_err("biased");

        assert!(matches!(err, Error::BiasedProjection));
    }

    #[test]
    fn wrong_shape_names_variable() {
        let model = tiny_model().f16("encoder/layer_0/ffn/linear_1/bias", &[5], &[0.0; 5]);
        let dir = write_dir(model.build());

        let err = run(&dir, WeightType::F16).expect_err("wrong shape");

        assert!(
            matches!(err, Error::WrongShape { ref name, .. } if name == "encoder/layer_0/ffn/linear_1/bias")
        );
    }

    #[test]
    fn split_rows_keep_values() {
        let dir = write_dir(tiny_model().build());
        let mut model = Ct2Model::open(&dir.path().join("model.bin")).expect("valid");
        let (_, plans) = mapping::plan(&mut model).expect("plan");
        let fused = model
            .read_f32("encoder/layer_0/self_attention/linear_0/weight")
            .expect("readable");

        let value = plans
            .iter()
            .find(|p| p.name == "encoder.blocks.0.attn.value.weight")
            .expect("planned");
        let rows = select_rows(&fused, value);

        assert_eq!(rows.len(), D * D);
        assert_eq!(rows[0], fused[2 * D * D]);
    }
}
